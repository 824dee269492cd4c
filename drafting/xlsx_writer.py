"""The monitoring grid (grille de suivi) the winning enterprise fills every month.

Written with xlsxwriter: faster than openpyxl for writing, and it supports the
data validation, formulas and sheet protection the grid needs. Text from the
questionnaire is always written with ``write_string``: a value starting with
= + - @ stays text and never becomes a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from .formatting import euros
from .plan import RETENUE, TYPE_LABELS, Plan

INPUT_ROWS = 500
CONTRATS = ["CDI", "CDD", "CDDI", "Intérim (ETTI)", "Mise à disposition (AI)", "GEIQ", "Apprentissage",
            "Professionnalisation", "Sous-traitance SIAE/EA", "Autre"]
MODALITES = ["Embauche directe", "Mise à disposition", "Sous-traitance ou cotraitance", "Formation"]
CATEGORIES = ["Salarié de SIAE", "Travailleur d'EA ou d'ESAT", "Demandeur d'emploi de longue durée",
              "Bénéficiaire du RSA, de l'ASS ou de l'AAH", "Travailleur handicapé (RQTH)", "Jeune de moins de 26 ans",
              "Demandeur d'emploi de plus de 50 ans", "Parent isolé", "Habitant d'un QPV ou d'une ZRR",
              "Bénéficiaire de la protection internationale", "Personne sortant de détention", "Autre (validé par le facilitateur)"]
ACTIONS = ["Visite de chantier ou de site", "Immersion (PMSMP)", "Formation", "Promotion des métiers en tension",
           "Stage ou alternance", "Autre action validée"]
HOURS_COLUMNS = [
    ("Identifiant pseudonymisé", 18), ("Lot", 7), ("Catégorie d'éligibilité", 30), ("Date de validation (facilitateur)", 14),
    ("Modalité", 24), ("Employeur juridique", 24), ("Type de contrat", 20), ("Début du contrat", 12),
    ("Fin du contrat", 12), ("Code ROME", 10), ("Mois", 11), ("Heures travaillées", 11), ("Heures de formation", 11),
    ("Femme (O/N)", 8), ("Résident QPV (O/N)", 9),
]


@dataclass(frozen=True)
class GridInfo:
    reference: str
    objet: str
    acheteur: str
    facilitateur: str
    penalite_horaire: float
    duree: str
    actions: tuple[str, ...] = ()  # labels of the library's action catalogue; built-in list when empty


def build_xlsx(plan: Plan, info: GridInfo, stamp: dt.date) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                      "strings_to_urls": False})
    wb.set_properties({"title": f"Grille de suivi — {info.reference}", "subject": info.objet, "author": "clausier",
                       "company": info.acheteur, "created": dt.datetime.combine(stamp, dt.time())})
    wb.set_calc_mode("auto")
    fmt = _formats(wb)
    insertion_lots = plan.lots_with("insertion")
    action_lots = plan.lots_with("action_sociale")
    _instructions(wb, fmt, info, bool(insertion_lots), bool(action_lots))
    _commitments(wb, fmt, plan, info)
    lists = _lists(plan, info)
    if insertion_lots:
        _hours_sheet(wb, fmt, lists)
    if action_lots:
        _actions_sheet(wb, fmt, lists)
    if insertion_lots:
        _summary(wb, fmt, plan, info)
    _lists_sheet(wb, fmt, lists)
    wb.close()
    return buffer.getvalue()


def _formats(wb: xlsxwriter.Workbook) -> dict:
    return {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "header": wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"}),
        "text": wb.add_format({"text_wrap": True, "valign": "top"}),
        "cell": wb.add_format({"border": 1}),
        "input": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1}),
        "input_date": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "dd/mm/yyyy"}),
        "input_month": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "mm/yyyy"}),
        "input_num": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "#,##0.00"}),
        "hours": wb.add_format({"border": 1, "num_format": "#,##0"}),
        "euros": wb.add_format({"border": 1, "num_format": '#,##0.00 "€"'}),
        "pct": wb.add_format({"border": 1, "num_format": "0%"}),
        "red": wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"}),
        "green": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
    }


def _instructions(wb, fmt, info: GridInfo, hours: bool, actions: bool) -> None:
    ws = wb.add_worksheet("Mode d'emploi")
    ws.set_column(0, 0, 110, fmt["text"])
    lines = [
        ("title", f"Grille de suivi des clauses sociales — marché n° {info.reference}"),
        ("text", f"Objet : {info.objet}"),
        ("text", f"Acheteur : {info.acheteur}"),
        ("text", f"Facilitateur : {info.facilitateur}"),
        ("text", ""),
        ("text", "À remplir chaque mois par le titulaire et à transmettre au facilitateur avant le 10 du mois suivant."),
        ("text", "Seules les cellules sur fond jaune pâle se saisissent ; les listes déroulantes et les contrôles de saisie "
                 "refusent les valeurs incohérentes (heures négatives, dates invalides)."),
    ]
    if hours:
        lines.append(("text", "Onglet « Suivi heures » : une ligne par personne et par mois (ou par contrat), avec les heures "
                              "travaillées sur ce marché et les heures de formation."))
    if actions:
        lines.append(("text", "Onglet « Actions sociales » : une ligne par action réalisée (type, date, participants, partenaire)."))
    lines += [
        ("text", "Onglet « Engagements » : ce que le marché vous demande, lot par lot. L'onglet « Synthèse » se calcule seul."),
        ("text", ""),
        ("text", "Données personnelles (RGPD) : la grille n'a volontairement aucune colonne pour le nom, la date de naissance "
                 "ou le numéro de sécurité sociale. Identifiez chaque personne par un code convenu avec le facilitateur "
                 "(par exemple ENT-001) : les données transmises doivent être limitées au strict nécessaire du suivi."),
    ]
    for row, (style, text) in enumerate(lines):
        ws.write_string(row, 0, text, fmt[style])
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


def _commitments(wb, fmt, plan: Plan, info: GridInfo) -> None:
    ws = wb.add_worksheet("Engagements")
    headers = [("Lot", 7), ("Intitulé", 30), ("Considération", 40), ("Engagement", 14), ("Unité", 22),
               ("Heures au maximum (accord-cadre)", 14), ("Heures par 100 000 € HT commandés", 14), ("Durée", 14)]
    for col, (name, width) in enumerate(headers):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width)
    row = 1
    for lot in plan.lots:
        for decision in lot.decisions:
            if decision.statut != RETENUE:
                continue
            ws.write_number(row, 0, lot.numero, fmt["cell"])
            ws.write_string(row, 1, lot.intitule, fmt["cell"])
            ws.write_string(row, 2, TYPE_LABELS[decision.type], fmt["cell"])
            if decision.type == "insertion":
                if decision.heures is not None:
                    ws.write_number(row, 3, decision.heures, fmt["hours"])
                else:
                    ws.write_string(row, 3, "selon commandes", fmt["cell"])
                ws.write_string(row, 4, "heures d'insertion", fmt["cell"])
                for col, value in ((5, decision.heures_maximum), (6, decision.heures_par_100k)):
                    if value is not None:
                        ws.write_number(row, col, value, fmt["hours"])
                    else:
                        ws.write_blank(row, col, None, fmt["cell"])
            else:
                ws.write_string(row, 3, "voir CCAP", fmt["cell"])
                ws.write_string(row, 4, "actions", fmt["cell"])
                ws.write_blank(row, 5, None, fmt["cell"])
                ws.write_blank(row, 6, None, fmt["cell"])
            ws.write_string(row, 7, info.duree, fmt["cell"])
            row += 1
    ws.freeze_panes(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


LISTS = {"categories": CATEGORIES, "modalites": MODALITES, "contrats": CONTRATS, "actions": ACTIONS, "oui_non": ["O", "N"]}


def list_range(name: str, lists: dict[str, list[str]]) -> str:
    """Where a drop-down's values are on the hidden « Listes » sheet."""
    col = list(lists).index(name)
    letter = xl_rowcol_to_cell(0, col)[:-1]
    return f"=Listes!${letter}$2:${letter}${len(lists[name]) + 1}"


def _lists(plan: Plan, info: GridInfo) -> dict[str, list[str]]:
    actions = [*info.actions, "Autre action validée"] if info.actions else ACTIONS
    return {**LISTS, "actions": actions, "lots_insertion": [str(lot.numero) for lot in plan.lots_with("insertion")] or ["-"],
            "lots_actions": [str(lot.numero) for lot in plan.lots_with("action_sociale")] or ["-"]}


def _lists_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    """Drop-down values live on a hidden sheet: Excel limits inline lists to 255 characters."""
    ws = wb.add_worksheet("Listes")
    for col, (name, values) in enumerate(lists.items()):
        ws.write_string(0, col, name, fmt["header"])
        for row, value in enumerate(values, start=1):
            ws.write_string(row, col, value)
    ws.hide()
    ws.protect()


def _list_validation(ws, col: int, source: str) -> None:
    ws.data_validation(1, col, INPUT_ROWS, col, {
        "validate": "list", "source": source, "error_title": "Valeur non prévue",
        "error_message": "Choisissez une valeur dans la liste déroulante."})


def _hours_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    ws = wb.add_worksheet("Suivi heures")
    inputs = {3: "input_date", 7: "input_date", 8: "input_date", 10: "input_month", 11: "input_num", 12: "input_num"}
    for col, (name, width) in enumerate(HOURS_COLUMNS):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width, fmt[inputs.get(col, "input")])
    ws.set_row(0, 45)
    ws.data_validation(1, 1, INPUT_ROWS, 1, {
        "validate": "list", "source": list_range("lots_insertion", lists), "error_title": "Lot inconnu",
        "error_message": "Choisissez un lot soumis à la clause d'insertion."})
    _list_validation(ws, 2, list_range("categories", lists))
    _list_validation(ws, 4, list_range("modalites", lists))
    _list_validation(ws, 6, list_range("contrats", lists))
    _list_validation(ws, 13, list_range("oui_non", lists))
    _list_validation(ws, 14, list_range("oui_non", lists))
    for col in (3, 7, 8, 10):
        ws.data_validation(1, col, INPUT_ROWS, col, {
            "validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1), "maximum": dt.date(2100, 12, 31),
            "error_title": "Date invalide", "error_message": "Saisissez une date au format JJ/MM/AAAA."})
    for col in (11, 12):
        ws.data_validation(1, col, INPUT_ROWS, col, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 744,
            "error_title": "Nombre d'heures invalide",
            "error_message": "Saisissez un nombre d'heures positif pour le mois (744 au plus)."})
    ws.data_validation(1, 9, INPUT_ROWS, 9, {
        "validate": "length", "criteria": "==", "value": 5, "error_title": "Code ROME invalide",
        "error_message": "Le code ROME a 5 caractères : une lettre et quatre chiffres (ex. F1703)."})
    ws.freeze_panes(1, 1)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


def _actions_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    ws = wb.add_worksheet("Actions sociales")
    columns = [("Lot", 7, "input"), ("Type d'action", 32, "input"), ("Date", 12, "input_date"),
               ("Participants", 12, "input_num"), ("Partenaire", 30, "input"), ("Commentaire", 40, "input")]
    for col, (name, width, style) in enumerate(columns):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width, fmt[style])
    _list_validation(ws, 0, list_range("lots_actions", lists))
    _list_validation(ws, 1, list_range("actions", lists))
    ws.data_validation(1, 2, INPUT_ROWS, 2, {"validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1),
                                             "error_message": "Saisissez une date au format JJ/MM/AAAA."})
    ws.data_validation(1, 3, INPUT_ROWS, 3, {"validate": "integer", "criteria": ">=", "value": 0,
                                             "error_message": "Saisissez un nombre de participants positif."})
    ws.freeze_panes(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


def _summary(wb, fmt, plan: Plan, info: GridInfo) -> None:
    ws = wb.add_worksheet("Synthèse")
    headers = [("Lot", 7), ("Engagement (heures)", 14), ("Heures réalisées", 14), ("dont formation", 12),
               ("Taux de réalisation", 12), ("Heures restant dues", 14), ("Personnes", 11),
               ("Pénalités potentielles", 16)]
    for col, (name, width) in enumerate(headers):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width)
    ws.set_row(0, 32)
    last = INPUT_ROWS + 1
    ids, lots = f"'Suivi heures'!$A$2:$A${last}", f"'Suivi heures'!$B$2:$B${last}"
    worked, training = f"'Suivi heures'!$L$2:$L${last}", f"'Suivi heures'!$M$2:$M${last}"
    rows = [lot for lot in plan.lots_with("insertion")]
    for i, lot in enumerate(rows, start=1):
        decision = lot.decision("insertion")
        commitment = decision.heures if decision.heures is not None else 0
        a, b, c, d, e = (xl_rowcol_to_cell(i, col) for col in range(5))
        ws.write_number(i, 0, lot.numero, fmt["cell"])
        if decision.heures is None:  # framework without minimum: the commitment follows the orders
            ws.write_string(i, 1, f"{decision.heures_par_100k} h / 100 000 € HT commandés", fmt["cell"])
            commitment = 0
        else:
            ws.write_number(i, 1, commitment, fmt["hours"])
        ws.write_formula(i, 2, f'=SUMIF({lots},{a},{worked})+SUMIF({lots},{a},{training})', fmt["hours"], 0)
        ws.write_formula(i, 3, f'=SUMIF({lots},{a},{training})', fmt["hours"], 0)
        ws.write_formula(i, 4, f'=IF(ISNUMBER({b}),IF({b}>0,{c}/{b},0),"")', fmt["pct"], 0)
        ws.write_formula(i, 5, f'=IF(ISNUMBER({b}),MAX(0,{b}-{c}),"")', fmt["hours"], commitment)
        ws.write_formula(i, 6, f'=SUMPRODUCT(({lots}={a})*({ids}<>"")/COUNTIFS({ids},{ids}&"",{lots},{lots}&""))',
                         fmt["hours"], 0)
        rate = (decision.calcul or {}).get("penalite_horaire", info.penalite_horaire)
        ws.write_formula(i, 7, f'=IF(ISNUMBER(F{i + 1}),F{i + 1}*{rate},"")', fmt["euros"], commitment * rate)
    total = len(rows) + 1
    ws.write_string(total, 0, "Total", fmt["header"])
    for col in (1, 2, 3, 5, 7):
        top, bottom = xl_rowcol_to_cell(1, col), xl_rowcol_to_cell(total - 1, col)
        ws.write_formula(total, col, f"=SUM({top}:{bottom})", fmt["euros"] if col == 7 else fmt["hours"])
    ws.write_formula(total, 4, f"=IF(B{total + 1}>0,C{total + 1}/B{total + 1},0)", fmt["pct"])
    ws.conditional_format(1, 4, total, 4, {"type": "cell", "criteria": ">=", "value": 1, "format": fmt["green"]})
    ws.conditional_format(1, 4, total, 4, {"type": "cell", "criteria": "<", "value": 1, "format": fmt["red"]})
    ws.write_string(total + 2, 0, f"Pénalité par heure non réalisée : {euros(info.penalite_horaire)} (voir le CCAP). "
                                  "Les pénalités ne s'appliquent qu'en fin d'exécution, après procédure contradictoire.",
                    fmt["text"])
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
