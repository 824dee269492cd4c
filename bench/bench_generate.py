#!/usr/bin/env python3
"""Cost of generating one market, in units of a floor measured in the same run.

Floor: a 40-page CCAP-like document.xml written as a string and zipped with
python-docx's default template parts (the raw_tpl variant of the shared
perf_anchor.py). Measured: clausier's in-memory rendering of every bundled
example (plan, Word pieces, grid, manifest), then the same with files written.

    .venv/bin/python bench/bench_generate.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARAGRAPH = ("Le titulaire s'engage à réaliser une action d'insertion qui permette l'accès ou le retour à "
             "l'emploi de personnes rencontrant des difficultés sociales ou professionnelles particulières. ") * 3


def floor_document() -> bytes:
    """~40 pages: 25 articles of 6 paragraphs and a 10-row table each, default template parts."""
    import docx

    template = Path(docx.__file__).parent / "templates" / "default.docx"
    with zipfile.ZipFile(template) as zf:
        parts = {n: zf.read(n) for n in zf.namelist() if n != "word/document.xml"}
    body = []
    for article in range(25):
        body.append(f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Article {article + 1}</w:t></w:r></w:p>')
        body += [f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(PARAGRAPH)}</w:t></w:r></w:p>"] * 6
        rows = "".join(f"<w:tr>{'<w:tc><w:p><w:r><w:t>cellule</w:t></w:r></w:p></w:tc>' * 3}</w:tr>" for _ in range(10))
        body.append(f"<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/></w:tblPr>{rows}</w:tbl>")
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           f'wordprocessingml/2006/main"><w:body>{"".join(body)}</w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
        zf.writestr("word/document.xml", xml)
    return buffer.getvalue()


def timed(fn, repeat: int, statistic=statistics.median) -> float:
    """Seconds per call after a warm-up: the median by default, or ``statistic`` of the samples."""
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistic(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    from drafting import api
    from drafting.common.files import write_market

    library = api.library()
    floor = timed(lambda: Path(tempfile.gettempdir(), "clausier-floor.docx").write_bytes(floor_document()), args.repeat)
    print(f"floor (40-page raw document.xml + default parts, written): {floor * 1000:.1f} ms = 1 unit")
    out = Path(tempfile.mkdtemp(prefix="clausier-bench-"))
    for example in sorted((ROOT / "examples").iterdir()):
        def in_memory(example: Path = example) -> api.RenderedMarket:
            return api.render_market(api.read_questionnaire(example, library), library)

        def on_disk(example: Path = example) -> None:
            rendered = in_memory(example)
            write_market(out, rendered.reference, rendered.files)  # as before: the old copy's removal not awaited

        memory, disk = timed(in_memory, args.repeat), timed(on_disk, args.repeat)
        print(f"{example.name:<32} in memory {memory * 1000:6.1f} ms ({memory / floor:4.2f} units)   "
              f"written {disk * 1000:6.1f} ms ({disk / floor:4.2f} units)")


if __name__ == "__main__":
    main()
