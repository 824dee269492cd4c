"""Composition: the plan's retained clauses become pieces made of library fragments.

Numbering is done here, not in the fragments, so the same wording slots into any
CCAP ("Article 7", "7.1", …) and facilitators never renumber by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .hours import market_penalty
from .library import CONSIDERATION_TYPES, Fragment, Library
from .markup import Block, BulletItem, Heading, Paragraph, Run, Table, escape, parse_blocks, placeholder, plain
from .model import Questionnaire
from .plan import TYPE_LABELS, LotPlan, Plan
from .decisions import reference_date

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
                  "types_retenus", "clause", "commun")
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


@dataclass
class Composition:
    pieces: list[Piece]
    fragments: list[Fragment] = field(default_factory=list)
    penalite_horaire: float = 0.0


def compose(q: Questionnaire, plan: Plan, library: Library, premier_article: int = 1) -> Composition:
    from .library import included_ids
    from .render import render_fragment

    base = base_context(q, library)
    base["types_retenus"] = list(plan.retained_types)
    used: list[Fragment] = []
    pieces = []
    for kind, (stem, title, numbered) in PIECES.items():
        blocks: list[Block] = []
        shared: dict[str, int] = {}  # shared block -> article of this piece that first gave it
        for type_ in CONSIDERATION_TYPES:
            lots = plan.lots_with(type_)
            if not lots:
                continue
            fragments = library.fragments_for(type_, kind)
            if not fragments and kind == "ccap":
                blocks += _missing_wording(type_, lots)
            if not fragments:
                continue
            for fragment in fragments:
                article = premier_article + sum(1 for b in blocks if isinstance(b, Heading) and b.level == 1)
                includes = [i for i in included_ids(fragment, library.fragments) if i in library.fragments]
                context = fragment_context(base, type_, q, lots, library, article, shared)
                blocks += parse_blocks(render_fragment(fragment, context, library.fragments))
                used.append(fragment)
                used += [library.fragments[i] for i in includes]
                for name in includes:
                    shared.setdefault(name, article)
        if blocks:
            if numbered:
                number_blocks(blocks, premier_article)
            articles = sum(1 for b in blocks if isinstance(b, Heading) and b.level == 1)
            pieces.append(Piece(kind, f"{q.marche.reference}_{stem}.docx", title, subtitle(q), blocks,
                                toc=numbered and (kind == "ccap" or articles > 1)))
    pieces += _annexes(q, base, library, used)
    return Composition(pieces, used, base["parametres"]["penalite_horaire"])


def subtitle(q: Questionnaire) -> str:
    return f"Marché n° {q.marche.reference} — {q.marche.objet} — {q.acheteur.nom}"


def _annexes(q: Questionnaire, base: dict[str, Any], library: Library, used: list[Fragment]) -> list[Piece]:
    """Information sheets handed to candidates: one document per annex fragment whose types are retained."""
    from .render import render_fragment

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


def base_context(q: Questionnaire, library: Library) -> dict[str, Any]:
    when = reference_date(q, library)
    m = q.marche
    ccag = m.ccag_effectif
    ccag_libelles = library.param("ccag_libelle", when)
    articles = library.param("ccag_article_insertion", when)
    f = q.facilitateur
    facilitateur = {
        "present": f is not None,
        "structure": f.structure if f else placeholder("structure du facilitateur"),
        "contact": (f.contact if f and f.contact else placeholder("nom du facilitateur")),
        "courriel": (f.courriel if f and f.courriel else placeholder("courriel du facilitateur")),
        "telephone": (f.telephone if f and f.telephone else placeholder("téléphone du facilitateur")),
    }
    penalite = market_penalty(q, library, when)
    minimum = float(q.territoire.heures_minimum or library.param("heures_minimum", when))
    return {
        "acheteur": {"nom": q.acheteur.nom, "type_libelle": ACHETEUR_LABELS[q.acheteur.type]},
        "marche": {
            "reference": m.reference, "objet": m.objet, "nature": m.nature, "nature_libelle": NATURE_LABELS[m.nature],
            "forme": m.forme, "forme_libelle": FORME_LABELS[m.forme], "est_accord_cadre": m.est_accord_cadre,
            "ccag": ccag, "ccag_libelle": ccag_libelles.get(ccag, "") if ccag != "aucun" else "",
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
    }


def type_context(type_: str, q: Questionnaire, lots: list[LotPlan], library: Library) -> dict[str, Any]:
    """The ``lots`` a fragment of this type sees: only those where the type is retained."""
    by_number = {lot.numero: lot for lot in q.lots}
    entries = []
    for lot_plan in lots:
        lot = by_number[lot_plan.numero]
        decision = lot_plan.decision(type_)
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
        })
    total = sum(e["heures"] for e in entries if e["heures"] is not None)
    context: dict[str, Any] = {"lots": entries, "heures_total": total}
    extra = TYPE_EXTRAS.get(type_)
    if extra is not None:
        name, build = extra
        context[name] = build(q, lots, library)
    return context


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
            "ess": spec.article == "L2113-15"}


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
    return {"support": spec.support or q.marche.objet, **totals,
            "taux_sorties_dynamiques": optional_param(library, "taux_sorties_dynamiques", reference_date(q, library), None)}


TYPE_EXTRAS = {
    "action_sociale": ("action_sociale", action_sociale_context),
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
