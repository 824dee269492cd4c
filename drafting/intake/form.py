"""The questionnaire as an Excel form: written by ``questionnaire modele``, read like a YAML file.

Buyers live in Excel. The form has a « Marché » sheet (one answer per row) and a
« Lots » sheet (one lot per row), drop-down lists for every enumeration and for
the library's sectors, validated numbers and dates. Reading it builds the same
dictionary a YAML file gives and runs the same validation, so the messages are
the same; they point at cells (« Lots!E4 : … ») instead of lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, get_args

from drafting.errors import Issue, QuestionnaireError
from drafting.library.core import CONSIDERATION_TYPES, Library
from drafting.intake.model import MAX_LOTS_QUESTIONNAIRE, Attributaires, Ccag, Forme, Nature, Procedure, Theme, TypeAcheteur
from drafting.ooxml.xlsx import col_name, report_workbook

FORM_VERSION = "1"
MARKET_SHEET, LOTS_SHEET, LISTS_SHEET, META_SHEET = "Marché", "Lots", "Listes", "clausier"
MAX_LOTS = MAX_LOTS_QUESTIONNAIRE
MAX_BYTES = 20_000_000
CHOIX = ["auto", "oui", "non"]
OUI_NON = ["oui", "non"]
TYPE_ACHETEUR = list(get_args(TypeAcheteur))


@dataclass(frozen=True)
class Row:
    """One answer of the « Marché » sheet: its key path, label, list and help."""

    path: tuple[str, ...]
    label: str
    kind: str = "text"  # text | list | int | number | date | fraction | amount
    choices: tuple[str, ...] = ()
    help: str = ""


MARKET_ROWS: tuple[Row, ...] = (
    Row(("acheteur", "nom"), "Nom de l'acheteur", help="obligatoire"),
    Row(("acheteur", "type"), "Type d'acheteur", "list", tuple(TYPE_ACHETEUR), "obligatoire"),
    Row(("acheteur", "departement"), "Département", help="par exemple 69, 2A, 974"),
    Row(("facilitateur", "structure"), "Facilitateur : structure", help="laisser vide si aucun facilitateur"),
    Row(("facilitateur", "contact"), "Facilitateur : nom du contact"),
    Row(("facilitateur", "courriel"), "Facilitateur : courriel"),
    Row(("facilitateur", "telephone"), "Facilitateur : téléphone"),
    Row(("marche", "reference"), "Référence du marché", help="obligatoire ; lettres, chiffres, . _ - (nomme les fichiers)"),
    Row(("marche", "objet"), "Objet du marché", help="obligatoire"),
    Row(("marche", "nature"), "Nature", "list", tuple(get_args(Nature)), "obligatoire"),
    Row(("marche", "procedure"), "Procédure", "list", tuple(get_args(Procedure))),
    Row(("marche", "forme"), "Forme", "list", tuple(get_args(Forme)), "ordinaire par défaut"),
    Row(("marche", "attributaires"), "Attributaires (accord-cadre)", "list", tuple(get_args(Attributaires))),
    Row(("marche", "ccag"), "CCAG", "list", tuple(get_args(Ccag))),
    Row(("marche", "date_notification_prevue"), "Date de notification prévue", "date", help="JJ/MM/AAAA"),
    Row(("marche", "duree_mois"), "Durée initiale (mois)", "int"),
    Row(("marche", "reconductions"), "Nombre de reconductions", "int"),
    Row(("marche", "duree_reconduction_mois"), "Durée d'une reconduction (mois)", "int"),
    Row(("territoire", "heures_minimum"), "Minimum d'heures du territoire", "number",
        help="vide : valeur de la bibliothèque"),
    *(Row(("objectifs", "themes", theme), f"Objectif : {theme.replace('_', ' ')}", "list", tuple(OUI_NON))
      for theme in get_args(Theme)),
    Row(("objectifs", "premier_essai_secteur"), "Premier essai dans ce secteur", "list", tuple(OUI_NON)),
    Row(("objectifs", "objet_insertion"), "L'objet du marché est l'insertion", "list", tuple(OUI_NON)),
    Row(("parametres", "taux_insertion"), "Taux d'insertion (tous lots)", "fraction", help="par exemple 5 %"),
    Row(("parametres", "cout_horaire"), "Coût horaire chargé (€ HT)", "number"),
    Row(("parametres", "part_main_oeuvre"), "Part de main-d'œuvre (tous lots)", "fraction"),
    Row(("parametres", "penalite_horaire"), "Pénalité par heure non réalisée (€)", "number"),
    *(Row(("considerations", t), f"Considération : {t.replace('_', ' ')}", "list", tuple(CHOIX), "auto par défaut")
      for t in CONSIDERATION_TYPES),
    Row(("justifications", "exception_condition_sociale"), "Justification si aucune condition sociale",
        help="seulement au-dessus des seuils européens"),
)

# (key path inside a lot, header, kind)
LOT_COLUMNS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("numero",), "N° de lot", "int"),
    (("intitule",), "Intitulé", "text"),
    (("secteur",), "Secteur (identifiant)", "sector"),
    (("cpv",), "Code CPV", "text"),
    (("montant_estime_ht",), "Montant estimé HT (marché ordinaire)", "amount"),
    (("montant_minimum_ht",), "Montant minimum HT (accord-cadre)", "amount"),
    (("montant_maximum_ht",), "Montant maximum HT (accord-cadre)", "amount"),
    (("sourcing", "structures_inclusives"), "Structures inclusives du territoire", "int"),
    (("parametres", "taux_insertion"), "Taux d'insertion du lot", "fraction"),
    (("parametres", "part_main_oeuvre"), "Part de main-d'œuvre du lot", "fraction"),
    (("parametres", "cout_horaire"), "Coût horaire du lot (€ HT)", "number"),
    (("parametres", "penalite_horaire"), "Pénalité horaire du lot (€)", "number"),
    *((("considerations", t), f"{t.replace('_', ' ')} (lot)", "choice") for t in CONSIDERATION_TYPES),
)


# ----------------------------------------------------------------------------- writing

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


# ----------------------------------------------------------------------------- reading

def read_form(path: Path, library: Library):
    """Read a filled form into the same dictionary a YAML file gives, cells as locations."""
    from drafting.intake.reader import read_input

    return read_form_bytes(read_input(path), str(path), library)


def read_form_bytes(raw: bytes, source: str, library: Library):
    """A filled form already in memory (an upload), ``source`` naming it in messages."""
    from drafting.intake.reader import LoadedQuestionnaire, validate_data

    data, cells, problems = parse_form(raw, source)
    model, issues = validate_data(data, cells, library)
    if problems or issues or model is None:
        raise QuestionnaireError(source, problems + issues)
    return LoadedQuestionnaire(model, source, hashlib.sha256(raw).hexdigest())


def parse_form(raw: bytes, source: str) -> tuple[dict[str, Any], dict[tuple, str], list[Issue]]:
    """The questionnaire dictionary, where each answer sits, and what the form itself gets wrong."""
    import openpyxl

    if len(raw) > MAX_BYTES:
        raise QuestionnaireError(source, [Issue("", "classeur trop volumineux pour un questionnaire")])
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 10 * MAX_BYTES:
                raise QuestionnaireError(source, [Issue("", "classeur refusé : contenu décompressé démesuré")])
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except QuestionnaireError:
        raise
    except Exception:  # openpyxl raises many kinds on a broken file
        raise QuestionnaireError(source, [Issue("", "ce n'est pas un classeur Excel .xlsx lisible : partez du modèle "
                                                    "(clausier questionnaire modele formulaire.xlsx)")]) from None
    try:
        if MARKET_SHEET not in wb.sheetnames or LOTS_SHEET not in wb.sheetnames:
            raise QuestionnaireError(source, [Issue("", f"onglets « {MARKET_SHEET} » et « {LOTS_SHEET} » introuvables : "
                                                        "ce classeur n'est pas un questionnaire clausier")])
        data: dict[str, Any] = {"version": 1}
        cells: dict[tuple, str] = {("version",): f"{MARKET_SHEET}!B1"}
        problems: list[Issue] = []
        _read_market(wb[MARKET_SHEET], data, cells, problems)
        data["lots"] = _read_lots(wb[LOTS_SHEET], cells, problems)
        cells[("lots",)] = f"{LOTS_SHEET}!A2"
        return data, cells, problems
    finally:
        wb.close()


def _clean(value: Any, kind: str) -> Any:
    """Excel gives floats for whole numbers and datetimes for dates: give what a YAML file would."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    if isinstance(value, float) and value.is_integer() and kind in ("int", "text", "list", "choice", "sector"):
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if kind in ("text", "sector") and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _read_market(ws, data: dict[str, Any], cells: dict[tuple, str], problems: list[Issue]) -> None:
    by_label = {spec.label: spec for spec in MARKET_ROWS}
    themes: list[str] = []
    for row_index, row in enumerate(ws.iter_rows(min_row=2, max_row=len(MARKET_ROWS) + 40, max_col=2, values_only=True),
                                    start=2):
        label, value = (row + (None, None))[:2]
        spec = by_label.get(str(label).strip()) if label is not None else None
        if spec is None:
            continue
        cell = f"{MARKET_SHEET}!B{row_index}"
        if spec.path == ("acheteur", "departement") and isinstance(value, (int, float)) and float(value).is_integer():
            value = int(value)  # the model writes 1 as « 01 »
        else:
            value = _clean(value, spec.kind)
        if value is None:
            continue
        if spec.path[:2] == ("objectifs", "themes"):
            cells[("objectifs", "themes")] = cell
            answer = str(value).strip().lower()
            if answer == "oui":
                themes.append(spec.path[2])
            elif answer != "non":
                problems.append(Issue(f"objectifs.themes ({spec.path[2]})", f"répondez « oui » ou « non », pas « {value} »",
                                      cell))
            continue
        _put(data, spec.path, value)
        cells[spec.path] = cell
    if themes:
        data.setdefault("objectifs", {})["themes"] = themes
    for section in ("acheteur", "marche"):
        cells.setdefault((section,), f"{MARKET_SHEET}!B2")


def _read_lots(ws, cells: dict[tuple, str], problems: list[Issue]) -> list[dict[str, Any]]:
    header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    titles = {str(t).strip(): i for i, t in enumerate(header) if t is not None}
    columns = [(titles.get(title), path, kind) for path, title, kind in LOT_COLUMNS]
    lots = []
    for row_index, row in enumerate(ws.iter_rows(min_row=2, max_row=MAX_LOTS + 1, values_only=True), start=2):
        lot: dict[str, Any] = {}
        for index, path, kind in columns:
            if index is None or index >= len(row):
                continue
            value = _clean(row[index], kind)
            if value is None:
                continue
            _put(lot, path, value)
            cells[("lots", len(lots)) + path] = f"{LOTS_SHEET}!{col_name(index)}{row_index}"
        if lot:
            cells[("lots", len(lots))] = f"{LOTS_SHEET}!A{row_index}"
            lots.append(lot)
    for row_index, row in enumerate(ws.iter_rows(min_row=MAX_LOTS + 2, max_row=MAX_LOTS + 2000, values_only=True),
                                    start=MAX_LOTS + 2):
        if any(v not in (None, "") for v in row):
            problems.append(Issue("lots", f"au plus {MAX_LOTS} lots : la ligne {row_index} n'est pas lue ; "
                                          "regroupez des lots ou faites plusieurs marchés", f"{LOTS_SHEET}!A{row_index}"))
            break
    return lots


__all__ = ["write_form", "read_form", "parse_form"]
