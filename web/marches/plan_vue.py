"""The plan page: the plan JSON of the contract, laid out for a buyer, with the overrides it may make.

Everything shown comes from ``drafting.api.plan_data`` (the same dict ``clausier plan
--format json`` prints) and the library's legal bases; nothing is decided here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from drafting import api

from . import chemins

CHOICES = [("auto", "Suivre l'avis de clausier"), ("oui", "Retenir"), ("non", "Écarter")]
_OVERRIDE = re.compile(r"^(?:lots\[(\d+)\]\.)?(considerations|justifications)\.([a-z_]+)$")
BASE_LABELS = {"estime": "montant estimé", "minimum": "montant minimum de l'accord-cadre",
               "maximum": "montant maximum de l'accord-cadre"}


@dataclass
class Figure:
    label: str
    value: str
    origin: str = ""


@dataclass
class Choice:
    """A buyer's word on one type (``auto``, ``oui``, ``non``) and its reason, at the questionnaire paths given."""

    type: str
    label: str
    choice_path: str
    reason_path: str
    choice: str = "auto"
    reason: str = ""
    issues: dict[str, list[str]] = field(default_factory=dict)

    def attach(self, issues: list[api.Issue]) -> None:
        self.issues = {p: [i.message for i in issues if chemins.concerns(i.path, p)]
                       for p in (self.choice_path, self.reason_path)}

    @property
    def has_issues(self) -> bool:
        return any(self.issues.values())

    @property
    def choice_id(self) -> str:
        return chemins.html_id(self.choice_path)

    @property
    def reason_id(self) -> str:
        return chemins.html_id(self.reason_path)


@dataclass
class Consideration(Choice):
    """One type for one lot: the plan's decision, and the lot's own choice on it."""

    statut: str = ""
    raisons: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    bases: list[dict[str, str]] = field(default_factory=list)
    market_choice: str = ""
    market_reason: str = ""
    figures: list[Figure] = field(default_factory=list)


@dataclass
class LotView:
    index: int
    numero: int
    intitule: str
    secteur: str
    secteur_libelle: str
    considerations: list[Consideration]
    avertissements: list[dict[str, str]]

    @property
    def anchor(self) -> str:
        return f"lot-{self.index}"


def lot_views(plan: dict[str, Any], data: dict[str, Any], library: api.Library,
              issues: Optional[list[api.Issue]] = None) -> list[LotView]:
    issues = issues or []
    out = []
    for index, lot in enumerate(plan["lots"]):
        sector = library.sectors.get(lot["secteur"])
        views = []
        for c in lot["considerations"]:
            type_ = c["type"]
            choice_path = f"lots[{index}].considerations.{type_}"
            reason_path = f"lots[{index}].justifications.{type_}"
            view = Consideration(
                type_, api.TYPE_LABELS.get(type_, type_), choice_path, reason_path,
                choice=_choice(chemins.get(data, choice_path)), reason=chemins.get(data, reason_path) or "",
                statut=c["statut"], raisons=list(c["raisons"]), data=c, bases=legal_bases(library, type_),
                market_choice=_choice(chemins.get(data, f"considerations.{type_}"), ""),
                market_reason=chemins.get(data, f"justifications.{type_}") or "", figures=figures(c))
            view.attach(issues)
            views.append(view)
        out.append(LotView(index, lot["numero"], lot["intitule"], lot["secteur"],
                           sector.libelle if sector else lot["secteur"], views, lot["avertissements"]))
    return out


def market_choices(data: dict[str, Any], issues: Optional[list[api.Issue]] = None) -> list[Choice]:
    """The choices made for every lot at once (``considerations.<type>``, ``justifications.<type>``)."""
    out = []
    for type_ in api.CONSIDERATION_TYPES:
        choice_path, reason_path = f"considerations.{type_}", f"justifications.{type_}"
        choice = Choice(type_, api.TYPE_LABELS.get(type_, type_), choice_path, reason_path,
                        _choice(chemins.get(data, choice_path)), chemins.get(data, reason_path) or "")
        choice.attach(issues or [])
        out.append(choice)
    return out


def legal_bases(library: api.Library, type_: str) -> list[dict[str, str]]:
    """A type's legal bases as the library states them: keys of its registry of references (``references.yaml``),
    or, in releases made before the registry, mappings with the reference written out."""
    out = []
    for base in library.types.get(type_, {}).get("bases_legales", []) or []:
        if isinstance(base, str):
            entry = (getattr(library, "references", None) or {}).get(base, {})
            out.append({"reference": str(entry.get("libelle", base)), "source": str(entry.get("source", ""))})
        elif isinstance(base, dict) and base.get("reference"):
            out.append({"reference": str(base["reference"]), "source": str(base.get("source", ""))})
    return out


def _choice(value: Any, default: str = "auto") -> str:
    if value is True:
        return "oui"
    if value is False:
        return "non"
    return value if value in ("auto", "oui", "non") else default


def figures(consideration: dict[str, Any]) -> list[Figure]:
    """Hours and how they were computed, each parameter with where it came from."""
    calcul = consideration.get("calcul") or {}
    if not calcul:
        return []
    origins = api.origin_labels()
    where = calcul.get("origines") or {}

    def origin(name: str) -> str:
        return origins.get(where.get(name, ""), "")

    out = [Figure("Montant retenu pour le calcul", api.fr_euros(calcul["montant_ht"], ht=True),
                  BASE_LABELS.get(calcul.get("base", ""), "")),
           Figure("Part de main-d'œuvre", api.fr_pourcent(calcul["part_main_oeuvre"]), origin("part_main_oeuvre")),
           Figure("Taux d'insertion", api.fr_pourcent(calcul["taux_insertion"]), origin("taux_insertion")),
           Figure("Coût horaire chargé", f"{api.fr_euros(calcul['cout_horaire'])} / heure", origin("cout_horaire"))]
    if calcul.get("heures_minimum_territoire") is not None:
        out.append(Figure("Minimum d'heures du territoire", api.fr_heures(calcul["heures_minimum_territoire"]),
                          origin("heures_minimum_territoire")))
    if calcul.get("penalite_horaire") is not None:
        out.append(Figure("Pénalité par heure non réalisée", api.fr_euros(calcul["penalite_horaire"]),
                          origin("penalite_horaire")))
    for key, label in (("heures", "Heures d'insertion"), ("heures_maximum", "Heures au montant maximum")):
        if consideration.get(key) is not None:
            out.append(Figure(label, api.fr_heures(consideration[key])))
    if consideration.get("heures_par_100k") is not None:
        out.append(Figure("Heures par tranche de 100 000 € HT commandés", api.fr_nombre(consideration["heures_par_100k"])))
    return out


@dataclass
class Override:
    lot: Optional[int]
    type: str
    choice: str
    reason: str


def read_overrides(post, lots: int) -> tuple[list[Override], dict[str, list[str]]]:
    """The choices posted (field names are questionnaire paths), and the web's own rule: a choice that
    departs from clausier's advice carries its reason, which the plan and the decision note quote."""
    found: dict[tuple[Optional[int], str], dict[str, str]] = {}
    for name in post:
        match = _OVERRIDE.match(name)
        if not match:
            continue
        index = int(match.group(1)) if match.group(1) is not None else None
        type_ = match.group(3)
        if type_ not in api.CONSIDERATION_TYPES or (index is not None and index >= lots):
            continue
        found.setdefault((index, type_), {})[match.group(2)] = post.get(name, "").strip()
    overrides, problems = [], {}
    for (index, type_), values in found.items():
        choice = values.get("considerations", "auto")
        reason = values.get("justifications", "")
        prefix = f"lots[{index}]." if index is not None else ""
        if choice not in ("auto", "oui", "non", ""):
            problems[f"{prefix}considerations.{type_}"] = ["choix inconnu : retenir, écarter ou suivre l'avis"]
            continue
        if choice in ("oui", "non") and not reason:
            problems[f"{prefix}justifications.{type_}"] = [
                "indiquez la raison de ce choix : le plan et la note de synthèse la citent"]
            continue
        overrides.append(Override(index, type_, choice or "auto", reason))
    return overrides, problems


def apply_overrides(data: dict[str, Any], overrides: list[Override]) -> None:
    for o in overrides:
        prefix = f"lots[{o.lot}]." if o.lot is not None else ""
        if o.choice == "auto":
            chemins.put(data, f"{prefix}considerations.{o.type}", None)
            chemins.put(data, f"{prefix}justifications.{o.type}", None)
        else:
            chemins.put(data, f"{prefix}considerations.{o.type}", o.choice)
            chemins.put(data, f"{prefix}justifications.{o.type}", o.reason)
    chemins.prune(data)
