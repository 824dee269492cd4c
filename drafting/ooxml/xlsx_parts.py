"""The parts of an xlsx package around its sheets: styles, content types, relationships.

Split from ``ooxml.xlsx`` (the sheets and the workbook) so each stays readable; both are the
project's own SpreadsheetML writer, a measured choice explained in that module's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from drafting.ooxml.package import xml_text

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass
class Format:
    """A cell format; its index in styles.xml is its registration order (0 is Excel's default)."""

    props: dict[str, Any]
    index: int = 0
    dxf: Optional[int] = None  # index among the conditional formats, once used by one


ROOT_RELS = (f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" Type="{REL_NS}/officeDocument" '
             'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
             'relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" '
             f'Type="{REL_NS}/extended-properties" Target="docProps/app.xml"/></Relationships>')


_OFFICE_CT = "application/vnd.openxmlformats-officedocument"


def content_types(sheets: int) -> str:
    overrides = [("/docProps/app.xml", f"{_OFFICE_CT}.extended-properties+xml"),
                 ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
                 ("/xl/styles.xml", f"{_OFFICE_CT}.spreadsheetml.styles+xml"),
                 ("/xl/theme/theme1.xml", f"{_OFFICE_CT}.theme+xml"),
                 ("/xl/workbook.xml", f"{_OFFICE_CT}.spreadsheetml.sheet.main+xml"),
                 *((f"/xl/worksheets/sheet{n}.xml", f"{_OFFICE_CT}.spreadsheetml.worksheet+xml") for n in range(1, sheets + 1)),
                 ("/xl/sharedStrings.xml", f"{_OFFICE_CT}.spreadsheetml.sharedStrings+xml")]
    return (f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default '
            'Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default '
            'Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides) + "</Types>")


def workbook_rels(sheets: int) -> str:
    targets = [("worksheet", f"worksheets/sheet{n}.xml") for n in range(1, sheets + 1)]
    targets += [("theme", "theme/theme1.xml"), ("styles", "styles.xml"), ("sharedStrings", "sharedStrings.xml")]
    return (f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">'
            + "".join(f'<Relationship Id="rId{n}" Type="{REL_NS}/{kind}" Target="{target}"/>'
                      for n, (kind, target) in enumerate(targets, 1)) + "</Relationships>")


# -- styles ------------------------------------------------------------------------------
BUILTIN_NUMBER_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "@": 49}


_DEFAULT_FONT = '<sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'


def _argb(color: str) -> str:
    return "FF" + color.lstrip("#").upper()


def _font(props: dict[str, Any]) -> str:
    head = ("<b/>" if props.get("bold") else "") + ("<i/>" if props.get("italic") else "")
    color = f'<color rgb="{_argb(props["font_color"])}"/>' if "font_color" in props else '<color theme="1"/>'
    return f'<font>{head}<sz val="{props.get("font_size", 11)}"/>{color}<name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'


def styles_xml(formats: list[Format]) -> str:
    """Fonts, fills, borders and number formats each listed once, in the order formats first use them."""
    fonts, fills = [f"<font>{_DEFAULT_FONT}</font>"], ["none", "gray125"]
    custom: dict[str, int] = {}
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']

    def position(items: list, item: Any) -> int:
        if item not in items:
            items.append(item)
        return items.index(item)

    for fmt in formats:
        p = fmt.props
        if "num_format" in p:
            code = p["num_format"]
            numfmt = (BUILTIN_NUMBER_FORMATS[code] if code in BUILTIN_NUMBER_FORMATS
                      else custom.setdefault(code, 164 + len(custom)))
        else:
            numfmt = 0
        font = position(fonts, _font(p)) if any(k in p for k in ("bold", "italic", "font_size", "font_color")) else 0
        fill = position(fills, p["bg_color"]) if "bg_color" in p else 0
        border = 1 if p.get("border") else 0
        attributes = f'numFmtId="{numfmt}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"'
        attributes += "".join(f' {name}="1"' for name, used in (("applyNumberFormat", numfmt), ("applyFont", font),
                                                                 ("applyFill", fill), ("applyBorder", border),
                                                                 ("applyAlignment", _alignment(p)),
                                                                 ("applyProtection", "locked" in p)) if used)
        inner = _alignment(p) + ('<protection locked="0"/>' if p.get("locked") is False else "")
        xfs.append(f"<xf {attributes}>{inner}</xf>" if inner else f"<xf {attributes}/>")
    numfmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{xml_text(code)}"/>' for code, i in custom.items())
    fill_xml = [f'<fill><patternFill patternType="{fills[0]}"/></fill>', f'<fill><patternFill patternType="{fills[1]}"/></fill>']
    fill_xml += [f'<fill><patternFill patternType="solid"><fgColor rgb="{_argb(c)}"/><bgColor indexed="64"/></patternFill></fill>'
                 for c in fills[2:]]
    thin = '<color auto="1"/>'
    border_xml = ["<border><left/><right/><top/><bottom/><diagonal/></border>",
                  f'<border><left style="thin">{thin}</left><right style="thin">{thin}</right><top style="thin">{thin}</top>'
                  f'<bottom style="thin">{thin}</bottom><diagonal/></border>']
    dxfs = [f for f in formats if f.dxf is not None]
    dxf_xml = "".join(f'<dxf><font><color rgb="{_argb(f.props["font_color"])}"/></font><fill><patternFill><bgColor '
                      f'rgb="{_argb(f.props["bg_color"])}"/></patternFill></fill></dxf>' for f in sorted(dxfs, key=lambda f: f.dxf or 0))
    return (f'{XML_HEAD}<styleSheet xmlns="{MAIN_NS}">'
            + (f'<numFmts count="{len(custom)}">{numfmts}</numFmts>' if custom else "")
            + f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts><fills count="{len(fill_xml)}">{"".join(fill_xml)}</fills>'
            f'<borders count="2">{"".join(border_xml)}</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
            f'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs><cellStyles '
            'count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            + (f'<dxfs count="{len(dxfs)}">{dxf_xml}</dxfs>' if dxfs else '<dxfs count="0"/>')
            + '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
            "</styleSheet>")


def _alignment(props: dict[str, Any]) -> str:
    attributes = (f' vertical="{props["valign"]}"' if "valign" in props else "") + (
        ' wrapText="1"' if props.get("text_wrap") else "")
    return f"<alignment{attributes}/>" if attributes else ""


