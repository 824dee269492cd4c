"""The package writers under the documents: the zip writer and the small SpreadsheetML writer.

The grid's own tests (test_grid.py) read whole grids back; these pin the pieces a
grid is made of, where a slip would give a file Excel repairs or refuses.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib

import openpyxl
import pytest

from drafting.common.cells import col_name
from drafting.ooxml import xlsx as xp
from drafting.ooxml.package import Chunk, deflate, deflate_segments, xml_text, zip_parts


# -- zip ---------------------------------------------------------------------------------
def test_zip_parts_is_a_plain_zip_that_zipfile_checks():
    big = ("<row>" * 50_000).encode()
    data = zip_parts([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", big), ("vide.xml", b""),
                      ("docProps/été.xml", "é".encode()), ("pre.xml", deflate(b"<deja/>", 9))])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every CRC and size checked
    assert archive.namelist() == ["[Content_Types].xml", "word/document.xml", "vide.xml", "docProps/été.xml", "pre.xml"]
    assert archive.read("word/document.xml") == big and archive.read("vide.xml") == b""
    assert archive.read("docProps/été.xml") == "é".encode() and archive.read("pre.xml") == b"<deja/>"
    info = archive.getinfo("word/document.xml")
    assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.compress_type == zipfile.ZIP_DEFLATED
    assert info.external_attr >> 16 == 0o644 and info.create_system == 0
    assert archive.getinfo("docProps/été.xml").flag_bits & 0x800  # UTF-8 name, as the format says


def test_zip_parts_is_deterministic():
    parts = [("a.xml", b"<a/>" * 100), ("b.xml", b"<b/>")]
    assert zip_parts(parts) == zip_parts(list(parts))


def test_chunks_splice_into_one_valid_deflate_stream():
    rows = Chunk.of(b"".join(f"<row r='{n}'/>".encode() for n in range(2000)))
    part = deflate_segments([b"<sheet>", rows, b"<middle/>", rows, b"</sheet>"])
    expected = b"<sheet>" + rows.raw + b"<middle/>" + rows.raw + b"</sheet>"
    assert zlib.decompress(part.data, -15) == expected
    assert part.crc == zlib.crc32(expected) and part.size == len(expected)
    assert zipfile.ZipFile(io.BytesIO(zip_parts([("s.xml", part)]))).read("s.xml") == expected


def test_xml_text_escapes_markup_and_drops_what_xml_cannot_carry():
    assert xml_text('a & b < c > d "e"\x00\x0b') == "a &amp; b &lt; c &gt; d &quot;e&quot;"


# -- SpreadsheetML ---------------------------------------------------------------------
@pytest.mark.parametrize("col, name", [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"),
                                       (702, "AAA"), (16383, "XFD")])
def test_column_names(col, name):
    assert col_name(col) == name


def _book() -> tuple[xp.Workbook, dict]:
    wb = xp.Workbook()
    fmt = {"head": wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"}),
           "input": wb.add_format({"locked": False, "num_format": "dd/mm/yyyy"}),
           "pct": wb.add_format({"num_format": "0%"}),
           "green": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})}
    return wb, fmt


def _read(wb: xp.Workbook):
    data = wb.package()
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    return openpyxl.load_workbook(io.BytesIO(data)), data


def test_cells_formats_and_text_that_looks_like_markup():
    wb, fmt = _book()
    ws = wb.add_worksheet("L'onglet")
    ws.write_string(0, 0, "=SUM(A1)", fmt["head"])
    ws.write_string(1, 0, "  espaces  ")
    ws.write_string(2, 0, "a < b & \"c\" _x0041_ \x01\uffff")
    ws.write_number(3, 0, 1234.5)
    ws.write_number(4, 0, 10**20)
    ws.write_formula(5, 0, "=A4*2", fmt["pct"], 2469)
    ws.write_blank(6, 0, None, fmt["input"])
    ws.write_blank(7, 0)  # no format: no cell
    book, data = _read(wb)
    sheet = book["L'onglet"]
    assert sheet["A1"].value == "=SUM(A1)" and sheet["A1"].data_type == "s"  # text stays text
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb == "FFD9E2F3" and sheet["A1"].alignment.wrap_text
    assert sheet["A2"].value == "  espaces  "
    strings = zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml").decode()
    # Excel's escapes: a control character as _xHHHH_, a literal « _x0041_ » protected by _x005F_
    assert '<t>a &lt; b &amp; "c" _x005F_x0041_ _x0001__xFFFF_</t>' in strings
    assert '<t xml:space="preserve">  espaces  </t>' in strings
    assert sheet["A4"].value == 1234.5 and sheet["A5"].value == 10**20
    assert sheet["A6"].value == "=A4*2" and sheet["A6"].number_format == "0%"
    assert sheet["A7"].protection.locked is False and sheet["A7"].number_format == "dd/mm/yyyy"
    assert sheet.max_row == 7


def test_shared_formulas_by_bands_read_back_per_row():
    wb, fmt = _book()
    ws = wb.add_worksheet("Saisie")
    ws.write_string(0, 0, "Heures", fmt["head"])
    ws.write_string(0, 2, "Calcul")
    ws.write_string(5, 0, "note")  # a row of its own inside the band
    ws.set_row(7, 30)
    ws.write_shared_formula(1, 9, 2, "=A2*2")
    ws.write_shared_formula(1, 4, 3, "=B2+1")
    book, data = _read(wb)
    sheet = book["Saisie"]
    assert sheet["C2"].value == "=A2*2" and sheet["D2"].value == "=B2+1"
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert '<f t="shared" ref="C2:C10" si="0">A2*2</f>' in xml and '<c r="C10"><f t="shared" si="0"/>' in xml
    assert '<c r="D5"><f t="shared" si="1"/>' in xml and 'r="D6"' not in xml
    assert '<row r="6"><c r="A6" t="s"><v>2</v></c><c r="C6"><f t="shared" si="0"/><v>0</v></c></row>' in xml
    assert '<row r="8" ht="30" customHeight="1"><c r="C8">' in xml
    assert '<dimension ref="A1:D10"/>' in xml
    rows = [int(r) for r in __import__("re").findall(r'<row r="(\d+)"', xml)]
    assert rows == sorted(set(rows)) == list(range(1, 11))


def test_a_shared_formula_left_of_a_cell_is_refused():
    wb, _ = _book()
    ws = wb.add_worksheet("Saisie")
    ws.write_shared_formula(1, 3, 0, "=B2")
    ws.write_string(2, 1, "à droite")
    with pytest.raises(ValueError):
        ws.xml()


def test_validations_conditional_formats_protection_panes_and_states():
    wb, fmt = _book()
    first = wb.add_worksheet("Suivi")
    first.data_validation(1, 1, 500, 1, {"validate": "list", "source": "=Listes!$A$2:$A$4", "error_title": "Lot",
                                         "error_message": "Choisissez « un lot » & rien d'autre"})
    first.data_validation(1, 2, 500, 2, {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                                         "maximum": dt.date(2100, 12, 31)})
    first.data_validation(1, 3, 500, 3, {"validate": "integer", "criteria": ">=", "value": 0})
    first.data_validation(1, 4, 500, 4, {"validate": "length", "criteria": "==", "value": 5})
    first.conditional_format(1, 5, 9, 5, {"type": "cell", "criteria": ">=", "value": 1, "format": fmt["green"]})
    first.freeze_panes(1, 1)
    first.protect("", {"format_columns": True})
    first.set_column(6, 8, 12, None, {"hidden": True})
    wb.add_worksheet("Listes").hide()
    wb.add_worksheet("Clausier").very_hidden()
    book, data = _read(wb)
    sheet = book["Suivi"]
    rules = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert rules["B2:B501"].type == "list" and rules["B2:B501"].formula1 == "Listes!$A$2:$A$4"
    assert rules["B2:B501"].error == "Choisissez « un lot » & rien d'autre" and rules["B2:B501"].showErrorMessage
    assert (rules["C2:C501"].type, rules["C2:C501"].formula1, rules["C2:C501"].formula2) == ("date", "36526", "73415")
    assert (rules["D2:D501"].type, rules["D2:D501"].operator) == ("whole", "greaterThanOrEqual")
    assert (rules["E2:E501"].type, rules["E2:E501"].operator) == ("textLength", "equal")
    rule = next(iter(sheet.conditional_formatting)).rules[0]
    assert (rule.operator, rule.formula, rule.dxf.fill.bgColor.rgb) == ("greaterThanOrEqual", ["1"], "FFC6EFCE")
    assert sheet.freeze_panes == "B2" and sheet.protection.sheet and sheet.protection.formatColumns is False
    assert sheet.column_dimensions["G"].hidden and sheet.column_dimensions["G"].width == pytest.approx(12.7109375)
    assert [s.sheet_state for s in book.worksheets] == ["visible", "hidden", "veryHidden"]
    app = zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml").decode()
    assert "<vt:lpstr>Listes</vt:lpstr>" in app and "Clausier" not in app  # not even listed


def test_sheet_names_excel_refuses_are_refused():
    wb, _ = _book()
    wb.add_worksheet("Suivi")
    for name in ("a" * 32, "a/b", "a[1]", "?", "", "'cité", "SUIVI"):
        with pytest.raises(ValueError):
            wb.add_worksheet(name)


def test_values_excel_cannot_store_are_refused_and_builtin_formats_kept():
    wb, _ = _book()
    ws = wb.add_worksheet("Suivi")
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            ws.write_number(0, 0, value)
    general = wb.add_format({"num_format": "General"})
    red = wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})
    ws.write_number(0, 0, 1, general)
    ws.conditional_format(0, 0, 0, 0, {"type": "cell", "criteria": "==", "value": '"R&D"', "format": red})
    book, data = _read(wb)
    styles = zipfile.ZipFile(io.BytesIO(data)).read("xl/styles.xml").decode()
    assert 'formatCode="General"' not in styles and 'numFmtId="0"' in styles
    assert next(iter(book["Suivi"].conditional_formatting)).rules[0].formula == ['"R&D"']


def test_same_calls_same_bytes():
    def build() -> bytes:
        wb, fmt = _book()
        wb.set_properties({"title": "Grille", "company": "Ville", "created": dt.datetime(2026, 11, 26)})
        ws = wb.add_worksheet("Suivi")
        ws.write_string(0, 0, "x", fmt["head"])
        ws.write_shared_formula(1, 500, 1, "=A2")
        return wb.package()
    assert build() == build()
