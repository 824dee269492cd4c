"""Revue de marchés: which planned markets of a purchasing programme suit a social consideration.

The guide asks buyers to review their programme first, then choose clause by clause.
A programme is a table, one row per planned market (``COLUMNS``), in CSV or Excel.
Each row becomes a questionnaire — the market split in lots of equal amount, all in
the row's sector; for a framework the amount is the maximum — validated with the
same rules and French messages as a questionnaire file, then decided by the same
``build_plan``. A bad row is reported with its cell and the other rows still count.

Reading the table is ``portfolio.programme``; the workbooks and summary are ``portfolio.revue_reports``.

Not in the review: the facilitator, unknown at this stage, so the warning
``facilitateur_absent`` is left out; the territory minimum of hours and every other
parameter come from the library.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from drafting.decide.plan import A_ETUDIER, RETENUE, Plan
from drafting.decide.policy import build_plan
from drafting.errors import ProgrammeError
from drafting.intake.model import parse_amount
from drafting.intake.validation import validate_data
from drafting.library import CONSIDERATION_TYPES, Library
from drafting.portfolio.programme import ACCORDS_CADRES, MAX_MARCHES_TEXTE, Anomalie, Table, Unreadable, blank, read_table

# PNAD 2022-2025 (plan national pour des achats durables): 30 % of the contracts notified each
# year with at least one social consideration. Not a dated parameter of the clause library
# (parametres.yaml has none for it); kept here with its source until the library carries it.
PNAD_CIBLE = 0.30
PNAD_SOURCE = "PNAD 2022-2025 : 30 % des contrats notifiés comprenant au moins une considération sociale"

MAX_LOTS = 500                           # as the questionnaire model
ACHETEUR_NOM = "Revue de marchés"        # the questionnaire needs a buyer's name; it appears nowhere

EXAMPLE_2 = {"reference": "2027-SRV-004", "objet": "Nettoyage des bâtiments communaux", "nature": "services",
             "secteur": "nettoyage", "montant": "640 000", "duree_mois": "48", "date": "2027-06-01",
             "forme": "accord_cadre_bons_de_commande", "lots": "1"}
FIELD_COLUMN = {"marche.reference": "reference", "marche.objet": "objet", "marche.nature": "nature",
                "marche.forme": "forme", "marche.date_notification_prevue": "date", "marche.duree_mois": "duree_mois"}
LOT_FIELD_COLUMN = {"secteur": "secteur", "montant_estime_ht": "montant", "montant_maximum_ht": "montant",
                    "montant_minimum_ht": "montant"}
SHORT_WARNINGS = {
    "insertion_non_adaptee": "heures estimées sous le minimum d'un parcours d'insertion",
    "complementarite": "clause de diversification sans clause d'insertion",
    "lien_objet": "pas de main-d'œuvre sur site : pas de lien avec l'objet pour des heures",
    "condition_sociale_obligatoire": "au-dessus du seuil européen sans condition d'exécution sociale : "
                                     "à retenir ou exception à motiver",
    "accord_cadre_sans_minimum": "accord-cadre sans minimum : heures au montant maximum, commandes possibles "
                                 "sous le seuil d'un parcours",
    "plan_de_progres_inadapte": "plan de progrès inadapté à ce marché",
    "reservation_volume": "volume élevé pour une réservation",
}
LEFT_OUT = ("facilitateur_absent",)  # unknown at the review stage: not a finding about the market



@dataclass(frozen=True)
class MarcheRevu:
    ligne: int
    reference: str
    objet: str
    nature: str
    secteur: str
    secteur_libelle: str
    forme: str
    montant: float
    lots: int
    date: Optional[dt.date]
    duree_mois: Optional[int]
    retenues: tuple[str, ...]
    a_etudier: tuple[str, ...]
    heures: int
    avertissements: tuple[tuple[str, str], ...]
    decp: tuple[str, ...]

    @property
    def avec_consideration(self) -> bool:
        return bool(self.retenues)


@dataclass
class Revue:
    source: str
    feuille: Optional[str]
    library_version: str
    acheteur_type: str
    marches: list[MarcheRevu] = field(default_factory=list)
    anomalies: list[Anomalie] = field(default_factory=list)
    lignes_rejetees: int = 0
    tronque: bool = False

    @property
    def avec_consideration(self) -> int:
        return sum(1 for m in self.marches if m.avec_consideration)

    @property
    def part(self) -> Optional[float]:
        return self.avec_consideration / len(self.marches) if self.marches else None

    @property
    def a_etudier_seulement(self) -> int:
        return sum(1 for m in self.marches if not m.retenues and m.a_etudier)

    @property
    def heures(self) -> int:
        return sum(m.heures for m in self.marches)

    @property
    def manque(self) -> int:
        """Markets still to give a social consideration to reach the PNAD target."""
        return max(0, math.ceil(round(PNAD_CIBLE * len(self.marches), 9)) - self.avec_consideration)

    def par_secteur(self, library: Library) -> list[dict[str, Any]]:
        order = {sid: i for i, sid in enumerate(library.sectors)}
        rows: dict[str, dict[str, Any]] = {}
        for m in self.marches:
            row = rows.setdefault(m.secteur, {"secteur": m.secteur, "libelle": m.secteur_libelle, "marches": 0,
                                              "avec": 0, "heures": 0, "montant": 0.0})
            row["marches"] += 1
            row["avec"] += int(m.avec_consideration)
            row["heures"] += m.heures
            row["montant"] += m.montant
        return sorted(rows.values(), key=lambda r: order.get(r["secteur"], len(order)))

    @property
    def complete(self) -> bool:
        return not self.lignes_rejetees and not self.tronque


# --------------------------------------------------------------------------- reading the table


# --------------------------------------------------------------------------- one row -> one questionnaire

def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return value.strip() or None
    return value


def _word(value: Any) -> Any:
    """An identifier typed freely: « Travaux », « Espaces verts » -> travaux, espaces_verts."""
    text = _text(value)
    if not isinstance(text, str):
        return text
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s\-]+", "_", plain.strip()) or text


def _integer(value: Any) -> Any:
    """A whole number as typed: 3, 3.0, or text « 3 », « 3.0 », « 3,0 » (a CSV or a text cell)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    match = re.fullmatch(r"\s*(\d{1,6})(?:[.,]0*)?\s*", value) if isinstance(value, str) else None
    if match:
        return int(match[1])
    if isinstance(value, str):
        return value.strip() or None
    return value


_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        match = _FRENCH_DATE.fullmatch(text)
        if match:
            try:
                return dt.date(int(match[3]), int(match[2]), int(match[1]))
            except ValueError:
                return text
        return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]00:00(:00)?", text) else (text or None)
    return value


def _amount(value: Any) -> Any:
    """The amount as typed; « -5 » or « -1 500,00 » becomes a negative number, refused by the model as such."""
    if isinstance(value, str):
        text = value.strip()
        negative = re.fullmatch(r"[-\u2212]\s*(\d.*)", text)
        if negative:

            try:
                parsed = -float(parse_amount(negative[1]))
            except Exception:  # unreadable: the model says so, quoting the text
                return text
            return int(parsed) if parsed.is_integer() else parsed
        return text or None
    return value


def _lot_amounts(total: float, count: int) -> list[float]:
    """``count`` equal shares whose float sum is ``total`` exactly, so thresholds see the row's amount."""
    share = total / count
    amounts = [share] * count
    if count > 1:
        head = sum(amounts[:-1])
        last = total - head
        for _ in range(8):
            if head + last == total:
                break
            last = math.nextafter(last, math.inf if head + last < total else -math.inf)
        amounts[-1] = last
    return amounts


@dataclass
class _Row:
    number: int
    values: dict[str, Any]

    @classmethod
    def of(cls, table: Table, number: int, values: tuple[Any, ...]) -> "_Row":
        return cls(number, {c: values[i] if i < len(values) else None for c, i in table.columns.items()})


def _questionnaire(row: _Row, acheteur_type: str, lots: int, amounts: list[Any], sector_ids: dict[str, str]) -> dict:
    v = row.values
    forme = _word(v.get("forme")) or "ordinaire"
    key = "montant_maximum_ht" if forme in ACCORDS_CADRES else "montant_estime_ht"
    secteur = _word(v.get("secteur"))
    secteur = sector_ids.get(secteur, secteur) if isinstance(secteur, str) else secteur
    given = {"reference": _text(v.get("reference")), "objet": _text(v.get("objet")), "nature": _word(v.get("nature")),
             "forme": forme, "date_notification_prevue": _date(v.get("date")), "duree_mois": _integer(v.get("duree_mois"))}
    marche = {k: value for k, value in given.items() if not blank(value)}  # absent, so « champ obligatoire absent »
    lot_list = []
    for number, amount in enumerate(amounts, 1):
        lot: dict[str, Any] = {"numero": number, "intitule": f"Lot {number}"}
        if not blank(secteur):
            lot["secteur"] = secteur
        if not blank(amount):
            lot[key] = amount
        lot_list.append(lot)
    return {"version": 1, "acheteur": {"nom": ACHETEUR_NOM, "type": acheteur_type}, "marche": marche, "lots": lot_list}


def _column_of(path: str) -> Optional[str]:
    if path in FIELD_COLUMN:
        return FIELD_COLUMN[path]
    match = re.fullmatch(r"lots\[\d+\]\.(\w+)", path)
    if match:
        return LOT_FIELD_COLUMN.get(match[1])
    if path == "lots":
        return "lots"
    return None


_BOUND = re.compile(r"((?:supérieure|inférieure)(?: ou égale)? à )(\d{4,})(?:\.0+)?(?![\d.,])")


def _readable(message: str) -> str:
    """A bound of the model (« inférieure ou égale à 100000000000 ») written as a French buyer reads it."""
    return _BOUND.sub(lambda m: m[1] + f"{int(m[2]):,}".replace(",", " "), message)


def _anomalies(table: Table, row: _Row, issues: list[Any], reference: str) -> list[Anomalie]:
    out: list[Anomalie] = []
    for issue in issues:
        column = _column_of(issue.path)
        message = _readable(issue.message)
        if column == "montant" and "supérieure ou égale à 0" in message:
            message = f"montant négatif : {message}"
        if column and column in table.columns:
            out.append(Anomalie(table.cell(column, row.number), column, message, reference))
        else:
            detail = f"{issue.path} : {message}" if issue.path and not column else message
            out.append(Anomalie(table.row_ref(row.number), column or "", detail, reference))
    out.sort(key=lambda a: table.columns.get(a.colonne, -1))  # left to right, as the buyer reads the row
    return list(dict.fromkeys(out))


def _lots_count(value: Any) -> tuple[int, Optional[str]]:
    if blank(value):
        return 1, None
    count = _integer(value)
    if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_LOTS:
        return count, None
    shown = str(value).strip()[:40]
    return 1, f"nombre de lots invalide « {shown} » : un nombre entier de 1 à {MAX_LOTS} est attendu"


def review_row(table: Table, row: _Row, library: Library, acheteur_type: str,
               sector_ids: dict[str, str]) -> tuple[Optional[MarcheRevu], list[Anomalie]]:
    """One market reviewed, or the anomalies of its row (cell + French message)."""

    reference = row.values.get("reference")
    reference = "" if isinstance(reference, Unreadable) else str(_text(reference) or "")[:100]
    unread = sorted((c for c, v in row.values.items() if isinstance(v, Unreadable)), key=lambda c: table.columns[c])
    if unread:  # e.g. a value never computed: saying « absent » would send the buyer looking for nothing
        return None, [Anomalie(table.cell(column, row.number), column, row.values[column].message, reference)
                      for column in unread]
    lots, lots_problem = _lots_count(row.values.get("lots"))
    found: list[Anomalie] = []
    if lots_problem:
        found.append(Anomalie(table.cell("lots", row.number), "lots", lots_problem, reference))
    # First pass on one lot carrying the amount as typed: messages quote what the buyer wrote.
    raw = _amount(row.values.get("montant"))
    model, issues = validate_data(_questionnaire(row, acheteur_type, 1, [raw], sector_ids), {}, library)
    found += _anomalies(table, row, issues, reference)
    if found or model is None:
        return None, found or [Anomalie(table.row_ref(row.number), "", "ligne illisible", reference)]
    lot = model.lots[0]
    total = float((lot.montant_maximum_ht if model.marche.est_accord_cadre else lot.montant_estime_ht) or 0)
    if lots > 1:  # the same market split in equal lots: every rule already passed on the whole amount
        data = _questionnaire(row, acheteur_type, lots, _lot_amounts(total, lots), sector_ids)
        model, issues = validate_data(data, {}, library)
        if issues or model is None:
            return None, _anomalies(table, row, issues, reference)
    plan = build_plan(model, library)
    return _summary(row, model, plan, library, lots, total), []


def _summary(row: _Row, q: Any, plan: Plan, library: Library, lots: int, total: float) -> MarcheRevu:

    retained = [t for t in CONSIDERATION_TYPES if any(lot.retained(t) for lot in plan.lots)]
    studied = [t for t in CONSIDERATION_TYPES if t not in retained
               and any(lot.decision(t).statut == A_ETUDIER for lot in plan.lots)]
    hours = 0
    for lot in plan.lots:
        decision = lot.decision("insertion")
        if decision.statut == RETENUE:
            hours += decision.heures if decision.heures is not None else (decision.heures_maximum or 0)
    warnings_: dict[str, str] = {}
    for warning in [w for lot in plan.lots for w in lot.avertissements] + plan.avertissements:
        if warning.code not in LEFT_OUT:
            warnings_.setdefault(warning.code, SHORT_WARNINGS.get(warning.code) or _short(warning.message))
    sector = library.sectors[q.lots[0].secteur]
    return MarcheRevu(
        ligne=row.number, reference=q.marche.reference, objet=q.marche.objet, nature=q.marche.nature,
        secteur=sector.id, secteur_libelle=sector.libelle, forme=q.marche.forme, montant=total, lots=lots,
        date=q.marche.date_notification_prevue, duree_mois=q.marche.duree_mois, retenues=tuple(retained),
        a_etudier=tuple(studied), heures=hours, avertissements=tuple(warnings_.items()), decp=tuple(plan.decp))


def _short(message: str) -> str:
    """A warning without its « Lot n° 1 (…) : » prefix, cut at its first sentence."""
    text = re.sub(r"^Lot n° \d+ \([^)]*\) : ", "", message)
    text = re.split(r" : |\. |; ", text, maxsplit=1)[0]
    return text[:150]


def _sector_ids(library: Library) -> dict[str, str]:
    """Sector labels typed instead of ids (« Espaces verts ») map to the id."""
    return {_word(s.libelle): s.id for s in library.sectors.values() if _word(s.libelle) not in library.sectors}


def review(path: Path, library: Library, acheteur_type: str = "collectivite") -> Revue:
    """Read and review the whole programme; ProgrammeError if the file itself is unreadable."""
    table = read_table(path)
    if not table.rows:
        raise ProgrammeError(str(path), f"{'feuille « ' + table.feuille + ' » : ' if table.feuille else ''}aucun marché "
                                        "sous la ligne des en-têtes : remplissez une ligne par marché prévu")
    result = Revue(str(path), table.feuille, library.version, acheteur_type)
    sector_ids = _sector_ids(library)
    seen: dict[str, int] = {}
    result.anomalies += table.avertissements
    for number, values in table.rows:
        row = _Row.of(table, number, values)
        shifted = _extra_fields(table, number, values)
        if shifted:
            result.anomalies.append(shifted)
            result.lignes_rejetees += 1
            continue
        market, problems = review_row(table, row, library, acheteur_type, sector_ids)
        if market is not None and market.reference in seen:
            problems = [Anomalie(table.cell("reference", number), "reference",
                                 f"référence « {market.reference} » déjà utilisée ligne {seen[market.reference]} : "
                                 "chaque marché a sa propre référence", market.reference)]
            market = None
        if market is None:
            result.anomalies += problems
            result.lignes_rejetees += 1
            continue
        seen[market.reference] = number
        result.marches.append(market)
    if table.tronque_ligne is not None:
        result.tronque = True
        result.anomalies.append(Anomalie(table.row_ref(table.tronque_ligne), "",
                                         f"programme limité à {MAX_MARCHES_TEXTE} marchés : cette ligne et les suivantes ne sont "
                                         "pas lues ; découpez le programme en plusieurs fichiers"))
    return result


def _extra_fields(table: Table, number: int, values: tuple[Any, ...]) -> Optional[Anomalie]:
    """A CSV row with more filled fields than the header: its values are shifted, so it is not reviewed.

    The usual cause is a decimal comma (1500000,50) in a comma-separated file, or a text holding the
    separator without quotes.
    """
    if table.largeur is None or not any(not blank(v) for v in values[table.largeur:]):
        return None
    count = max(i + 1 for i, v in enumerate(values) if not blank(v))
    if table.separateur == ",":
        hint = ("une virgule décimale (1500000,50) dans un CSV séparé par des virgules ? Mettez le nombre entre "
                "guillemets (\"1 500 000,50\") ou enregistrez le CSV avec le séparateur « ; »")
    else:
        hint = (f"un texte contenant le séparateur « {table.separateur} » sans guillemets ? Mettez-le entre guillemets "
                "ou enregistrez de nouveau le CSV depuis Excel")
    reference = _text(values[table.columns["reference"]]) if table.columns.get("reference", 99) < len(values) else None
    return Anomalie(table.row_ref(number), "", f"{count} valeurs pour {table.largeur} en-têtes : {hint} ; ligne non "
                                               "étudiée", str(reference or "")[:100])


# --------------------------------------------------------------------------- writing

