"""Plain text of composed blocks, to assert on a piece before any writer."""

from __future__ import annotations

from typing import Any


def block_text(block: Any) -> str:
    if hasattr(block, "rows"):
        return "\n".join(" | ".join("".join(r.text for r in cell) for cell in row) for row in block.rows)
    return "".join(run.text for run in getattr(block, "runs", []))


def piece_text(blocks: list[Any]) -> str:
    """Every block's text, one per line, with French no-break spaces as plain spaces."""
    return "\n".join(block_text(b) for b in blocks).replace("\u00a0", " ").replace("\u202f", " ")
