"""The decision note (note de synthèse) for the buyer's file and the facilitator.

Built from the plan alone, so it always says exactly what was decided and why:
the market, per lot the decisions with their reasons and figures, the warnings,
the legal bases cited and the open-data value.
"""

from __future__ import annotations

import datetime as dt
import re

from drafting.common import formatting as fr
from drafting.compose.markup import Block, BulletItem, Heading, Paragraph, Run, Table
from drafting.compose.pieces import Piece
from drafting.decide.plan import A_ETUDIER, ECARTEE, RETENUE, TYPE_LABELS, Plan
from drafting.decide.terms import ORIGINES_DATE
from drafting.library import CRITERION_TYPE, Library

NOTE_SECTIONS = {RETENUE: "Considérations retenues", A_ETUDIER: "Considérations à étudier",
                 ECARTEE: "Considérations écartées"}
LEGACY_MARKER = re.compile(r"\s*\[verify[^\]]*\]", re.IGNORECASE)  # in the data of releases before 2026.4.0


def _p(text: str, bold: bool = False) -> Paragraph:
    return Paragraph([Run(text, bold)])


def _cells(*texts: str) -> list[list[Run]]:
    return [[Run(t)] for t in texts]


def build_note(plan: Plan, library: Library, derogations: str = "") -> Piece:
    """``derogations``: the sentence for the last article of the buyer's CCAP, from the composition."""
    blocks: list[Block] = []
    blocks += _market(plan)
    blocks += _summary(plan)
    blocks.append(Heading(1, [Run("Décisions et raisons, lot par lot")]))
    for lot in plan.lots:
        blocks += _lot(lot)
    blocks += _warnings(plan)
    blocks += _derogations(derogations)
    blocks += _legal_bases(plan, library)
    blocks += _open_data(plan)
    return Piece("note", f"{plan.reference}_note-de-synthese.docx", "Note de synthèse — clauses sociales",
                 plan.terms["sous_titre"], blocks, toc=True, preamble=_pending(plan))


def _pending(plan: Plan) -> list[Block]:
    """First page, before the table of contents: what the buyer must still complete before publishing."""
    if not plan.a_completer:
        return [Paragraph([Run("À compléter avant publication : rien. ", True),
                           Run("Les pièces ne comportent aucune zone à compléter par l'acheteur.")])]
    blocks: list[Block] = [Paragraph([Run(f"À compléter avant publication ({len(plan.a_completer)}) : ", True),
                                      Run("zones surlignées en jaune dans les pièces, à remplir avant de publier le DCE.")])]
    blocks += [BulletItem([Run(f"{item.piece}, {item.ou} : ", True), Run(item.libelle)]) for item in plan.a_completer]
    return blocks


def _derogations(sentence: str) -> list[Block]:
    if not sentence:
        return []
    return [Heading(1, [Run("Dérogations au CCAG à récapituler")]),
            _p("Chaque CCAG demande que le dernier article du CCAP contienne la liste récapitulative des articles du "
               "CCAG auxquels il est dérogé. Les clauses sociales y dérogent : reportez dans cet article la mention "
               "suivante (avec l'option --ccap-modele, clausier la place à l'endroit du paragraphe "
               "« [[DÉROGATIONS AU CCAG]] » de votre CCAP)."),
            Paragraph([Run(f"« {sentence} »")])]


def _market(plan: Plan) -> list[Block]:
    m = plan.terms["marche"]
    procedure = m["procedure_libelle"]
    facts = [
        f"Acheteur : {plan.acheteur}.",
        f"Objet : {m['objet']} ({m['nature_libelle'].lower()}).",
        f"Forme : {m['forme_libelle'].lower()}" + (f", {procedure}" if procedure else "") + ".",
        f"Montant total estimé : {fr.euros(plan.montant_total_ht)} HT"
        + (" (maximum des accords-cadres)" if m["est_accord_cadre"] else "") + ".",
    ]
    if m["duree_totale_mois"]:
        facts.append(f"Durée totale : {fr.mois(m['duree_totale_mois'])}, reconductions comprises.")
    if m["date_lancement"]:
        facts.append(f"Lancement de la consultation le {fr.date_fr(m['date_lancement'])}.")
    if m["date_notification_prevue"]:
        facts.append(f"Notification prévue le {fr.date_fr(m['date_notification_prevue'])}.")
    consultation = dt.date.fromisoformat(plan.parametres["date_consultation"])
    facts.append(f"Droit applicable à la procédure : celui du {fr.date_fr(consultation)} "
                 f"({ORIGINES_DATE[plan.parametres['date_consultation_origine']]}) ; seuil européen de ce marché : "
                 f"{fr.euros(plan.parametres['seuil_europeen_ht'])} HT.")
    f = plan.terms["facilitateur"]
    if f["present"]:
        facts.append(f"Facilitateur : {f['structure']}" + (f", {f['contact']}" if f["contact"] else "") + ".")
    facts.append(f"Bibliothèque de clauses : version {plan.library_version} ; paramètres en vigueur au "
                 f"{fr.date_fr(dt.date.fromisoformat(plan.parametres['date_reference']))}.")
    blocks: list[Block] = [Heading(1, [Run("Le marché")])]
    return blocks + [BulletItem([Run(f)]) for f in facts]


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


def _warnings(plan: Plan) -> list[Block]:
    blocks: list[Block] = [Heading(1, [Run("Avertissements sur l'ensemble du marché")])]
    if not plan.avertissements:
        blocks.append(_p("Aucun avertissement ne concerne l'ensemble du marché."))
    for warning in plan.avertissements:
        blocks.append(Paragraph([Run(f"{warning.code} : ", True), Run(warning.message)]))
    justification = plan.terms["exception_condition_sociale"]
    if justification:
        blocks.append(Paragraph([Run("Exception à la condition d'exécution sociale obligatoire, motivée par l'acheteur : ", True),
                                 Run(f"« {justification} »")]))
    return blocks


def _cited(base: object, library: Library) -> tuple[str, str]:
    """(label, address) of a legal basis: a registry key, or a mapping of a release before the registry."""
    if isinstance(base, str):
        entry = library.references.get(base, {})
        return str(entry.get("libelle", base)), str(entry.get("source", ""))
    assert isinstance(base, dict)
    return LEGACY_MARKER.sub("", str(base["reference"])), LEGACY_MARKER.sub("", str(base.get("source", "")))


def _legal_bases(plan: Plan, library: Library) -> list[Block]:
    bases = [b for t in plan.retained_types for b in library.types.get(t, {}).get("bases_legales", [])]
    bases += list(library.condition_sociale_bases)
    if CRITERION_TYPE in plan.terms["types_rediges"]:
        bases += list(library.critere_bases)
    blocks: list[Block] = [Heading(1, [Run("Bases légales citées")])]
    seen: set[str] = set()
    for base in bases:
        label, source = _cited(base, library)
        if label not in seen:
            seen.add(label)
            blocks.append(BulletItem([Run(label), Run(f" — {source}" if source else "")]))
    ccag = plan.terms["ccag"]
    if ccag and "insertion" in plan.retained_types:
        spec = library.ccag[ccag["code"]]
        blocks.append(BulletItem([Run(f"{ccag['abrege']} : le CCAP complète {ccag['insertion']} et déroge "
                                      f"{ccag['derogation']}"), Run(f" — {spec.get('texte', '')}")]))
    consultation = dt.date.fromisoformat(plan.parametres["date_consultation"])
    for reminder in library.rappels:
        if dt.date.fromisoformat(str(reminder["date_effet"])) <= consultation:
            blocks.append(_p(f"Rappel : {reminder['texte']}"))
    return blocks


def _open_data(plan: Plan) -> list[Block]:
    return [Heading(1, [Run("Données essentielles (DECP)")]),
            _p(f"Valeur du champ considerationsSociales : {' ; '.join(plan.decp)}.")]
