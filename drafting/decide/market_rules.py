"""The rules that hold for the whole market, after each lot is decided: dates, thresholds, procedure, reservation.

The mandatory social condition and the EU thresholds apply by the consultation's date; a
procedure stated « adaptée » above the threshold, a reservation without its basis, an ESS
reservation beyond its limits are warnings with their source, for the plan and the note.
Also here: the DECP's « considérations sociales » field, which summarises the market.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from drafting.common import formatting as fr
from drafting.decide.plan import (
    EXECUTION_CONDITIONS,
    Avertissement,
    LotPlan,
)
from drafting.decide.terms import ConsultationDate
from drafting.intake.model import Lot, Questionnaire
from drafting.library import Library

NEEDS_FACILITATOR = ("insertion", "action_sociale", "insertion_qualification", "illettrisme")
DECP_CLAUSE, DECP_CRITERE, DECP_RESERVE = "Clause sociale", "Critère social", "Marché réservé"
DECP_NONE = "Pas de considération sociale"


def market_warnings(q: Questionnaire, library: Library, lots: list[LotPlan], consultation: ConsultationDate,
                     total: float) -> list[Avertissement]:
    warnings = []
    if consultation.origine == "bibliotheque":
        warnings.append(Avertissement("date_consultation_inconnue", (
            "ni date de lancement de la consultation ni date de notification : clausier applique le droit en vigueur "
            f"au {fr.date_fr(consultation.day)} (date de la bibliothèque {library.version}), y compris la condition "
            "sociale obligatoire et les seuils européens de cette date. Indiquez marche.date_lancement (envoi de l'avis "
            "à la publication ou engagement de la consultation).")))
    if q.facilitateur is None:
        needing = sorted({t for lot in lots for t in NEEDS_FACILITATOR if lot.retained(t)})
        if needing:
            warnings.append(Avertissement("facilitateur_absent", (
                f"les clauses retenues ({', '.join(needing)}) nomment le facilitateur, et le questionnaire n'en donne "
                "aucun : les documents portent un emplacement surligné à compléter. Renseignez la rubrique "
                "« facilitateur » (structure, contact, courriel, téléphone).")))
    for warning in (_mandatory_condition(q, library, lots, consultation, total),
                    *_procedure_warnings(q, library, consultation, total),
                    _reservation_basis(q, lots), _reservation_ess(q, lots)):
        if warning:
            warnings.append(warning)
    return warnings


def eu_threshold_name(q: Questionnaire) -> str:
    if q.marche.nature == "travaux":
        return "seuil_ue_travaux"
    return "seuil_ue_fournitures_services_etat" if q.acheteur.type == "etat" else "seuil_ue_fournitures_services_autres"


def eu_threshold(q: Questionnaire, library: Library, when: dt.date) -> float:
    """The EU threshold for this buyer and nature, in force on ``when`` (the consultation's date)."""
    return float(library.param(eu_threshold_name(q), when))


def _source(library: Library, name: str) -> str:
    parameter = library.parameters.get(name)
    return parameter.source if parameter else ""


def _excluded(q: Questionnaire, library: Library, when: dt.date) -> Optional[dict]:
    """The exclusion of the mandatory social condition that the law provides for this market, if any."""
    if "condition_sociale_exclusions" not in library.parameters:
        return None
    for exclusion in library.param("condition_sociale_exclusions", when) or ():
        if getattr(q.marche, str(exclusion.get("cle")), False) is True:
            return exclusion
    return None


def _mandatory_condition(q: Questionnaire, library: Library, lots: list[LotPlan], consultation: ConsultationDate,
                         total: float) -> Optional[Avertissement]:
    """Step 8: a consultation launched from 2026-08-22 above the EU threshold needs a social execution condition."""
    when = consultation.day
    start = library.param("date_condition_sociale_obligatoire", when)
    if when < start:
        return None
    threshold = eu_threshold(q, library, when)
    if total < threshold or _excluded(q, library, when):
        return None
    if any(lot.retained(t) for lot in lots for t in EXECUTION_CONDITIONS):
        return None
    if q.justifications.exception_condition_sociale.strip():
        return None
    dated = {"lancement": "lancé", "notification": "dont la notification est prévue",
             "bibliotheque": "sans date indiquée, donc soumis au droit en vigueur"}[consultation.origine]
    grounds = [str(g) for g in (library.param("condition_sociale_motifs", when)
                                if "condition_sociale_motifs" in library.parameters else [])]
    short_works = (q.marche.nature == "travaux" and q.marche.duree_totale_mois is not None
                   and q.marche.duree_totale_mois < 6)
    return Avertissement("condition_sociale_obligatoire", (
        f"marché de {fr.euros(total)} HT, au-dessus du seuil européen ({fr.euros(threshold)} HT ; "
        f"{_source(library, eu_threshold_name(q))}), {dated} le {fr.date_fr(when)}, soit à partir du "
        f"{fr.date_fr(start)}, sans condition d'exécution sociale (art. L2112-2-1 du code de la commande publique) : "
        "retenez-en une, ou motivez l'exception dans justifications.exception_condition_sociale"
        + (" parmi les cas que la loi prévoit : " + " ; ".join(grounds) if grounds else "") + "."
        + (" Ce marché de travaux de moins de six mois relève du dernier de ces cas : il suffit de le motiver."
           if short_works else "")))


def _procedure_warnings(q: Questionnaire, library: Library, consultation: ConsultationDate,
                        total: float) -> list[Avertissement]:
    """A procedure the amounts do not allow: MAPA above the EU threshold, or small lots beyond their limits.

    Two cases allow MAPA above the threshold (R2123-1): social and other specific services,
    whatever the amount (a market whose object is insertion), and small lots (2°) within their
    unit and cumulative limits, which are library data.
    """
    when = consultation.day
    threshold = eu_threshold(q, library, when)
    if total < threshold or "petits_lots_plafond_travaux" not in library.parameters:
        return []
    if q.objectifs.objet_insertion and q.marche.nature == "services":
        return []
    if q.objectifs.objet_insertion and (q.marche.procedure or "") == "mapa":
        return [Avertissement("procedure_inadaptee", (
            f"marché d'insertion et de qualification de {q.marche.nature}, au-dessus du seuil européen "
            f"({fr.euros(threshold)} HT) et déclaré en procédure adaptée : le régime des services sociaux et autres "
            "services spécifiques (art. R2123-1, 3°), qui permet la procédure adaptée quel que soit le montant, ne vaut "
            "que pour des services. Vérifiez la nature du marché (marche.nature) ou passez une procédure formalisée."))]
    unit = float(library.param("petits_lots_plafond_travaux" if q.marche.nature == "travaux"
                               else "petits_lots_plafond_fournitures_services", when))
    share = float(library.param("petits_lots_part_max", when))
    adaptee = [lot for lot in q.lots if (lot.procedure or q.marche.procedure) == "mapa"]
    if not adaptee:
        return []
    too_big = [lot for lot in adaptee if lot_amount(q, lot) >= unit]
    cumulated = sum(lot_amount(q, lot) for lot in adaptee)
    basis = (f"seuil européen de {fr.euros(threshold)} HT ({_source(library, eu_threshold_name(q))}) ; "
             f"{_source(library, 'petits_lots_part_max')}")
    if q.marche.procedure == "mapa" and len(adaptee) == len(q.lots):
        return [Avertissement("procedure_inadaptee", (
            f"procédure adaptée déclarée pour un marché de {fr.euros(total)} HT, au-dessus du seuil européen : une "
            "procédure formalisée (appel d'offres…) est requise. Seuls des lots de moins de "
            f"{fr.euros(unit)} HT chacun, pour {fr.pourcent(share)} au plus du montant total, peuvent être passés en "
            f"procédure adaptée (lots[].procedure) ; {basis}."))]
    problems = []
    if too_big:
        problems.append("lot(s) n° " + ", ".join(str(lot.numero) for lot in too_big)
                        + f" de {fr.euros(unit)} HT ou plus")
    if cumulated > share * total:
        problems.append(f"lots en procédure adaptée totalisant {fr.euros(cumulated)} HT, plus de "
                        f"{fr.pourcent(share)} du montant total ({fr.euros(share * total)} HT)")
    if not problems:
        return []
    return [Avertissement("procedure_inadaptee", (
        "exception des petits lots appliquée hors de ses limites (" + " ; ".join(problems) + ") : ces lots relèvent de "
        f"la procédure formalisée du marché ; {basis}."))]


RESERVATION_LABELS = {
    "L2113-12": "L2113-12 du code de la commande publique (entreprises adaptées et ESAT)",
    "L2113-13": "L2113-13 du code de la commande publique (structures d'insertion par l'activité économique)",
    "L2113-12_13": "L2113-14 du code de la commande publique (à la fois EA/ESAT et SIAE)",
    "L2113-13-1": "L2113-13-1 du code de la commande publique (opérateurs employant des personnes détenues)",
    "L2113-15": "L2113-15 du code de la commande publique (entreprises de l'économie sociale et solidaire)",
}


RESERVATION_BASES = ("L2113-12 (entreprises adaptées et ESAT), L2113-13 (structures d'insertion par l'activité économique), "
                     "L2113-12_13 (les deux à la fois, art. L2113-14), L2113-13-1 (opérateurs employant des personnes "
                     "détenues) ou L2113-15 (entreprises de l'économie sociale et solidaire, certains services)")


def _reservation_ess(q: Questionnaire, lots: list[LotPlan]) -> Optional[Avertissement]:
    """The ESS reservation's limits, which the RC cannot settle for the buyer: the services list and three years."""
    if q.clauses.marche_reserve.article != "L2113-15" or not any(lot.retained("marche_reserve") for lot in lots):
        return None
    months = q.marche.duree_totale_mois
    too_long = months is not None and months > 36
    return Avertissement("reservation_ess", (
        "réservation aux entreprises de l'économie sociale et solidaire (art. L2113-15) : vérifiez que les prestations "
        "réservées figurent dans la liste des services sociaux et autres services spécifiques de l'avis annexé au code "
        "de la commande publique (codes CPV)"
        + (f" ; la durée totale prévue, {fr.mois(months or 0)} reconductions comprises, dépasse les trois ans que permet "
           "l'article L2113-16 : ramenez-la à trente-six mois au plus." if too_long else ".")))


def _reservation_basis(q: Questionnaire, lots: list[LotPlan]) -> Optional[Avertissement]:
    """A reservation drafted without its basis would be a guess: the choice is the buyer's, and due."""
    if q.clauses.marche_reserve.article is not None:
        return None
    retained = [lot.numero for lot in lots if lot.retained("marche_reserve")]
    if not retained:
        return None
    return Avertissement("reservation_fondement", (
        f"réservation retenue (lot(s) n° {', '.join(map(str, retained))}) sans fondement choisi : choisissez-le dans "
        f"clauses.marche_reserve.article parmi {RESERVATION_BASES}. Le RC, le CCAP et l'annexe portent en attendant "
        "une zone à compléter."))


def decp_considerations(q: Questionnaire, lots: list[LotPlan]) -> list[str]:
    """Step 10: the open-data value(s) of considerationsSociales."""
    values = []
    if any(lot.retained(t) for lot in lots for t in EXECUTION_CONDITIONS):
        values.append(DECP_CLAUSE)
    if q.criteres.insertion is not None:
        values.append(DECP_CRITERE)
    if any(lot.retained("marche_reserve") for lot in lots):
        values.append(DECP_RESERVE)
    return values or [DECP_NONE]


def whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def lot_amount(q: Questionnaire, lot: Lot) -> float:
    """The amount compared with thresholds: the estimate, or a framework's maximum."""
    if q.marche.est_accord_cadre:
        return float(lot.montant_maximum_ht or 0)
    return float(lot.montant_estime_ht or 0)
