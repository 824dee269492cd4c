"""What a market commits the enterprise to, per lot and measured consideration, as its grid records it.

Read from the plan only (its terms carry the figures the pieces print), so the grid, the CCAP
and the consolidation count the same hours, actions and plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from drafting.common.formatting import mois
from drafting.decide.plan import RETENUE, Plan


@dataclass(frozen=True)
class GridInfo:
    reference: str
    objet: str
    acheteur: str
    facilitateur: str
    penalite_horaire: float
    duree: str
    actions: tuple[str, ...] = ()  # labels of the library's action catalogue; built-in list when empty
    duree_totale_mois: Optional[int] = None
    actions_par_an: Optional[int] = None       # action_sociale: realisations due per lot and year
    penalite_action_sociale: Optional[float] = None
    penalite_plan_de_progres: Optional[float] = None
    marches_subsequents: bool = False  # a framework's hours are then set per subsequent contract

    @classmethod
    def of(cls, plan: Plan) -> "GridInfo":
        """The grid's terms, read from the plan (which resolved them once from the questionnaire and the library)."""
        grid = plan.terms["grille"]
        months = grid["duree_totale_mois"]
        return cls(reference=plan.reference, objet=plan.objet, acheteur=plan.acheteur, facilitateur=grid["facilitateur"],
                   penalite_horaire=plan.penalite_horaire, duree=mois(months) if months else "voir CCAP",
                   actions=tuple(grid["actions"]), duree_totale_mois=months, actions_par_an=grid["actions_par_an"],
                   penalite_action_sociale=grid["penalite_action_sociale"],
                   penalite_plan_de_progres=grid["penalite_plan_de_progres"],
                   marches_subsequents=grid["marches_subsequents"])


def action_years(months: Optional[int]) -> Optional[int]:
    """Years of execution for actions: a residue over six months counts as a year (CCAP action_sociale)."""
    if months is None:
        return None
    return max(months // 12 + (1 if months % 12 > 6 else 0), 1)


def plan_years(months: Optional[int]) -> Optional[int]:
    """Annual plans due: one at the start, then one per anniversary with six months or more still to run."""
    if months is None:
        return None
    return 1 + max(0, (months - 6) // 12)


@dataclass(frozen=True)
class Commitment:
    """One retained consideration of one lot, as the grid and the consolidation count it."""

    lot: int
    intitule: str
    type: str
    engagement: Optional[float]     # hours, actions or plans due; None when it cannot be stated in advance
    unite: str
    penalite_unitaire: Optional[float]
    heures_maximum: Optional[float] = None
    heures_par_100k: Optional[float] = None
    par_an: Optional[float] = None
    synthese_ligne: Optional[int] = None  # 1-based row of the lot in « Synthèse »


def commitments(plan: Plan, info: GridInfo) -> list[Commitment]:
    """Every retained consideration per lot, with what is due and the penalty per unit not done."""
    out = []
    for lot in plan.lots:
        for decision in lot.decisions:
            if decision.statut != RETENUE:
                continue
            kind = decision.type
            if kind == "insertion":
                rate = (decision.calcul or {}).get("penalite_horaire", info.penalite_horaire)
                out.append(Commitment(lot.numero, lot.intitule, kind, decision.heures, "heures", float(rate),
                                      decision.heures_maximum, decision.heures_par_100k))
            elif kind == "action_sociale":
                years = action_years(info.duree_totale_mois)
                due = info.actions_par_an * years if info.actions_par_an and years else None
                out.append(Commitment(lot.numero, lot.intitule, kind, due, "actions", info.penalite_action_sociale,
                                      par_an=info.actions_par_an))
            elif kind == "plan_de_progres":
                out.append(Commitment(lot.numero, lot.intitule, kind, plan_years(info.duree_totale_mois), "plans",
                                      info.penalite_plan_de_progres, par_an=1))
            else:
                out.append(Commitment(lot.numero, lot.intitule, kind, None, "voir CCAP", None))
    return out
