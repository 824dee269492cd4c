"""Insertion hours: heures = montant_HT × part_main_oeuvre × taux_insertion ÷ cout_horaire.

Pure functions only. Parameters are resolved lot > market > sector > library, and
each resolved value remembers where it came from, because a buyer's report must
say why 964 hours and not another figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

from drafting.intake.model import Lot, Parametres, Questionnaire
from drafting.library import Library, Sector

TRANCHE = 100_000
ORIGINES = {
    "lot": "valeur du lot",
    "marche": "valeur du marché",
    "secteur": "valeur par défaut du secteur",
    "bibliotheque": "valeur par défaut de la bibliothèque",
    "territoire": "minimum du territoire",
    "cout_secteur": "coût horaire chargé du secteur, plancher de la pénalité par défaut",
}


@dataclass(frozen=True)
class Resolved:
    """A parameter value and the level it was taken from (a key of ORIGINES)."""

    value: float
    origine: str


@dataclass(frozen=True)
class HoursParams:
    part_main_oeuvre: Resolved
    taux_insertion: Resolved
    cout_horaire: Resolved
    heures_minimum: Resolved
    penalite_horaire: Resolved


@dataclass(frozen=True)
class HoursResult:
    """Hours on the estimate (ordinary) or the minimum (framework), plus framework figures.

    ``montant_calcul`` is the amount the main figure uses; for a framework without
    minimum it is the maximum, and ``heures`` stays None as the contract requires.
    """

    heures: Optional[int]
    heures_maximum: Optional[int]
    heures_par_100k: Optional[float]
    montant_calcul: float
    base: str  # "estime" | "minimum" | "maximum"
    params: HoursParams

    @property
    def heures_reference(self) -> int:
        """The figure compared with the territory minimum."""
        if self.heures is not None:
            return self.heures
        assert self.heures_maximum is not None
        return self.heures_maximum


def round_half_up(value: Decimal, places: str = "1") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def raw_hours(montant: float, part: float, taux: float, cout: float) -> Decimal:
    """Exact decimal value of the formula, before rounding (floats go through str)."""
    return Decimal(str(montant)) * Decimal(str(part)) * Decimal(str(taux)) / Decimal(str(cout))


def compute_hours(montant: float, part: float, taux: float, cout: float) -> int:
    """Hours rounded to the nearest integer, half up, at the very end."""
    return int(round_half_up(raw_hours(montant, part, taux, cout)))


def hours_per_100k(part: float, taux: float, cout: float) -> float:
    return float(round_half_up(raw_hours(TRANCHE, part, taux, cout), "0.1"))


def _pick(name: str, lot: Parametres, marche: Parametres, fallback: Resolved) -> Resolved:
    for level, params in (("lot", lot), ("marche", marche)):
        value = getattr(params, name)
        if value is not None:
            return Resolved(float(value), level)
    return fallback


def resolve_params(q: Questionnaire, lot: Lot, sector: Sector, library: Library, when: dt.date) -> HoursParams:
    """Each parameter from the most specific level that gives it."""
    lp, mp = lot.parametres, q.parametres
    minimum = (Resolved(float(q.territoire.heures_minimum), "territoire") if q.territoire.heures_minimum
               else Resolved(float(library.param("heures_minimum", when)), "bibliotheque"))
    return HoursParams(
        part_main_oeuvre=_pick("part_main_oeuvre", lp, mp, Resolved(sector.part_main_oeuvre, "secteur")),
        taux_insertion=_pick("taux_insertion", lp, mp, Resolved(float(library.param("taux_insertion", when)), "bibliotheque")),
        cout_horaire=_pick("cout_horaire", lp, mp, Resolved(float(sector.cout_horaire), "secteur")),
        heures_minimum=minimum,
        penalite_horaire=_pick("penalite_horaire", lp, mp, default_penalty(library, sector, when)),
    )


def default_penalty(library: Library, sector: Sector, when: dt.date) -> Resolved:
    """The library's penalty per hour, raised to the sector's hourly cost when it is lower (the guide's rule)."""
    floor = float(library.param("penalite_horaire", when))
    return Resolved(floor, "bibliotheque") if floor >= sector.cout_horaire else Resolved(float(sector.cout_horaire), "cout_secteur")


def lot_hours(q: Questionnaire, lot: Lot, params: HoursParams) -> HoursResult:
    """Ordinary market: on the estimate. Framework: at the minimum, the maximum, per 100 k€."""
    p, t, c = params.part_main_oeuvre.value, params.taux_insertion.value, params.cout_horaire.value
    if not q.marche.est_accord_cadre:
        assert lot.montant_estime_ht is not None  # guaranteed by validation
        return HoursResult(compute_hours(lot.montant_estime_ht, p, t, c), None, None,
                           lot.montant_estime_ht, "estime", params)
    assert lot.montant_maximum_ht is not None  # guaranteed by validation
    maximum = compute_hours(lot.montant_maximum_ht, p, t, c)
    per_100k = hours_per_100k(p, t, c)
    if lot.montant_minimum_ht:
        return HoursResult(compute_hours(lot.montant_minimum_ht, p, t, c), maximum, per_100k,
                           lot.montant_minimum_ht, "minimum", params)
    return HoursResult(None, maximum, per_100k, lot.montant_maximum_ht, "maximum", params)


def market_penalty(q: Questionnaire, library: Library, when: dt.date, lot_penalties: list[float]) -> float:
    """Penalty per hour the CCAP states for the market; lots that differ are named as exceptions.

    The market's own value when given; else the one most lots with hours share (on a tie the
    highest, so that the exceptions are the lower ones), else the library's.
    """
    if q.parametres.penalite_horaire is not None:
        return float(q.parametres.penalite_horaire)
    if lot_penalties:
        return max(set(lot_penalties), key=lambda value: (lot_penalties.count(value), value))
    return float(library.param("penalite_horaire", when))
