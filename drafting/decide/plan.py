"""The plan: decisions, figures and reasons per lot — the contract of `plan --format json`.

Plain dataclasses, no I/O: the plan is computed once and then read by the text
view, the JSON view, the composer and the decision note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

RETENUE, A_ETUDIER, ECARTEE = "retenue", "a_etudier", "ecartee"

TYPE_LABELS = {
    "insertion": "Clause sociale d'insertion (heures d'insertion)",
    "action_sociale": "Clause d'action sociale (actions qualitatives)",
    "marche_reserve": "Marché ou lot réservé",
    "insertion_qualification": "Marché d'insertion et de qualification professionnelle",
    "illettrisme": "Clause de lutte contre l'illettrisme",
    "egalite_diversite": "Clause d'égalité, de diversité et de lutte contre les discriminations",
    "plan_de_progres": "Plan de progrès en matière sociale",
}
STATUT_LABELS = {RETENUE: "retenue", A_ETUDIER: "à étudier", ECARTEE: "écartée"}
EXECUTION_CONDITIONS = ("insertion", "action_sociale", "illettrisme", "egalite_diversite",
                        "plan_de_progres", "insertion_qualification")


def _whole(value: Any) -> Any:
    """1500000.0 -> 1500000 in the JSON plan, as the contract shows it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass(frozen=True)
class Avertissement:
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class ACompleter:
    """A zone the buyer must still fill in a piece before publishing it, and where it is."""

    piece: str      # file name of the piece
    ou: str         # article heading, « Article 7 – … / 7.3 Pénalités »
    libelle: str    # what to write there

    def to_json(self) -> dict[str, Any]:
        return {"piece": self.piece, "ou": self.ou, "libelle": self.libelle}


@dataclass
class Decision:
    """One consideration type for one lot."""

    type: str
    statut: str
    raisons: list[str]
    clauses: list[dict[str, str]] = field(default_factory=list)
    heures: Optional[int] = None
    heures_maximum: Optional[int] = None
    heures_par_100k: Optional[float] = None
    calcul: Optional[dict[str, Any]] = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "statut": self.statut}
        if self.type == "insertion":
            calcul = {k: _whole(v) for k, v in self.calcul.items()} if self.calcul else None
            out.update(heures=self.heures, heures_maximum=self.heures_maximum,
                       heures_par_100k=self.heures_par_100k, calcul=calcul)
        out["raisons"] = list(self.raisons)
        out["clauses"] = list(self.clauses)
        return out


@dataclass
class LotPlan:
    numero: int
    intitule: str
    secteur: str
    secteur_libelle: str
    decisions: list[Decision]
    avertissements: list[Avertissement]

    def decision(self, type_: str) -> Decision:
        """Indexed on first use: composing asks a few hundred times per market (the list is final by then)."""
        index = self.__dict__.get("_by_type")
        if index is None:
            index = self.__dict__["_by_type"] = {d.type: d for d in self.decisions}
        return index[type_]

    def retained(self, type_: str) -> bool:
        return self.decision(type_).statut == RETENUE

    def to_json(self) -> dict[str, Any]:
        return {
            "numero": self.numero,
            "intitule": self.intitule,
            "secteur": self.secteur,
            "considerations": [d.to_json() for d in self.decisions],
            "avertissements": [a.to_json() for a in self.avertissements],
        }


@dataclass
class Plan:
    reference: str
    objet: str
    acheteur: str
    library_version: str
    lots: list[LotPlan]
    avertissements: list[Avertissement]
    decp: list[str]
    montant_total_ht: float
    parametres: dict[str, Any]
    penalite_horaire: float = 0.0  # per hour of insertion not performed, as the CCAP states it for the market
    a_completer: list["ACompleter"] = field(default_factory=list)  # filled once the pieces are composed
    # what the pieces, the note and the grid need (decide/terms.py), resolved once: not part of the JSON contract
    terms: dict[str, Any] = field(default_factory=dict, repr=False)

    def lots_with(self, type_: str) -> list[LotPlan]:
        return [lot for lot in self.lots if lot.retained(type_)]

    @property
    def retained_types(self) -> tuple[str, ...]:
        """Types retained in at least one lot, in the contract's order (what gets drafted)."""
        return tuple(t for t in TYPE_LABELS if self.lots_with(t))

    def to_json(self) -> dict[str, Any]:
        return {
            "marche": {"reference": self.reference, "objet": self.objet, "acheteur": self.acheteur,
                       "montant_total_ht": _whole(self.montant_total_ht)},
            "bibliotheque": {"version": self.library_version},
            "parametres": self.parametres,
            "lots": [lot.to_json() for lot in self.lots],
            "avertissements": [a.to_json() for a in self.avertissements],
            "decp": {"considerationsSociales": list(self.decp)},
            "a_completer": [item.to_json() for item in self.a_completer],
        }
