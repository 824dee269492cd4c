"""The terms every piece needs, resolved once from the questionnaire and the library when the plan is made.

Composing the pieces, writing the decision note and the monitoring grid read the plan and the
library only: the dates, the CCAG's articles, the penalties, the facilitator, each retained type's
lots and options are all here, so no writer reads the questionnaire again and none can drift
from another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from drafting.decide.hours import round_half_up
from drafting.decide.plan import LotPlan, Plan
from drafting.intake.labels import ACHETEUR_LABELS, FORME_LABELS, NATURE_LABELS, PROCEDURE_LABELS
from drafting.intake.model import Questionnaire
from drafting.library import CONSIDERATION_TYPES, CRITERION_TYPE, Library

THEME_ACTIONS = {
    "metiers_en_tension": ("promotion_metiers_tension", "formation", "stage_alternance"),
    "decouverte_metiers": ("visite_chantier", "immersion_pmsmp"),
}


PENALTY_PARAMETERS = ("penalite_action_sociale", "penalite_engagement", "penalite_plan_de_progres",
                      "penalite_retard_jour", "penalite_poste_mois")


def _to(phrase: str) -> str:
    """« à » before a noun phrase, contracted as French requires (à le → au, à les → aux)."""
    if phrase.startswith("le "):
        return "au " + phrase[3:]
    if phrase.startswith("les "):
        return "aux " + phrase[4:]
    return "à " + phrase


def _bare(phrase: str) -> str:
    """The noun phrase without its article, for a parenthesis (« le plafonnement… » → « plafonnement… »)."""
    for article in ("la ", "le ", "les ", "l’", "l'"):
        if phrase.startswith(article):
            return phrase[len(article):]
    return phrase


def ccag_terms(library: Library, code: str) -> dict[str, Any]:
    """How the pieces name the CCAG and its articles: number and subject, or the subject alone when the number is unknown.

    A number is never written alone: if it were wrong, the subject still designates the article.
    """
    spec = library.ccag.get(code)
    if not spec:
        return {}
    abrege = spec["abrege"]
    objets = library.ccag_objets

    def article(key: str) -> dict[str, Any]:
        entry = spec["articles"].get(key) or {"numero": None}
        subject = objets.get(key, key)
        number = entry.get("numero")
        return {"numero": number, "objet": subject,
                "ref": (f"l’article {number} du {abrege} ({_bare(subject)})" if number
                        else f"les stipulations du {abrege} relatives {_to(subject)}")}

    arts = {key: article(key) for key in objets}
    cap, exemption = arts["plafond_penalites"], arts["exoneration_penalites"]
    parts = [f"à l’article {a['numero']} ({_bare(a['objet'])})" if a["numero"]
             else f"aux stipulations relatives {_to(a['objet'])}" for a in (cap, exemption)]
    return {
        "code": code, "abrege": abrege, "libelle": spec["libelle"], "articles": arts,
        "insertion": arts["clause_insertion"]["ref"],
        "derogation": f"{parts[0]} et {parts[1]} du {abrege}",
    }


def build_terms(q: Questionnaire, library: Library, plan: Plan) -> dict[str, Any]:
    """Everything the pieces, the note and the grid say about the market, computed once (FORMAT.md lists the context).

    The facilitator's missing fields stay None here: each writer says in its own way that they
    are to complete.
    """
    when = reference_date(q, library)
    m = q.marche
    ccag = m.ccag_effectif
    ccag_words = ccag_terms(library, ccag) if ccag != "aucun" else {}
    # releases before 2026.4.0 kept the CCAG's title and insertion article as dated parameters
    ccag_libelles = optional_param(library, "ccag_libelle", when, {})
    articles = optional_param(library, "ccag_article_insertion", when, {})
    f = q.facilitateur
    minimum = float(q.territoire.heures_minimum or library.param("heures_minimum", when))
    criterion = q.criteres.insertion is not None
    drafted = plan.retained_types + ((CRITERION_TYPE,) if criterion else ())
    return {
        "sous_titre": f"Marché n° {m.reference} — {m.objet} — {q.acheteur.nom}",
        "acheteur": {"nom": q.acheteur.nom, "type_libelle": ACHETEUR_LABELS[q.acheteur.type]},
        "marche": {
            "reference": m.reference, "objet": m.objet, "nature": m.nature, "nature_libelle": NATURE_LABELS[m.nature],
            "forme": m.forme, "forme_libelle": FORME_LABELS[m.forme], "est_accord_cadre": m.est_accord_cadre,
            "ccag": ccag,
            "ccag_libelle": (ccag_words.get("libelle") or ccag_libelles.get(ccag, "")) if ccag != "aucun" else "",
            "ccag_article_insertion": articles.get(ccag, "") if ccag != "aucun" else "",
            "duree_mois": m.duree_mois, "date_notification_prevue": m.date_notification_prevue,
            "duree_totale_mois": m.duree_totale_mois, "reconductions": m.reconductions,
            "procedure_libelle": PROCEDURE_LABELS.get(m.procedure or "", ""),
            "date_lancement": m.date_lancement,
        },
        "facilitateur": {"present": f is not None, "structure": f.structure if f else None,
                         "contact": f.contact if f else None, "courriel": f.courriel if f else None,
                         "telephone": f.telephone if f else None},
        "parametres": {"penalite_horaire": plan.penalite_horaire, "heures_minimum": minimum,
                       # a release older than a parameter renders without it (its fragments do not use it)
                       **{name: library.param(name, when) for name in PENALTY_PARAMETERS if name in library.parameters}},
        "publics": list(library.publics),
        "modalites": list(library.modalites),
        "types_retenus": list(plan.retained_types),
        "types_rediges": list(drafted),
        "ccag": ccag_words,
        "criteres": q.criteres.model_dump(),
        "exception_condition_sociale": q.justifications.exception_condition_sociale.strip(),
        "clauses": {type_: type_context(type_, q, plan.lots_with(type_ if type_ in CONSIDERATION_TYPES else "insertion"),
                                        library) for type_ in drafted},
        "grille": grid_terms(q, plan, library),
    }


def grid_terms(q: Questionnaire, plan: Plan, library: Library) -> dict[str, Any]:
    """What the monitoring grid states beyond the plan's figures: commitments other than hours, their penalties."""
    when = reference_date(q, library)
    rates = {name: float(library.param(name, when)) if name in library.parameters else None
             for name in ("penalite_action_sociale", "penalite_plan_de_progres")}
    lots = plan.lots_with("action_sociale")
    per_year = None
    if lots:
        context = action_sociale_context(q, lots, library)
        per_year = int(context["nombre"]) * int(context["realisations"]) if context["nombre"] else None
    f = q.facilitateur
    contact = ((f.structure + (f" — {f.contact}" if f.contact else "") + (f" — {f.courriel}" if f.courriel else ""))
               if f else "à compléter (aucun facilitateur indiqué dans le questionnaire)")
    return {"facilitateur": contact, "duree_totale_mois": q.marche.duree_totale_mois, "actions_par_an": per_year,
            "actions": [str(a.get("libelle", key)) for key, a in library.actions.items()],
            "marches_subsequents": q.marche.forme == "accord_cadre_marches_subsequents", **rates}


def type_context(type_: str, q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    """The ``lots`` a fragment of this type sees: only those where the type is retained."""
    by_number = {lot.numero: lot for lot in q.lots}
    entries = []
    for lot_plan in lots:
        lot = by_number[lot_plan.numero]
        decision = lot_plan.decision(type_ if type_ in CONSIDERATION_TYPES else "insertion")
        calcul = decision.calcul or {}
        entries.append({
            "numero": lot.numero, "intitule": lot.intitule, "secteur": lot_plan.secteur_libelle,
            "heures": decision.heures, "heures_maximum": decision.heures_maximum,
            "heures_par_100k": decision.heures_par_100k, "est_accord_cadre": q.marche.est_accord_cadre,
            "montant_ht": calcul.get("montant_ht", lot.montant_estime_ht),
            "montant_estime_ht": lot.montant_estime_ht,
            "montant_minimum_ht": lot.montant_minimum_ht, "montant_maximum_ht": lot.montant_maximum_ht,
            "part_main_oeuvre": calcul.get("part_main_oeuvre"), "taux_insertion": calcul.get("taux_insertion"),
            "cout_horaire": calcul.get("cout_horaire"), "penalite_horaire": calcul.get("penalite_horaire"),
            **_lot_qualification(q, lot),
            "periodes": hours_by_period(q, decision.heures) if type_ == "insertion" else [],
        })
    total = sum(e["heures"] for e in entries if e["heures"] is not None)
    context: dict[str, Any] = {"lots": entries, "heures_total": total}
    extra = TYPE_EXTRAS.get(type_)
    if extra is not None:
        name, build = extra
        context[name] = build(q, lots, library)
    return context


def hours_by_period(q: Questionnaire, hours: Optional[int]) -> list[dict[str, Any]]:
    """An ordinary market's hours split between its initial period and each renewal, pro rata of their months.

    The estimate covers the whole duration, renewals included: a renewal not exercised must not
    leave its hours due. Rounded per renewal; the initial period takes the remainder, so the
    periods add up to the lot's hours exactly.
    """
    m = q.marche
    if hours is None or m.est_accord_cadre or not m.reconductions or not m.duree_mois:
        return []
    total_months = m.duree_totale_mois or m.duree_mois
    renewal = int(round_half_up(Decimal(hours) * m.duree_reconduction_mois / total_months))
    initial = hours - renewal * m.reconductions
    periods = [{"libelle": "période initiale", "mois": m.duree_mois, "heures": initial}]
    periods += [{"libelle": f"reconduction n° {n}", "mois": m.duree_reconduction_mois, "heures": renewal}
                for n in range(1, m.reconductions + 1)]
    return periods


def insertion_context(q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    """The insertion clause's options: the training-hours cap, and how a framework's hours are set."""
    return {"plafond_formation": q.clauses.insertion.plafond_formation,
            "marches_subsequents": q.marche.forme == "accord_cadre_marches_subsequents",
            "bons_de_commande": q.marche.forme == "accord_cadre_bons_de_commande"}


def illettrisme_context(q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    return {"interlocuteur": q.clauses.illettrisme.interlocuteur}


def egalite_context(q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    given = q.clauses.egalite_diversite.actions_decouverte_par_an
    default = optional_param(library, "egalite_actions_decouverte_par_an", reference_date(q, library), None)
    return {"actions_decouverte_par_an": given if given is not None else default}


def optional_param(library: Library, name: str, when: Any, default: Any) -> Any:
    """A parameter added after some releases: those older releases still render (without it)."""
    return library.param(name, when) if name in library.parameters else default


def action_sociale_context(q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    """Which actions, imposed or N among M: the questionnaire's word, else themes, else the catalogue."""
    when = reference_date(q, library)
    spec = q.clauses.action_sociale
    ids: list[str] = list(spec.actions) if spec and spec.actions else list(q.objectifs.actions_envisagees)
    if not ids:
        ids = [a for theme in q.objectifs.themes for a in THEME_ACTIONS.get(theme, ())]
    if not ids:
        ids = [a for a in library.actions if a != "parrainage"]
    ids = list(dict.fromkeys(a for a in ids if a in library.actions))
    mode = spec.mode if spec else "au_choix"
    default_n = int(optional_param(library, "action_sociale_nombre_defaut", when, 2))
    nombre = len(ids) if mode == "imposees" else min(spec.nombre if spec and spec.nombre else default_n, len(ids))
    realisations = (spec.realisations_par_an if spec and spec.realisations_par_an
                    else int(optional_param(library, "action_sociale_realisations_par_an", when, 1)))
    return {
        "mode": mode if len(ids) > nombre else "imposees",
        "nombre": nombre,
        "actions": [{"id": a, **{k: library.actions[a].get(k, "") for k in ("libelle", "description", "indicateur")}}
                    for a in ids],
        "realisations": realisations,
        "parrainage": "parrainage" in ids,
    }


def reservation_context(q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    spec = q.clauses.marche_reserve
    return {"article": spec.article, "tout_le_marche": spec.tout_le_marche or len(lots) == len(q.lots),
            "ess": spec.article == "L2113-15", "sous_traitance_accessoire_max": spec.sous_traitance_accessoire_max}


def _lot_qualification(q: Questionnaire, lot: Any) -> dict[str, Any]:
    """A lot's posts, FTE, supervisors: its own figures, else the market's when it is the only lot."""
    market = q.clauses.insertion_qualification
    single = len(q.lots) == 1
    return {name: getattr(lot.qualification, name) if getattr(lot.qualification, name) is not None
            else (getattr(market, name) if single else None) for name in ("postes", "etp", "encadrants")}


def qualification_context(q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    """Market totals: as given, else the sum of the lots' figures when every lot gives one."""
    spec = q.clauses.insertion_qualification
    by_number = {lot.numero: lot for lot in q.lots}
    figures = [_lot_qualification(q, by_number[lot.numero]) for lot in lots]
    totals = {}
    for name in ("postes", "etp", "encadrants"):
        values = [f[name] for f in figures]
        given = getattr(spec, name)
        totals[name] = given if given is not None else (sum(values) if values and None not in values else None)
    when = reference_date(q, library)
    return {"support": spec.support or q.marche.objet, **totals,
            "taux_sorties_dynamiques": optional_param(library, "taux_sorties_dynamiques", when, None),
            "heures_etp": optional_param(library, "heures_an_temps_plein", when, None),
            "delai_remplacement_jours": spec.delai_remplacement_jours, "frequence_entretiens": spec.frequence_entretiens,
            "heures_formation_par_an": spec.heures_formation_par_an, "frequence_comite": spec.frequence_comite,
            "heures_hebdomadaires_min": spec.heures_hebdomadaires_min}


TYPE_EXTRAS = {
    "insertion": ("insertion", insertion_context),
    "action_sociale": ("action_sociale", action_sociale_context),
    "illettrisme": ("illettrisme", illettrisme_context),
    "egalite_diversite": ("egalite", egalite_context),
    "marche_reserve": ("reservation", reservation_context),
    "insertion_qualification": ("qualification", qualification_context),
}


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
