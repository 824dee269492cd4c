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
from dataclasses import dataclass
from typing import Any, get_args

from drafting.common import archive
from drafting.common.cells import col_name
from drafting.errors import Issue, QuestionnaireError
from drafting.intake.model import (
    MAX_LOTS_QUESTIONNAIRE,
    Attributaires,
    Ccag,
    Forme,
    LoadedQuestionnaire,
    Nature,
    Procedure,
    Theme,
    TypeAcheteur,
)
from drafting.intake.validation import validate_data
from drafting.library import CONSIDERATION_TYPES, Library

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


# ----------------------------------------------------------------------------- reading

def read_form(raw: bytes, source: str, library: Library) -> LoadedQuestionnaire:
    """A filled form (a file's bytes, or an upload) into the same data a YAML file gives, cells as locations.

    ``source`` names it in messages; the form is written by ``drafting.ooxml.form`` from the same layout.
    """
    data, cells, problems = parse_form(raw, source)
    model, issues = validate_data(data, cells, library)
    if problems or issues or model is None:
        raise QuestionnaireError(source, problems + issues)
    return LoadedQuestionnaire(model, source, hashlib.sha256(raw).hexdigest())


def parse_form(raw: bytes, source: str) -> tuple[dict[str, Any], dict[tuple, str], list[Issue]]:
    """The questionnaire dictionary, where each answer sits, and what the form itself gets wrong."""
    import openpyxl  # lazy: ≈ 100 ms of import, paid only when a form is read

    if len(raw) > MAX_BYTES:
        raise QuestionnaireError(source, [Issue("", "classeur trop volumineux pour un questionnaire")])
    try:
        _, why = archive.inspect(raw)
    except archive.NotAZip:
        why = None  # openpyxl below says it in the buyer's words
    if why:
        raise QuestionnaireError(source, [Issue("", f"classeur refusé : {why}")])
    try:
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
    lots: list[dict[str, Any]] = []
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


__all__ = ["read_form", "parse_form"]
