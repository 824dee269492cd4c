"""The small block markup of clause fragments, parsed into blocks for the writers.

Fragments are written by facilitators, not programmers: a heading is a line with
``#``, a list item a line with ``- ``, a table row a line with ``|``. Values
inserted by Jinja are escaped (see ``escape``) so that buyer text never becomes
markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Union

_SPECIAL = re.compile(r"([\\*\[\]|])")
_INLINE = re.compile(r"\\(.)|\*\*|\[\[|\]\]")


class Raw(str):
    """Text that is already markup (a placeholder, a filter's output): not escaped."""


def escape(text: str) -> str:
    """Make any value inert: no bold, no placeholder, no cell, no block start."""
    text = " ".join(str(text).splitlines())
    text = _SPECIAL.sub(r"\\\1", text)
    if text.startswith(("#", "-")):
        text = "\\" + text
    return text


def placeholder(label: str) -> Raw:
    return Raw(f"[[À compléter : {escape(label)}]]")


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    placeholder: bool = False


@dataclass
class Heading:
    level: int
    runs: list[Run]
    number: str = ""


@dataclass
class Paragraph:
    runs: list[Run]


@dataclass
class BulletItem:
    runs: list[Run]


@dataclass
class Table:
    rows: list[list[list[Run]]] = field(default_factory=list)


Block = Union[Heading, Paragraph, BulletItem, Table]


@dataclass(frozen=True)
class Image:
    """A picture in a report (never in a fragment): PNG bytes, its size on the page, and the text that stands
    for it (alternative text, read aloud by screen readers and shown when the picture cannot be)."""

    png: bytes
    width_cm: float
    height_cm: float
    alt: str
    name: str = "graphique"

    def __post_init__(self) -> None:
        if not self.png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("Image : une image PNG est attendue")
        if not (0 < self.width_cm <= 40 and 0 < self.height_cm <= 40):
            raise ValueError("Image : dimensions hors de la page")


ReportBlock = Union[Heading, Paragraph, BulletItem, Table, Image]  # a report's blocks: those of a piece, and pictures


def parse_inline(text: str) -> list[Run]:
    """Split a line into runs; ``**`` toggles bold, ``[[…]]`` marks a zone to fill."""
    return list(_parse_inline(text))


@lru_cache(maxsize=4096)
def _parse_inline(text: str) -> tuple[Run, ...]:
    """Cached: the library's sentences come back in every market of a batch (Runs are immutable)."""
    if "*" not in text and "[[" not in text and "]]" not in text and "\\" not in text:  # most lines: one plain run
        return (Run(text),) if text else ()
    runs: list[Run] = []
    buf: list[str] = []
    bold = hole = False

    def flush() -> None:
        if buf:
            runs.append(Run("".join(buf), bold, hole))
            buf.clear()

    pos = 0
    for m in _INLINE.finditer(text):
        buf.append(text[pos:m.start()])
        pos = m.end()
        token = m.group(0)
        if m.group(1) is not None:
            buf.append(m.group(1))
        elif token == "**":
            flush()
            bold = not bold
        elif token == "[[":
            flush()
            hole = True
        else:
            flush()
            hole = False
    buf.append(text[pos:])
    flush()
    return tuple(r for r in runs if r.text)


def _split_cells(line: str) -> list[str]:
    if "\\" not in line:  # no escaped « | »: a plain split
        cells = [c.strip() for c in line.strip()[1:].split("|")]
        return cells[:-1] if cells and not cells[-1] else cells
    cells, buf, escaped = [], [], False
    for ch in line.strip()[1:]:
        if escaped:
            buf.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            cells.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    if "".join(buf).strip():
        cells.append("".join(buf).strip())
    return cells


_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_RULE = re.compile(r"^\|(\s*:?-{2,}:?\s*\|)+\s*$")


_BLANK_LINE = re.compile(r"\n\s*\n")


def parse_blocks(text: str) -> list[Block]:
    """Blocks of a rendered fragment.

    A blank line ends every block, so the text is parsed piece by piece between blank
    lines, each piece once per process: a portfolio's fragments differ by a figure here
    and there, their paragraphs mostly not. Cached blocks are copied, as composing
    numbers the headings.
    """
    blocks: list[Block] = []
    for piece in _BLANK_LINE.split(text):
        if piece.strip():
            blocks += [_copy(block) for block in _parse_piece(piece)]
    return blocks


def _copy(block: Block) -> Block:
    if isinstance(block, Heading):
        return Heading(block.level, list(block.runs), block.number)
    if isinstance(block, Table):
        return Table([[list(cell) for cell in row] for row in block.rows])
    return type(block)(list(block.runs))


@lru_cache(maxsize=2048)
def _parse_piece(text: str) -> tuple[Block, ...]:
    return tuple(_parse(text))


def _parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []
    table: Table | None = None

    def end_paragraph() -> None:
        if para:
            blocks.append(Paragraph(parse_inline(" ".join(para))))
            para.clear()

    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line.startswith("|") and table is not None:
            blocks.append(table)
            table = None
        if not line:
            end_paragraph()
            continue
        heading = _HEADING.match(line) if line.startswith("#") else None
        if heading:
            end_paragraph()
            blocks.append(Heading(len(heading.group(1)), parse_inline(heading.group(2))))
        elif line.startswith("- "):
            end_paragraph()
            blocks.append(BulletItem(parse_inline(line[2:].strip())))
        elif line.startswith("|"):
            end_paragraph()
            table = table or Table()
            if not _RULE.match(line):
                table.rows.append([parse_inline(c) for c in _split_cells(line)])
        else:
            para.append(line)
    end_paragraph()
    if table is not None:
        blocks.append(table)
    return blocks


def plain(runs: list[Run]) -> str:
    return "".join(r.text for r in runs)
