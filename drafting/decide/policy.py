"""The default decision policy (spec/decisions.md), per lot then for the market.

Pure: it reads the questionnaire and the library and returns a Plan. Every
threshold comes from the library's dated parameters. The buyer's oui/non always
wins over the default advice, which is still given as a reason, and never
silences a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from drafting.common import formatting as fr
from drafting.decide.hours import ORIGINES, HoursResult, lot_hours, market_penalty, raw_hours, resolve_params
from drafting.decide.market_rules import RESERVATION_LABELS, decp_considerations, eu_threshold, lot_amount, market_warnings, whole
from drafting.decide.plan import (
    A_ETUDIER,
    ECARTEE,
    RETENUE,
    STATUT_LABELS,
    Avertissement,
    Decision,
    LotPlan,
    Plan,
)
from drafting.decide.terms import build_terms, consultation_date, reference_date
from drafting.intake.labels import THEME_LABELS
from drafting.intake.model import Lot, Questionnaire
from drafting.library import CONSIDERATION_TYPES, Library, Sector

DIVERSIFICATION = ("action_sociale", "illettrisme", "egalite_diversite", "plan_de_progres")
THEMES = {
    "metiers_en_tension": "action_sociale",
    "decouverte_metiers": "action_sociale",
    "illettrisme": "illettrisme",
    "egalite_femmes_hommes": "egalite_diversite",
    "lutte_discriminations": "egalite_diversite",
    "amelioration_continue": "plan_de_progres",
}


@dataclass
class LotContext:
    """What the steps of one lot share while they decide."""

    q: Questionnaire
    lot: Lot
    sector: Sector
    library: Library
    when: dt.date
    hours: HoursResult
    warnings: list[Avertissement] = field(default_factory=list)
    decisions: dict[str, Decision] = field(default_factory=dict)
    exception: Optional[str] = None  # the guide's exception that allows a qualitative clause alone

    @property
    def name(self) -> str:
        return f"Lot n° {self.lot.numero} ({self.lot.intitule})"

    def warn(self, code: str, message: str) -> None:
        if all(w.code != code for w in self.warnings):
            self.warnings.append(Avertissement(code, f"{self.name} : {message}"))

    def choice(self, type_: str) -> str:
        return self.lot.choix(type_, self.q.considerations)

    def param(self, name: str) -> float:
        return self.library.param(name, self.when)



def build_plan(q: Questionnaire, library: Library) -> Plan:
    when = reference_date(q, library)
    consultation = consultation_date(q, library)
    lots = [_decide_lot(q, lot, library, when) for lot in q.lots]
    total = sum(lot_amount(q, lot) for lot in q.lots)
    warnings = market_warnings(q, library, lots, consultation, total)
    penalties = [float((lot.decision("insertion").calcul or {})["penalite_horaire"]) for lot in lots
                 if lot.retained("insertion")]
    plan = Plan(
        reference=q.marche.reference,
        objet=q.marche.objet,
        acheteur=q.acheteur.nom,
        library_version=library.version,
        lots=lots,
        avertissements=warnings,
        decp=decp_considerations(q, lots),
        montant_total_ht=total,
        parametres={"date_reference": when.isoformat(), "date_consultation": consultation.day.isoformat(),
                    "date_consultation_origine": consultation.origine,
                    "seuil_europeen_ht": whole(eu_threshold(q, library, consultation.day))},
        penalite_horaire=market_penalty(q, library, when, penalties),
    )
    plan.terms = build_terms(q, library, plan)
    return plan



# --------------------------------------------------------------------------- one lot

def _decide_lot(q: Questionnaire, lot: Lot, library: Library, when: dt.date) -> LotPlan:
    sector = library.sectors[lot.secteur]
    params = resolve_params(q, lot, sector, library, when)
    ctx = LotContext(q, lot, sector, library, when, lot_hours(q, lot, params))
    _step_insertion_qualification(ctx)
    _step_reservation(ctx)
    _step_insertion(ctx)
    _step_exceptions(ctx)
    _step_themes(ctx)
    for type_ in ctx.decisions:
        _attach_clauses(ctx.decisions[type_], library)
    return LotPlan(
        numero=lot.numero,
        intitule=lot.intitule,
        secteur=sector.id,
        secteur_libelle=sector.libelle,
        decisions=[ctx.decisions[t] for t in CONSIDERATION_TYPES],
        avertissements=ctx.warnings,
    )


def _attach_clauses(decision: Decision, library: Library) -> None:
    if decision.statut != RETENUE:
        return
    fragments = [f for piece in ("ccap", "rc", "ae") for f in library.fragments_for(decision.type, piece)]
    decision.clauses = [{"id": f.id, "version": f.version} for f in fragments]
    if not fragments:
        decision.raisons.append(
            f"La bibliothèque {library.version} ne contient pas encore de rédaction pour ce type : "
            "les documents portent un emplacement à compléter avec le facilitateur."
        )


def _apply_choice(ctx: LotContext, type_: str, auto: Decision) -> Decision:
    """The buyer's oui/non wins; the default advice stays visible as a reason."""
    choice = ctx.choice(type_)
    if choice == "auto":
        return auto
    statut, said = (RETENUE, "Imposée") if choice == "oui" else (ECARTEE, "Écartée")
    advice = [] if auto.statut == statut else [f"Avis par défaut : {STATUT_LABELS[auto.statut]} — " + " ".join(auto.raisons)]
    motif = ctx.lot.motif(type_, ctx.q.justifications)
    said = f"{said} par l'acheteur (considerations.{type_} : {choice})" + (f", motif : « {motif} »." if motif else ".")
    return replace(auto, statut=statut, raisons=[said] + advice)




def _step_insertion_qualification(ctx: LotContext) -> None:
    """Step 1: when insertion is the object, the market itself is the social service."""
    if ctx.q.objectifs.objet_insertion:
        auto = Decision("insertion_qualification", RETENUE, [
            "L'objet même du marché est l'insertion (objectifs.objet_insertion) : marché d'insertion et de "
            "qualification professionnelle, acheté comme service social et spécifique en procédure adaptée "
            "quel que soit son montant ; il fixe des postes d'insertion, l'encadrement technique, "
            "l'accompagnement social, la formation et les sorties, non des heures."])
    else:
        auto = Decision("insertion_qualification", ECARTEE, [
            "L'insertion n'est pas l'objet du marché : une clause d'exécution suffit (objectifs.objet_insertion : false)."])
    ctx.decisions["insertion_qualification"] = _apply_choice(ctx, "insertion_qualification", auto)


def _step_reservation(ctx: LotContext) -> None:
    """Step 4: reservation from sourcing; without sourcing, typical sectors are to study."""
    n = ctx.lot.sourcing.structures_inclusives
    lot_n, market_n = ctx.param("reservation_structures_lot"), ctx.param("reservation_structures_marche")
    chosen = ctx.q.clauses.marche_reserve.article
    basis = (f"fondement choisi par l'acheteur : art. {RESERVATION_LABELS[chosen]}" if chosen else
             "fondement à choisir par l'acheteur (clauses.marche_reserve.article)")
    if ctx.q.objectifs.objet_insertion:
        auto = Decision("marche_reserve", ECARTEE, ["L'objet du marché est déjà l'insertion : la réservation n'ajoute rien."])
    elif n is not None and n > market_n:
        auto = Decision("marche_reserve", RETENUE, [
            f"{n} structures inclusives peuvent répondre sur le territoire (plus de {int(market_n)}) : "
            f"réservation conseillée, et même de l'ensemble du marché ; {basis}."])
    elif n is not None and n > lot_n:
        auto = Decision("marche_reserve", RETENUE, [
            f"{n} structures inclusives peuvent répondre sur le territoire (plus de {int(lot_n)}) : "
            f"réserver ce lot ; {basis}."])
    elif n is not None:
        auto = Decision("marche_reserve", ECARTEE, [
            f"{n} structure(s) inclusive(s) seulement sur le territoire ({int(lot_n)} au plus) : concurrence "
            "insuffisante pour réserver ; une clause d'insertion reste réaliste." if n else
            "Aucune structure inclusive identifiée sur le territoire : pas de réservation."])
    elif ctx.sector.offre_inclusive in ("oui", "partielle"):
        auto = Decision("marche_reserve", A_ETUDIER, [
            f"Secteur typique de l'offre des SIAE et EA ({ctx.sector.libelle}) mais sans données de sourcing : "
            "à étudier avec le facilitateur (renseigner lots[].sourcing.structures_inclusives) ; si la réservation "
            f"est retenue, {basis}."])
    else:
        auto = Decision("marche_reserve", ECARTEE, [
            f"Secteur peu couvert par les structures inclusives ({ctx.sector.libelle}) et aucun sourcing fourni."])
    decision = _apply_choice(ctx, "marche_reserve", auto)
    if decision.statut == RETENUE:
        _check_reservation_volume(ctx)
    ctx.decisions["marche_reserve"] = decision


def _check_reservation_volume(ctx: LotContext) -> None:
    total_months = ctx.q.marche.duree_totale_mois or 12
    yearly = lot_amount(ctx.q, ctx.lot) * 12 / max(total_months, 1)
    limit = ctx.param("reservation_volume_annuel_max")
    if yearly > limit:
        ctx.warn("reservation_volume",
                 f"lot réservé d'environ {fr.euros(round(yearly))} HT par an, au-delà de {fr.euros(limit)} HT : "
                 "la réservation convient mal à un tel volume ; vérifiez la capacité des structures inclusives ou "
                 "allotissez plus finement.")


def _formula(ctx: LotContext, montant: float, heures: Optional[int]) -> str:
    p = ctx.hours.params
    exact = raw_hours(montant, p.part_main_oeuvre.value, p.taux_insertion.value, p.cout_horaire.value)
    return (f"{fr.euros(montant)} HT × {fr.pourcent(p.part_main_oeuvre.value)} de main-d'œuvre "
            f"({ORIGINES[p.part_main_oeuvre.origine]}) × {fr.pourcent(p.taux_insertion.value)} d'insertion "
            f"({ORIGINES[p.taux_insertion.origine]}) ÷ {fr.euros(p.cout_horaire.value)} de coût horaire chargé "
            f"({ORIGINES[p.cout_horaire.origine]}) = {fr.nombre(exact)} → {fr.heures(heures if heures is not None else 0)}")


def _hours_reasons(ctx: LotContext) -> list[str]:
    h = ctx.hours
    lot = ctx.lot
    if h.base == "estime":
        return [f"Heures estimées : {_formula(ctx, h.montant_calcul, h.heures)}."]
    reasons = []
    if h.base == "minimum":
        reasons.append(f"Accord-cadre, heures au montant minimum : {_formula(ctx, h.montant_calcul, h.heures)}.")
    assert lot.montant_maximum_ht is not None
    reasons.append(f"Au montant maximum ({fr.euros(lot.montant_maximum_ht)} HT) : {fr.heures(h.heures_maximum or 0)} ; "
                   f"soit {fr.heures(h.heures_par_100k or 0)} par tranche de 100\u00a0000\u00a0€ HT commandés.")
    return reasons


def _calcul(ctx: LotContext) -> dict:
    p = ctx.hours.params
    return {
        "montant_ht": ctx.hours.montant_calcul,
        "part_main_oeuvre": p.part_main_oeuvre.value,
        "taux_insertion": p.taux_insertion.value,
        "cout_horaire": p.cout_horaire.value,
        "base": ctx.hours.base,
        "heures_minimum_territoire": p.heures_minimum.value,
        "penalite_horaire": p.penalite_horaire.value,
        "origines": {
            "part_main_oeuvre": p.part_main_oeuvre.origine,
            "taux_insertion": p.taux_insertion.origine,
            "cout_horaire": p.cout_horaire.origine,
            "heures_minimum_territoire": p.heures_minimum.origine,
        },
    }


def _step_insertion(ctx: LotContext) -> None:
    """Steps 2-3: hours, then suitability (labour on site, trades, territory minimum)."""
    h, sector = ctx.hours, ctx.sector
    minimum = ctx.hours.params.heures_minimum.value
    reasons = _hours_reasons(ctx)
    figures: dict[str, Any] = dict(heures=h.heures, heures_maximum=h.heures_maximum, heures_par_100k=h.heures_par_100k, calcul=_calcul(ctx))
    if ctx.q.objectifs.objet_insertion:
        statut, why = ECARTEE, "L'objet même du marché est l'insertion : la clause d'heures ferait double emploi."
    elif ctx.decisions["marche_reserve"].statut == RETENUE:
        statut, why = ECARTEE, "Lot réservé : son titulaire est déjà une structure inclusive, une clause d'heures ferait double emploi."
    elif not sector.main_oeuvre_sur_site:
        statut, why = ECARTEE, f"Aucune main-d'œuvre n'exécute ce lot sur site ({sector.libelle}) : pas de lien avec l'objet pour des heures."
        ctx.warn("lien_objet", "aucune main-d'œuvre n'exécute ce lot sur site : une clause d'heures d'insertion "
                               "n'aurait pas de lien avec l'objet du marché. Ne la retenez pas ; étudiez plutôt la réservation "
                               "ou un autre lot du marché.")
    elif not sector.adapte_heures:
        statut, why = ECARTEE, (f"Métiers qualifiés ({sector.libelle}) : les heures d'insertion y sont peu adaptées ; "
                                "une action qualitative est préférable.")
        ctx.exception = "métiers peu adaptés aux heures d'insertion"
    elif h.heures_reference < minimum:
        statut, why = ECARTEE, (f"{fr.heures(h.heures_reference)} estimées, sous le minimum de {fr.heures(minimum)} "
                                f"d'un parcours significatif ({ORIGINES[h.params.heures_minimum.origine]}).")
        ctx.exception = "marché trop petit pour un parcours d'insertion"
        ctx.warn("insertion_non_adaptee",
                 f"{fr.heures(h.heures_reference)} estimées, sous le minimum de {fr.heures(minimum)} d'un parcours "
                 "significatif sur le territoire : la clause d'heures n'est pas adaptée. Préférez une action "
                 "qualitative (clause d'action sociale), regroupez des lots ou relevez le taux d'insertion.")
    elif ctx.q.objectifs.premier_essai_secteur:
        statut, why = A_ETUDIER, (f"Premier essai dans ce secteur : commencer par une action qualitative ; les "
                                  f"{fr.heures(h.heures_reference)} calculées sont le potentiel à viser au renouvellement.")
        ctx.exception = "premier essai dans le secteur"
    else:
        statut, why = RETENUE, (f"Main-d'œuvre sur site et métiers adaptés ({sector.libelle}) ; "
                                f"{fr.heures(h.heures_reference)} atteignent le minimum de {fr.heures(minimum)} du territoire.")
    if h.base == "maximum" and sector.main_oeuvre_sur_site and sector.adapte_heures and not (
            ctx.q.objectifs.objet_insertion or ctx.decisions["marche_reserve"].statut == RETENUE):
        ctx.warn("accord_cadre_sans_minimum",
                 "accord-cadre sans montant minimum : les commandes peuvent rester sous le seuil d'un parcours "
                 "d'insertion ; l'engagement est exprimé en heures par tranche de 100\u00a0000\u00a0€ HT commandés. "
                 "Fixez un minimum si possible.")
    auto = Decision("insertion", statut, [why] + reasons, **figures)
    ctx.decisions["insertion"] = _apply_choice(ctx, "insertion", auto)
    if ctx.decisions["insertion"].statut == RETENUE:
        _check_penalty(ctx)


def _check_penalty(ctx: LotContext) -> None:
    """The guide: not performing an hour must never cost less than performing it."""
    p = ctx.hours.params
    if p.penalite_horaire.value < p.cout_horaire.value:
        ctx.warn("penalite_insuffisante",
                 f"pénalité de {fr.euros(p.penalite_horaire.value)} par heure non réalisée "
                 f"({ORIGINES[p.penalite_horaire.origine]}), inférieure au coût horaire chargé de "
                 f"{fr.euros(p.cout_horaire.value)} ({ORIGINES[p.cout_horaire.origine]}) : ne pas réaliser une heure "
                 "coûterait moins cher que la réaliser. Portez parametres.penalite_horaire à au moins "
                 f"{fr.euros(p.cout_horaire.value)}.")


def _step_exceptions(ctx: LotContext) -> None:
    """Step 5: where hours do not fit, a qualitative action stands alone (guide's exceptions)."""
    if ctx.decisions["insertion"].statut == RETENUE:
        ctx.exception = None


def _requested_by(ctx: LotContext, type_: str) -> list[str]:
    return [THEME_LABELS[t] for t in ctx.q.objectifs.themes if THEMES[t] == type_]


def _step_themes(ctx: LotContext) -> None:
    """Steps 5-7: diversification clauses, complementarity and plan de progrès suitability."""
    # a reserved lot's holder is itself an inclusive structure: insertion is there, in another form
    insertion_kept = any(ctx.decisions[t].statut == RETENUE for t in ("insertion", "insertion_qualification", "marche_reserve"))
    for type_ in DIVERSIFICATION:
        themes = _requested_by(ctx, type_)
        auto = _auto_diversification(ctx, type_, themes, insertion_kept)
        decision = _apply_choice(ctx, type_, auto)
        if decision.statut == RETENUE and not insertion_kept and not ctx.exception and not ctx.q.objectifs.objet_insertion:
            ctx.warn("complementarite",
                     f"« {type_} » retenue sans clause d'insertion, hors des deux exceptions du guide (petit marché, "
                     "premier essai) : les clauses de diversification complètent la clause d'insertion, elles ne la "
                     "remplacent pas. Retenez la clause d'insertion ou justifiez ce choix dans le rapport.")
        ctx.decisions[type_] = decision
    if "parrainage" in ctx.q.objectifs.actions_envisagees and ctx.decisions["action_sociale"].statut != ECARTEE:
        ctx.warn("lien_objet", "le parrainage envisagé a un lien douteux avec l'objet du marché : une action doit se "
                               "dérouler sur le site ou concerner les métiers du marché. Préférez une visite de chantier, "
                               "une immersion (PMSMP) ou une formation liée aux prestations.")


def _auto_diversification(ctx: LotContext, type_: str, themes: list[str], insertion_kept: bool) -> Decision:
    if not ctx.sector.main_oeuvre_sur_site:
        return Decision(type_, ECARTEE, ["Aucune main-d'œuvre sur site : aucune action n'aurait de lien avec l'objet du lot."])
    if type_ == "plan_de_progres":
        unsuited = _plan_de_progres_unsuited(ctx)
        if unsuited and (themes or ctx.choice(type_) == "oui"):
            ctx.warn("plan_de_progres_inadapte", f"plan de progrès demandé alors qu'il ne convient pas ({unsuited}) : "
                                                 "préférez une clause d'action sociale ou d'insertion.")
        if unsuited:
            return Decision(type_, ECARTEE, [f"Plan de progrès inadapté : {unsuited}."])
    if themes:
        asked = f"Objectif de l'acheteur : {', '.join(themes)}"
        if insertion_kept:
            what = ("du marché d'insertion" if ctx.decisions["insertion_qualification"].statut == RETENUE
                    else "de la clause d'insertion retenue" if ctx.decisions["insertion"].statut == RETENUE
                    else "de la réservation du lot")
            return Decision(type_, RETENUE, [f"{asked} ; en complément {what}."])
        if ctx.exception:
            return Decision(type_, RETENUE, [f"{asked} ; retenue seule au titre de l'exception du guide : {ctx.exception}."])
        ctx.warn("complementarite",
                 f"objectif « {', '.join(themes)} » exprimé sans clause d'insertion retenue, hors des exceptions du "
                 "guide : la clause de diversification complète l'insertion, elle ne la remplace pas. "
                 "Retenez d'abord la clause d'insertion, ou justifiez ce choix.")
        return Decision(type_, A_ETUDIER, [f"{asked} ; mais aucune clause d'insertion n'est retenue sur ce lot : "
                                           "à étudier (complémentarité)."])
    if type_ == "action_sociale" and ctx.exception:
        return Decision(type_, RETENUE, [f"Exception du guide ({ctx.exception}) : l'action qualitative est retenue seule, "
                                         "à la place des heures (visites de chantier, immersions, découverte des métiers)."])
    return _auto_without_theme(ctx, type_)


def _auto_without_theme(ctx: LotContext, type_: str) -> Decision:
    months = ctx.q.marche.duree_totale_mois
    if type_ == "illettrisme":
        limit = ctx.param("illettrisme_duree_min_mois")
        if ctx.sector.metiers_peu_qualifies and months is not None and months > limit:
            return Decision(type_, A_ETUDIER, [f"Métiers peu qualifiés ({ctx.sector.libelle}) et durée de {fr.mois(months)} : "
                                               "une action sur les savoirs de base est à étudier."])
        return Decision(type_, ECARTEE, ["Pas d'objectif de lutte contre l'illettrisme ; métiers ou durée peu propices."])
    if type_ == "egalite_diversite":
        if ctx.sector.metiers_genres:
            return Decision(type_, A_ETUDIER, [f"Métiers très genrés ({ctx.sector.libelle}) : une action pour l'accès des "
                                               "femmes (ou des hommes) à ces métiers est à étudier."])
        return Decision(type_, ECARTEE, ["Pas d'objectif d'égalité ou de diversité exprimé ; métiers peu genrés."])
    if type_ == "plan_de_progres":
        limit = ctx.param("plan_de_progres_duree_a_etudier_mois")
        if months is not None and months > limit:
            return Decision(type_, A_ETUDIER, [f"Durée totale de {fr.mois(months)} : un plan de progrès annuel est à étudier."])
        return Decision(type_, ECARTEE, ["Pas d'objectif d'amélioration continue ; durée trop courte pour un plan annuel."])
    return Decision(type_, ECARTEE, ["Pas d'objectif de découverte des métiers ni de métiers en tension exprimé ; "
                                     "possible en complément de la clause d'insertion si l'acheteur le souhaite."])


def _plan_de_progres_unsuited(ctx: LotContext) -> str:
    m = ctx.q.marche
    months = m.duree_totale_mois
    if m.est_accord_cadre and m.attributaires == "multi":
        return "accord-cadre multi-attributaire"
    if m.forme == "accord_cadre_bons_de_commande" and not ctx.lot.montant_minimum_ht:
        return "accord-cadre à bons de commande sans minimum"
    if months is not None and months < ctx.param("plan_de_progres_duree_min_mois"):
        return f"durée totale de {fr.mois(months)}, trop courte pour un plan annuel"
    if lot_amount(ctx.q, ctx.lot) < ctx.param("plan_de_progres_montant_min"):
        return f"montant faible ({fr.euros(lot_amount(ctx.q, ctx.lot))} HT)"
    return ""


# --------------------------------------------------------------------------- the market

