"""What a consolidation produces (lines, indicators, problems) and how its figures are said in French.

The number sayers never raise: a hostile grid can hold 1e308 or a 400-digit integer, and a report
must still be written, with Python's own notation where the French formatter gives up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from drafting.common import formatting as fr
from drafting.decide.plan import TYPE_LABELS

OTHER_CONTRACT = "Autre (hors liste)"     # a contract type typed freely never becomes a column or a JSON key


@dataclass
class Problem:
    cellule: str
    message: str

    def render(self) -> str:
        return f"{self.cellule} : {self.message}" if self.cellule else self.message


@dataclass
class Line:
    """One lot and one retained consideration: what was due, what was done, what it may cost."""

    lot: int
    intitule: str
    type: str
    unite: str
    engagement: Optional[float]
    realise: Optional[float]
    ecart: Optional[float]
    taux: Optional[float]
    penalite_unitaire: Optional[float]
    penalites: Optional[float]
    complement: Optional[float] = None    # training hours (insertion) or participants (actions)
    beneficiaires: Optional[int] = None
    synthese_ligne: Optional[int] = None
    observation: str = ""

    @property
    def libelle(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)


@dataclass
class Indicators:
    beneficiaires: int = 0
    femmes: int = 0
    residents_qpv: int = 0
    sexe_non_renseigne: int = 0
    qpv_non_renseigne: int = 0
    types_contrat: dict[str, int] = field(default_factory=dict)
    heures_travaillees: float = 0.0
    heures_formation: float = 0.0
    heures_structures_inclusives: float = 0.0  # worked through an SIAE, EA or ESAT sub-contractor or co-contractor
    actions_realisees: int = 0
    participants_actions: float = 0.0
    plans_produits: int = 0

    @property
    def part_femmes(self) -> Optional[float]:
        return self.femmes / self.beneficiaires if self.beneficiaires else None

    @property
    def part_qpv(self) -> Optional[float]:
        return self.residents_qpv / self.beneficiaires if self.beneficiaires else None


@dataclass
class MarketReport:
    fichier: str
    reference: str
    objet: str
    acheteur: str
    facilitateur: str
    bibliotheque: str
    lines: list[Line]
    indicators: Indicators
    problems: list[Problem]
    lignes_saisies: int = 0   # rows recorded in the input sheets: which of two versions of a grid is the later


@dataclass
class Consolidation:
    markets: list[MarketReport]
    failures: list[tuple[str, str]]  # (file, why it could not be read)
    set_aside: list[tuple[str, str, str]] = field(default_factory=list)  # (file, market, why it is not counted)

    @property
    def penalites(self) -> float:
        return sum(line.penalites or 0 for m in self.markets for line in m.lines)


def plain_spaces(text: str) -> str:
    return text.replace(fr.NBSP, " ").replace(fr.NNBSP, " ")


def say_number(value: Optional[float], decimals: int = 2) -> str:
    """A figure in French; never raises: the formatter refuses floats from about 1e27, Python prints them."""
    if value is None:
        return "—"
    try:
        if isinstance(value, float) and (not math.isfinite(value) or abs(value) >= 1e15):
            raise ValueError
        return plain_spaces(fr.nombre(value, decimals))
    except Exception:
        return f"{value:.4g}".replace(".", ",") if is_number(value) else str(value)


def say_percent(value: Optional[float]) -> str:
    try:
        return "—" if value is None else plain_spaces(fr.pourcent(round(value, 4)))
    except Exception:
        return say_number(value * 100) + " %" if value is not None else "—"


def say_euros(value: Optional[float]) -> str:
    if value is None:
        return "—"
    try:
        if not math.isfinite(value) or abs(value) >= 1e15:
            raise ValueError
        return plain_spaces(fr.euros(value))
    except Exception:
        return say_number(value) + " €"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite(value: Any) -> bool:
    """A number Excel could hold (up to 9,99E+307): not inf or NaN, not a 400-digit integer float() cannot take."""
    try:
        return is_number(value) and math.isfinite(value) and abs(value) <= 9.99e307
    except OverflowError:
        return False
