"""The file store: every questionnaire and generated file kept once, named by its SHA-256.

``<data>/fichiers/ab/abcdef…``: the database records which file is which; the store only
keeps bytes. A file is written to a temporary name and renamed into place, so a reader
never sees half a file, and it is checked against its name when read back: a generation
is downloaded again byte for byte, or not at all.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings

from drafting.api import ClausierError


class MissingBlob(ClausierError):
    """A recorded file is absent or damaged in the store: said, logged as an incident, never served."""


def root() -> Path:
    return Path(settings.CLAUSIER_DATA) / "fichiers"


def path_of(digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise MissingBlob(f"empreinte de fichier invalide : {digest!r}")
    return root() / digest[:2] / digest


def put(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(digest)
    if target.is_file() and target.stat().st_size == len(data):
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def get(digest: str) -> bytes:
    try:
        data = path_of(digest).read_bytes()
    except OSError:
        raise MissingBlob(f"le fichier {digest[:12]}… manque dans le dossier de données (sauvegarde incomplète ?)") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise MissingBlob(f"le fichier {digest[:12]}… a été altéré dans le dossier de données : il n'est pas servi")
    return data
