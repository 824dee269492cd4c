"""Regenerating a portfolio of markets: discovery, sharding, incremental runs, a process pool.

A facilitator releases the library; dozens of markets must follow. Each market is
written atomically (generate.write_market), so an interrupted batch leaves every
market either complete or untouched. A market whose manifest shows the same
questionnaire, clausier version, options, library data and fragment texts is left
as it is: that check reads one small JSON file and hashes one questionnaire, and
never imports the heavy modules, so an unchanged rerun costs next to nothing.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Callable, Iterator, Optional

import yaml

from drafting import __version__
from drafting.common.build import engine_fingerprint
from drafting.common.files import recover_retired, wait_for_removals, write_market
from drafting.common.manifest import MANIFEST, read_manifest
from drafting.dce.provenance import fragments_used, library_record
from drafting.errors import ClausierError, InputError
from drafting.library import Library, load_library

# The drafting engine (pydantic models, Jinja, the writers) is imported by the workers only, when a
# market must be drafted: telling that a whole portfolio is unchanged never pays for it.

SUFFIXES = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")  # .xlsx, .xlsm: the questionnaire form
NOT_QUESTIONNAIRES = (MANIFEST,)
INDEX = ".clausier-index"
PRODUIT, INCHANGE, ECHEC, IGNORE = "produit", "inchangé", "échec", "ignoré"
MAX_JOBS_WINDOWS = 61  # ProcessPoolExecutor's limit there


@dataclass(frozen=True)
class Shard:
    """K/N: this runner takes the K-th of N disjoint parts of the portfolio (1 ≤ K ≤ N)."""

    k: int = 1
    n: int = 1

    @classmethod
    def parse(cls, text: str) -> "Shard":
        try:
            k, n = (int(part) for part in text.split("/"))
        except ValueError:
            raise InputError(f"--shard « {text} » : écrivez K/N, par exemple 2/4") from None
        if not 1 <= k <= n:
            raise InputError(f"--shard « {text} » : K doit être entre 1 et N")
        return cls(k, n)

    def takes(self, relative: str) -> bool:
        """Stable across machines and runs: a hash of the path inside the portfolio, not the order."""
        name = unicodedata.normalize("NFC", relative.replace(os.sep, "/"))  # macOS writes accents decomposed
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.n == self.k - 1


def discover(root: Path, out_dir: Optional[Path] = None, shard: Shard = Shard()) -> list[Path]:
    """Questionnaires under ``root``, sorted; hidden folders and the output folder are skipped."""
    if not root.is_dir():
        raise InputError(f"{root} n'est pas un dossier de questionnaires")
    skip = out_dir.resolve() if out_dir else None
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.name.startswith("~$") or path.name.endswith(".schema.json") or path.name in NOT_QUESTIONNAIRES:
            continue  # Excel's lock file of an open form, the editor schema, a stray manifest
        if skip is not None and (skip == path.resolve().parent or skip in path.resolve().parents):
            continue
        if shard.takes(str(relative)):
            found.append(path)
    return found


@dataclass(frozen=True)
class Settings:
    out_dir: Path
    library_root: Optional[str] = None
    library_version: Optional[str] = None
    force: bool = False
    premier_article: int = 1


@dataclass
class Outcome:
    path: Path
    status: str
    reference: str = ""
    message: str = ""
    seconds: float = 0.0
    rss_kb: int = 0  # peak resident memory of the process that produced it (bench: flat over a long batch)


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    skipped: int = 0  # --only-impacted: questionnaires whose market the library change does not reach

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count(ECHEC) > 0


# ----------------------------------------------------------------------------- unchanged check

def expected_options(settings: Settings) -> dict[str, object]:
    return {"premier_article": settings.premier_article, "pdf": False, "ccap_modele": None}


def is_unchanged(manifest: dict, questionnaire_sha: str, folder: Path, settings: Settings, library,
                 library_now: dict) -> bool:
    """True when the market on disk was produced from exactly these inputs (any doubt: False)."""

    try:
        types = manifest.get("types_retenus")
        recorded = {f["id"]: f["sha256"] for f in manifest.get("fragments", [])}
        return (
            isinstance(types, list)
            and manifest.get("clausier") == __version__
            and manifest.get("moteur") == engine_fingerprint()
            and manifest.get("questionnaire", {}).get("sha256") == questionnaire_sha
            and manifest.get("options") == expected_options(settings)
            and manifest.get("bibliotheque") == library_now
            and recorded == _fragments_for(library, tuple(types))
            and _files_intact(folder, manifest)
        )
    except (AttributeError, TypeError, KeyError):
        return False


def _fragments_for(library: Library, types: tuple[str, ...]) -> dict[str, str]:
    """fragments_used, once per set of retained types and library (a portfolio repeats a few sets)."""
    used = library.memo.setdefault("fragments_used", {})
    if types not in used:
        used[types] = fragments_used(library, types)
    return used[types]


def made_with_generate_options(manifest: dict) -> bool:
    """A market written with --ccap-modele or --pdf: batch would drop those files, so it leaves it alone."""
    options = manifest.get("options")
    return isinstance(options, dict) and bool(options.get("ccap_modele") or options.get("pdf"))


def _files_intact(folder: Path, manifest: dict) -> bool:
    """Every listed file still there with its size: a deleted or truncated output is redone."""
    for entry in manifest.get("fichiers", []):
        try:
            if (folder / entry["nom"]).stat().st_size != entry["octets"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return True


# ----------------------------------------------------------------------------- index

def _key(path: Path) -> str:
    return hashlib.sha256(unicodedata.normalize("NFC", str(path.resolve())).encode("utf-8")).hexdigest()[:24]


def read_entry(out_dir: Path, path: Path) -> Optional[dict]:
    """Which market a questionnaire made last time: one small file per questionnaire, so that
    shards running side by side never write the same file."""
    try:
        data = json.loads((out_dir / INDEX / f"{_key(path)}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("reference"), str) else None


def write_entry(out_dir: Path, path: Path, reference: str, sha: str) -> None:
    folder = out_dir / INDEX
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_key(path)}.json"
    handle, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as fh:
        json.dump({"chemin": str(path.resolve()), "reference": reference, "sha256": sha}, fh, ensure_ascii=False)
    os.replace(temp, target)


def all_entries(out_dir: Path) -> list[dict]:
    """Every questionnaire any shard has generated into this folder (to find shared references)."""
    found = []
    for file in sorted((out_dir / INDEX).glob("*.json")):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("reference"), str) and isinstance(data.get("chemin"), str):
            found.append(data)
    return found


def peek_reference(path: Path, raw: bytes) -> Optional[str]:
    """The market reference, read without validating the whole questionnaire (None if unreadable)."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            from drafting.intake.form import parse_form  # lazy: the questionnaire model (pydantic), only for Excel forms

            data, _, _ = parse_form(raw, str(path))
        elif path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8-sig"))
        else:
            data = yaml.load(raw.decode("utf-8-sig"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        reference = data["marche"]["reference"]
    except Exception:  # any problem is reported by the full validation when the market is generated
        return None
    return reference.strip() if isinstance(reference, str) else None


# ----------------------------------------------------------------------------- workers

_LIBRARIES: dict[tuple, Library] = {}  # per worker process: the one library of its batch


def generate_one(path: Path, settings: Settings, library=None) -> Outcome:
    """One market, in a worker: every failure becomes an outcome, never an exception."""
    from drafting.dce.market import Options, render_market  # lazy: the drafting engine (see the imports above)
    from drafting.intake.reader import load_questionnaire  # lazy: the questionnaire's model

    start = time.perf_counter()
    try:
        key = (settings.library_root, settings.library_version)
        library = library or _LIBRARIES.get(key)
        if library is None:  # once per worker process: the library does not change during a batch
            library = _LIBRARIES[key] = load_library(Path(settings.library_root) if settings.library_root else None,
                                                     settings.library_version)
        loaded = load_questionnaire(path, library)
        files, plan = render_market(loaded, library, Options(settings.premier_article))
        write_market(settings.out_dir, loaded.model.marche.reference, files)
        write_entry(settings.out_dir, path, plan.reference, loaded.sha256)  # as each market completes
        return Outcome(path, PRODUIT, plan.reference, "", time.perf_counter() - start, _peak_rss_kb())
    except OSError as exc:
        return Outcome(path, ECHEC, "", f"écriture impossible ({exc.strerror or exc})", time.perf_counter() - start)
    except ClausierError as exc:
        return Outcome(path, ECHEC, "", exc.render(), time.perf_counter() - start)
    except Exception as exc:  # a bug in one market must not stop the portfolio
        return Outcome(path, ECHEC, "", f"Erreur interne ({type(exc).__name__} : {exc})", time.perf_counter() - start)


def _peak_rss_kb() -> int:
    try:
        import resource  # lazy: Unix only
    except ImportError:  # Windows
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _worker(args: tuple[Path, Settings]) -> Outcome:
    return generate_one(*args)


def _start_worker(key: tuple, interrupt: bool = True) -> None:
    """The engine imported and the templates compiled before the first market arrives.

    In a worker, Ctrl-C is left to the parent, which stops handing out work; a worker
    finishes the market it writes.
    """
    if interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    import_module("drafting.dce.market")  # lazy: the engine, imported once per worker before its first market
    library = _LIBRARIES.get(key)
    if library is not None:
        from drafting.compose.render import warm_up  # lazy: the engine, as above

        warm_up(library)


def run_batch(paths: list[Path], settings: Settings, jobs: int = 1,
              report: Callable[[Outcome, int, int], None] = lambda o, i, n: None,
              only: Optional[set[str]] = None) -> Summary:
    """Generate every questionnaire not already up to date; ``only`` limits to these references."""

    start = time.perf_counter()
    library = load_library(Path(settings.library_root) if settings.library_root else None, settings.library_version)
    library_now = library_record(library)
    if settings.out_dir.is_dir():
        _recover(settings.out_dir)
    summary = Summary()
    plans: list[tuple[Path, Optional[str], str]] = []
    sizes: dict[Path, int] = {}
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError:
            plans.append((path, None, ""))
            continue
        sha = hashlib.sha256(raw).hexdigest()
        sizes[path] = len(raw)
        entry = read_entry(settings.out_dir, path)
        reference = entry["reference"] if entry and entry.get("sha256") == sha else peek_reference(path, raw)
        plans.append((path, reference, sha))
    clashes = _clashes(plans, settings.out_dir)
    todo: list[Path] = []
    total = len(plans)
    for path, reference, sha in plans:
        outcome = None
        if only is not None and reference not in only:
            summary.skipped += 1
            total -= 1
            continue
        if reference in clashes:
            others = ", ".join(str(p) for p in clashes[reference] if p != path.resolve())
            outcome = Outcome(path, ECHEC, "", f"la référence {reference} est aussi celle de {others} : chaque marché "
                                                f"a sa référence (marche.reference) ; rien n'a été écrit pour ce questionnaire")
        elif reference and sha:
            manifest = read_manifest(settings.out_dir / reference)
            if manifest is not None and made_with_generate_options(manifest):
                outcome = Outcome(path, IGNORE, reference, "produit par « generate » avec --ccap-modele ou --pdf : "
                                                           "régénérez-le avec generate et les mêmes options")
            elif (manifest is not None and not settings.force
                  and is_unchanged(manifest, sha, settings.out_dir / reference, settings, library, library_now)):
                outcome = Outcome(path, INCHANGE, reference)
        if outcome is None:
            todo.append(path)
            continue
        summary.outcomes.append(outcome)
        report(outcome, len(summary.outcomes), total)
    # Largest questionnaires first (more lots, longer to draft), so the pool never ends waiting on
    # one big market started last.
    todo.sort(key=lambda p: -sizes.get(p, 0))
    for outcome in _execute(todo, settings, jobs, library):
        summary.outcomes.append(outcome)
        report(outcome, len(summary.outcomes), total)
    wait_for_removals()  # replaced markets drafted here (workers wait for theirs before exiting)
    summary.outcomes.sort(key=lambda o: str(o.path))
    summary.seconds = time.perf_counter() - start
    return summary


def _recover(out_dir: Path) -> None:
    """Markets left aside by an interrupted batch are put back before anything is decided."""
    if any(out_dir.glob(".*.old")) or any(out_dir.glob(".*.tmp")):

        recover_retired(out_dir)


def _clashes(plans: list[tuple[Path, Optional[str], str]], out_dir: Path) -> dict[str, list[Path]]:
    """References claimed by two existing questionnaires, in this run or another shard's: they would
    overwrite each other's folder, so none of them is written."""
    owners: dict[str, set[Path]] = {}
    mine = {path.resolve() for path, _, _ in plans}
    for path, reference, _ in plans:
        if reference:
            owners.setdefault(reference, set()).add(path.resolve())
    for entry in all_entries(out_dir):
        other = Path(entry["chemin"])
        if entry["reference"] not in owners or other in mine:
            continue  # this run knows its own questionnaires' current references
        try:
            current = hashlib.sha256(other.read_bytes()).hexdigest()
        except OSError:
            continue  # gone: no longer claims anything
        if current == entry.get("sha256"):  # edited since: its reference may have changed, so unknown
            owners[entry["reference"]].add(other)
    return {ref: sorted(paths) for ref, paths in owners.items() if len(paths) > 1}


def _execute(paths: list[Path], settings: Settings, jobs: int, library) -> Iterator[Outcome]:
    if not paths:
        return iter(())
    if jobs <= 1 or len(paths) == 1:
        return (generate_one(p, settings, library) for p in paths)
    return _pooled(paths, settings, jobs, library)


def _pooled(paths: list[Path], settings: Settings, jobs: int, library) -> Iterator[Outcome]:
    """Workers forked once the engine is imported and the templates compiled (Linux), so they share
    that work and its memory; spawned elsewhere and recycled every few hundred markets to keep
    memory flat.

    Importing before forking costs the same wall time as every worker importing at once, and
    half the processor time, which counts on a busy machine. Nothing else is done before
    forking: what loads on a first market loads in all the workers at once.
    """
    import multiprocessing  # lazy: ≈ 15 ms with the pool below, paid only when markets are to be drafted
    from concurrent.futures import ProcessPoolExecutor, as_completed  # lazy: as above
    from concurrent.futures.process import BrokenProcessPool  # lazy: as above

    key = (settings.library_root, settings.library_version)
    context: multiprocessing.context.BaseContext
    if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        _LIBRARIES[key] = library  # inherited: the workers do not read the library again
        _start_worker(key, interrupt=False)
        wait_for_removals()  # no thread running when the workers are forked
        context = multiprocessing.get_context("fork")
    else:
        # No max_tasks_per_child: CPython 3.11-3.13 then never replaces a retired worker and the
        # batch hangs (python/cpython#115634); memory stays bounded anyway (bounded caches).
        context = multiprocessing.get_context("spawn")
    if os.name == "nt":
        jobs = min(jobs, MAX_JOBS_WINDOWS)
    # Objects alive now (the library, the portfolio's plan) are frozen: the forked workers'
    # collections skip them and their memory pages stay shared instead of being copied on write.
    gc.freeze()
    pool = None
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker, initargs=(key,))
        # one market per task: markets differ tenfold in size, this keeps every worker busy;
        # reported as they finish, each on its own, so a broken worker loses no other result
        futures = {pool.submit(_worker, (path, settings)): path for path in paths}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BrokenProcessPool:
                outcome = Outcome(futures[future], ECHEC, "", "processus de travail arrêté (mémoire insuffisante, ou "
                                                               "erreur à son démarrage ci-dessus) : relancez clausier batch")
            yield outcome
    finally:
        if pool is not None:
            _shut_down(pool)
        gc.unfreeze()  # a long-lived caller (tests, a service) collects them again


def _shut_down(pool) -> None:
    """Let the workers finish the markets they write, then stop, even if Ctrl-C is pressed again:
    a shutdown interrupted by a second Ctrl-C left them waiting for work forever (CPython 3.11)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if previous is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


