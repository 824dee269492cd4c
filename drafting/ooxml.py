"""Deterministic OOXML packages: fixed zip timestamps, fixed part order.

Same inputs must give byte-identical files (a DCE regenerated a year later must
be provably the same), so nothing here reads the clock.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape as _xml_escape

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Escape for XML text and attributes; drop characters XML 1.0 forbids."""
    return _xml_escape(_INVALID_XML.sub("", text), {'"': "&quot;"})


def zip_parts(parts: list[tuple[str, bytes]]) -> bytes:
    """Zip parts in the given order with a fixed date and mode."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            zf.writestr(info, data, compresslevel=1)  # fast: the pieces are small, the batch is not
    return buffer.getvalue()
