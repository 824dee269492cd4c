"""Writing one output file so that it is either complete or absent.

Buyers and facilitators open what clausier writes straight away: a report or a
form must never be found half-written after an interruption, nor overwrite the
file it was read from.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from .errors import OutputError


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
