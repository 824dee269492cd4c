"""The monitoring grid (grille de suivi) the winning enterprise fills every month.

Written with ``ooxml.xlsx``, the project's small SpreadsheetML writer with xlsxwriter's calls for the few features
the grid needs (validations, formulas, protection): a portfolio writes one grid per
market, and a general library was most of a market's time. Text from the
questionnaire is always written with ``write_string``: a value starting with
= + - @ stays text and never becomes a formula.

The grid describes itself: a hidden « Clausier » sheet holds the market's
commitments in machine-readable form, so ``clausier suivi consolider`` can
recognise a grid and read it back years later without the questionnaire.

Every rule deciding whether a row counts (a numeric lot, hours between 0 and 744,
no formula typed in an input cell…) is written twice on purpose: once as the
hidden helper columns the « Synthèse » sums, once in Python in ``monitoring.sheets``.
The LibreOffice test checks both give the same figures, so the enterprise and the
facilitator never read two different results from the same file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from drafting.common.cells import cell_ref, col_name
from drafting.common.formatting import euros
from drafting.decide.plan import TYPE_LABELS, Plan
from drafting.monitoring.commitments import Commitment, GridInfo, commitments
from drafting.monitoring.grid_format import (
    A_CALC_PARTICIPANTS,
    A_DATE,
    A_LOT,
    A_PARTICIPANTS,
    A_TYPE,
    ACTION_COLUMNS,
    ACTIONS,
    ACTIONS_SHEET,
    AXES,
    CONTRATS,
    DATE_MAX,
    DATE_MIN,
    FORMAT_VERSION,
    H_ATTESTATION,
    H_CALC_FORMATION,
    H_CALC_HEURES,
    H_CALC_ID,
    H_CALC_PREMIERE,
    H_CONTRAT,
    H_DEBUT,
    H_FEMME,
    H_FIN,
    H_FORMATION,
    H_HEURES,
    H_ID,
    H_LOT,
    H_MODALITE,
    H_MOIS,
    H_QPV,
    H_ROME,
    H_VALIDATION,
    HELPER_HEADER,
    HOURS_COLUMNS,
    HOURS_MAX,
    HOURS_SHEET,
    INPUT_ROWS,
    LISTS_SHEET,
    MEASURED,
    META_FIELDS,
    META_MARKER,
    META_SHEET,
    MODALITES,
    P_ACTION,
    P_ANNEE,
    P_AXE,
    P_CALC_ANNEE,
    P_CALC_PREMIERE,
    P_CIBLE,
    P_INDICATEUR,
    P_LOT,
    PLAN_COLUMNS,
    PLAN_SHEET,
    SECTION_HEADERS,
    SOUS_TRAITANCE,
    SUMMARY_SHEET,
    YEAR_MAX,
)
from drafting.ooxml.xlsx import Workbook


def build_xlsx(plan: Plan, info: GridInfo, stamp: dt.date) -> bytes:
    wb = Workbook()
    wb.set_properties({"title": f"Grille de suivi — {info.reference}", "subject": info.objet, "author": "clausier",
                       "company": info.acheteur, "created": dt.datetime.combine(stamp, dt.time())})
    fmt = _formats(wb)
    retained = {kind for kind in MEASURED if plan.lots_with(kind)}
    _instructions(wb, fmt, info, retained)
    items = commitments(plan, info)
    _commitments(wb, fmt, items, info)
    lists = _lists(plan, info)
    if "insertion" in retained:
        _hours_sheet(wb, fmt, lists)
    if "action_sociale" in retained:
        _actions_sheet(wb, fmt, lists)
    if "plan_de_progres" in retained:
        _plan_sheet(wb, fmt, lists)
    if retained:
        items = _summary(wb, fmt, items, info)
    _lists_sheet(wb, fmt, lists)
    _metadata_sheet(wb, fmt, plan, info, items)
    return wb.package()


def _formats(wb: Workbook) -> dict:
    return {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "subtitle": wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3864"}),
        "header": wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"}),
        "helper": wb.add_format({"italic": True, "font_color": "#808080"}),
        "text": wb.add_format({"text_wrap": True, "valign": "top"}),
        "cell": wb.add_format({"border": 1}),
        "input": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1}),
        "input_text": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "@"}),
        "input_date": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "dd/mm/yyyy"}),
        "input_month": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "mm/yyyy"}),
        "input_num": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "#,##0.00"}),
        "input_int": wb.add_format({"locked": False, "bg_color": "#FFF9E5", "border": 1, "num_format": "0"}),
        "hours": wb.add_format({"border": 1, "num_format": "#,##0"}),
        "euros": wb.add_format({"border": 1, "num_format": '#,##0.00 "€"'}),
        "pct": wb.add_format({"border": 1, "num_format": "0%"}),
        "red": wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"}),
        "green": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
    }


INSTRUCTION_CHARS = 100  # characters per line of the 110-wide instruction column, with a margin


def _instructions(wb, fmt, info: GridInfo, retained: set[str]) -> None:
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
        ("text", "Choisissez le lot dans la liste déroulante et saisissez des valeurs, jamais de formule : une formule tapée "
                 "dans une cellule de saisie n'est pas comptée, ni dans la Synthèse ni par le facilitateur."),
    ]
    if "insertion" in retained:
        lines.append(("text", "Onglet « Suivi heures » : une ligne par personne et par mois (ou par contrat), avec les heures "
                              "travaillées sur ce marché et les heures de formation. Une ligne n'est comptée que si elle "
                              f"porte un identifiant, un lot de la liste et un nombre d'heures compris entre 0 et {HOURS_MAX}. "
                              "La date de validation est celle à laquelle le facilitateur a confirmé l'éligibilité de la "
                              "personne : demandez-la-lui avant de compter ses heures. Le motif de l'éligibilité n'est "
                              "connu que du facilitateur : ne le saisissez nulle part."))
        lines.append(("text", "Heures réalisées par une structure d'insertion, une entreprise adaptée ou un ESAT "
                              f"sous-traitant ou cotraitant : modalité « {SOUS_TRAITANCE} », la structure comme employeur "
                              "juridique, et la date de l'attestation d'heures qu'elle a signée (modèle joint au DCE)."))
    if "action_sociale" in retained:
        lines.append(("text", "Onglet « Actions sociales » : une ligne par action réalisée (type, date, participants, "
                              "partenaire). Une action n'est comptée que si elle a une date et au moins un participant."))
    if "plan_de_progres" in retained:
        lines.append(("text", "Onglet « Plan de progrès » : une ligne par action du plan annuel (année d'exécution 1, 2, 3…, "
                              "axe de progrès défini au CCAP, action, indicateur, valeur de départ, cible, valeur atteinte). "
                              "Un plan est compté pour une année dès qu'une action y a un indicateur et une cible."))
    lines += [
        ("text", "Onglet « Engagements » : ce que le marché vous demande, lot par lot. L'onglet « Synthèse » se calcule seul."),
        ("text", f"Chaque onglet de saisie compte {INPUT_ROWS} lignes ; si elles ne suffisent pas, prévenez le facilitateur : "
                 "les lignes saisies au-delà ne sont pas comptées."),
        ("text", ""),
        ("text", "Données personnelles (RGPD) : la grille n'a volontairement aucune colonne pour le nom, la date de naissance "
                 "ou le numéro de sécurité sociale. Identifiez chaque personne par un code convenu avec le facilitateur "
                 "(par exemple ENT-001) : les données transmises doivent être limitées au strict nécessaire du suivi."),
        ("text", "N'ajoutez, ne renommez ni ne supprimez aucun onglet : le facilitateur consolide les grilles "
                 "automatiquement à partir de l'onglet masqué « Clausier »."),
    ]
    for row, (style, text) in enumerate(lines):
        ws.write_string(row, 0, text, fmt[style])
        wrapped = -(-len(text) // INSTRUCTION_CHARS)  # neither Excel nor LibreOffice grows a row on opening
        if wrapped > 1:
            ws.set_row(row, 15 * wrapped)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


COMMITMENT_LABELS = {"heures": "heures d'insertion", "actions": "réalisations d'actions", "plans": "plans d'actions annuels",
                     "voir CCAP": "engagements qualitatifs"}


def _commitments(wb, fmt, items: list[Commitment], info: GridInfo) -> None:
    ws = wb.add_worksheet("Engagements")
    headers = [("Lot", 7), ("Intitulé", 30), ("Considération", 40), ("Engagement", 14), ("Unité", 22),
               ("Heures au maximum (accord-cadre)", 14), ("Heures par 100 000 € HT commandés", 14), ("Durée", 14),
               ("Pénalité par unité non réalisée", 14), ("Facilitateur", 40)]
    for col, (name, width) in enumerate(headers):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width)
    for row, item in enumerate(items, start=1):
        ws.write_number(row, 0, item.lot, fmt["cell"])
        ws.write_string(row, 1, item.intitule, fmt["cell"])
        ws.write_string(row, 2, TYPE_LABELS[item.type], fmt["cell"])
        if item.engagement is not None:
            ws.write_number(row, 3, item.engagement, fmt["hours"])
        elif item.type == "insertion":
            ws.write_string(row, 3, "selon les marchés subséquents" if info.marches_subsequents else "selon commandes",
                            fmt["cell"])
        elif item.par_an:
            ws.write_string(row, 3, f"{item.par_an:g} par an", fmt["cell"])
        else:
            ws.write_string(row, 3, "voir CCAP", fmt["cell"])
        ws.write_string(row, 4, COMMITMENT_LABELS[item.unite], fmt["cell"])
        for col, value in ((5, item.heures_maximum), (6, item.heures_par_100k)):
            if value is not None:
                ws.write_number(row, col, value, fmt["hours"])
            else:
                ws.write_blank(row, col, None, fmt["cell"])
        ws.write_string(row, 7, info.duree, fmt["cell"])
        if item.penalite_unitaire is not None:
            ws.write_number(row, 8, item.penalite_unitaire, fmt["euros"])
        else:
            ws.write_string(row, 8, "voir CCAP", fmt["cell"])
        ws.write_string(row, 9, info.facilitateur, fmt["cell"])
    ws.freeze_panes(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


LISTS = {"modalites": MODALITES, "contrats": CONTRATS, "actions": ACTIONS, "oui_non": ["O", "N"]}


def list_range(name: str, lists: dict[str, list[str]]) -> str:
    """Where a drop-down's values are on the hidden « Listes » sheet."""
    letter = col_name(list(lists).index(name))
    return f"=Listes!${letter}$2:${letter}${len(lists[name]) + 1}"


def _lists(plan: Plan, info: GridInfo) -> dict[str, list[str]]:
    """Drop-down values; new lists go at the end so existing column letters never move."""
    actions = [*info.actions, "Autre action validée"] if info.actions else ACTIONS
    numbers = {kind: [str(lot.numero) for lot in plan.lots_with(kind)] or ["-"] for kind in MEASURED}
    return {**LISTS, "actions": actions, "lots_insertion": numbers["insertion"], "lots_actions": numbers["action_sociale"],
            "lots_plan": numbers["plan_de_progres"], "axes": AXES}


def _lists_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    """Drop-down values live on a hidden sheet: Excel limits inline lists to 255 characters."""
    ws = wb.add_worksheet(LISTS_SHEET)
    for col, (name, values) in enumerate(lists.items()):
        ws.write_string(0, col, name, fmt["header"])
        for row, value in enumerate(values, start=1):
            ws.write_string(row, col, value)
    ws.hide()
    ws.protect()


def _list_validation(ws, col: int, source: str, title: str = "Valeur non prévue",
                     message: str = "Choisissez une valeur dans la liste déroulante.") -> None:
    ws.data_validation(1, col, INPUT_ROWS, col, {"validate": "list", "source": source, "error_title": title,
                                                 "error_message": message})


def _date_validation(ws, col: int) -> None:
    ws.data_validation(1, col, INPUT_ROWS, col, {
        "validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX,
        "error_title": "Date invalide", "error_message": "Saisissez une date au format JJ/MM/AAAA."})


def _helper_columns(ws, fmt, first: int, formulas: list, width: int = 12) -> None:
    """Hidden, locked columns computing per row what counts; the « Synthèse » only sums them.

    ``formulas`` holds one function per column, called with the 1-based Excel row.
    """
    for offset, formula in enumerate(formulas):
        col = first + offset
        ws.write_string(0, col, HELPER_HEADER, fmt["helper"])
        ws.set_column(col, col, width, None, {"hidden": True})
        ws.write_shared_formula(1, INPUT_ROWS, col, formula(2))


def _not_formula(*cells: str) -> str:
    return ",".join(f"NOT(_xlfn.ISFORMULA({cell}))" for cell in cells)


def _first_occurrence(key: str) -> Any:
    """1 on the first row of a key (« lot|person », « lot|year »), 0 after: distinct counts per lot.

    Plain « = » comparisons on a helper column that is never an error: COUNTIF-style
    criteria would read « * », « ? » or « <… » in an identifier as patterns and a
    numeric-looking one as a number, so two engines could disagree.
    """
    def formula(n: int) -> str:
        # From the header row down to the row above: the same formula filled down (a shared formula);
        # the header text never equals a « lot|… » key.
        return f'=IFERROR(IF({key}{n}="",0,IF(SUMPRODUCT(--({key}$1:{key}{n - 1}={key}{n}))=0,1,0)),0)'
    return formula


def _hours_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    ws = wb.add_worksheet(HOURS_SHEET)
    inputs = {H_ID: "input_text", H_VALIDATION: "input_date", H_ATTESTATION: "input_date", H_DEBUT: "input_date",
              H_FIN: "input_date",
              H_MOIS: "input_month", H_HEURES: "input_num", H_FORMATION: "input_num"}
    for col, (name, width) in enumerate(HOURS_COLUMNS):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width, fmt[inputs.get(col, "input")])
    ws.set_row(0, 45)
    _list_validation(ws, H_LOT, list_range("lots_insertion", lists), "Lot inconnu",
                     "Choisissez un lot soumis à la clause d'insertion.")
    _list_validation(ws, H_MODALITE, list_range("modalites", lists))
    _list_validation(ws, H_CONTRAT, list_range("contrats", lists))
    _list_validation(ws, H_FEMME, list_range("oui_non", lists))
    _list_validation(ws, H_QPV, list_range("oui_non", lists))
    for col in (H_VALIDATION, H_ATTESTATION, H_DEBUT, H_FIN, H_MOIS):
        _date_validation(ws, col)
    for col in (H_HEURES, H_FORMATION):
        ws.data_validation(1, col, INPUT_ROWS, col, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": HOURS_MAX,
            "error_title": "Nombre d'heures invalide",
            "error_message": f"Saisissez un nombre d'heures positif pour le mois ({HOURS_MAX} au plus)."})
    ws.data_validation(1, H_ROME, INPUT_ROWS, H_ROME, {
        "validate": "length", "criteria": "==", "value": 5, "error_title": "Code ROME invalide",
        "error_message": "Le code ROME a 5 caractères : une lettre et quatre chiffres (ex. F1703)."})
    ws.data_validation(1, H_ID, INPUT_ROWS, H_ID, {
        "validate": "length", "criteria": "between", "minimum": 1, "maximum": 30, "error_title": "Identifiant trop long",
        "error_message": "Un code de 30 caractères au plus, convenu avec le facilitateur (ex. ENT-001) : jamais un nom."})
    a, b, hours, training = (col_name(c) for c in (H_ID, H_LOT, H_HEURES, H_FORMATION))
    key = col_name(H_CALC_ID)

    def valid_hours(col: str):
        return lambda n: (f'=IFERROR(IF(AND({key}{n}<>"",{_not_formula(f"{col}{n}")},ISNUMBER({col}{n})),'
                          f'IF(AND({col}{n}>=0,{col}{n}<={HOURS_MAX}),{col}{n},0),0),0)')
    _helper_columns(ws, fmt, H_CALC_HEURES, [
        valid_hours(hours),                                          # P: hours worked that count
        valid_hours(training),                                       # Q: training hours that count
        # R: « lot|person », empty unless the row has a usable identifier and a lot typed as a number
        lambda n: (f'=IFERROR(IF(OR(_xlfn.ISFORMULA({a}{n}),_xlfn.ISFORMULA({b}{n}),NOT(ISNUMBER({b}{n}))),"",'
                   f'IF(ISNUMBER({a}{n}),IF({a}{n}=INT({a}{n}),{b}{n}&"|"&TEXT({a}{n},"0"),""),'
                   f'IF(ISTEXT({a}{n}),IF(OR(TRIM({a}{n})="",LEFT(TRIM({a}{n}),1)="="),"",{b}{n}&"|"&TRIM({a}{n})),'
                   f'""))),"")'),
        _first_occurrence(key),                                      # S: first row of a person in a lot
    ])
    ws.freeze_panes(1, 1)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


def _actions_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    ws = wb.add_worksheet(ACTIONS_SHEET)
    for col, (name, width, style) in enumerate(ACTION_COLUMNS):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width, fmt[style])
    _list_validation(ws, A_LOT, list_range("lots_actions", lists), "Lot inconnu",
                     "Choisissez un lot soumis à la clause d'action sociale.")
    _list_validation(ws, A_TYPE, list_range("actions", lists))
    _date_validation(ws, A_DATE)
    ws.data_validation(1, A_PARTICIPANTS, INPUT_ROWS, A_PARTICIPANTS, {
        "validate": "integer", "criteria": ">=", "value": 0, "error_title": "Nombre invalide",
        "error_message": "Saisissez un nombre de participants positif."})
    lot, date, people = (col_name(c) for c in (A_LOT, A_DATE, A_PARTICIPANTS))
    lo, hi = f"DATE({DATE_MIN.year},{DATE_MIN.month},{DATE_MIN.day})", f"DATE({DATE_MAX.year},{DATE_MAX.month},{DATE_MAX.day})"
    _helper_columns(ws, fmt, A_CALC_PARTICIPANTS, [
        # G: participants of an action that counts (dated, at least one participant), 0 otherwise
        lambda n: (f'=IFERROR(IF(AND(ISNUMBER({lot}{n}),ISNUMBER({date}{n}),ISNUMBER({people}{n}),'
                   f'{_not_formula(f"{lot}{n}", f"{date}{n}", f"{people}{n}")}),'
                   f'IF(AND({date}{n}>={lo},{date}{n}<={hi},{people}{n}>=1),{people}{n},0),0),0)'),
    ])
    ws.freeze_panes(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


def _plan_sheet(wb, fmt, lists: dict[str, list[str]]) -> None:
    ws = wb.add_worksheet(PLAN_SHEET)
    for col, (name, width, style) in enumerate(PLAN_COLUMNS):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, width, fmt[style])
    ws.set_row(0, 32)
    _list_validation(ws, P_LOT, list_range("lots_plan", lists), "Lot inconnu",
                     "Choisissez un lot soumis au plan de progrès.")
    _list_validation(ws, P_AXE, list_range("axes", lists), "Axe inconnu", "Choisissez l'axe du CCAP (Axe 1, Axe 2…).")
    ws.data_validation(1, P_ANNEE, INPUT_ROWS, P_ANNEE, {
        "validate": "integer", "criteria": "between", "minimum": 1, "maximum": YEAR_MAX, "error_title": "Année invalide",
        "error_message": "Saisissez l'année d'exécution : 1 pour la première, 2 pour la deuxième…"})
    lot, year, action, indicator, target = (col_name(c) for c in (P_LOT, P_ANNEE, P_ACTION, P_INDICATEUR, P_CIBLE))
    key = col_name(P_CALC_ANNEE)
    filled = ",".join(f"LEN(TRIM({c}{{n}}))>0" for c in (action, indicator, target))
    _helper_columns(ws, fmt, P_CALC_ANNEE, [
        # J: « lot|year » of a complete row (action, indicator and target filled in), empty otherwise
        lambda n: (f'=IFERROR(IF(AND(ISNUMBER({lot}{n}),ISNUMBER({year}{n}),'
                   f'{_not_formula(*(f"{c}{n}" for c in (lot, year, action, indicator, target)))}),'
                   f'IF(AND({year}{n}>=1,{year}{n}<={YEAR_MAX},{year}{n}=INT({year}{n}),{filled.format(n=n)}),'
                   f'{lot}{n}&"|"&{year}{n},""),""),"")'),
        _first_occurrence(key),                                       # K: first complete row of a year in a lot
    ])
    ws.freeze_panes(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


def _range(sheet: str, col: int) -> str:
    letter = col_name(col)
    quoted = sheet.replace("'", "''")  # an apostrophe in a sheet name is doubled in a reference
    return f"'{quoted}'!${letter}$2:${letter}${INPUT_ROWS + 1}"



def _done_formulas(kind: str, a: str) -> dict[int, str]:
    """Columns C, D and G of a lot's row in « Synthèse »: sums of the hidden helper columns."""
    if kind == "insertion":
        lots, worked, training, first = (_range(HOURS_SHEET, c)
                                         for c in (H_LOT, H_CALC_HEURES, H_CALC_FORMATION, H_CALC_PREMIERE))
        return {2: f"=SUMIF({lots},{a},{worked})+SUMIF({lots},{a},{training})", 3: f"=SUMIF({lots},{a},{training})",
                6: f"=SUMIF({lots},{a},{first})"}
    if kind == "action_sociale":
        lots, people = _range(ACTIONS_SHEET, A_LOT), _range(ACTIONS_SHEET, A_CALC_PARTICIPANTS)
        return {2: f'=COUNTIFS({lots},{a},{people},">0")', 3: f"=SUMIF({lots},{a},{people})"}
    lots, first = _range(PLAN_SHEET, P_LOT), _range(PLAN_SHEET, P_CALC_PREMIERE)
    return {2: f"=SUMIF({lots},{a},{first})"}


def _summary(wb, fmt, items: list[Commitment], info: GridInfo) -> list[Commitment]:
    """One section per measured consideration, columns aligned: B due, C done, E rate, F gap, H penalties.

    Returns the commitments with the row each lot got, for the hidden metadata sheet.
    """
    ws = wb.add_worksheet(SUMMARY_SHEET)
    for col, (_, width) in enumerate(SECTION_HEADERS["insertion"][1]):
        ws.set_column(col, col, width)
    row, totals, placed = 0, [], {}
    for kind in MEASURED:
        section = [item for item in items if item.type == kind]
        if not section:
            continue
        title, headers = SECTION_HEADERS[kind]
        names = [h if isinstance(h, str) else h[0] for h in headers]
        if row:
            ws.write_string(row, 0, title, fmt["subtitle"])
            row += 1
        for col, name in enumerate(names):
            ws.write_string(row, col, name, fmt["header"])
        ws.set_row(row, 32)
        first = row + 1
        for i, item in enumerate(section, start=first):
            placed[(item.lot, kind)] = i + 1
            a, b, c, f = (cell_ref(i, col) for col in (0, 1, 2, 5))
            ws.write_number(i, 0, item.lot, fmt["cell"])
            if item.engagement is not None:
                ws.write_number(i, 1, item.engagement, fmt["hours"])
            elif kind == "insertion":  # framework without minimum: the commitment follows the orders
                ws.write_string(i, 1, f"{item.heures_par_100k} h / 100 000 € HT commandés", fmt["cell"])
            else:
                ws.write_string(i, 1, f"{item.par_an:g} par an" if item.par_an else "voir CCAP", fmt["cell"])
            for col, formula in _done_formulas(kind, a).items():
                ws.write_formula(i, col, formula, fmt["hours"], 0)
            ws.write_formula(i, 4, f'=IF(ISNUMBER({b}),IF({b}>0,{c}/{b},0),"")', fmt["pct"], 0)
            due = item.engagement or 0
            ws.write_formula(i, 5, f'=IF(ISNUMBER({b}),MAX(0,{b}-{c}),"")', fmt["hours"], due)
            if item.penalite_unitaire is not None:
                rate = item.penalite_unitaire
                ws.write_formula(i, 7, f'=IF(ISNUMBER({f}),{f}*{rate},"")', fmt["euros"], due * rate)
            else:
                ws.write_string(i, 7, "voir CCAP", fmt["cell"])
        total = first + len(section)
        ws.write_string(total, 0, "Total", fmt["header"])
        for col in (1, 2, 3, 5, 7):
            if not names[col]:
                continue
            top, bottom = cell_ref(first, col), cell_ref(total - 1, col)
            ws.write_formula(total, col, f"=SUM({top}:{bottom})", fmt["euros"] if col == 7 else fmt["hours"])
        ws.write_formula(total, 4, f"=IF(B{total + 1}>0,C{total + 1}/B{total + 1},0)", fmt["pct"])
        ws.conditional_format(first, 4, total, 4, {"type": "cell", "criteria": ">=", "value": 1, "format": fmt["green"]})
        ws.conditional_format(first, 4, total, 4, {"type": "cell", "criteria": "<", "value": 1, "format": fmt["red"]})
        totals.append(total + 1)
        row = total + 2
    if len(totals) > 1:
        ws.write_string(row, 0, "Total des pénalités potentielles, toutes clauses", fmt["header"])
        ws.write_formula(row, 7, "=" + "+".join(f"H{t}" for t in totals), fmt["euros"])
        row += 2
    notes = [f"Pénalité par heure d'insertion non réalisée : {euros(info.penalite_horaire)} (voir le CCAP)."]
    if info.penalite_action_sociale is not None and any(i.type == "action_sociale" for i in items):
        notes.append(f"Pénalité par réalisation d'action non effectuée : {euros(info.penalite_action_sociale)}.")
    if info.penalite_plan_de_progres is not None and any(i.type == "plan_de_progres" for i in items):
        notes.append(f"Pénalité par plan d'actions annuel non produit : {euros(info.penalite_plan_de_progres)}.")
    notes.append("Les pénalités ne s'appliquent qu'en fin d'exécution, après procédure contradictoire ; les montants "
                 "ci-dessus disent seulement ce qui serait dû si l'exécution s'arrêtait aujourd'hui.")
    for offset, note in enumerate(notes):
        ws.write_string(row + offset, 0, note)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    return [replace(item, synthese_ligne=placed.get((item.lot, item.type))) for item in items]



def _metadata_sheet(wb, fmt, plan: Plan, info: GridInfo, items: list[Commitment]) -> None:
    """Key-value rows then one row per commitment: what ``suivi consolider`` needs, nothing personal."""
    ws = wb.add_worksheet(META_SHEET)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 9, 18)
    pairs: list[tuple[str, Any]] = [
        (META_MARKER, FORMAT_VERSION), ("reference", info.reference), ("objet", info.objet),
        ("acheteur", info.acheteur), ("facilitateur", info.facilitateur), ("bibliotheque", plan.library_version),
        ("duree_totale_mois", info.duree_totale_mois), ("lignes_saisie", INPUT_ROWS),
        ("penalite_horaire", info.penalite_horaire), ("penalite_action_sociale", info.penalite_action_sociale),
        ("penalite_plan_de_progres", info.penalite_plan_de_progres),
    ]
    for row, (key, value) in enumerate(pairs):
        ws.write_string(row, 0, key)
        _write_value(ws, row, 1, value)
    start = len(pairs) + 1
    for col, name in enumerate(META_FIELDS):
        ws.write_string(start, col, name, fmt["header"])
    for row, item in enumerate(items, start=start + 1):
        for col, name in enumerate(META_FIELDS):
            _write_value(ws, row, col, getattr(item, name))
    # Very hidden: Excel's « Afficher » menu does not list it, so the commitments and penalty rates the
    # consolidation trusts are not one right-click away (a determined hand can still alter them; the
    # consolidation cross-checks them against « Synthèse », « Engagements » and the generated grid).
    ws.very_hidden()
    ws.protect()


def _write_value(ws, row: int, col: int, value: Any) -> None:
    """Numbers as numbers, text always as text (never a formula), None as an empty cell."""
    if value is None:
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value)
    else:
        ws.write_string(row, col, str(value))
