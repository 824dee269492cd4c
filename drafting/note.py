"""The decision note (note de synthèse) for the buyer's file and the facilitator.

Built from the plan alone, so it always says exactly what was decided and why:
the market, per lot the decisions with their reasons and figures, the warnings,
the legal bases cited and the open-data value.
"""

from __future__ import annotations

import datetime as dt

from . import formatting as fr
from .compose import FORME_LABELS, NATURE_LABELS, Piece, subtitle
from .library import Library
from .markup import Block, BulletItem, Heading, Paragraph, Run, Table
from .model import Questionnaire
from .plan import A_ETUDIER, ECARTEE, RETENUE, TYPE_LABELS, Plan

NOTE_SECTIONS = {RETENUE: "Considérations retenues", A_ETUDIER: "Considérations à étudier",
                 ECARTEE: "Considérations écartées"}
PROCEDURE_LABELS = {
    "mapa": "procédure adaptée", "appel_offres_ouvert": "appel d'offres ouvert",
    "appel_offres_restreint": "appel d'offres restreint", "procedure_negociee": "procédure avec négociation",
    "dialogue_competitif": "dialogue compétitif", "sans_publicite": "marché sans publicité ni mise en concurrence",
}


def _p(text: str, bold: bool = False) -> Paragraph:
    return Paragraph([Run(text, bold)])


def _cells(*texts: str) -> list[list[Run]]:
    return [[Run(t)] for t in texts]


def build_note(q: Questionnaire, plan: Plan, library: Library) -> Piece:
    blocks: list[Block] = []
    blocks += _market(q, plan)
    blocks += _summary(plan)
    blocks.append(Heading(1, [Run("Décisions et raisons, lot par lot")]))
    for lot in plan.lots:
        blocks += _lot(lot)
    blocks += _warnings(q, plan)
    blocks += _legal_bases(plan, library)
    blocks += _open_data(plan)
    return Piece("note", f"{q.marche.reference}_note-de-synthese.docx", "Note de synthèse — clauses sociales",
                 subtitle(q), blocks, toc=True)


def _market(q: Questionnaire, plan: Plan) -> list[Block]:
    m = q.marche
    facts = [
        f"Acheteur : {q.acheteur.nom}.",
        f"Objet : {m.objet} ({NATURE_LABELS[m.nature].lower()}).",
        f"Forme : {FORME_LABELS[m.forme].lower()}" + (f", {PROCEDURE_LABELS[m.procedure]}" if m.procedure else "") + ".",
        f"Montant total estimé : {fr.euros(plan.montant_total_ht)} HT"
        + (" (maximum des accords-cadres)" if m.est_accord_cadre else "") + ".",
    ]
    if m.duree_totale_mois:
        facts.append(f"Durée totale : {fr.mois(m.duree_totale_mois)}, reconductions comprises.")
    if m.date_notification_prevue:
        facts.append(f"Notification prévue le {fr.date_fr(m.date_notification_prevue)}.")
    if q.facilitateur:
        facts.append(f"Facilitateur : {q.facilitateur.structure}"
                     + (f", {q.facilitateur.contact}" if q.facilitateur.contact else "") + ".")
    facts.append(f"Bibliothèque de clauses : version {plan.library_version} ; paramètres en vigueur au "
                 f"{fr.date_fr(dt.date.fromisoformat(plan.parametres['date_reference']))}.")
    return [Heading(1, [Run("Le marché")])] + [BulletItem([Run(f)]) for f in facts]


def _summary(plan: Plan) -> list[Block]:
    table = Table([_cells("Lot", "Retenu", "À étudier", "Heures d'insertion")])
    for lot in plan.lots:
        retained = [TYPE_LABELS[d.type] for d in lot.decisions if d.statut == RETENUE]
        study = [TYPE_LABELS[d.type] for d in lot.decisions if d.statut == A_ETUDIER]
        insertion = lot.decision("insertion")
        hours = fr.heures(insertion.heures) if insertion.statut == RETENUE and insertion.heures is not None else (
            f"jusqu'à {fr.heures(insertion.heures_maximum)}" if insertion.statut == RETENUE and insertion.heures_maximum else "—")
        table.rows.append(_cells(f"{lot.numero} — {lot.intitule}", " ; ".join(retained) or "aucune",
                                 " ; ".join(study) or "—", hours))
    return [Heading(1, [Run("Synthèse des décisions")]), table]


def _lot(lot) -> list[Block]:
    blocks: list[Block] = [Heading(2, [Run(f"Lot n° {lot.numero} — {lot.intitule} ({lot.secteur_libelle})")])]
    for statut in (RETENUE, A_ETUDIER, ECARTEE):
        decisions = [d for d in lot.decisions if d.statut == statut]
        if not decisions:
            continue
        blocks.append(Heading(3, [Run(NOTE_SECTIONS[statut])]))
        for d in decisions:
            blocks.append(BulletItem([Run(TYPE_LABELS[d.type] + " : ", True), Run(" ".join(d.raisons))]))
    for warning in lot.avertissements:
        blocks.append(Paragraph([Run(f"Avertissement ({warning.code}) : ", True), Run(warning.message)]))
    return blocks


def _warnings(q: Questionnaire, plan: Plan) -> list[Block]:
    blocks: list[Block] = [Heading(1, [Run("Avertissements sur l'ensemble du marché")])]
    if not plan.avertissements:
        blocks.append(_p("Aucun avertissement ne concerne l'ensemble du marché."))
    for warning in plan.avertissements:
        blocks.append(Paragraph([Run(f"{warning.code} : ", True), Run(warning.message)]))
    justification = q.justifications.exception_condition_sociale.strip()
    if justification:
        blocks.append(Paragraph([Run("Exception à la condition d'exécution sociale obligatoire, motivée par l'acheteur : ", True),
                                 Run(f"« {justification} »")]))
    return blocks


def _legal_bases(plan: Plan, library: Library) -> list[Block]:
    retained = [t for t in TYPE_LABELS if any(lot.retained(t) for lot in plan.lots)]
    blocks: list[Block] = [Heading(1, [Run("Bases légales citées")])]
    seen: set[str] = set()
    for type_ in retained:
        for base in library.types.get(type_, {}).get("bases_legales", []):
            if base["reference"] not in seen:
                seen.add(base["reference"])
                blocks.append(BulletItem([Run(base["reference"]), Run(f" — {base.get('source', '')}")]))
    for base in library.condition_sociale_bases:
        if base["reference"] not in seen:
            blocks.append(BulletItem([Run(base["reference"]), Run(f" — {base.get('source', '')}")]))
    blocks.append(_p("Rappel : à compter du 22 août 2026, tout marché comporte aussi une condition d'exécution "
                     "environnementale (art. L2112-2 du Code de la commande publique), hors du champ de cette note."))
    return blocks


def _open_data(plan: Plan) -> list[Block]:
    return [Heading(1, [Run("Données essentielles (DECP)")]),
            _p(f"Valeur du champ considerationsSociales : {' ; '.join(plan.decp)}.")]
