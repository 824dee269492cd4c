"""The plan as a facilitator would say it: per lot, retained, to study, set aside."""

from __future__ import annotations

import json
import textwrap

from drafting.common import formatting as fr
from drafting.decide.plan import A_ETUDIER, ECARTEE, RETENUE, TYPE_LABELS, Plan

SECTIONS = ((RETENUE, "Retenu"), (A_ETUDIER, "À étudier"), (ECARTEE, "Écarté"))
WIDTH = 100


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), ensure_ascii=False, indent=2) + "\n"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent]


def plan_text(plan: Plan) -> str:
    out = [f"Marché {plan.reference} — {plan.objet}",
           f"Acheteur : {plan.acheteur} · montant total {fr.euros(plan.montant_total_ht)} HT · "
           f"bibliothèque {plan.library_version}", ""]
    for lot in plan.lots:
        out.append(f"Lot n° {lot.numero} — {lot.intitule} (secteur : {lot.secteur_libelle})")
        for statut, label in SECTIONS:
            decisions = [d for d in lot.decisions if d.statut == statut]
            if not decisions:
                continue
            out.append(f"  {label} :")
            for d in decisions:
                out += _wrap(f"- {TYPE_LABELS[d.type]} : {d.raisons[0]}", "    ")
                for reason in d.raisons[1:]:
                    out += _wrap(reason, "      ")
        for warning in lot.avertissements:
            out += _wrap(f"! [{warning.code}] {warning.message}", "  ")
        out.append("")
    if plan.avertissements:
        out.append("Avertissements sur le marché :")
        for warning in plan.avertissements:
            out += _wrap(f"! [{warning.code}] {warning.message}", "  ")
        out.append("")
    out.append(f"Données essentielles (DECP) — considerationsSociales : {', '.join(plan.decp)}")
    out.append("")
    if plan.a_completer:
        out.append(f"À compléter avant publication ({len(plan.a_completer)}) :")
        for item in plan.a_completer:
            out += _wrap(f"- {item.piece}, {item.ou} : {item.libelle}", "  ")
    else:
        out.append("À compléter avant publication : rien.")
    return "\n".join(out).replace(fr.NBSP, " ").replace(fr.NNBSP, " ") + "\n"
