"""Composition: the plan's retained clauses become pieces made of library fragments.

Numbering is done here, not in the fragments, so the same wording slots into any
CCAP ("Article 7", "7.1", …) and facilitators never renumber by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from drafting.decide.hours import round_half_up
from drafting.library.core import CONSIDERATION_TYPES, CRITERION_FRAGMENT, CRITERION_TYPE, Fragment, Library
from drafting.compose.markup import Block, BulletItem, Heading, Paragraph, Run, Table, escape, parse_blocks, placeholder, plain
from drafting.intake.model import Questionnaire
from drafting.decide.plan import TYPE_LABELS, ACompleter, LotPlan, Plan
from drafting.decide.policy import reference_date

PROCEDURE_LABELS = {
    "mapa": "procédure adaptée", "appel_offres_ouvert": "appel d'offres ouvert",
    "appel_offres_restreint": "appel d'offres restreint", "procedure_negociee": "procédure avec négociation",
    "dialogue_competitif": "dialogue compétitif", "sans_publicite": "marché sans publicité ni mise en concurrence préalables",
}
THEME_ACTIONS = {
    "metiers_en_tension": ("promotion_metiers_tension", "formation", "stage_alternance"),
    "decouverte_metiers": ("visite_chantier", "immersion_pmsmp"),
}
BASE_VARIABLES = ("acheteur", "marche", "facilitateur", "parametres", "publics", "modalites", "lots", "heures_total",
                  "types_retenus", "clause", "commun", "ccag", "criteres")
# Shared blocks given in full once per piece; later articles refer to the first (``commun`` in the context).
SHARED_BLOCKS = ("commun/facilitateur", "commun/publics", "commun/derogation_ccag")
PENALTY_PARAMETERS = ("penalite_action_sociale", "penalite_engagement", "penalite_plan_de_progres",
                      "penalite_retard_jour", "penalite_poste_mois")
PIECES = {
    # kind: (file stem, title, numbered articles)
    "ccap": ("CCAP_clauses-sociales", "Cahier des clauses administratives particulières", True),
    "rc": ("RC_clauses-sociales", "Règlement de la consultation", True),
    "ae": ("AE_annexe-engagements-sociaux", "Acte d'engagement — annexe", False),
}
NATURE_LABELS = {"travaux": "Travaux", "fournitures": "Fournitures", "services": "Services"}
FORME_LABELS = {
    "ordinaire": "Marché ordinaire",
    "accord_cadre_bons_de_commande": "Accord-cadre à bons de commande",
    "accord_cadre_marches_subsequents": "Accord-cadre à marchés subséquents",
}
ACHETEUR_LABELS = {
    "etat": "Service de l'État", "collectivite": "Collectivité territoriale",
    "epci": "Établissement public de coopération intercommunale", "departement": "Département",
    "region": "Région", "etablissement_sante": "Établissement de santé",
    "bailleur_social": "Bailleur social", "autre": "Acheteur public",
}


@dataclass
class Piece:
    kind: str
    filename: str
    title: str
    subtitle: str
    blocks: list[Block]
    toc: bool = False  # standalone pieces of several articles open on a table of contents
    preamble: list[Block] = field(default_factory=list)  # before the table of contents (the note's first page)


@dataclass
class Composition:
    pieces: list[Piece]
    fragments: list[Fragment] = field(default_factory=list)
    penalite_horaire: float = 0.0
    derogations: str = ""  # the sentence for the CCAP's last article listing the derogations to the CCAG
    a_completer: list[ACompleter] = field(default_factory=list)


DEROGATION = "commun/derogation_ccag"


def market_fragments(library: Library, plan: Plan, criterion: bool, kind: str) -> list[tuple[str, list[Fragment]]]:
    """(type, fragments) drafted into one piece, in order: the one rule of which fragments a market uses.

    Each retained type's fragments of that piece, then, in the RC, the award criterion when
    the buyer asked for it. ``provenance.fragments_used`` follows the same rule.
    """
    out = [(type_, library.fragments_for(type_, kind)) for type_ in plan.retained_types]
    if kind == "rc" and criterion and CRITERION_FRAGMENT in library.fragments:
        out.append((CRITERION_TYPE, [library.fragments[CRITERION_FRAGMENT]]))
    return out


def compose(q: Questionnaire, plan: Plan, library: Library, premier_article: int = 1) -> Composition:
    from drafting.library.core import included_ids
    from drafting.compose.render import render_fragment

    base = base_context(q, library, plan)
    used: list[Fragment] = []
    pieces = []
    derogations = ""
    for kind, (stem, title, numbered) in PIECES.items():
        blocks: list[Block] = []
        shared: dict[str, int] = {}  # shared block -> article of this piece that first gave it
        derogating: list[int] = []   # articles whose penalties derogate to the CCAG
        for type_, fragments in market_fragments(library, plan, q.criteres.insertion is not None, kind):
            lots = plan.lots_with(type_) if type_ in CONSIDERATION_TYPES else plan.lots_with("insertion")
            if not fragments and kind == "ccap":
                blocks += _missing_wording(type_, lots)
            for fragment in fragments:
                article = premier_article + sum(1 for b in blocks if isinstance(b, Heading) and b.level == 1)
                includes = [i for i in included_ids(fragment, library.fragments) if i in library.fragments]
                context = fragment_context(base, type_, q, lots, library, article, shared)
                blocks += parse_blocks(render_fragment(fragment, context, library.fragments))
                used.append(fragment)
                used += [library.fragments[i] for i in includes]
                for name in includes:
                    shared.setdefault(name, article)
                if DEROGATION in includes:
                    derogating.append(article)
        if blocks:
            if numbered:
                number_blocks(blocks, premier_article)
            articles = sum(1 for b in blocks if isinstance(b, Heading) and b.level == 1)
            pieces.append(Piece(kind, f"{q.marche.reference}_{stem}.docx", title, subtitle(q), blocks,
                                toc=numbered and (kind == "ccap" or articles > 1)))
            if kind == "ccap" and derogating:
                derogations = derogation_summary(base["ccag"], penalty_subarticles(blocks, derogating))
    pieces += _annexes(q, base, library, used)
    pending = zones_to_complete(pieces)
    if derogations:
        pending.append(ACompleter("CCAP de l’acheteur", "dernier article (liste récapitulative des dérogations au CCAG)",
                                  f"y reporter : « {derogations} »"))
    return Composition(pieces, used, base["parametres"]["penalite_horaire"], derogations, pending)


BUYER_ZONE = "À compléter"  # « [[À compléter : …]] » is the buyer's; « [[À remplir par le candidat : …]] » the candidate's


def zones_to_complete(pieces: list[Piece]) -> list[ACompleter]:
    """Every zone the buyer must still fill before publication, with the piece and the (sub-)article it sits in."""
    out: list[ACompleter] = []
    for piece in pieces:
        where = [piece.title, ""]
        for block in piece.blocks:
            if isinstance(block, Heading) and block.level <= 2:
                label = f"{block.number} {plain(block.runs)}".strip()
                where = [label, ""] if block.level == 1 else [where[0], label]
            for run in _runs(block):
                if run.placeholder and run.text.startswith(BUYER_ZONE):
                    label = run.text.split(":", 1)[1].strip() if ":" in run.text else run.text
                    out.append(ACompleter(piece.filename, " / ".join(w for w in where if w), label))
    return list(dict.fromkeys(out))


def _runs(block: Block) -> list[Run]:
    if isinstance(block, Table):
        return [run for row in block.rows for cell in row for run in cell]
    return list(block.runs)


def penalty_subarticles(blocks: list[Block], articles: list[int]) -> list[str]:
    """The numbers of the « Pénalités » sub-articles of these articles (the article itself when it has none)."""
    found: dict[int, str] = {}
    current = None
    for block in blocks:
        if isinstance(block, Heading) and block.level == 1:
            current = int(block.number.split()[1]) if block.number.startswith("Article ") else None
        elif (isinstance(block, Heading) and block.level == 2 and current in articles
              and plain(block.runs).strip().lower().startswith("pénalités")):
            found.setdefault(current, block.number)
    return [found.get(article, str(article)) for article in articles]


def derogation_summary(ccag: dict[str, Any], where: list[str]) -> str:
    """The sentence the buyer pastes into the CCAP's last article, which the CCAG (art. 1.2) wants listing every derogation."""
    if not ccag.get("derogation") or not where:
        return ""
    ours = (f"l’article {where[0]}" if len(where) == 1
            else "les articles " + ", ".join(where[:-1]) + f" et {where[-1]}")
    verb = "déroge" if len(where) == 1 else "dérogent"
    pronoun = "qu’il prévoit" if len(where) == 1 else "qu’ils prévoient"
    return (f"Clauses sociales : {ours} du présent cahier {verb} {ccag['derogation']} : les pénalités {pronoun} ne "
            "sont pas plafonnées, ne sont pas prises en compte pour l’application du plafond et sont dues quel que "
            "soit leur montant.")


def subtitle(q: Questionnaire) -> str:
    return f"Marché n° {q.marche.reference} — {q.marche.objet} — {q.acheteur.nom}"


def _annexes(q: Questionnaire, base: dict[str, Any], library: Library, used: list[Fragment]) -> list[Piece]:
    """Information sheets handed to candidates: one document per annex fragment whose types are retained."""
    from drafting.compose.render import render_fragment

    pieces = []
    for fragment in library.annexes_for(base["types_retenus"]):
        context = {**base, "lots": [], "heures_total": 0, "clause": {"type": "commun", "article": 0},
                   "commun": {name.split("/", 1)[1]: None for name in SHARED_BLOCKS}}
        blocks = parse_blocks(render_fragment(fragment, context, library.fragments))
        stem = fragment.fichier or fragment.id.replace("/", "_")
        pieces.append(Piece("annexe", f"{q.marche.reference}_{stem}.docx", fragment.titre or "Annexe",
                            subtitle(q), blocks))
        used.append(fragment)
    return pieces


def fragment_context(base: dict[str, Any], type_: str, q: Questionnaire, lots: list[LotPlan], library: Library,
                     article: int = 1, shared: Optional[dict[str, int]] = None) -> dict[str, Any]:
    """Everything a fragment of ``type_`` sees (FORMAT.md lists it): market, lots, and where shared blocks were given."""
    shared = shared or {}
    return {**base, **type_context(type_, q, lots, library), "clause": {"type": type_, "article": article},
            "commun": {name.split("/", 1)[1]: shared.get(name) for name in SHARED_BLOCKS}}


def _missing_wording(type_: str, lots: list[LotPlan]) -> list[Block]:
    numbers = ", ".join(str(lot.numero) for lot in lots)
    return [
        Heading(1, [Run(TYPE_LABELS[type_])]),
        Paragraph([Run(f"Clause retenue pour le(s) lot(s) n° {numbers}. ")] + [
            Run("À compléter : la bibliothèque de clauses ne fournit pas encore cette rédaction ; "
                "rédigez-la avec le facilitateur (contenu, indicateurs, pénalités).", placeholder=True)]),
    ]


def number_blocks(blocks: list[Block], first: int) -> None:
    article, sub = first - 1, 0
    for block in blocks:
        if isinstance(block, Heading) and block.level == 1:
            article, sub = article + 1, 0
            block.number = f"Article {article} –"
        elif isinstance(block, Heading) and block.level == 2 and article >= first:
            sub += 1
            block.number = f"{article}.{sub}"


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


def base_context(q: Questionnaire, library: Library, plan: Plan) -> dict[str, Any]:
    when = reference_date(q, library)
    m = q.marche
    ccag = m.ccag_effectif
    terms = ccag_terms(library, ccag) if ccag != "aucun" else {}
    # releases before 2026.4.0 kept the CCAG's title and insertion article as dated parameters
    ccag_libelles = optional_param(library, "ccag_libelle", when, {})
    articles = optional_param(library, "ccag_article_insertion", when, {})
    f = q.facilitateur
    facilitateur = {
        "present": f is not None,
        "structure": f.structure if f else placeholder("structure du facilitateur"),
        "contact": (f.contact if f and f.contact else placeholder("nom du facilitateur")),
        "courriel": (f.courriel if f and f.courriel else placeholder("courriel du facilitateur")),
        "telephone": (f.telephone if f and f.telephone else placeholder("téléphone du facilitateur")),
    }
    penalite = plan.penalite_horaire
    minimum = float(q.territoire.heures_minimum or library.param("heures_minimum", when))
    return {
        "acheteur": {"nom": q.acheteur.nom, "type_libelle": ACHETEUR_LABELS[q.acheteur.type]},
        "marche": {
            "reference": m.reference, "objet": m.objet, "nature": m.nature, "nature_libelle": NATURE_LABELS[m.nature],
            "forme": m.forme, "forme_libelle": FORME_LABELS[m.forme], "est_accord_cadre": m.est_accord_cadre,
            "ccag": ccag,
            "ccag_libelle": (terms.get("libelle") or ccag_libelles.get(ccag, "")) if ccag != "aucun" else "",
            "ccag_article_insertion": articles.get(ccag, "") if ccag != "aucun" else "",
            "duree_mois": m.duree_mois, "date_notification_prevue": m.date_notification_prevue,
            "duree_totale_mois": m.duree_totale_mois, "reconductions": m.reconductions,
            "procedure_libelle": PROCEDURE_LABELS.get(m.procedure or "", ""),
        },
        "facilitateur": facilitateur,
        "parametres": {"penalite_horaire": penalite, "heures_minimum": minimum,
                       # a release older than a parameter renders without it (its fragments do not use it)
                       **{name: library.param(name, when) for name in PENALTY_PARAMETERS if name in library.parameters}},
        "publics": list(library.publics),
        "modalites": list(library.modalites),
        "types_retenus": list(plan.retained_types),
        "ccag": terms,
        "criteres": q.criteres.model_dump(),
    }


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
    ids = list(spec.actions) if spec and spec.actions else list(q.objectifs.actions_envisagees)
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


def piece_text(piece: Piece) -> str:
    """Plain text of a piece (tests, previews): headings with their numbers."""
    out = []
    for block in piece.blocks:
        if isinstance(block, Heading):
            out.append(f"{block.number} {plain(block.runs)}".strip())
        elif isinstance(block, Paragraph):
            out.append(plain(block.runs))
        elif isinstance(block, BulletItem):
            out.append("• " + plain(block.runs))
        elif isinstance(block, Table):
            out += [" | ".join(plain(c) for c in row) for row in block.rows]
    return "\n".join(out)


__all__ = ["Piece", "Composition", "compose", "piece_text", "escape"]
