"""HTML preview of the composed pieces: the same blocks the Word writer receives, shown as HTML.

The pieces come from ``drafting.api`` (``Engine.pieces``). Their blocks are read by their
kind (heading, paragraph, bullet item, table: the class names of the engine's markup)
and their attributes (``runs``, ``level``, ``number``, ``rows``; a run's ``text``, ``bold``,
``placeholder``), so the web does not depend on the module the engine keeps them in.
Every text goes through Django's escaping: a buyer's objet or a fragment's wording can
never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass
class PiecePreview:
    slug: str
    filename: str
    title: str
    subtitle: str
    html: SafeString
    placeholders: int


def _kind(block: Any) -> str:
    return type(block).__name__


def runs_html(runs: list[Any]) -> str:
    out = []
    for run in runs:
        text = str(escape(run.text))
        if run.placeholder:
            text = f'<mark class="a-completer">{text}</mark>'
        if run.bold:
            text = f"<strong>{text}</strong>"
        out.append(text)
    return "".join(out)


def blocks_html(blocks: list) -> str:
    out: list[str] = []
    in_list = False
    for block in blocks:
        kind = _kind(block)
        if kind == "BulletItem":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{runs_html(block.runs)}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if kind == "Heading":
            level = min(block.level + 2, 6)  # the page has h1 (market) and h2 (piece)
            number = f'<span class="numero">{escape(block.number)}</span> ' if block.number else ""
            out.append(f"<h{level}>{number}{runs_html(block.runs)}</h{level}>")
        elif kind == "Paragraph":
            out.append(f"<p>{runs_html(block.runs)}</p>")
        elif kind == "Table":
            rows = block.rows
            if not rows:
                continue
            head = "".join(f'<th scope="col">{runs_html(cell)}</th>' for cell in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{runs_html(cell)}</td>" for cell in row) + "</tr>" for row in rows[1:])
            out.append(f'<div class="tableau"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def _placeholders(blocks: list) -> int:
    count = 0
    for block in blocks:
        cells = [run for row in block.rows for cell in row for run in cell] if _kind(block) == "Table" else block.runs
        count += sum(1 for run in cells if run.placeholder)
    return count


def preview(pieces: list[Any]) -> list[PiecePreview]:
    out = []
    for piece in pieces:
        slug = piece.kind if piece.kind != "annexe" else piece.filename.rsplit("_", 1)[-1].removesuffix(".docx")
        blocks = list(getattr(piece, "preamble", None) or []) + list(piece.blocks)  # the note opens on what to complete
        out.append(PiecePreview(slug, piece.filename, piece.title, piece.subtitle,
                                mark_safe(blocks_html(blocks)), _placeholders(blocks)))
    return out
