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
from pathlib import Path
from typing import Iterable, Optional

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
