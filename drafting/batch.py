"""Regenerating a portfolio of markets: discovery, sharding, incremental runs, a process pool.

A facilitator releases the library; dozens of markets must follow. Each market is
written atomically (generate.write_market), so an interrupted batch leaves every
market either complete or untouched. A market whose manifest shows the same
questionnaire, clausier version, options, library data and fragment texts is left
as it is: that check reads one small JSON file and hashes one questionnaire, and
never imports the heavy modules, so an unchanged rerun costs next to nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import import_module
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from . import __version__
from .errors import ClausierError, InputError

SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")  # .xlsx: the questionnaire form
INDEX = ".clausier-index.json"
PRODUIT, INCHANGE, ECHEC = "produit", "inchangé", "échec"


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
        digest = hashlib.sha256(relative.replace(os.sep, "/").encode("utf-8")).digest()
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

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count(ECHEC) > 0


# ----------------------------------------------------------------------------- unchanged check

def fingerprint_library(library) -> dict[str, object]:
    """What a manifest must match for its market to be reused as it is."""
    return {
        "version": library.version,
        "donnees": {k: v for k, v in sorted(library.data_hashes.items()) if k != "bibliotheque.yaml"},
        "fragments": {f.id: f.sha256 for f in library.fragments.values() if f.statut == "publie"},
    }


def is_unchanged(path: Path, reference: str, settings: Settings, library_print: dict[str, object]) -> bool:
    """True when the market on disk was produced from exactly these inputs."""
    manifest_path = settings.out_dir / reference / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        raw = path.read_bytes()
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    record = manifest.get("bibliotheque") or {}
    fragments = library_print["fragments"]
    return (
        manifest.get("clausier") == __version__
        and (manifest.get("questionnaire") or {}).get("sha256") == hashlib.sha256(raw).hexdigest()
        and manifest.get("options") == {"premier_article": settings.premier_article, "pdf": False, "ccap_modele": None}
        and record.get("version") == library_print["version"]
        and record.get("donnees") == library_print["donnees"]
        and not record.get("modifications_non_publiees")
        and all(fragments.get(f.get("id")) == f.get("sha256") for f in manifest.get("fragments", []))
        and _files_intact(settings.out_dir / reference, manifest)
    )


def _files_intact(folder: Path, manifest: dict) -> bool:
    """Every listed file still there with its size: a deleted or truncated output is redone."""
    for entry in manifest.get("fichiers", []):
        try:
            if (folder / entry["nom"]).stat().st_size != entry["octets"]:
                return False
        except (OSError, KeyError, TypeError):
            return False
    return True


def read_index(out_dir: Path) -> dict[str, str]:
    """questionnaire path -> market reference, from the last batch (avoids parsing unchanged files)."""
    try:
        data = json.loads((out_dir / INDEX).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_index(out_dir: Path, index: dict[str, str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{INDEX}.tmp"
    tmp.write_text(json.dumps(dict(sorted(index.items())), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / INDEX)


# ----------------------------------------------------------------------------- workers

_LIBRARIES: dict[tuple, object] = {}


def generate_one(path: Path, settings: Settings, library=None) -> Outcome:
    """One market, in a worker: every failure becomes an outcome, never an exception."""
    from .generate import Options, render_market, write_market
    from .library import load_library
    from .questionnaire import load_questionnaire

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
        return Outcome(path, PRODUIT, plan.reference, "", time.perf_counter() - start, _peak_rss_kb())
    except ClausierError as exc:
        return Outcome(path, ECHEC, "", exc.render(), time.perf_counter() - start)
    except Exception as exc:  # a bug in one market must not stop the portfolio
        return Outcome(path, ECHEC, "", f"Erreur interne ({type(exc).__name__} : {exc})", time.perf_counter() - start)


def _peak_rss_kb() -> int:
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _worker(args: tuple[Path, Settings]) -> Outcome:
    return generate_one(*args)


def run_batch(paths: list[Path], settings: Settings, jobs: int = 1,
              report: Callable[[Outcome, int, int], None] = lambda o, i, n: None,
              only: Optional[set[str]] = None) -> Summary:
    """Generate every questionnaire not already up to date; ``only`` limits to these references."""
    from .library import load_library

    start = time.perf_counter()
    library = load_library(Path(settings.library_root) if settings.library_root else None, settings.library_version)
    library_print = fingerprint_library(library)
    index = read_index(settings.out_dir)
    summary = Summary()
    todo: list[Path] = []
    total = len(paths)
    for path in paths:
        reference = index.get(str(path.resolve()))
        if only is not None and reference not in only:
            continue
        if not settings.force and reference and is_unchanged(path, reference, settings, library_print):
            outcome = Outcome(path, INCHANGE, reference)
            summary.outcomes.append(outcome)
            report(outcome, len(summary.outcomes), total)
        else:
            todo.append(path)
    for outcome in _execute(todo, settings, jobs, library):
        summary.outcomes.append(outcome)
        if outcome.status == PRODUIT:
            index[str(outcome.path.resolve())] = outcome.reference
        report(outcome, len(summary.outcomes), total)
    if todo:
        write_index(settings.out_dir, index)
    summary.outcomes.sort(key=lambda o: str(o.path))
    summary.seconds = time.perf_counter() - start
    return summary


def _execute(paths: list[Path], settings: Settings, jobs: int, library) -> Iterator[Outcome]:
    if not paths:
        return iter(())
    if jobs <= 1 or len(paths) == 1:
        return (generate_one(p, settings, library) for p in paths)
    return _pooled(paths, settings, jobs, library)


def _pooled(paths: list[Path], settings: Settings, jobs: int, library) -> Iterator[Outcome]:
    """Forked workers start with the engine already imported and the library loaded (Linux, macOS);
    elsewhere they are spawned and recycled every few hundred markets to keep memory flat."""
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        import_module(".generate", __package__)  # imported once here, shared by every forked worker
        from .render import warm_up

        _LIBRARIES[(settings.library_root, settings.library_version)] = library
        warm_up(library.fragments)
        context, extra = multiprocessing.get_context("fork"), {}
    else:
        context = multiprocessing.get_context("spawn")
        extra = {"max_tasks_per_child": 200} if sys.version_info >= (3, 11) else {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, **extra) as pool:
        chunk = 1  # markets differ tenfold in size: one at a time keeps both workers busy
        yield from pool.map(_worker, [(p, settings) for p in paths], chunksize=chunk)


def duplicates(summary: Summary) -> list[tuple[str, list[Path]]]:
    """Two questionnaires with one reference would overwrite each other's folder: said, not silent."""
    by_reference: dict[str, list[Path]] = {}
    for outcome in summary.outcomes:
        if outcome.reference:
            by_reference.setdefault(outcome.reference, []).append(outcome.path)
    return [(ref, paths) for ref, paths in sorted(by_reference.items()) if len(paths) > 1]


def references_of(outcomes: Iterable[Outcome]) -> set[str]:
    return {o.reference for o in outcomes if o.reference}
