"""Which build of the engine is running: the fingerprint that manifests record and caches are named after."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from typing import Iterator

from drafting import __version__


def _files(folder: Traversable, suffixes: tuple[str, ...], prefix: str = "") -> Iterator[tuple[str, bytes]]:
    """(relative path, bytes) of every file with one of these suffixes under ``folder``, sub-packages included, in order."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = f"{prefix}{entry.name}"
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _files(entry, suffixes, f"{name}/")
        elif entry.is_file() and entry.name.endswith(suffixes):
            yield name, entry.read_bytes()


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A digest of every module of the engine and of the Word and Excel base parts.

    The version number alone would not do: it does not move with every change that alters
    the documents. Every file counts, in every sub-package, so that no change to the engine
    can leave a market looking « unchanged » to batch.
    """
    digest = hashlib.sha256(__version__.encode())
    for package, suffixes in (("drafting", (".py",)), ("annexes", (".xml",))):
        for name, data in _files(resources.files(package), suffixes):
            digest.update(f"{package}/{name}".encode() + b"\0" + data)
    return digest.hexdigest()[:16]
