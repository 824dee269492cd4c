"""The engine as the web application uses it: one ``drafting.api.Engine`` per process.

The web application imports ``drafting.api`` and nothing else of the engine: the pieces'
blocks are read by kind and attributes (``web.marches.apercu``), so the engine's modules can
move behind the API.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any, Optional

from drafting import api

ENGINE = api.engine()
_LOCK = threading.Lock()
_WORKING: list[Any] = []  # (checked at, library): the working folder re-read at most once a second
CHECK_EVERY = 1.0
DEFAULT_OPTIONS = api.Options()


def library(version: Optional[str] = None) -> api.Library:
    """The library in service (``version`` None: the working folder, reloaded when edited) or a published version."""
    if version:
        return ENGINE.library(version)
    with _LOCK:
        if _WORKING and time.monotonic() - _WORKING[0] < CHECK_EVERY:
            return _WORKING[1]
    lib = ENGINE.library()
    with _LOCK:
        _WORKING[:] = [time.monotonic(), lib]
    return lib


def versions() -> list[str]:
    return ENGINE.library_versions()


def library_fingerprint(lib: api.Library) -> str:
    """What makes two loaded libraries draft the same bytes: release, data files and every fragment."""
    digest = hashlib.sha256(lib.version.encode())
    for name, sha in sorted(lib.data_hashes.items()):
        digest.update(f"\0{name}\0{sha}".encode())
    for fid, fragment in sorted(lib.fragments.items()):
        digest.update(f"\0{fid}\0{fragment.sha256}".encode())
    return digest.hexdigest()


class RenderCache:
    """Markets already drafted in this process: the same questionnaire bytes, name, library and options give
    the same files byte for byte (the engine is deterministic), so a repeated request is served from here.

    Bounded in entries and bytes; the key holds the library fingerprint, so an edited library is never
    served from an old entry.
    """

    def __init__(self, entries: int = 64, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._items: OrderedDict[tuple, tuple[api.RenderedMarket, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._fingerprints: dict[int, tuple[api.Library, str]] = {}

    def fingerprint(self, lib: api.Library) -> str:
        with self._lock:
            known = self._fingerprints.get(id(lib))
            if known is not None and known[0] is lib:
                return known[1]
        value = library_fingerprint(lib)
        with self._lock:
            if len(self._fingerprints) > 32:
                self._fingerprints.clear()
            self._fingerprints[id(lib)] = (lib, value)
        return value

    def render(self, raw: bytes, name: str, lib: api.Library,
               options: api.Options = DEFAULT_OPTIONS) -> tuple[api.RenderedMarket, bytes]:
        """(the market in memory, its DCE zip); QuestionnaireError if the questionnaire is invalid.

        PDF copies are never kept here: they come from LibreOffice, outside the engine.
        """
        if options.pdf:
            return self._render(raw, name, lib, options)
        key = (hashlib.sha256(raw).hexdigest(), name, self.fingerprint(lib), options.premier_article, options.pdf,
               hashlib.sha256(options.ccap_modele[1]).hexdigest() if options.ccap_modele else None,
               options.ccap_modele[0] if options.ccap_modele else None)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        market, archive = self._render(raw, name, lib, options)
        size = len(archive) + sum(len(d) for d in market.files.values())
        with self._lock:
            if key not in self._items and size <= self.max_bytes:
                self._items[key] = (market, archive)
                self._bytes += size
                while len(self._items) > self.entries or self._bytes > self.max_bytes:
                    _, (old, old_zip) = self._items.popitem(last=False)
                    self._bytes -= len(old_zip) + sum(len(d) for d in old.files.values())
        return market, archive


    @staticmethod
    def _render(raw: bytes, name: str, lib: api.Library, options: api.Options) -> tuple[api.RenderedMarket, bytes]:
        loaded = ENGINE.read_questionnaire(raw, lib, name)
        market = ENGINE.render_market(loaded, lib, options)
        return market, ENGINE.dce_zip(market)


RENDERS = RenderCache()
