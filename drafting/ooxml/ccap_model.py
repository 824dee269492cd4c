"""``--ccap-modele``: the social articles written into the buyer's own CCAP.

The buyer's document is kept as it is — its styles, headers, footers, numbering
and every other part, byte for byte — except the one paragraph holding the
placeholder, which becomes the social articles, and the styles part, which only
gains the styles it lacks. The articles use the buyer's own heading styles, so
they take its look, its automatic numbering and its table of contents.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from importlib import resources
from typing import Optional

from lxml import etree

from drafting.common import archive
from drafting.compose.markup import Heading, Paragraph, Run
from drafting.compose.pieces import Piece
from drafting.errors import ModelError
from drafting.ooxml.docx import W_NS, block_xml
from drafting.ooxml.package import zip_parts

PLACEHOLDER = "[[CLAUSES SOCIALES]]"
# Optional: where the CCAP's last article lists its derogations to the CCAG (art. 1.2 of each CCAG).
DEROGATIONS_PLACEHOLDER = "[[DÉROGATIONS AU CCAG]]"
W = f"{{{W_NS}}}"
# our style id -> the built-in name Word gives it (w:name is the same in every UI language)
BUILTIN_NAMES = {
    "Heading1": "heading 1", "Heading2": "heading 2", "Heading3": "heading 3",
    "ListBullet": "list bullet", "TableGrid": "table grid",
}
OWN_STYLES = ("ACompleter", "TableText", "Strong")


@dataclass(frozen=True)
class BuyerStyles:
    ids: dict[str, str]  # our id -> the id to use in the buyer's document
    auto_numbered: bool  # the buyer's heading 1 numbers itself: our literal numbers would double it
    styles_xml: bytes


def read_model(data: bytes, source: str) -> dict[str, bytes]:
    """The parts of the buyer's .docx, refusing what is not a Word document (or is a zip bomb)."""
    not_word = "ce n'est pas un document Word .docx lisible (enregistrez-le au format .docx)"
    try:
        _, why = archive.inspect(data)
    except (archive.NotAZip, OSError):
        raise ModelError(source, not_word) from None
    if why:
        raise ModelError(source, f"document refusé : {why}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = {i.filename: package.read(i) for i in package.infolist()}
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError, NotImplementedError, zlib.error):
        raise ModelError(source, not_word) from None
    if "word/document.xml" not in parts:
        raise ModelError(source, "document Word sans word/document.xml : enregistrez-le au format .docx")
    return parts


class BuyerCcap:
    """The buyer's own CCAP, read once for one market: numbering the social articles after the buyer's
    own, finding the derogations paragraph and inserting the articles all need its parts and styles,
    and a buyer's CCAP can weigh megabytes. One object per rendering, dropped with it: no module
    keeps the last buyer's document alive."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.source = data, source
        self.parts = read_model(data, source)
        self.styles = _buyer_styles(self.parts.get("word/styles.xml"), source)
        self._document = _parse(self.parts["word/document.xml"], source, "word/document.xml")

    def holds_derogations(self) -> bool:
        """Whether the CCAP has a paragraph where clausier writes the derogations to the CCAG."""
        return any(DEROGATIONS_PLACEHOLDER in _text(p) for p in self._document.iter(f"{W}p"))

    def articles_before_placeholder(self) -> int:
        """How many level-1 headings precede the placeholder: the social articles number on from there."""
        heading = self.styles.ids["Heading1"]
        count = 0
        for paragraph in self._document.iter(f"{W}p"):
            if _is_placeholder(paragraph):
                return count
            style = paragraph.find(f"{W}pPr/{W}pStyle")
            if style is not None and style.get(f"{W}val") == heading:
                count += 1
        return count

    def insert_articles(self, piece: Piece, derogations: str = "") -> bytes:
        """The CCAP with the social articles in place of its placeholder, and, when it has the second
        placeholder, the sentence listing the derogations to the CCAG in its last article."""
        parts = dict(self.parts)  # replaced below: the parts read stay the buyer's
        blocks = piece.blocks
        if self.styles.auto_numbered:
            blocks = [Heading(b.level, b.runs) if isinstance(b, Heading) else b for b in blocks]
        body = _restyle("".join(block_xml(b) for b in blocks), self.styles.ids)
        document = _replace_placeholder(parts["word/document.xml"], body, self.source)
        if derogations and self.holds_derogations():
            document = _replace_placeholder(document, block_xml(Paragraph([Run(derogations)])), self.source,
                                            DEROGATIONS_PLACEHOLDER)
        parts["word/document.xml"] = document
        parts["word/styles.xml"] = self.styles.styles_xml
        if "word/settings.xml" in parts:  # the buyer's own table of contents must list the new articles
            parts["word/settings.xml"] = _update_fields_on_open(parts["word/settings.xml"], self.source)
        return zip_parts(list(parts.items()))


# Children of w:settings that the schema places after w:updateFields.
_AFTER_UPDATE_FIELDS = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
                        "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
                        "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType",
                        "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")


def _update_fields_on_open(xml: bytes, source: str) -> bytes:
    root = _parse(xml, source, "word/settings.xml")
    if root.find(f"{W}updateFields") is not None:
        return xml
    element = etree.Element(f"{W}updateFields")
    element.set(f"{W}val", "true")
    for index, child in enumerate(root):
        if etree.QName(child).localname in _AFTER_UPDATE_FIELDS:
            root.insert(index, element)
            break
    else:
        root.append(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _parse(xml: bytes, source: str, part: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ModelError(source, f"{part} illisible ({exc})") from None


def _buyer_styles(xml: Optional[bytes], source: str) -> BuyerStyles:
    ours = _parse(resources.files("annexes").joinpath("docx_base/styles.xml").read_bytes(), "clausier", "styles.xml")
    if xml is None:
        return BuyerStyles({k: k for k in [*BUILTIN_NAMES, *OWN_STYLES]}, False, etree.tostring(ours, xml_declaration=True,
                                                                                           encoding="UTF-8", standalone=True))
    root = _parse(xml, source, "word/styles.xml")
    by_name = {}
    by_id = {}
    for style in root.findall(f"{W}style"):
        name = style.find(f"{W}name")
        sid = style.get(f"{W}styleId")
        by_id[sid] = style
        if name is not None:
            by_name[name.get(f"{W}val", "").lower()] = sid
    ids = {}
    for our_id, name in BUILTIN_NAMES.items():
        if name in by_name:
            ids[our_id] = by_name[name]
        else:
            ids[our_id] = _adopt(root, ours, our_id, by_id)
    for our_id in OWN_STYLES:
        existing = by_name.get(_name_of(ours, our_id).lower())
        ids[our_id] = existing or _adopt(root, ours, our_id, by_id)
    numbered = _has_numbering(by_id, ids["Heading1"])
    if ids["ListBullet"].startswith("Clausier"):
        # our bullet style points to our numbering part, absent from the buyer's: plain indented dashes
        ids["ListBullet"] = ids["ListBullet"]
        style = root.find(f"{W}style[@{W}styleId='{ids['ListBullet']}']")
        ppr = style.find(f"{W}pPr")
        if ppr is not None and ppr.find(f"{W}numPr") is not None:
            ppr.remove(ppr.find(f"{W}numPr"))
            ind = etree.SubElement(ppr, f"{W}ind")
            ind.set(f"{W}left", "567")
            ind.set(f"{W}hanging", "283")
    return BuyerStyles(ids, numbered, etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _name_of(styles: etree._Element, style_id: str) -> str:
    style = styles.find(f"{W}style[@{W}styleId='{style_id}']")
    name = style.find(f"{W}name") if style is not None else None
    return name.get(f"{W}val", style_id) if name is not None else style_id


def _adopt(root: etree._Element, ours: etree._Element, our_id: str, by_id: dict[str, etree._Element]) -> str:
    """Copy one of our styles into the buyer's, under an id that cannot clash with theirs."""
    new_id = f"Clausier{our_id}"
    if new_id in by_id:
        return new_id
    source = ours.find(f"{W}style[@{W}styleId='{our_id}']")
    copy = etree.fromstring(etree.tostring(source))
    copy.set(f"{W}styleId", new_id)
    name = copy.find(f"{W}name")
    if name is not None:
        name.set(f"{W}val", f"Clausier — {name.get(f'{W}val')}")
    for based in copy.findall(f"{W}basedOn"):
        if based.get(f"{W}val") not in by_id:
            copy.remove(based)
    for nxt in copy.findall(f"{W}next"):
        copy.remove(nxt)
    root.append(copy)
    by_id[new_id] = copy
    return new_id


def _has_numbering(by_id: dict[str, etree._Element], style_id: str, depth: int = 0) -> bool:
    style = by_id.get(style_id)
    if style is None or depth > 10:
        return False
    ppr = style.find(f"{W}pPr")
    if ppr is not None and ppr.find(f"{W}numPr") is not None:
        num = ppr.find(f"{W}numPr/{W}numId")
        return num is None or num.get(f"{W}val") != "0"
    based = style.find(f"{W}basedOn")
    return based is not None and _has_numbering(by_id, based.get(f"{W}val"), depth + 1)


_STYLE_REF = re.compile(r'<w:(pStyle|rStyle|tblStyle) w:val="([^"]+)"/>')


def _restyle(body: str, ids: dict[str, str]) -> str:
    return _STYLE_REF.sub(lambda m: f'<w:{m.group(1)} w:val="{ids.get(m.group(2), m.group(2))}"/>', body)


def _replace_placeholder(document: bytes, body: str, source: str, placeholder: str = PLACEHOLDER) -> bytes:
    root = _parse(document, source, "word/document.xml")
    found = [p for p in root.iter(f"{W}p") if placeholder in _text(p)]
    if not found:
        raise ModelError(source, f"paragraphe « {placeholder} » introuvable : écrivez-le seul sur une ligne, à "
                                 "l'endroit où les articles sociaux doivent s'insérer")
    if len(found) > 1:
        raise ModelError(source, f"« {placeholder} » figure {len(found)} fois : gardez-en un seul")
    paragraph = found[0]
    if _text(paragraph).strip() != placeholder:
        rest = _text(paragraph).replace(placeholder, "").strip()
        raise ModelError(source, f"le paragraphe « {placeholder} » doit être seul : le texte « {rest[:60]} » qui "
                                 "l'accompagne serait perdu ; placez-le dans un autre paragraphe")
    wrapper = etree.fromstring(f'<w:body xmlns:w="{W_NS}">{body}</w:body>'.encode("utf-8"))
    parent = paragraph.getparent()
    index = parent.index(paragraph)
    section = paragraph.find(f"{W}pPr/{W}sectPr")
    parent.remove(paragraph)
    inserted = list(wrapper)
    if section is not None:  # the paragraph ended a section: keep the break, in an empty paragraph
        keeper = etree.SubElement(wrapper, f"{W}p")
        etree.SubElement(keeper, f"{W}pPr").append(section)
        inserted.append(keeper)
    for offset, element in enumerate(inserted):
        parent.insert(index + offset, element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _text(paragraph: etree._Element) -> str:
    return "".join(t.text or "" for t in paragraph.iter(f"{W}t"))


def _is_placeholder(paragraph: etree._Element) -> bool:
    return _text(paragraph).strip() == PLACEHOLDER
