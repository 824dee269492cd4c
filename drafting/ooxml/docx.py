"""Word writer: composed pieces -> WordprocessingML strings -> a zipped .docx.

Written as XML text with cached base parts rather than through python-docx
objects: the five Word pieces of a market cost about 1,6 ms this way against about 142 ms
with python-docx (measured side by side when the choice was made), which matters when a whole portfolio is regenerated
after a library release.
python-docx remains the tool that reads the result back in the tests.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources

from drafting.common.formatting import typography
from drafting.compose.markup import Block, BulletItem, Heading, Image, ReportBlock, Run, Table, plain
from drafting.compose.pieces import Piece
from drafting.ooxml.package import Deflated, deflate, xml_text, zip_parts

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TEXT_WIDTH = 9072  # A4 with 2.5 cm margins, in twentieths of a point
CHAR_TWIPS = 115  # average width of a character of the 10-point table text
CELL_MARGINS = 260  # left and right cell margins, and a little air
BASE_PARTS = ("styles.xml", "numbering.xml", "settings.xml", "fontTable.xml")

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/><Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"""

ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"""

DOCUMENT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/><Relationship Id="rId6" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"""

APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>clausier</Application><DocSecurity>0</DocSecurity></Properties>"""

CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{title}</dc:title><dc:subject>{subject}</dc:subject><dc:creator>clausier</dc:creator><cp:keywords>clauses sociales</cp:keywords><dc:description>{description}</dc:description><cp:lastModifiedBy>clausier</cp:lastModifiedBy><dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>"""

HEADER = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:hdr xmlns:w="{w}"><w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr><w:r><w:t xml:space="preserve">{left}</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">{right}</w:t></w:r></w:p></w:hdr>"""

FOOTER = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="{w}"><w:p><w:pPr><w:pStyle w:val="Footer"/></w:pPr><w:r><w:t xml:space="preserve">Page </w:t></w:r><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple><w:r><w:t xml:space="preserve"> / </w:t></w:r><w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p></w:ftr>"""

SECTION = ('<w:sectPr><w:headerReference w:type="default" r:id="rId5"/><w:footerReference w:type="default" r:id="rId6"/>'
           '<w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1417" w:right="1417" w:bottom="1417" w:left="1417" '
           'w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>')


@lru_cache(maxsize=1)
def base_parts() -> tuple[tuple[str, bytes], ...]:
    """The static parts, read once per process from the annexes package."""
    folder = resources.files("annexes") / "docx_base"
    return tuple((f"word/{name}", (folder / name).read_bytes()) for name in BASE_PARTS)


@lru_cache(maxsize=1)
def _constant_parts() -> dict[str, Deflated]:
    """Parts every piece shares, compressed once per process (and harder, since only once)."""
    constant = {"[Content_Types].xml": CONTENT_TYPES.encode(), "_rels/.rels": ROOT_RELS.encode(),
                "docProps/app.xml": APP.encode(), "word/_rels/document.xml.rels": DOCUMENT_RELS.encode(),
                "word/footer1.xml": FOOTER.format(w=W_NS).encode(), **dict(base_parts())}
    return {name: deflate(data, 9) for name, data in constant.items()}


@lru_cache(maxsize=4096)
def _run(run: Run) -> str:
    """Cached: most runs are the library's own sentences, the same in every market of a batch."""
    style = '<w:rPr><w:rStyle w:val="ACompleter"/><w:highlight w:val="yellow"/></w:rPr>' if run.placeholder else (
        '<w:rPr><w:rStyle w:val="Strong"/></w:rPr>' if run.bold else "")
    return f'<w:r>{style}<w:t xml:space="preserve">{xml_text(typography(run.text))}</w:t></w:r>'


def _paragraph(runs: list[Run], style: str = "", extra_ppr: str = "") -> str:
    ppr = f'<w:pStyle w:val="{style}"/>' if style else ""
    ppr += extra_ppr
    return f"<w:p>{'<w:pPr>' + ppr + '</w:pPr>' if ppr else ''}{''.join(map(_run, runs))}</w:p>"


def _heading(block: Heading) -> str:
    runs = ([Run(block.number + " ")] if block.number else []) + block.runs
    return _paragraph(runs, f"Heading{block.level}")


def column_widths(rows: list[list[list[Run]]], columns: int, total: int = TEXT_WIDTH) -> list[int]:
    """Widths in proportion to each column's longest word-wrapped content, within bounds.

    A lot number needs a narrow column and a title a wide one; equal widths waste a
    third of the page and wrap amounts across lines.
    """
    floors, weights = [], []
    for col in range(columns):
        texts = [plain(row[col]) if col < len(row) else "" for row in rows]
        longest = max((len(t) for t in texts), default=1)
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        floors.append(min(longest_word, 18) * CHAR_TWIPS + CELL_MARGINS)  # no word cut in the middle
        weights.append(max(min(longest, 45), 1))
    if sum(floors) >= total:
        widths = [int(f * total / sum(floors)) for f in floors]
    else:
        spare = total - sum(floors)
        widths = [int(f + spare * w / sum(weights)) for f, w in zip(floors, weights)]
    widths[-1] += total - sum(widths)
    return widths


def _table(block: Table) -> str:
    columns = max(len(row) for row in block.rows)
    widths = column_widths(block.rows, columns)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows = []
    for index, row in enumerate(block.rows):
        header = index == 0
        total_row = not header and index == len(block.rows) - 1 and plain(row[0]).strip().lower().startswith("total")
        cells = []
        for width, cell in zip(widths, row + [[]] * (columns - len(row))):
            runs = [Run(r.text, True, r.placeholder) for r in cell] if header or total_row else cell
            shading = ('<w:shd w:val="clear" w:color="auto" w:fill="D9E2F3"/>' if header else
                       '<w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/>' if total_row else "")
            cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shading}</w:tcPr>'
                         f'{_paragraph(runs, "TableText")}</w:tc>')
        trpr = "<w:trPr><w:tblHeader/></w:trPr>" if header else "<w:trPr><w:cantSplit/></w:trPr>"
        rows.append(f"<w:tr>{trpr}{''.join(cells)}</w:tr>")
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
            '<w:tblLayout w:type="fixed"/>'
            f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
            f'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>'
            '<w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p>')


def _toc(blocks: list[Block]) -> str:
    """A TOC field whose cached entries are already the headings: right without an update.

    Word refreshes it (page numbers) on opening, as settings.xml asks; LibreOffice and
    a PDF show the cached entries, so the table is never empty or stale.
    """
    entries = []
    for block in blocks:
        if isinstance(block, Heading) and block.level <= 2:
            text = f"{block.number} {plain(block.runs)}".strip()
            entries.append(_paragraph([Run(text)], f"TOC{block.level}"))
    if not entries:
        return ""
    begin = ('<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
             '<w:r><w:instrText xml:space="preserve"> TOC \\o "1-2" \\h \\z \\u </w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="separate"/></w:r>')
    first = entries[0].replace("</w:pPr>", "</w:pPr>" + begin, 1)
    end = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    last_index = len(entries) - 1
    entries[0] = first
    entries[last_index] = entries[last_index][:-len("</w:p>")] + end + "</w:p>"
    return _paragraph([Run("Sommaire")], "TOCHeading") + "".join(entries)


def block_xml(block: Block) -> str:
    if isinstance(block, Heading):
        return _heading(block)
    if isinstance(block, BulletItem):
        return _paragraph(block.runs, "ListBullet")
    if isinstance(block, Table):
        return _table(block) if block.rows else ""
    return _paragraph(block.runs)


def document_xml(piece: Piece, note: str, toc: bool = False) -> str:
    body = [_paragraph([Run(piece.title)], "Title"), _paragraph([Run(piece.subtitle)], "Subtitle")]
    body += [block_xml(b) for b in piece.preamble]
    if toc:
        body.append(_toc(piece.blocks))
    body += [block_xml(b) for b in piece.blocks]
    body.append(_paragraph([Run(note)], "Footer", '<w:spacing w:before="480"/>'))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}" '
            f'xmlns:r="{R_NS}"><w:body>{"".join(body)}{SECTION}</w:body></w:document>')


def build_docx(piece: Piece, acheteur: str, reference: str, library_version: str, stamp: dt.date,
               toc: bool = False) -> bytes:
    """All parts of one piece, zipped deterministically; ``toc`` adds a table of contents."""
    note = f"Document établi avec clausier, bibliothèque de clauses {library_version}."
    core = CORE.format(title=xml_text(f"{piece.title} — {reference}"), subject=xml_text(piece.subtitle),
                       description=xml_text(note), stamp=f"{stamp.isoformat()}T00:00:00Z")
    header = HEADER.format(w=W_NS, left=xml_text(typography(acheteur)), right=xml_text(f"Marché n° {reference}"))
    shared = _constant_parts()
    parts: list[tuple[str, bytes | Deflated]] = [
        ("[Content_Types].xml", shared["[Content_Types].xml"]),
        ("_rels/.rels", shared["_rels/.rels"]),
        ("docProps/core.xml", core.encode()),
        ("docProps/app.xml", shared["docProps/app.xml"]),
        ("word/document.xml", document_xml(piece, note, toc).encode("utf-8")),
        ("word/_rels/document.xml.rels", shared["word/_rels/document.xml.rels"]),
        ("word/header1.xml", header.encode("utf-8")),
        ("word/footer1.xml", shared["word/footer1.xml"]),
        *((name, shared[name]) for name, _ in base_parts()),
    ]
    return zip_parts(parts)


# ------------------------------------------------------------------------------------------------ reports with pictures
# A report (the facilitator's yearly bilan) is written with the pieces' own styles, header and footer, plus pictures
# (charts as PNG). Pictures need parts of their own (media, relationships, a content type), so a report is packaged
# here rather than by ``build_docx``, which stays exactly as it is: the DCE's pieces never carry a picture.

IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
PIC_NS = "http://schemas.openxmlformats.org/drawingml/2006/picture"
EMU_PER_CM = 360000
FIRST_IMAGE_REL = 7  # rId1 to rId6: styles, numbering, settings, fonts, header, footer


def _picture(image: Image, number: int) -> str:
    """An inline picture in its own centred paragraph; namespaces declared on the elements themselves, so the
    document's root (the same as the pieces') needs none."""
    cx, cy = round(image.width_cm * EMU_PER_CM), round(image.height_cm * EMU_PER_CM)
    alt = xml_text(image.alt)
    name = xml_text(f"{image.name} {number}")
    return ('<w:p><w:pPr><w:keepNext/><w:jc w:val="center"/></w:pPr><w:r><w:drawing>'
            f'<wp:inline xmlns:wp="{WP_NS}" distT="0" distB="0" distL="0" distR="0">'
            f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
            f'<wp:docPr id="{number}" name="{name}" descr="{alt}"/>'
            f'<wp:cNvGraphicFramePr><a:graphicFrameLocks xmlns:a="{A_NS}" noChangeAspect="1"/></wp:cNvGraphicFramePr>'
            f'<a:graphic xmlns:a="{A_NS}"><a:graphicData uri="{PIC_NS}"><pic:pic xmlns:pic="{PIC_NS}">'
            f'<pic:nvPicPr><pic:cNvPr id="{number}" name="image{number}.png" descr="{alt}"/><pic:cNvPicPr/></pic:nvPicPr>'
            f'<pic:blipFill><a:blip r:embed="rId{FIRST_IMAGE_REL + number - 1}"/><a:stretch><a:fillRect/></a:stretch>'
            '</pic:blipFill>'
            f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>'
            '</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>')


def build_report_docx(title: str, subtitle: str, blocks: list[ReportBlock], header_left: str, header_right: str,
                      note: str, stamp: dt.date, toc: bool = False) -> bytes:
    """A report in the pieces' layout, pictures included; ``stamp`` is its only date (same blocks, same bytes)."""
    body = [_paragraph([Run(title)], "Title"), _paragraph([Run(subtitle)], "Subtitle")]
    if toc:
        body.append(_toc([b for b in blocks if isinstance(b, Heading)]))
    images: list[Image] = []
    for block in blocks:
        if isinstance(block, Image):
            images.append(block)
            body.append(_picture(block, len(images)))
        else:
            body.append(block_xml(block))
    body.append(_paragraph([Run(note)], "Footer", '<w:spacing w:before="480"/>'))
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}" '
                f'xmlns:r="{R_NS}"><w:body>{"".join(body)}{SECTION}</w:body></w:document>')
    core = CORE.format(title=xml_text(title), subject=xml_text(subtitle), description=xml_text(note),
                       stamp=f"{stamp.isoformat()}T00:00:00Z")
    header = HEADER.format(w=W_NS, left=xml_text(typography(header_left)), right=xml_text(header_right))
    shared = _constant_parts()
    content_types: bytes | Deflated = shared["[Content_Types].xml"]
    relationships: bytes | Deflated = shared["word/_rels/document.xml.rels"]
    if images:
        content_types = CONTENT_TYPES.replace(
            '<Default Extension="xml"', '<Default Extension="png" ContentType="image/png"/><Default Extension="xml"', 1
        ).encode()
        extra = "".join(f'<Relationship Id="rId{FIRST_IMAGE_REL + n}" Type="{IMAGE_REL}" Target="media/image{n + 1}.png"/>'
                        for n in range(len(images)))
        relationships = DOCUMENT_RELS.replace("</Relationships>", extra + "</Relationships>").encode()
    parts: list[tuple[str, bytes | Deflated]] = [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", shared["_rels/.rels"]),
        ("docProps/core.xml", core.encode()),
        ("docProps/app.xml", shared["docProps/app.xml"]),
        ("word/document.xml", document.encode("utf-8")),
        ("word/_rels/document.xml.rels", relationships),
        ("word/header1.xml", header.encode("utf-8")),
        ("word/footer1.xml", shared["word/footer1.xml"]),
        *((name, shared[name]) for name, _ in base_parts()),
        *((f"word/media/image{n + 1}.png", image.png) for n, image in enumerate(images)),
    ]
    return zip_parts(parts)
