"""PDF copies of the Word pieces, through LibreOffice headless.

LibreOffice is the one converter a buyer's IT can install everywhere, and the
same one the tests use to prove the .docx open cleanly. Its PDFs carry the time
of conversion and a random document id; both are rewritten (same lengths, so the
cross-reference offsets stay valid) so that the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from drafting.errors import PdfUnavailable

SOFFICE_ENV = "CLAUSIER_SOFFICE"
TIMEOUT_SECONDS = 600


def find_soffice() -> Optional[str]:
    explicit = os.environ.get(SOFFICE_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    found = find_soffice()
    if found is None:
        raise PdfUnavailable(
            "--pdf demande LibreOffice, introuvable sur cette machine : installez-le (par exemple "
            "« sudo apt-get install libreoffice-writer ») ou indiquez son chemin dans CLAUSIER_SOFFICE, "
            "ou relancez sans --pdf. Aucun fichier n'a été écrit.")
    return found


def convert(documents: dict[str, bytes], stamp: dt.date, soffice: Optional[str] = None) -> dict[str, bytes]:
    """PDF bytes for each .docx given, named like it with .pdf; one LibreOffice run for all."""
    soffice = soffice or require_soffice()
    with tempfile.TemporaryDirectory(prefix="clausier-pdf-") as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        for name, data in documents.items():
            (folder / "in" / name).write_bytes(data)
        command = [soffice, "--headless", "--norestore", "--nolockcheck",
                   f"-env:UserInstallation={(folder / 'profil').as_uri()}",
                   "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(folder / "out"),
                   *[str(folder / "in" / name) for name in sorted(documents)]]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False,
                                  env={**os.environ, "TZ": "UTC"})
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"conversion PDF impossible avec LibreOffice ({exc}) ; aucun fichier n'a été écrit") from None
        out = {}
        for name in sorted(documents):
            pdf = folder / "out" / (Path(name).stem + ".pdf")
            if not pdf.is_file():
                detail = done.stderr.decode("utf-8", "replace").strip()[-300:]
                raise PdfUnavailable(f"LibreOffice n'a pas converti {name} en PDF ({detail or 'sans message'}) ; "
                                    "aucun fichier n'a été écrit")
            out[Path(name).stem + ".pdf"] = normalise(pdf.read_bytes(), stamp)
        return out


_CREATION = re.compile(rb"/CreationDate\(D:\d{14}[^)]*\)")
_ID = re.compile(rb"/ID \[ <([0-9A-F]{32})>\s*<([0-9A-F]{32})> \]")
_CHECKSUM = re.compile(rb"/DocChecksum /([0-9A-F]{32})")


def _fixed_date(original: bytes, stamp: dt.date) -> bytes:
    """Same length as the original (offsets stay valid); UTC, as LibreOffice writes it when TZ=UTC."""
    suffix = original[len(b"/CreationDate(D:") + 14:-1]
    if not suffix.startswith(b"Z"):
        suffix = b"Z" + b" " * (len(suffix) - 1) if suffix else b""
    return b"/CreationDate(D:" + stamp.strftime("%Y%m%d000000").encode() + suffix + b")"


def normalise(pdf: bytes, stamp: dt.date) -> bytes:
    """Fixed creation date, content-derived id and checksum: a reproducible PDF, same layout."""
    pdf = _CREATION.sub(lambda m: _fixed_date(m.group(0), stamp), pdf)
    blank = _CHECKSUM.sub(b"/DocChecksum /" + b"0" * 32, _ID.sub(b"/ID [ <" + b"0" * 32 + b"> <" + b"0" * 32 + b"> ]", pdf))
    digest = hashlib.md5(blank, usedforsecurity=False).hexdigest().upper().encode()
    pdf = _ID.sub(lambda m: m.group(0).replace(m.group(1), digest).replace(m.group(2), digest), pdf)
    return _CHECKSUM.sub(b"/DocChecksum /" + digest, pdf)
