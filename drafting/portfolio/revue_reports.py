"""The review's outputs: the review workbook, the programme template, and the terminal summary.

Workbooks are written with xlsxwriter (behind ``ooxml.reports``), text always with
``write_string`` (a value starting with « = » stays text), with a fixed creation date so the
same inputs give the same bytes, and atomically.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from drafting.common import formatting as fr
from drafting.common.cells import col_name
from drafting.decide.plan import TYPE_LABELS
from drafting.library import Library
from drafting.ooxml.reports import report_workbook
from drafting.portfolio.programme import (
    COLUMN_HELP,
    COLUMNS,
    FORMES,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    MAX_MARCHES,
    MAX_MARCHES_TEXTE,
    NATURES,
    SHEET,
)
from drafting.portfolio.revue import EXAMPLE_2, MAX_LOTS, PNAD_CIBLE, PNAD_SOURCE, Revue


def _workbook(buffer: io.BytesIO, title: str, stamp: dt.date) -> Any:
    return report_workbook(buffer, title, dt.datetime.combine(stamp, dt.time()))


def _formats(wb: Any) -> dict[str, Any]:
    return {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "subtitle": wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3864"}),
        "header": wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"}),
        "text": wb.add_format({"text_wrap": True, "valign": "top"}),
        "cell": wb.add_format({"valign": "top", "text_wrap": True, "border": 1}),
        "bold": wb.add_format({"bold": True}),
        "int": wb.add_format({"num_format": "#,##0", "valign": "top", "border": 1}),
        "money": wb.add_format({"num_format": "#,##0.00", "valign": "top", "border": 1}),
        "pct": wb.add_format({"num_format": "0.0 %", "valign": "top", "border": 1}),
        "date": wb.add_format({"num_format": "dd/mm/yyyy", "valign": "top", "border": 1}),
        "example": wb.add_format({"italic": True, "font_color": "#595959", "border": 1}),
        "in_text": wb.add_format({"num_format": "@"}),
        "in_money": wb.add_format({"num_format": "#,##0.00"}),
        "in_date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "in_int": wb.add_format({"num_format": "0"}),
    }


def _put(ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Every value by its type: text is always text, never a formula, a number or a link."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "oui" if value else "non", fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()) if not isinstance(value, dt.datetime) else value,
                          fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _table_sheet(ws: Any, fmt: dict, first_row: int, headers: list[tuple[str, int]], rows: list[list[Any]],
                 formats: dict[int, str]) -> None:
    for col, (name, width) in enumerate(headers):
        ws.write_string(first_row, col, name, fmt["header"])
        ws.set_column(col, col, width)
    for r, values in enumerate(rows, first_row + 1):
        for c, value in enumerate(values):
            _put(ws, r, c, value, fmt[formats.get(c, "cell")])


REVIEW_HEADERS = [("Ligne", 7), ("Référence", 16), ("Objet", 36), ("Nature", 12), ("Secteur", 20),
                  ("Libellé du secteur", 28), ("Forme", 22), ("Montant HT (€)", 15), ("Lots", 6),
                  ("Notification prévue", 13), ("Durée (mois)", 9), ("Considérations retenues", 44),
                  ("Considérations à étudier", 44), ("Heures d'insertion", 11), ("Avertissements", 60),
                  ("DECP (considerationsSociales)", 22)]


def build_review_xlsx(result: Revue, library: Library) -> bytes:
    buffer = io.BytesIO()
    wb = _workbook(buffer, "Revue de marchés", library.date)
    fmt = _formats(wb)
    _synthesis_sheet(wb, fmt, result, library)
    ws = wb.add_worksheet("Revue")
    rows = [[m.ligne, m.reference, m.objet, m.nature, m.secteur, m.secteur_libelle, m.forme, m.montant, m.lots, m.date,
             m.duree_mois, "\n".join(TYPE_LABELS[t] for t in m.retenues) or "aucune",
             "\n".join(TYPE_LABELS[t] for t in m.a_etudier),
             m.heures, "\n".join(f"{code} : {text}" for code, text in m.avertissements), ", ".join(m.decp)]
            for m in result.marches]
    _table_sheet(ws, fmt, 0, REVIEW_HEADERS, rows, {0: "int", 7: "money", 8: "int", 9: "date", 10: "int", 13: "int"})
    ws.freeze_panes(1, 2)
    ws.set_row(0, 30)
    if rows:
        ws.autofilter(0, 0, len(rows), len(REVIEW_HEADERS) - 1)
    ws = wb.add_worksheet("Anomalies")
    problems = [[a.cellule, a.colonne, a.reference, a.message] for a in result.anomalies]
    _table_sheet(ws, fmt, 0, [("Cellule", 16), ("Colonne", 12), ("Référence", 16), ("Anomalie", 100)], problems, {})
    if not problems:
        ws.write_string(1, 0, "Aucune anomalie : toutes les lignes ont été lues.")
    ws.freeze_panes(1, 0)
    wb.close()
    return buffer.getvalue()


def _synthesis_sheet(wb: Any, fmt: dict, result: Revue, library: Library) -> None:
    ws = wb.add_worksheet("Synthèse")
    ws.set_column(0, 0, 58)
    ws.set_column(1, 6, 16)
    ws.write_string(0, 0, "Revue de marchés — synthèse", fmt["title"])
    part = result.part
    scope = _scope(result)
    if part is None:
        verdict = "aucun marché lu"
    elif result.manque == 0:
        verdict = f"objectif atteint{scope}"
    else:
        verdict = (f"objectif non atteint{scope} : {result.manque} marché(s) de plus à doter d'une considération sociale "
                   f"({result.a_etudier_seulement} marché(s) ont une considération à étudier)")
    lines: list[tuple[str, Any, str]] = [
        ("Programme", Path(result.source).name, "cell"),
        ("Feuille lue", result.feuille or "(CSV)", "cell"),
        ("Bibliothèque de clauses", result.library_version, "cell"),
        ("Type d'acheteur", result.acheteur_type, "cell"),
        ("Marchés lus", len(result.marches), "int"),
        ("Lignes rejetées (voir la feuille « Anomalies »)", result.lignes_rejetees, "int"),
        ("Marchés avec au moins une considération sociale retenue", result.avec_consideration, "int"),
        ("Part des marchés avec une considération sociale", part, "pct"),
        ("Objectif du PNAD", PNAD_CIBLE, "pct"),
        ("Résultat", verdict, "cell"),
        ("Marchés sans considération retenue mais avec une considération à étudier", result.a_etudier_seulement, "int"),
        ("Heures d'insertion des clauses retenues", result.heures, "int"),
        ("Montant total HT des marchés lus (€)", sum(m.montant for m in result.marches), "money"),
    ]
    for r, (label, value, kind) in enumerate(lines, 2):
        ws.write_string(r, 0, label, fmt["cell"])
        _put(ws, r, 1, "—" if value is None else value, fmt[kind if value is not None else "cell"])
    r = 2 + len(lines)
    ws.write_string(r, 0, f"Source de l'objectif : {PNAD_SOURCE}. Pour un accord-cadre, le montant est le maximum et "
                          "les heures sont calculées au maximum.", fmt["text"])
    r += 2
    ws.write_string(r, 0, "Par secteur", fmt["subtitle"])
    sectors = result.par_secteur(library)
    rows = [[s["libelle"] + f" ({s['secteur']})", s["marches"], s["avec"], s["avec"] / s["marches"], s["heures"],
             s["montant"]] for s in sectors]
    headers = [("Secteur", 58), ("Marchés", 12), ("Avec une considération retenue", 16), ("Part", 10),
               ("Heures d'insertion", 14), ("Montant HT (€)", 16)]
    for col, (name, _) in enumerate(headers):
        ws.write_string(r + 1, col, name, fmt["header"])
    for i, values in enumerate(rows, r + 2):
        for c, value in enumerate(values):
            _put(ws, i, c, value, fmt[{1: "int", 2: "int", 3: "pct", 4: "int", 5: "money"}.get(c, "cell")])
    ws.activate()


def _scope(result: Revue) -> str:
    """Rows rejected or not read are not in the share: the verdict says it holds for the markets read only."""
    if result.complete:
        return ""
    left_out = []
    if result.lignes_rejetees:
        left_out.append(f"{result.lignes_rejetees} ligne(s) rejetée(s)")
    if result.tronque:
        left_out.append(f"lignes au-delà de {MAX_MARCHES_TEXTE} marchés")
    return f" sur les marchés lus (hors {' et '.join(left_out)})"


def build_template_xlsx(library: Library) -> bytes:
    """The blank programme: headers, drop-downs, validated numbers and dates, French instructions."""

    buffer = io.BytesIO()
    wb = _workbook(buffer, "Programme d'achats — revue de marchés", library.date)
    fmt = _formats(wb)
    ws = wb.add_worksheet(SHEET)
    widths = {"reference": 16, "objet": 40, "nature": 13, "secteur": 26, "montant": 16, "duree_mois": 11, "date": 13,
              "forme": 32, "lots": 7}
    column_format = {"reference": "in_text", "objet": "in_text", "montant": "in_money", "date": "in_date",
                     "duree_mois": "in_int", "lots": "in_int"}
    for col, name in enumerate(COLUMNS):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, widths[name], fmt[column_format[name]] if name in column_format else None)
    ws.freeze_panes(1, 0)
    last = MAX_MARCHES
    lists = {"secteur": list(library.sectors), "nature": list(NATURES), "forme": list(FORMES)}
    for name, values in lists.items():
        col = COLUMNS.index(name)
        letter = col_name(list(lists).index(name))
        ws.data_validation(1, col, last, col, {
            "validate": "list", "source": f"={LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}",
            "error_title": "Valeur non prévue", "error_message": f"Choisissez une valeur de la liste ({name})."})

    def check(name: str, options: dict[str, Any]) -> None:
        col = COLUMNS.index(name)
        ws.data_validation(1, col, last, col, options)

    check("reference", {"validate": "length", "criteria": "between", "minimum": 1, "maximum": 64,
                        "error_title": "Référence", "error_message": "64 caractères au plus : lettres, chiffres, . _ -"})
    check("montant", {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "Montant",
                      "error_message": "Un montant en euros HT, positif, sur toute la durée du marché."})
    check("duree_mois", {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 600,
                         "error_title": "Durée", "error_message": "Une durée en mois, nombre entier de 1 à 600."})
    check("date", {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                   "maximum": dt.date(2100, 12, 31), "error_title": "Date",
                   "error_message": "La date de notification prévue, par exemple 2027-03-15."})
    check("lots", {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": MAX_LOTS,
                   "error_title": "Lots", "error_message": f"Le nombre de lots, entier de 1 à {MAX_LOTS}."})
    ws.activate()
    _instructions_sheet(wb, fmt, library)
    ws = wb.add_worksheet(LISTS_SHEET)
    for col, (name, values) in enumerate(lists.items()):
        ws.write_string(0, col, name, fmt["header"])
        for row, value in enumerate(values, 1):
            ws.write_string(row, col, value)
    ws.write_string(0, len(lists), "libellé du secteur", fmt["header"])
    for row, sector in enumerate(library.sectors.values(), 1):
        ws.write_string(row, len(lists), sector.libelle)
    ws.hide()
    ws.protect()
    wb.close()
    return buffer.getvalue()


def _instructions_sheet(wb: Any, fmt: dict, library: Library) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 90)
    ws.write_string(0, 0, "Programme d'achats — revue de marchés", fmt["title"])
    paragraphs = [
        "Remplissez la feuille « Programme » : une ligne par marché prévu, à partir de la ligne 2, sans modifier les "
        "en-têtes. Puis lancez : clausier revue programme.xlsx --out revue.xlsx",
        "clausier étudie chaque marché comme un questionnaire (lots de montant égal, tous du secteur indiqué) et écrit "
        "les considérations sociales recommandées, les heures d'insertion, les avertissements et la valeur DECP, avec "
        f"une synthèse par rapport à l'objectif du PNAD ({int(PNAD_CIBLE * 100)} % des marchés avec au moins une "
        "considération sociale). Une ligne erronée est signalée avec sa cellule ; les autres sont quand même étudiées.",
        "Le programme peut aussi être un fichier CSV (séparateur « ; » ou « , », encodé en UTF-8) avec les mêmes "
        "en-têtes ; les montants peuvent s'écrire à la française : 1 500 000,50.",
    ]
    row = 2
    for text in paragraphs:
        ws.set_row(row, 48)
        ws.merge_range(row, 0, row, 2, "", fmt["text"])
        ws.write_string(row, 0, text, fmt["text"])
        row += 1
    row += 1
    ws.write_string(row, 0, "Colonnes", fmt["subtitle"])
    row += 1
    for col, name in enumerate(("colonne", "obligatoire", "contenu")):
        ws.write_string(row, col, name, fmt["header"])
    for name in COLUMNS:
        row += 1
        required, what, _ = COLUMN_HELP[name]
        for col, value in enumerate((name, required, what)):
            ws.write_string(row, col, value, fmt["cell"])
    row += 2
    ws.write_string(row, 0, "Exemple (à ne pas recopier dans la feuille « Programme »)", fmt["subtitle"])
    row += 1
    for offset, name in enumerate(COLUMNS):
        ws.write_string(row + offset, 0, name, fmt["header"])
        ws.write_string(row + offset, 1, COLUMN_HELP[name][2], fmt["example"])
        ws.write_string(row + offset, 2, EXAMPLE_2[name], fmt["example"])
    row += len(COLUMNS) + 1
    ws.write_string(row, 0, "Secteurs de la bibliothèque", fmt["subtitle"])
    ws.write_string(row, 2, f"bibliothèque {library.version}", fmt["text"])
    for sector in library.sectors.values():
        row += 1
        ws.write_string(row, 0, sector.id, fmt["cell"])
        ws.write_string(row, 1, sector.nature, fmt["cell"])
        ws.write_string(row, 2, sector.libelle, fmt["cell"])


def summary_text(result: Revue) -> str:
    """The short report printed after a review."""

    n = len(result.marches)
    lines = [f"{n} marché(s) étudié(s)" + (f", {result.lignes_rejetees} ligne(s) rejetée(s)" if result.lignes_rejetees else "")
             + (" (programme tronqué)" if result.tronque else "") + "."]
    if n:
        share = fr.pourcent(round(result.part or 0, 3))
        state = ("atteint" if result.manque == 0 else f"non atteint, {result.manque} marché(s) de plus") + _scope(result)
        lines.append(f"{result.avec_consideration} avec au moins une considération sociale retenue ({share}) ; "
                     f"objectif du PNAD {fr.pourcent(PNAD_CIBLE)} : {state}.")
        lines.append(f"{fr.heures(result.heures)} d'insertion dans les clauses retenues.")
    return "\n".join(lines).replace(fr.NBSP, " ").replace(fr.NNBSP, " ") + "\n"
