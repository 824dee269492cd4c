"""Writing one output file so that it is either complete or absent.

Buyers and facilitators open what clausier writes straight away: a report or a
form must never be found half-written after an interruption, nor overwrite the
file it was read from.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable, Optional

from drafting.common.manifest import MANIFEST
from drafting.errors import OutputError


def write_atomic(out: Path, data: bytes, protect: Iterable[Path] = (), noun: str = "fichier") -> Path:
    """Beside the target, flushed, then renamed over it; ``protect`` lists inputs it must not replace."""
    target = out.resolve()
    if any(p.exists() and target == p.resolve() for p in protect):
        raise OutputError(f"{out} écraserait un des fichiers lus : choisissez un autre nom")
    if target.is_dir():
        raise OutputError(f"{out} est un dossier : indiquez un nom de {noun}")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"le dossier {folder} n'existe pas : aucun {noun} écrit")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"écriture impossible dans {folder} ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(f"écriture impossible de {out} ({exc.strerror}) : aucun {noun} écrit") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


# -- removing what a market replaced ------------------------------------------------------
# Deleting a market's previous folder is mostly waiting for the disk (≈ 10 ms for seven files
# here, under 1 ms of it on the processor): done by a background thread, it overlaps with the
# drafting of the next market instead of adding to it. The thread is not a daemon, so the
# interpreter (and a pool worker, which joins its threads before exiting) waits for it; a
# folder left by a crash is a « .<ref>.*.old » that generate.recover_retired removes later.
_pending: list[Path] = []
_lock = threading.Lock()
_remover: Optional[threading.Thread] = None


def remove_later(folder: Path) -> None:
    """Delete ``folder`` (already out of the way, under a hidden name) without waiting for it."""
    global _remover
    with _lock:
        _pending.append(folder)
        if _remover is not None:
            return
        remover = threading.Thread(target=_remove_pending, name="clausier-suppression")
        try:
            remover.start()
        except BaseException as exc:  # no thread to be had (process limit, interpreter exiting): delete now
            _pending.remove(folder)
            if not isinstance(exc, Exception):  # Ctrl-C: the « .old » folder is cleaned on the next run
                raise
        else:
            _remover = remover  # set once started: wait_for_removals never joins an unstarted thread
            return
    shutil.rmtree(folder, ignore_errors=True)


def wait_for_removals() -> None:
    """Block until every folder handed to ``remove_later`` is gone (tests, end of a command)."""
    with _lock:
        remover = _remover
    if remover is not None:
        remover.join()


def _remove_pending() -> None:
    global _remover
    while True:
        with _lock:
            if not _pending:
                _remover = None  # under the lock: a folder queued after this starts a new thread
                return
            folder = _pending.pop(0)
        try:
            shutil.rmtree(folder, ignore_errors=True)
        except Exception:  # noqa: BLE001 — a folder that cannot go stays (recover_retired); the queue goes on
            pass


def _after_fork_in_child() -> None:
    """A forked worker inherits the list but not the thread: it starts with nothing pending."""
    global _remover, _lock
    _lock = threading.Lock()
    _pending.clear()
    _remover = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def write_market(out_dir: Path, reference: str, files: dict[str, bytes]) -> Path:
    """Write into a temporary folder, then swap it in place of the previous output."""
    target = out_dir / reference
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{reference}.", suffix=".tmp", dir=out_dir))
    except OSError as exc:
        raise OutputError(f"impossible de créer le dossier de sortie {out_dir} ({exc.strerror})") from None
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(staging, 0o755)
        _swap(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"écriture impossible dans {out_dir} ({exc.strerror}) : aucun fichier n'a été modifié") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _swap(staging: Path, target: Path) -> None:
    """Old folder aside, new one in, old one deleted: at every instant one complete market exists
    (under its name, or aside in « .<ref>.*.old » where recover_retired finds it)."""
    if not target.exists():
        os.replace(staging, target)
        return
    if not target.is_dir():
        raise OSError(20, f"{target} existe et n'est pas un dossier")
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    try:
        os.replace(target, retired / target.name)
    except BaseException:
        shutil.rmtree(retired, ignore_errors=True)  # still empty: nothing moved
        raise
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired / target.name, target)
        shutil.rmtree(retired, ignore_errors=True)
        raise
    remove_later(retired)  # the new market is in place: the old one goes while the next is drafted


def recover_retired(out_dir: Path, older_than: float = 600.0) -> list[str]:
    """After a crash between the two renames of _swap: put each market found only aside back in place.

    Only leftovers older than ``older_than`` seconds are touched: a shard running beside
    this one may be in the middle of its own swap.
    """
    restored = []
    limit = time.time() - older_than
    stale = [p for p in sorted(out_dir.glob(".*.old")) + sorted(out_dir.glob(".*.tmp"))
             if p.is_dir() and p.stat().st_mtime < limit]
    for retired in (p for p in stale if p.suffix == ".old"):
        for market in retired.iterdir():
            target = out_dir / market.name
            if not target.exists() and (market / MANIFEST).is_file():
                os.replace(market, target)
                restored.append(market.name)
        shutil.rmtree(retired, ignore_errors=True)
    for staging in (p for p in stale if p.suffix == ".tmp"):
        shutil.rmtree(staging, ignore_errors=True)  # never complete: never swapped in
    return restored
