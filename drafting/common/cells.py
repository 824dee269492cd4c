"""Spreadsheet cell addresses, as Excel writes them: read by the form and grid readers, written by the writers."""

from __future__ import annotations


def col_name(col: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        name = chr(65 + rest) + name
    return name


def cell_ref(row: int, col: int) -> str:
    return f"{col_name(col)}{row + 1}"
