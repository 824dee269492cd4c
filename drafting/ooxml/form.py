"""The blank Excel questionnaire form a buyer fills (``clausier questionnaire modele``).

Its layout (sheets, rows, columns, lists) is the reader's, in ``drafting.intake.form``: the
form that is written and the form that is read can never disagree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from typing import Any, Optional

from drafting.common.cells import col_name
from drafting.intake.form import (
    CHOIX,
    FORM_VERSION,
    LISTS_SHEET,
    LOT_COLUMNS,
    LOTS_SHEET,
    MARKET_ROWS,
    MARKET_SHEET,
    MAX_LOTS,
    META_SHEET,
)
from drafting.library import Library
from drafting.ooxml.reports import report_workbook


def write_form(library: Library) -> bytes:
    """The blank form, deterministic (fixed creation date)."""
    buffer = io.BytesIO()
    wb = report_workbook(buffer, "Questionnaire clausier", dt.datetime.combine(library.date, dt.time()))
    head = wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"})
    label = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    entry = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF9E5", "valign": "top"})
    # « @ »: Excel keeps what is typed as text (telephone 04…, département 01, reference 001)
    text = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF9E5", "valign": "top", "num_format": "@"})
    date = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF9E5", "num_format": "dd/mm/yyyy"})
    percent = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF9E5", "num_format": "0.0%"})
    amount = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF9E5", "num_format": "#,##0.00 [$€-40C]"})
    aid = wb.add_format({"italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"})
    formats = {"text": text, "list": text, "int": entry, "number": entry, "date": date, "fraction": percent,
               "amount": amount, "sector": text, "choice": text}

    _instructions(wb, head, aid)
    lists = _lists(library)
    market = wb.add_worksheet(MARKET_SHEET)
    market.set_column(0, 0, 42)
    market.set_column(1, 1, 46)
    market.set_column(2, 2, 50)
    for col, title in enumerate(("Rubrique", "Réponse", "Aide")):
        market.write_string(0, col, title, head)
    for row, spec in enumerate(MARKET_ROWS, start=1):
        market.write_string(row, 0, spec.label, label)
        market.write_blank(row, 1, None, formats[spec.kind])
        market.write_string(row, 2, spec.help, aid)
        _validate(market, row, 1, spec.kind, spec.choices, lists)
    market.protect("", {"format_columns": True, "format_rows": True})
    market.freeze_panes(1, 0)

    lots = wb.add_worksheet(LOTS_SHEET)
    for col, (_, title, kind) in enumerate(LOT_COLUMNS):
        lots.write_string(0, col, title, head)
        lots.set_column(col, col, 30 if kind in ("text", "sector") else 16, formats[kind])
        _validate(lots, (1, MAX_LOTS), col, kind, tuple(CHOIX) if kind == "choice" else (), lists)
    lots.set_row(0, 45)
    lots.freeze_panes(1, 2)

    sheet = wb.add_worksheet(LISTS_SHEET)
    for col, (name, values) in enumerate(sorted(lists.items())):
        sheet.write_string(0, col, name)
        for row, value in enumerate(values, start=1):
            sheet.write_string(row, col, value)
    sheet.hide()
    meta = wb.add_worksheet(META_SHEET)
    meta.write_string(0, 0, "formulaire")
    meta.write_string(0, 1, FORM_VERSION)
    meta.write_string(1, 0, "bibliotheque")
    meta.write_string(1, 1, library.version)
    meta.hide()
    market.activate()
    wb.close()
    return buffer.getvalue()


def _lists(library: Library) -> dict[str, list[str]]:
    lists = {"secteurs": sorted(library.sectors)}
    for spec in MARKET_ROWS:
        if spec.kind == "list":
            lists.setdefault(_list_name(spec.choices), list(spec.choices))
    lists.setdefault(_list_name(tuple(CHOIX)), list(CHOIX))
    return lists


def _list_name(choices: tuple[str, ...]) -> str:
    return "l" + hashlib.sha256("|".join(choices).encode()).hexdigest()[:8]


def _validate(ws, rows: Any, col: int, kind: str, choices: tuple[str, ...], lists: dict[str, list[str]]) -> None:
    first, last = rows if isinstance(rows, tuple) else (rows, rows)
    options: Optional[dict[str, Any]] = None
    if kind in ("list", "choice", "sector"):
        name = "secteurs" if kind == "sector" else _list_name(choices)
        index = sorted(lists).index(name)
        column = col_name(index)
        source = f"={LISTS_SHEET}!${column}$2:${column}${len(lists[name]) + 1}"
        options = {"validate": "list", "source": source, "error_title": "Valeur non prévue",
                   "error_message": "Choisissez une valeur dans la liste déroulante."}
    elif kind == "int":
        options = {"validate": "integer", "criteria": ">=", "value": 0,
                   "error_message": "Un nombre entier positif est attendu."}
    elif kind in ("number", "amount"):
        options = {"validate": "decimal", "criteria": ">=", "value": 0,
                   "error_message": "Un nombre positif est attendu (sans texte ni symbole)."}
    elif kind == "fraction":
        options = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                   "error_message": "Un pourcentage entre 0 et 100 % est attendu."}
    elif kind == "date":
        options = {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                   "maximum": dt.date(2100, 12, 31), "error_message": "Une date JJ/MM/AAAA est attendue."}
    if options:
        ws.data_validation(first, col, last, col, options)


def _instructions(wb, head, aid) -> None:
    ws = wb.add_worksheet("Mode d'emploi")
    ws.set_column(0, 0, 110)
    lines = [
        ("Questionnaire clausier — mode d'emploi", head),
        ("1. Onglet « Marché » : une réponse par ligne, dans la colonne « Réponse » (cellules jaunes). "
         "Les listes déroulantes donnent les valeurs admises.", aid),
        ("2. Onglet « Lots » : une ligne par lot. Un marché sans lot est un lot unique numéroté 1. "
         "Marché ordinaire : montant estimé ; accord-cadre : montant maximum (et minimum s'il existe), "
         "sur toute la durée, reconductions comprises.", aid),
        ("3. Les colonnes de paramètres et de considérations d'un lot l'emportent sur celles du marché ; "
         "laissez-les vides pour garder les valeurs par défaut.", aid),
        ("4. Puis : clausier plan formulaire.xlsx (les décisions) et clausier generate formulaire.xlsx --out sortie "
         "(les pièces). Une erreur est signalée avec sa cellule, par exemple « Lots!E4 : … ».", aid),
        ("Ne renommez ni les onglets ni les en-têtes de colonnes : clausier les reconnaît par leur nom.", aid),
    ]
    for row, (text, fmt) in enumerate(lines):
        ws.write_string(row, 0, text, fmt)
