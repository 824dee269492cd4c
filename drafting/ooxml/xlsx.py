"""A small SpreadsheetML writer: the part of xlsxwriter's API the monitoring grid uses.

Why not xlsxwriter, which still writes the review and the consolidation reports: a
portfolio regenerated after a library release writes one grid per market, and
xlsxwriter spent most of a market's time on it (a general package assembled part by
part, every cell through its checks, every part compressed anew: about 60 to 105 ms a
grid, against 1,8 to 2,6 ms here, measured side by side when the choice was made). The grid needs a
fixed set of formats, strings, numbers, formulas filled down as shared formulas,
drop-down and range validations, two conditional formats, sheet protection, frozen
panes and hidden sheets: written here as XML text in the shape xlsxwriter gives
them, with the parts that never change (styles, theme, relationships) compressed
once per process. The grid's tests read the result back with openpyxl, LibreOffice
and the Open XML SDK validator.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Optional, Union

from drafting.common.cells import cell_ref, col_name
from drafting.ooxml.package import Chunk, Deflated, deflate, deflate_segments, xml_text, zip_parts
from drafting.ooxml.xlsx_parts import MAIN_NS, REL_NS, ROOT_RELS, XML_HEAD, Format, content_types, styles_xml, workbook_rels

MAX_DIGIT_WIDTH, COLUMN_PADDING = 7, 5  # Calibri 11, as Excel converts character widths to pixels
EXCEL_EPOCH = dt.date(1899, 12, 30)
OPERATORS = {"==": "equal", "!=": "notEqual", ">": "greaterThan", ">=": "greaterThanOrEqual", "<": "lessThan",
             "<=": "lessThanOrEqual", "between": "between", "not between": "notBetween"}
VALIDATION_TYPES = {"list": "list", "date": "date", "decimal": "decimal", "integer": "whole", "length": "textLength"}
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry



def number(value: Union[int, float]) -> str:
    """Numbers as Excel stores them: up to 16 significant digits, no trailing « .0 »."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"Excel n'enregistre pas la valeur {value} dans une cellule")
    return f"{value:.16G}"


def _data(text: str) -> str:
    """Element text: XML escapes, and Excel's « _xHHHH_ » for control characters XML cannot carry."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)  # U+FFFE and U+FFFF included



@dataclass
class Worksheet:
    name: str
    strings: "_SharedStrings"
    selected: bool = False
    state: str = "visible"
    rows: dict[int, dict[int, str]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    columns: dict[int, tuple[float, int, bool]] = field(default_factory=dict)
    panes: Optional[tuple[int, int]] = None
    protection: Optional[dict[str, bool]] = None
    validations: list[str] = field(default_factory=list)
    conditional: dict[str, list[tuple[Format, str, Any]]] = field(default_factory=dict)
    dxfs: list[Format] = field(default_factory=list)
    shared: list[tuple[int, int, int, int]] = field(default_factory=list)  # rows below a shared formula's first

    # -- cells ---------------------------------------------------------------------------
    def _put(self, row: int, col: int, xml: str) -> None:
        self.rows.setdefault(row, {})[col] = xml

    @staticmethod
    def _style(fmt: Optional[Format]) -> str:
        return f' s="{fmt.index}"' if fmt is not None and fmt.index else ""

    def write_string(self, row: int, col: int, text: str, fmt: Optional[Format] = None) -> None:
        """Always text: a value starting with « = » stays text, never becomes a formula."""
        index = self.strings.add(text)
        self._put(row, col, f'<c r="{cell_ref(row, col)}"{self._style(fmt)} t="s"><v>{index}</v></c>')

    def write_number(self, row: int, col: int, value: Union[int, float], fmt: Optional[Format] = None) -> None:
        self._put(row, col, f'<c r="{cell_ref(row, col)}"{self._style(fmt)}><v>{number(value)}</v></c>')

    def write_blank(self, row: int, col: int, _value: None = None, fmt: Optional[Format] = None) -> None:
        if fmt is not None:  # a blank cell without a format is no cell at all
            self._put(row, col, f'<c r="{cell_ref(row, col)}"{self._style(fmt)}/>')

    def write_formula(self, row: int, col: int, formula: str, fmt: Optional[Format] = None,
                      value: Union[int, float] = 0) -> None:
        """``value`` is the result shown until the sheet is recalculated (on opening: fullCalcOnLoad)."""
        self._put(row, col, f'<c r="{cell_ref(row, col)}"{self._style(fmt)}><f>{_data(formula.removeprefix("="))}</f>'
                            f"<v>{number(value)}</v></c>")

    def write_shared_formula(self, first_row: int, last_row: int, col: int, formula: str) -> None:
        """One formula filled down a column, stored once as an OOXML shared formula.

        Excel writes filled-down formulas this way; Excel, LibreOffice and openpyxl read
        them back per cell, relative references moved row by row.
        """
        si = len(self.shared)
        letter = col_name(col)
        self._put(first_row, col, f'<c r="{letter}{first_row + 1}"><f t="shared" ref="{letter}{first_row + 1}:'
                                  f'{letter}{last_row + 1}" si="{si}">{_data(formula.removeprefix("="))}</f><v>0</v></c>')
        self.shared.append((first_row + 1, last_row, col, si))

    # -- layout --------------------------------------------------------------------------
    def set_column(self, first: int, last: int, width: float, fmt: Optional[Format] = None,
                   options: Optional[dict[str, bool]] = None) -> None:
        for col in range(first, last + 1):
            self.columns[col] = (width, fmt.index if fmt is not None else 0, bool((options or {}).get("hidden")))

    def set_row(self, row: int, height: float) -> None:
        self.heights[row] = height

    def freeze_panes(self, row: int, col: int) -> None:
        self.panes = (row, col)

    def protect(self, _password: str = "", options: Optional[dict[str, bool]] = None) -> None:
        """Locked cells cannot be edited; selecting cells stays allowed, as in xlsxwriter's defaults."""
        self.protection = dict(options or {})

    def hide(self) -> None:
        self.state = "hidden"

    def very_hidden(self) -> None:
        """Not listed by Excel's « Afficher » menu: only a macro or a file editor shows it."""
        self.state = "veryHidden"

    def data_validation(self, first_row: int, col: int, last_row: int, last_col: int, options: dict[str, Any]) -> None:
        kind = options["validate"]
        criteria = options.get("criteria", "between")
        attributes = f'type="{VALIDATION_TYPES[kind]}"'
        if kind != "list" and criteria != "between":
            attributes += f' operator="{OPERATORS[criteria]}"'
        attributes += ' allowBlank="1" showInputMessage="1" showErrorMessage="1"'
        for key, name in (("error_title", "errorTitle"), ("error_message", "error")):
            if key in options:
                attributes += f' {name}="{xml_text(options[key])}"'
        sqref = _area(first_row, col, last_row, last_col)
        if kind == "list":
            formulas = [options["source"].removeprefix("=")]
        elif "value" in options:
            formulas = [_bound(options["value"])]
        else:
            formulas = [_bound(options["minimum"]), _bound(options["maximum"])]
        body = "".join(f"<formula{n}>{_data(f)}</formula{n}>" for n, f in enumerate(formulas, start=1))
        self.validations.append(f'<dataValidation {attributes} sqref="{sqref}">{body}</dataValidation>')

    def conditional_format(self, first_row: int, col: int, last_row: int, last_col: int, options: dict[str, Any]) -> None:
        """Cell-value rules only (the grid's rate turns green at 100 %, red below)."""
        if options.get("type") != "cell":
            raise ValueError("seules les règles de valeur de cellule sont prises en charge")
        self.conditional.setdefault(_area(first_row, col, last_row, last_col), []).append(
            (options["format"], OPERATORS[options["criteria"]], options["value"]))
        if options["format"] not in self.dxfs:
            self.dxfs.append(options["format"])

    # -- XML -----------------------------------------------------------------------------
    def xml(self) -> str:
        """The sheet as one text, for reading it (the package compresses ``segments`` instead)."""
        return "".join(p if isinstance(p, str) else p.raw.decode("utf-8") for p in self.segments())

    def segments(self) -> list[Union[str, Chunk]]:
        """The sheet's XML as text pieces and precompressed chunks, in order."""
        out: list[Union[str, Chunk]] = [
            XML_HEAD, f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">', f'<dimension ref="{self._dimension()}"/>',
            "<sheetViews>", self._view(), "</sheetViews>", '<sheetFormatPr defaultRowHeight="15"/>', self._columns(),
            *self._sheet_data()]
        if self.protection is not None:
            out.append('<sheetProtection sheet="1" objects="1" scenarios="1"'
                       + (' formatColumns="0"' if self.protection.get("format_columns") else "") + "/>")
        priority = 0
        for sqref, rules in self.conditional.items():
            out.append(f'<conditionalFormatting sqref="{sqref}">')
            for fmt, operator, value in rules:
                priority += 1
                out.append(f'<cfRule type="cellIs" dxfId="{fmt.dxf}" priority="{priority}" operator="{operator}">'
                           f"<formula>{_data(_bound(value))}</formula></cfRule>")
            out.append("</conditionalFormatting>")
        if self.validations:
            out.append(f'<dataValidations count="{len(self.validations)}">{"".join(self.validations)}</dataValidations>')
        out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
        return out

    def _dimension(self) -> str:
        cols = [col for cells in self.rows.values() for col in cells] + [col for _, _, col, _ in self.shared]
        if not cols:
            return "A1"
        rows = [*self.rows, *(last for _, last, _, _ in self.shared)]
        first, last = (min(rows), min(cols)), (max(rows), max(cols))
        return cell_ref(*first) if first == last else f"{cell_ref(*first)}:{cell_ref(*last)}"

    def _view(self) -> str:
        tab = ' tabSelected="1"' if self.selected else ""
        if self.panes is None:
            return f'<sheetView{tab} workbookViewId="0"/>'
        row, col = self.panes
        top_left = cell_ref(row, col)
        if row and col:
            pane = (f'<pane xSplit="{col}" ySplit="{row}" topLeftCell="{top_left}" activePane="bottomRight" state="frozen"/>'
                    f'<selection pane="topRight" activeCell="{cell_ref(0, col)}" sqref="{cell_ref(0, col)}"/>'
                    f'<selection pane="bottomLeft" activeCell="{cell_ref(row, 0)}" sqref="{cell_ref(row, 0)}"/>'
                    '<selection pane="bottomRight"/>')
        elif row:
            pane = f'<pane ySplit="{row}" topLeftCell="{top_left}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
        else:
            pane = f'<pane xSplit="{col}" topLeftCell="{top_left}" activePane="topRight" state="frozen"/><selection pane="topRight"/>'
        return f'<sheetView{tab} workbookViewId="0">{pane}</sheetView>'

    def _columns(self) -> str:
        """Adjacent columns with the same width, format and visibility share one <col> element."""
        if not self.columns:
            return ""
        out = ["<cols>"]
        first = last = -2
        spec = None
        for col in sorted(self.columns):
            if col == last + 1 and self.columns[col] == spec:
                last = col
                continue
            if spec is not None:
                out.append(_col(first, last, spec))
            first = last = col
            spec = self.columns[col]
        if spec is not None:
            out.append(_col(first, last, spec))
        out.append("</cols>")
        return "".join(out)

    def _sheet_data(self) -> list[Union[str, Chunk]]:
        """Rows in order. The cells of filled-down formulas come from one text template per band of
        rows with the same shared formulas, and a run of such rows is the same bytes in every grid:
        it is built and compressed once per process (``_band_rows``)."""
        explicit = sorted(set(self.rows) | set(self.heights))
        if not explicit and not self.shared:
            return ["<sheetData/>"]
        out: list[Union[str, Chunk]] = ["<sheetData>"]
        index = 0
        for start, stop, template in self._bands():
            while index < len(explicit) and explicit[index] < start:
                out.append(self._row(explicit[index], ""))
                index += 1
            row = start
            while index < len(explicit) and explicit[index] < stop:
                if row < explicit[index]:
                    out.append(_band_rows(row, explicit[index], template))
                out.append(self._row(explicit[index], template))
                row = explicit[index] + 1
                index += 1
            if row < stop:
                out.append(_band_rows(row, stop, template))
        out += [self._row(row, "") for row in explicit[index:]]
        out.append("</sheetData>")
        return out

    def _bands(self) -> list[tuple[int, int, str]]:
        """(first row, row after the last, cells template) for each band of rows sharing the same formulas."""
        bounds = sorted({first for first, _, _, _ in self.shared} | {last + 1 for _, last, _, _ in self.shared})
        bands = []
        for start, stop in zip(bounds, bounds[1:]):
            active = sorted((col, si) for first, last, col, si in self.shared if first <= start <= last)
            if active:
                bands.append((start, stop, "".join(f'<c r="{col_name(col)}{{n}}"><f t="shared" si="{si}"/><v>0</v></c>'
                                                    for col, si in active)))
        return bands

    def _row(self, row: int, shared: str) -> str:
        """A row with its own cells (and height), then the filled-down cells at its right."""
        height = self.heights.get(row)
        attributes = f' ht="{_row_height(height)}" customHeight="1"' if height is not None else ""
        cells = self.rows.get(row, {})
        if shared and cells and max(cells) >= self._first_shared_col():
            raise ValueError("les cellules d'une formule recopiée doivent être les dernières de leur ligne")
        content = "".join(cells[c] for c in sorted(cells)) + shared.replace("{n}", str(row + 1))
        return f'<row r="{row + 1}"{attributes}>{content}</row>' if content else f'<row r="{row + 1}"{attributes}/>'

    def _first_shared_col(self) -> int:
        return min(col for _, _, col, _ in self.shared)


@lru_cache(maxsize=64)
def _band_rows(start: int, stop: int, template: str) -> Chunk:
    """Rows ``start`` to ``stop - 1`` holding only filled-down cells: the same bytes in every grid."""
    text = "".join(f'<row r="{n + 1}">{template.replace("{n}", str(n + 1))}</row>' for n in range(start, stop))
    return Chunk.of(text.encode("utf-8"))


def _compressed(segments: list[Union[str, Chunk]]) -> Deflated:
    """Adjacent text pieces joined, then compressed around the cached chunks."""
    pieces: list[Union[bytes, Chunk]] = []
    text: list[str] = []
    for segment in segments:
        if isinstance(segment, str):
            text.append(segment)
            continue
        if text:
            pieces.append("".join(text).encode("utf-8"))
            text = []
        pieces.append(segment)
    if text:
        pieces.append("".join(text).encode("utf-8"))
    return deflate_segments(pieces)


def _area(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    first, last = cell_ref(first_row, first_col), cell_ref(last_row, last_col)
    return first if first == last else f"{first}:{last}"


def _bound(value: Any) -> str:
    """A validation or rule bound: dates as Excel serial numbers, numbers as numbers."""
    if isinstance(value, dt.date):
        return str((value - EXCEL_EPOCH).days)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return str(value)


def _col(first: int, last: int, spec: tuple[float, int, bool]) -> str:
    width, style, hidden = spec
    pixels = int(width * MAX_DIGIT_WIDTH + 0.5) + COLUMN_PADDING if width >= 1 else int(width * 12 + 0.5)
    char_width = (pixels * 256 // MAX_DIGIT_WIDTH) / 256.0
    return (f'<col min="{first + 1}" max="{last + 1}" width="{char_width:.16g}"'
            + (f' style="{style}"' if style else "") + (' hidden="1"' if hidden else "") + ' customWidth="1"/>')


def _row_height(points: float) -> str:
    """Excel keeps row heights in whole pixels (0.75 point each)."""
    return f"{int(points * 4 / 3 + 0.5) * 0.75:g}"


class _SharedStrings:
    """Each distinct text once, cells refer to it by index: Excel's own way, and smaller files."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def add(self, text: str) -> int:
        self.count += 1
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def xml(self) -> str:
        items = []
        for text in self.index:
            space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
            items.append(f"<si><t{space}>{_data(text)}</t></si>")
        return (f'{XML_HEAD}<sst xmlns="{MAIN_NS}" count="{self.count}" uniqueCount="{len(self.index)}">'
                f'{"".join(items)}</sst>')


class Workbook:
    """Sheets in the order they are added; the first one is selected when the file opens."""

    def __init__(self) -> None:
        self.sheets: list[Worksheet] = []
        self.formats: list[Format] = []
        self.strings = _SharedStrings()
        self.properties: dict[str, Any] = {}

    def add_format(self, props: dict[str, Any]) -> Format:
        fmt = Format(dict(props), len(self.formats) + 1)
        self.formats.append(fmt)
        return fmt

    def add_worksheet(self, name: str) -> Worksheet:
        taken = {sheet.name.casefold() for sheet in self.sheets}
        if (not name or len(name) > 31 or any(c in name for c in "[]:*?/\\") or name[0] == "'" or name[-1] == "'"
                or name.casefold() in taken):
            raise ValueError(f"nom d'onglet impossible dans Excel (vide, trop long, caractère interdit ou déjà pris) : "
                             f"{name!r}")
        sheet = Worksheet(name, self.strings, selected=not self.sheets)
        self.sheets.append(sheet)
        return sheet

    def set_properties(self, properties: dict[str, Any]) -> None:
        self.properties = dict(properties)

    def package(self) -> bytes:
        """The .xlsx bytes: same calls, same bytes (no clock, fixed part order)."""
        dxf = 0
        for sheet in self.sheets:
            for fmt in sheet.dxfs:
                if fmt.dxf is None:
                    fmt.dxf, dxf = dxf, dxf + 1
        count = len(self.sheets)
        parts: list[tuple[str, Union[bytes, Deflated]]] = [
            ("[Content_Types].xml", _constant(content_types(count))),
            ("_rels/.rels", _constant(ROOT_RELS)),
            ("docProps/app.xml", self._app().encode("utf-8")),
            ("docProps/core.xml", self._core().encode("utf-8")),
            ("xl/_rels/workbook.xml.rels", _constant(workbook_rels(count))),
            *((f"xl/worksheets/sheet{n}.xml", _compressed(sheet.segments())) for n, sheet in enumerate(self.sheets, 1)),
            ("xl/workbook.xml", self._workbook().encode("utf-8")),
            ("xl/sharedStrings.xml", self.strings.xml().encode("utf-8")),
            ("xl/styles.xml", _constant(styles_xml(self.formats))),
            ("xl/theme/theme1.xml", _theme()),
        ]
        return zip_parts(parts)

    def _workbook(self) -> str:
        sheets = "".join(f'<sheet name="{xml_text(s.name)}" sheetId="{n}"'
                         + (f' state="{s.state}"' if s.state != "visible" else "") + f' r:id="rId{n}"/>'
                         for n, s in enumerate(self.sheets, 1))
        return (f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><fileVersion appName="xl" lastEdited="4" '
                'lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews><workbookView '
                f'xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews><sheets>{sheets}</sheets>'
                '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')

    def _app(self) -> str:
        listed = [s.name for s in self.sheets if s.state != "veryHidden"]
        titles = "".join(f"<vt:lpstr>{xml_text(name)}</vt:lpstr>" for name in listed)
        company = self.properties.get("company")
        return (f'{XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
                'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>clausier'
                '</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" '
                'baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>'
                f'{len(listed)}</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector '
                f'size="{len(listed)}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts>'
                + (f"<Company>{xml_text(company)}</Company>" if company else "")
                + "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false"
                  "</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>")

    def _core(self) -> str:
        p = self.properties
        created = p.get("created")
        stamp = f"{created:%Y-%m-%dT%H:%M:%SZ}" if created else "1980-01-01T00:00:00Z"
        fields = "".join(f"<dc:{tag}>{xml_text(p[key])}</dc:{tag}>" for key, tag in (("title", "title"), ("subject", "subject"))
                         if p.get(key))
        author = xml_text(p.get("author", "clausier"))
        return (f'{XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"{fields}<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}</cp:lastModifiedBy>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created><dcterms:modified '
                f'xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')




# -- parts compressed once ----------------------------------------------------------------
_CONSTANT: dict[str, Deflated] = {}


def _constant(xml: str) -> Deflated:
    """Parts that take only a few values in a whole portfolio (relationships, content types for
    4 to 7 sheets, the fixed styles): compressed the first time, reused after."""
    found = _CONSTANT.get(xml)
    if found is None:
        if len(_CONSTANT) > 64:  # never reached by the grid; keeps an unexpected caller bounded
            _CONSTANT.clear()
        found = _CONSTANT[xml] = deflate(xml.encode("utf-8"), 9)
    return found


@lru_cache(maxsize=1)
def _theme() -> Deflated:
    """Office's default theme, which the default font's « theme » colour refers to."""
    return deflate((resources.files("annexes") / "xlsx_base" / "theme1.xml").read_bytes(), 9)


