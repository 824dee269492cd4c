"""The default decision policy (spec/decisions.md), per lot then for the market.

Pure: it reads the questionnaire and the library and returns a Plan. Every
threshold comes from the library's dated parameters. The buyer's oui/non always
wins over the default advice, which is still given as a reason, and never
silences a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Optional

from drafting.common import formatting as fr
from drafting.decide.hours import ORIGINES, HoursResult, lot_hours, market_penalty, raw_hours, resolve_params
from drafting.library.core import CONSIDERATION_TYPES, Library, Sector
from drafting.intake.model import Lot, Questionnaire
from drafting.decide.plan import (A_ETUDIER, ECARTEE, EXECUTION_CONDITIONS, RETENUE, STATUT_LABELS, Avertissement, Decision,
                   LotPlan, Plan)

DIVERSIFICATION = ("action_sociale", "illettrisme", "egalite_diversite", "plan_de_progres")
THEMES = {
    "metiers_en_tension": "action_sociale",
    "decouverte_metiers": "action_sociale",
    "illettrisme": "illettrisme",
    "egalite_femmes_hommes": "egalite_diversite",
    "lutte_discriminations": "egalite_diversite",
    "amelioration_continue": "plan_de_progres",
}
THEME_LABELS = {
    "metiers_en_tension": "promotion des métiers en tension",
    "decouverte_metiers": "découverte des métiers",
    "illettrisme": "lutte contre l'illettrisme",
    "egalite_femmes_hommes": "égalité entre les femmes et les hommes",
    "lutte_discriminations": "lutte contre les discriminations",
    "amelioration_continue": "amélioration continue",
}
NEEDS_FACILITATOR = ("insertion", "action_sociale", "insertion_qualification", "illettrisme")
DECP_CLAUSE, DECP_CRITERE, DECP_RESERVE = "Clause sociale", "Critère social", "Marché réservé"
DECP_NONE = "Pas de considération sociale"


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


def reference_date(q: Questionnaire, library: Library) -> dt.date:
    """Figures of execution (rates, penalties) in force at the planned notification.

    Without it, at the launch of the consultation, else at the library's date.
    """
    return q.marche.date_notification_prevue or q.marche.date_lancement or library.date


@dataclass(frozen=True)
class ConsultationDate:
    """The day whose law governs the procedure (mandatory social condition, EU thresholds) and where it came from.

    The law applies to consultations launched (notice sent for publication, or consultation
    engaged) from its date of effect: the launch date decides, then the notification date as
    the closest stand-in; with neither, the law known to the library (its release date) is
    assumed to apply, and the plan says so.
    """

    day: dt.date
    origine: str  # "lancement" | "notification" | "bibliotheque"


ORIGINES_DATE = {
    "lancement": "date de lancement de la consultation",
    "notification": "date de notification prévue (aucune date de lancement indiquée)",
    "bibliotheque": "aucune date indiquée : droit en vigueur à la date de la bibliothèque",
}


def consultation_date(q: Questionnaire, library: Library) -> ConsultationDate:
    if q.marche.date_lancement:
        return ConsultationDate(q.marche.date_lancement, "lancement")
    if q.marche.date_notification_prevue:
        return ConsultationDate(q.marche.date_notification_prevue, "notification")
    return ConsultationDate(library.date, "bibliotheque")


def build_plan(q: Questionnaire, library: Library) -> Plan:
    when = reference_date(q, library)
    consultation = consultation_date(q, library)
    lots = [_decide_lot(q, lot, library, when) for lot in q.lots]
    total = sum(_lot_amount(q, lot) for lot in q.lots)
    warnings = _market_warnings(q, library, lots, consultation, total)
    penalties = [float((lot.decision("insertion").calcul or {})["penalite_horaire"]) for lot in lots
                 if lot.retained("insertion")]
    return Plan(
        reference=q.marche.reference,
        objet=q.marche.objet,
        acheteur=q.acheteur.nom,
        library_version=library.version,
        lots=lots,
        avertissements=warnings,
        decp=_decp(q, lots),
        montant_total_ht=total,
        parametres={"date_reference": when.isoformat(), "date_consultation": consultation.day.isoformat(),
                    "date_consultation_origine": consultation.origine,
                    "seuil_europeen_ht": _whole(eu_threshold(q, library, consultation.day))},
        penalite_horaire=market_penalty(q, library, when, penalties),
    )


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _lot_amount(q: Questionnaire, lot: Lot) -> float:
    """The amount compared with thresholds: the estimate, or a framework's maximum."""
    if q.marche.est_accord_cadre:
        return float(lot.montant_maximum_ht or 0)
    return float(lot.montant_estime_ht or 0)


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
    yearly = _lot_amount(ctx.q, ctx.lot) * 12 / max(total_months, 1)
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
    figures = dict(heures=h.heures, heures_maximum=h.heures_maximum, heures_par_100k=h.heures_par_100k, calcul=_calcul(ctx))
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
    if _lot_amount(ctx.q, ctx.lot) < ctx.param("plan_de_progres_montant_min"):
        return f"montant faible ({fr.euros(_lot_amount(ctx.q, ctx.lot))} HT)"
    return ""


# --------------------------------------------------------------------------- the market

def _market_warnings(q: Questionnaire, library: Library, lots: list[LotPlan], consultation: ConsultationDate,
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
    too_big = [lot for lot in adaptee if _lot_amount(q, lot) >= unit]
    cumulated = sum(_lot_amount(q, lot) for lot in adaptee)
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
        + (f" ; la durée totale prévue, {fr.mois(months)} reconductions comprises, dépasse les trois ans que permet "
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


def _decp(q: Questionnaire, lots: list[LotPlan]) -> list[str]:
    """Step 10: the open-data value(s) of considerationsSociales."""
    values = []
    if any(lot.retained(t) for lot in lots for t in EXECUTION_CONDITIONS):
        values.append(DECP_CLAUSE)
    if q.criteres.insertion is not None:
        values.append(DECP_CRITERE)
    if any(lot.retained("marche_reserve") for lot in lots):
        values.append(DECP_RESERVE)
    return values or [DECP_NONE]
