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
from functools import lru_cache
from importlib import resources
from typing import Optional

from lxml import etree

from drafting.compose.pieces import Piece
from drafting.ooxml.docx import W_NS, block_xml
from drafting.errors import InputError
from drafting.compose.markup import Heading, Paragraph, Run
from drafting.ooxml.package import zip_parts

PLACEHOLDER = "[[CLAUSES SOCIALES]]"
# Optional: where the CCAP's last article lists its derogations to the CCAG (art. 1.2 of each CCAG).
DEROGATIONS_PLACEHOLDER = "[[DÉROGATIONS AU CCAG]]"
W = f"{{{W_NS}}}"
MAX_ENTRY_BYTES = 50_000_000
MAX_TOTAL_BYTES = 100_000_000
MAX_ENTRIES = 2000
# our style id -> the built-in name Word gives it (w:name is the same in every UI language)
BUILTIN_NAMES = {
    "Heading1": "heading 1", "Heading2": "heading 2", "Heading3": "heading 3",
    "ListBullet": "list bullet", "TableGrid": "table grid",
}
OWN_STYLES = ("ACompleter", "TableText", "Strong")


class ModelError(InputError):
    """The buyer's CCAP cannot host the articles: exit 2, nothing written."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"modèle de CCAP {source} : {message}")


@dataclass(frozen=True)
class BuyerStyles:
    ids: dict[str, str]  # our id -> the id to use in the buyer's document
    auto_numbered: bool  # the buyer's heading 1 numbers itself: our literal numbers would double it
    styles_xml: bytes


def read_model(data: bytes, source: str) -> dict[str, bytes]:
    """The parts of the buyer's .docx, refusing what is not a Word document (or is a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if (len(infos) > MAX_ENTRIES or any(i.file_size > MAX_ENTRY_BYTES for i in infos)
                or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES):
            raise ModelError(source, "document refusé : trop de parties ou contenu décompressé démesuré "
                                     f"(au plus {MAX_ENTRIES} parties et {MAX_TOTAL_BYTES // 1_000_000} Mo)")
        parts = {i.filename: archive.read(i) for i in infos}
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError, NotImplementedError, zlib.error):
        raise ModelError(source, "ce n'est pas un document Word .docx lisible (enregistrez-le au format .docx)") from None
    if "word/document.xml" not in parts:
        raise ModelError(source, "document Word sans word/document.xml : enregistrez-le au format .docx")
    return parts


@lru_cache(maxsize=1)
def _prepared(data: bytes, source: str) -> tuple[dict[str, bytes], BuyerStyles]:
    """The buyer's parts and the styles to use, read once: numbering the articles after the buyer's
    own and inserting them both need them, and a buyer's CCAP can weigh megabytes."""
    parts = read_model(data, source)
    return parts, _buyer_styles(parts.get("word/styles.xml"), source)


def insert_articles(data: bytes, source: str, piece: Piece, derogations: str = "") -> bytes:
    """The buyer's CCAP with the social articles in place of its placeholder, and, when it has the second
    placeholder, the sentence listing the derogations to the CCAG in its last article."""
    cached, styles = _prepared(data, source)
    parts = dict(cached)  # replaced below: the cached parts stay the buyer's
    blocks = piece.blocks
    if styles.auto_numbered:
        blocks = [Heading(b.level, b.runs) if isinstance(b, Heading) else b for b in blocks]
    body = "".join(block_xml(b) for b in blocks)
    body = _restyle(body, styles.ids)
    document = _replace_placeholder(parts["word/document.xml"], body, source)
    if derogations and holds_derogations(data, source):
        document = _replace_placeholder(document, block_xml(Paragraph([Run(derogations)])), source,
                                        DEROGATIONS_PLACEHOLDER)
    parts["word/document.xml"] = document
    parts["word/styles.xml"] = styles.styles_xml
    if "word/settings.xml" in parts:  # the buyer's own table of contents must list the new articles
        parts["word/settings.xml"] = _update_fields_on_open(parts["word/settings.xml"], source)
    return zip_parts(list(parts.items()))


def holds_derogations(data: bytes, source: str) -> bool:
    """Whether the buyer's CCAP has a paragraph where clausier writes the derogations to the CCAG."""
    parts, _ = _prepared(data, source)
    root = _parse(parts["word/document.xml"], source, "word/document.xml")
    return any(DEROGATIONS_PLACEHOLDER in _text(p) for p in root.iter(f"{W}p"))


def articles_before_placeholder(data: bytes, source: str) -> int:
    """How many level-1 headings precede the placeholder: the social articles number on from there."""
    parts, styles = _prepared(data, source)
    root = _parse(parts["word/document.xml"], source, "word/document.xml")
    heading = styles.ids["Heading1"]
    count = 0
    for paragraph in root.iter(f"{W}p"):
        if _is_placeholder(paragraph):
            return count
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(f"{W}val") == heading:
            count += 1
    return count


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
