"""Deterministic OOXML packages: fixed zip timestamps, fixed part order.

Same inputs must give byte-identical files (a DCE regenerated a year later must
be provably the same), so nothing here reads the clock.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import Iterable, Union

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Escape for XML text and attributes; drop characters XML 1.0 forbids."""
    if _INVALID_XML.search(text):
        text = _INVALID_XML.sub("", text)
    # str.replace chain: several times faster than xml.sax.saxutils.escape, and importing that
    # module pulls in urllib, http and email (≈ 10 ms of every start)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@dataclass(frozen=True)
class Deflated:
    """A part compressed once and reused: every .docx of a portfolio carries the same styles,
    numbering, settings and relationships, and compressing them again for each of thousands of
    documents was the largest single cost of a batch."""

    crc: int
    size: int
    data: bytes


def deflate(data: bytes, level: int = 1) -> Deflated:
    """Raw deflate, as a zip entry stores it. Level 1 for what changes with each market (the
    pieces are small, the batch is not); a part compressed once can afford level 9."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Deflated(zlib.crc32(data), len(data), compressor.compress(data) + compressor.flush())


@dataclass(frozen=True)
class Chunk:
    """Part of a part, compressed once and reused inside several parts.

    Deflate data is a series of blocks: a chunk ends on a byte boundary (a sync flush)
    with no final block, so it can be followed by anything compressed from scratch. The
    grid's filled-down formula rows, the same thousand rows in every market, are
    compressed once per process this way.
    """

    raw: bytes
    data: bytes

    @classmethod
    def of(cls, raw: bytes, level: int = 6) -> "Chunk":
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        return cls(raw, compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH))


_FINAL_EMPTY_BLOCK = b"\x03\x00"  # fixed-Huffman block, final, empty: what ends any deflate stream


def deflate_segments(segments: Iterable[Union[bytes, Chunk]], level: int = 1) -> Deflated:
    """One part from pieces, some already compressed (Chunk), others compressed here."""
    crc, size, out = 0, 0, []
    for segment in segments:
        if isinstance(segment, Chunk):
            raw, data = segment.raw, segment.data
        else:
            raw = segment
            compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
            data = compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)
        crc = zlib.crc32(raw, crc)
        size += len(raw)
        out.append(data)
    out.append(_FINAL_EMPTY_BLOCK)
    return Deflated(crc, size, b"".join(out))


def zip_parts(parts: Iterable[tuple[str, Union[bytes, Deflated]]]) -> bytes:
    """Zip parts in the given order with a fixed date and mode (no clock, no host: same bytes anywhere).

    Written by hand rather than through zipfile: an OOXML package is a plain zip with no
    ZIP64, comments or extra fields, and zipfile's per-entry machinery (an object, a
    compressor, headers written and rewritten) cost more than compressing the small parts.
    """
    body: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    count = 0
    for name, data in parts:
        entry = data if isinstance(data, Deflated) else deflate(data)
        if max(entry.size, len(entry.data), offset) > _ZIP32_LIMIT or count >= 0xFFFF:
            raise ValueError("document trop volumineux pour un paquet Office sans ZIP64")
        encoded = name.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_NAME
        fields = (flags, _DEFLATED, _DOS_TIME, _DOS_DATE, entry.crc, len(entry.data), entry.size, len(encoded))
        local = _LOCAL.pack(_LOCAL_SIG, _VERSION, *fields, 0)
        directory.append(_CENTRAL.pack(_CENTRAL_SIG, _VERSION, _VERSION, *fields, 0, 0, 0, 0, _MODE, offset) + encoded)
        body += (local, encoded, entry.data)
        offset += len(local) + len(encoded) + len(entry.data)
        count += 1
    central = b"".join(directory)
    if offset + len(central) > _ZIP32_LIMIT or count > 0xFFFF:
        raise ValueError("document trop volumineux pour un paquet Office sans ZIP64")
    end = _END.pack(_END_SIG, 0, 0, count, count, len(central), offset, 0)
    return b"".join(body) + central + end


# Zip headers (APPNOTE 4.3.7, 4.3.12, 4.3.16), the values zipfile wrote for these packages.
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_VERSION = 20  # 2.0: deflate; made by MS-DOS (0), so no host permissions leak in
_DEFLATED = 8
_UTF8_NAME = 0x800
_DOS_DATE = ((ZIP_EPOCH[0] - 1980) << 9) | (ZIP_EPOCH[1] << 5) | ZIP_EPOCH[2]
_DOS_TIME = (ZIP_EPOCH[3] << 11) | (ZIP_EPOCH[4] << 5) | (ZIP_EPOCH[5] // 2)
_MODE = 0o644 << 16
_ZIP32_LIMIT = 0xFFFFFFFF
