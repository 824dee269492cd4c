"""The consolidation's reports: text for the terminal, JSON for programs and the web, an Excel workbook.

The JSON format (``REPORT_FORMAT``) is a contract with the facilitators' own tools: extend it,
never rename a key. Every report is deterministic: the same grids give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from drafting.monitoring.figures import Consolidation, is_number, say_euros, say_number, say_percent
from drafting.ooxml.reports import report_workbook

REPORT_FORMAT = "clausier-consolidation/1"


REPORT_CREATED = dt.datetime(2020, 1, 1)  # fixed: the same grids give the same report bytes


UNIT_SHORT = {"heures": "h", "actions": "action(s)", "plans": "plan(s)"}


def report_text(result: Consolidation) -> str:
    read, failed, aside = len(result.markets), len(result.failures), len(result.set_aside)
    out = [f"Consolidation de {read + failed + aside} grille(s) de suivi : {read} lue(s), {failed} non lue(s)"
           + (f", {aside} écartée(s) (même marché)." if aside else ".")]
    for market in result.markets:
        out += ["", f"Marché {market.reference} — {market.objet} ({market.fichier})"]
        current = None
        for line in market.lines:
            if line.lot != current:
                out.append(f"  Lot {line.lot} — {line.intitule}")
                current = line.lot
            if line.realise is None:
                out.append(f"    {line.libelle} : {line.observation}")
                continue
            unit = UNIT_SHORT.get(line.unite, line.unite)
            due = f"{say_number(line.engagement)} {unit}" if line.engagement is not None else "non chiffré"
            gap = f"{say_number(line.ecart)} {unit}" if line.ecart is not None else "—"
            text = (f"    {line.libelle} : engagement {due}, réalisé {say_number(line.realise)} {unit} "
                    f"({say_percent(line.taux)}), écart {gap}, pénalités potentielles {say_euros(line.penalites)}")
            if line.type == "insertion":
                text += f" ; {say_number(line.complement)} h de formation, {line.beneficiaires} personne(s)"
            elif line.type == "action_sociale":
                text += f" ; {say_number(line.complement)} participant(s)"
            out.append(text)
            if line.observation:
                out.append(f"      ({line.observation})")
        i = market.indicators
        contracts = ", ".join(f"{name} {count}" for name, count in i.types_contrat.items()) or "non renseignés"
        out.append(f"  Indicateurs : {i.beneficiaires} bénéficiaire(s) ; femmes {i.femmes} ({say_percent(i.part_femmes)}) ; "
                   f"résidents QPV {i.residents_qpv} ({say_percent(i.part_qpv)}) ; contrats : {contracts} ; "
                   f"{say_number(i.heures_formation)} h de formation ; {say_number(i.heures_structures_inclusives)} h réalisées par des "
                   "structures inclusives sous-traitantes ou cotraitantes")
        if market.problems:
            out.append(f"  Problèmes ({len(market.problems)}) :")
            out += [f"    {p.render()}" for p in market.problems]
    if result.markets:
        out += ["", f"Total des pénalités potentielles : {say_euros(result.penalites)} (dues seulement en fin d'exécution, "
                    "après procédure contradictoire)."]
    if result.set_aside:
        out += ["", "Grilles écartées (non comptées) :"] + [f"  {name} : {why}" for name, _, why in result.set_aside]
    if result.failures:
        out += ["", "Fichiers non lus :"] + [f"  {name} : {why}" for name, why in result.failures]
    return "\n".join(out) + "\n"


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def report_data(result: Consolidation) -> dict[str, Any]:
    markets = []
    for m in result.markets:
        i = m.indicators
        markets.append({
            "fichier": m.fichier, "reference": m.reference, "objet": m.objet, "acheteur": m.acheteur,
            "facilitateur": m.facilitateur, "bibliotheque": m.bibliotheque,
            "lignes": [{"lot": line.lot, "intitule": line.intitule, "type": line.type, "consideration": line.libelle,
                        "unite": line.unite, "engagement": _whole(line.engagement), "realise": _whole(line.realise),
                        "ecart": _whole(line.ecart), "taux": line.taux, "penalite_unitaire": _whole(line.penalite_unitaire),
                        "penalites": _whole(line.penalites),
                        **({"heures_formation": _whole(line.complement), "beneficiaires": line.beneficiaires}
                           if line.type == "insertion" else {}),
                        **({"participants": _whole(line.complement)} if line.type == "action_sociale" else {}),
                        "ligne_synthese": line.synthese_ligne, "observation": line.observation} for line in m.lines],
            "indicateurs": {"beneficiaires": i.beneficiaires, "femmes": i.femmes, "part_femmes": i.part_femmes,
                            "residents_qpv": i.residents_qpv, "part_qpv": i.part_qpv,
                            "sexe_non_renseigne": i.sexe_non_renseigne, "qpv_non_renseigne": i.qpv_non_renseigne,
                            "types_contrat": i.types_contrat, "heures_travaillees": _whole(i.heures_travaillees),
                            "heures_formation": _whole(i.heures_formation),
                            "heures_structures_inclusives": _whole(i.heures_structures_inclusives),
                            "actions_realisees": i.actions_realisees,
                            "participants_actions": _whole(i.participants_actions), "plans_produits": i.plans_produits},
            "problemes": [{"cellule": p.cellule, "message": p.message} for p in m.problems],
        })
    return {"format": REPORT_FORMAT, "marches": markets,
            "fichiers_non_lus": [{"fichier": name, "erreur": why} for name, why in result.failures],
            "grilles_ecartees": [{"fichier": name, "reference": reference, "raison": why}
                                 for name, reference, why in result.set_aside],
            "penalites_potentielles": _whole(result.penalites)}


def report_json(result: Consolidation) -> str:
    """Strict JSON: a NaN or an infinity would be a bug (every cell is checked), never « Infinity » in the output."""
    return json.dumps(report_data(result), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def build_report_xlsx(result: Consolidation) -> bytes:
    """Three sheets for the buyer's file; every text goes through write_string, so none becomes a formula.

    The creation date is fixed, so the same grids give the same bytes (a report can be compared or archived).
    """

    buffer = io.BytesIO()
    wb = report_workbook(buffer, "Consolidation des grilles de suivi", REPORT_CREATED)
    header = wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"})
    number = wb.add_format({"num_format": "#,##0.##"})
    pct = wb.add_format({"num_format": "0%"})
    money = wb.add_format({"num_format": '#,##0.00 "€"'})

    def sheet(name: str, columns: list[tuple[str, int]], rows: list[list[Any]], formats: dict[int, Any]) -> None:
        ws = wb.add_worksheet(name)
        for col, (title, width) in enumerate(columns):
            ws.write_string(0, col, title, header)
            ws.set_column(col, col, width)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if is_number(value):
                    ws.write_number(r, col, value, formats.get(col, number))
                else:
                    ws.write_string(r, col, str(value))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)

    lines = [[m.fichier, m.reference, m.objet, m.acheteur, line.lot, line.intitule, line.libelle, line.unite,
              line.engagement, line.realise, line.ecart, line.taux, line.penalite_unitaire, line.penalites,
              line.observation] for m in result.markets for line in m.lines]
    sheet("Consolidation", [("Fichier", 30), ("Marché", 16), ("Objet", 40), ("Acheteur", 28), ("Lot", 6),
                            ("Intitulé", 28), ("Considération", 40), ("Unité", 10), ("Engagement", 12), ("Réalisé", 12),
                            ("Écart", 12), ("Taux de réalisation", 12), ("Pénalité par unité", 12),
                            ("Pénalités potentielles", 14), ("Observation", 50)],
          lines, {11: pct, 12: money, 13: money})
    contracts = sorted({name for m in result.markets for name in m.indicators.types_contrat})
    indicators = [[m.fichier, m.reference, m.indicators.beneficiaires, m.indicators.femmes, m.indicators.part_femmes,
                   m.indicators.residents_qpv, m.indicators.part_qpv, m.indicators.heures_travaillees,
                   m.indicators.heures_formation, m.indicators.heures_structures_inclusives,
                   m.indicators.actions_realisees, m.indicators.participants_actions,
                   m.indicators.plans_produits, *(m.indicators.types_contrat.get(c, 0) for c in contracts)]
                  for m in result.markets]
    sheet("Indicateurs", [("Fichier", 30), ("Marché", 16), ("Bénéficiaires", 12), ("Femmes", 10), ("Part des femmes", 10),
                          ("Résidents QPV", 10), ("Part des résidents QPV", 10), ("Heures travaillées", 12),
                          ("Heures de formation", 12), ("Heures par des structures inclusives (sous-traitance, "
                                                        "cotraitance)", 14),
                          ("Actions réalisées", 10), ("Participants aux actions", 12),
                          ("Plans d'actions produits", 12), *((f"Contrats : {c}", 12) for c in contracts)],
          indicators, {4: pct, 6: pct})
    problems = [[m.fichier, m.reference, p.cellule, p.message, "avertissement"] for m in result.markets for p in m.problems]
    problems += [[name, reference, "", why, "grille écartée"] for name, reference, why in result.set_aside]
    problems += [[name, "", "", why, "fichier non lu"] for name, why in result.failures]
    sheet("Problèmes", [("Fichier", 30), ("Marché", 16), ("Cellule", 20), ("Problème", 80), ("Gravité", 14)], problems, {})
    wb.close()
    return buffer.getvalue()
