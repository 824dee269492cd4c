"""The yearly bilan of one buyer: a Word report, its Excel annex, and the CSV of the network's national survey.

All three come from the same figures (``tableau.portfolio`` for that buyer and year: the returns' consolidated
figures as of December) and are deterministic: the same data and year give the same bytes (rows sorted, the
documents dated 31 December of the year, charts drawn without date or software name).

The Word report is written by the engine's own Word writer (``api.word_document``), charts as PNG pictures, each
followed by the table of its figures. The CSV has a stable, documented format (``CSV_FORMAT``, ``CSV_COLUMNS``,
also in the README): one row per market; columns are only ever added at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from drafting import api

from ..marches.models import Organisation
from . import tableau
from .models import MarcheSuivi

CSV_FORMAT = "clausier-enquete/1"
OTHER = api.other_contract_label()
CONTRACT_COLUMNS = [
    ("contrats_cdi", ["CDI"]), ("contrats_cdd", ["CDD"]), ("contrats_cddi", ["CDDI"]),
    ("contrats_interim_etti", ["Intérim (ETTI)"]), ("contrats_mise_a_disposition_ai", ["Mise à disposition (AI)"]),
    ("contrats_geiq", ["GEIQ"]), ("contrats_apprentissage", ["Apprentissage"]),
    ("contrats_professionnalisation", ["Professionnalisation"]),
    ("contrats_sous_traitance_siae_ea", ["Sous-traitance SIAE/EA"]), ("contrats_autres", ["Autre", OTHER]),
]
CSV_COLUMNS: list[tuple[str, str]] = [
    ("format", f"« {CSV_FORMAT} » : la version de ce format"),
    ("annee", "année du bilan (AAAA)"),
    ("acheteur", "nom de l'acheteur (organisation dans clausier)"),
    ("acheteur_code", "identifiant court de l'acheteur dans clausier"),
    ("reference", "référence du marché"),
    ("objet", "objet du marché"),
    ("nature", "travaux, services ou fournitures (vide si inconnue)"),
    ("secteurs", "secteurs des lots (identifiants de la bibliothèque), séparés par « | »"),
    ("facilitateur", "structure du facilitateur nommée dans la grille"),
    ("debut_execution", "début d'exécution (AAAA-MM-JJ)"),
    ("fin_execution", "dernier mois d'exécution (AAAA-MM-JJ, premier jour du mois)"),
    ("duree_mois", "durée d'exécution en mois, reconductions comprises"),
    ("lots", "nombre de lots suivis"),
    ("titulaires", "entreprises titulaires renseignées, séparées par « | »"),
    ("heures_engagees", "heures d'insertion dues sur toute la durée, tous lots (grille générée)"),
    ("heures_attendues_annee", "heures attendues pendant l'année (engagement réparti sur la durée)"),
    ("heures_realisees_annee", "heures réalisées pendant l'année (dernier retour de l'année moins dernier retour de l'année précédente)"),
    ("heures_realisees_cumul", "heures réalisées depuis le début, au dernier retour de l'année"),
    ("taux_realisation", "heures réalisées cumulées ÷ heures engagées (0,5 = 50 %)"),
    ("heures_formation", "heures de formation comprises dans les heures réalisées"),
    ("heures_structures_inclusives", "heures réalisées par une SIAE, une EA ou un ESAT sous-traitant ou cotraitant"),
    ("beneficiaires", "personnes distinctes (identifiants pseudonymisés) sur le marché"),
    ("femmes", "dont femmes"),
    ("residents_qpv", "dont résidents d'un quartier prioritaire de la politique de la ville"),
    *((name, "personnes sous contrat : " + " ou ".join(labels)) for name, labels in CONTRACT_COLUMNS),
    ("actions_engagees", "actions sociales dues sur la durée"),
    ("actions_realisees", "actions sociales réalisées"),
    ("participants_actions", "participants aux actions sociales"),
    ("plans_engages", "plans de progrès annuels dus"),
    ("plans_produits", "plans de progrès produits"),
    ("penalites_potentielles", "pénalités potentielles au dernier retour, en euros (avant procédure contradictoire)"),
    ("penalites_retenues", "pénalités retenues après la procédure contradictoire, en euros (vide : pas de décision)"),
    ("procedure_contradictoire", "date de la décision après procédure contradictoire (AAAA-MM-JJ)"),
    ("dernier_retour", "mois du dernier retour de l'année (AAAA-MM-JJ, premier jour du mois)"),
    ("retours_manquants", "mois d'exécution de l'année sans retour, une fois la grille due"),
    ("en_retard", "oui si les heures réalisées sont sous 80 % de l'attendu au dernier retour"),
]


@dataclass
class Bilan:
    organisation: Organisation
    annee: int
    portfolio: tableau.Portfolio
    markets: list[MarcheSuivi]
    today: dt.date

    @property
    def stamp(self) -> dt.date:
        return dt.date(self.annee, 12, 31)

    @property
    def states(self) -> list[tableau.MarketState]:
        return sorted(self.portfolio.states, key=lambda s: s.suivi.reference)

    def committed(self, state: tableau.MarketState, kind: str) -> Optional[float]:
        values = [e.engagement for e in state.suivi.engagements.all() if e.type == kind and e.engagement is not None]
        return sum(values) if values else None

    def expected_in_year(self, state: tableau.MarketState) -> Optional[float]:
        start = state.suivi.debut_execution
        end_now = tableau.expected_at(state.engagement, start, state.suivi.duree_mois, dt.date(self.annee, 12, 1))
        before = tableau.expected_at(state.engagement, start, state.suivi.duree_mois, dt.date(self.annee - 1, 12, 1))
        if end_now is None or before is None:
            return None
        return end_now - before

    @property
    def decided_penalties(self) -> list[MarcheSuivi]:
        return [s.suivi for s in self.states if s.suivi.procedure_contradictoire_le is not None
                and s.suivi.procedure_contradictoire_le.year == self.annee]


def build(organisation: Organisation, annee: int, today: dt.date) -> Bilan:
    markets = list(MarcheSuivi.objects.filter(organisation=organisation).select_related("organisation")
                   .prefetch_related("lots", "engagements").order_by("reference"))
    result = tableau.portfolio(markets, today, annee)
    return Bilan(organisation, annee, result, markets, today)


# ----------------------------------------------------------------------------- rows shared by the three files


def _number(value: Any) -> Optional[float]:
    if value is None:
        return None
    return float(value)


def market_rows(bilan: Bilan) -> list[dict[str, Any]]:
    """One row per market, the CSV's columns (numbers as numbers, None when unknown)."""
    rows = []
    for state in bilan.states:
        suivi, figures = state.suivi, state.figures
        indicators = figures.get("indicateurs") or {}
        contracts = indicators.get("types_contrat") or {}
        lots = list(suivi.lots.all())
        actions = bilan.committed(state, "action_sociale")
        plans = bilan.committed(state, "plan_de_progres")
        row = {
            "format": CSV_FORMAT, "annee": bilan.annee, "acheteur": suivi.organisation.nom,
            "acheteur_code": suivi.organisation.slug, "reference": suivi.reference, "objet": suivi.objet,
            "nature": suivi.nature, "secteurs": " | ".join(sorted({lot.secteur for lot in lots if lot.secteur})),
            "facilitateur": suivi.facilitateur_nom,
            "debut_execution": suivi.debut_execution, "fin_execution": state.fin, "duree_mois": suivi.duree_mois,
            "lots": len(lots), "titulaires": " | ".join(sorted({lot.titulaire for lot in lots if lot.titulaire})),
            "heures_engagees": state.engagement, "heures_attendues_annee": bilan.expected_in_year(state),
            "heures_realisees_annee": state.realise_annee if state.dernier is not None else None,
            "heures_realisees_cumul": state.realise if state.dernier is not None else None,
            "taux_realisation": state.taux if state.dernier is not None else None,
            "heures_formation": indicators.get("heures_formation"),
            "heures_structures_inclusives": indicators.get("heures_structures_inclusives"),
            "beneficiaires": indicators.get("beneficiaires"), "femmes": indicators.get("femmes"),
            "residents_qpv": indicators.get("residents_qpv"),
            **{name: (sum(contracts.get(label, 0) for label in labels) if state.dernier is not None else None)
               for name, labels in CONTRACT_COLUMNS},
            "actions_engagees": actions, "actions_realisees": indicators.get("actions_realisees"),
            "participants_actions": indicators.get("participants_actions"),
            "plans_engages": plans, "plans_produits": indicators.get("plans_produits"),
            "penalites_potentielles": (sum(line.get("penalites") or 0 for line in figures.get("lignes", []))
                                       if state.dernier is not None else None),
            "penalites_retenues": _number(suivi.penalites_retenues),
            "procedure_contradictoire": suivi.procedure_contradictoire_le,
            "dernier_retour": state.dernier.mois if state.dernier is not None else None,
            "retours_manquants": len(state.manquants),
            "en_retard": "oui" if state.en_retard else "non",
        }
        rows.append(row)
    return rows


def lot_rows(bilan: Bilan) -> list[dict[str, Any]]:
    """Per market and lot: its enterprise, the insertion hours due and done (the consolidation's lines)."""
    rows = []
    for state in bilan.states:
        lines = {line["lot"]: line for line in state.figures.get("lignes", []) if line.get("type") == "insertion"}
        due = {e.lot: e.engagement for e in state.suivi.engagements.all() if e.type == "insertion"}
        for lot in state.suivi.lots.all():
            line = lines.get(lot.numero, {})
            rows.append({"reference": state.suivi.reference, "lot": lot.numero, "intitule": lot.intitule,
                         "titulaire": lot.titulaire, "secteur": lot.secteur, "heures_engagees": due.get(lot.numero),
                         "heures_realisees": line.get("realise"), "taux": line.get("taux"),
                         "beneficiaires": line.get("beneficiaires")})
    return rows


def enterprise_rows(bilan: Bilan) -> list[tuple[str, float, Optional[float], int]]:
    """Per enterprise (lots whose holder is known): (name, hours done, hours due, lots)."""
    out: dict[str, list[Any]] = {}
    for row in lot_rows(bilan):
        name = row["titulaire"] or "Titulaire non renseigné"
        entry = out.setdefault(name, [0.0, None, 0])
        entry[0] += row["heures_realisees"] or 0
        if row["heures_engagees"] is not None:
            entry[1] = (entry[1] or 0.0) + row["heures_engagees"]
        entry[2] += 1
    return sorted(((name, v[0], v[1], v[2]) for name, v in out.items()), key=lambda r: (r[0] == "Titulaire non renseigné", r[0]))


# ----------------------------------------------------------------------------- CSV


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")
    return str(value)


def survey_csv(bilan: Bilan) -> bytes:
    """UTF-8 with a byte-order mark, « ; » between values, decimal comma, CRLF: what French spreadsheets open as is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for row in market_rows(bilan):
        writer.writerow([_csv_value(row[name]) for name, _ in CSV_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ----------------------------------------------------------------------------- Excel annex


def annex_xlsx(bilan: Bilan) -> bytes:
    buffer = io.BytesIO()
    wb = api.report_workbook(buffer, f"Bilan {bilan.annee} des clauses sociales — {bilan.organisation.nom}",
                             dt.datetime.combine(bilan.stamp, dt.time()))
    header = wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"})
    number = wb.add_format({"num_format": "#,##0.##"})
    pct = wb.add_format({"num_format": "0%"})
    date = wb.add_format({"num_format": "dd/mm/yyyy"})

    def sheet(name: str, columns: list[tuple[str, int]], rows: list[list[Any]], formats: Optional[dict[int, Any]] = None) -> None:
        ws = wb.add_worksheet(name)
        for col, (title, width) in enumerate(columns):
            ws.write_string(0, col, title, header)
            ws.set_column(col, col, width)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, (dt.date, dt.datetime)):
                    ws.write_datetime(r, col, dt.datetime.combine(value, dt.time()) if not isinstance(value, dt.datetime)
                                      else value, date)
                elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                    ws.write_number(r, col, float(value), (formats or {}).get(col, number))
                else:
                    ws.write_string(r, col, str(value))
        ws.freeze_panes(1, 0)
        if rows:
            ws.autofilter(0, 0, len(rows), len(columns) - 1)

    rows = market_rows(bilan)
    sheet("Marchés", [(name, 16 if name not in ("objet", "acheteur") else 36) for name, _ in CSV_COLUMNS],
          [[row[name] for name, _ in CSV_COLUMNS] for row in rows],
          {[n for n, _ in CSV_COLUMNS].index("taux_realisation"): pct})
    sheet("Lots", [("Marché", 16), ("Lot", 6), ("Intitulé", 32), ("Titulaire", 28), ("Secteur", 20),
                   ("Heures engagées", 14), ("Heures réalisées", 14), ("Taux", 10), ("Personnes", 10)],
          [[r["reference"], r["lot"], r["intitule"], r["titulaire"], r["secteur"], r["heures_engagees"],
            r["heures_realisees"], r["taux"], r["beneficiaires"]] for r in lot_rows(bilan)], {7: pct})
    sheet("Entreprises", [("Titulaire", 36), ("Heures réalisées", 14), ("Heures engagées", 14), ("Lots", 8)],
          [list(r) for r in enterprise_rows(bilan)])
    months = [[p.mois, p.attendu, p.realise] for p in bilan.portfolio.points if p.mois.year == bilan.annee]
    sheet("Mois", [("Mois", 12), ("Heures attendues (cumul)", 16), ("Heures réalisées (cumul)", 16)], months)
    sheet("Publics", [("Public", 32), ("Personnes", 12)], [[label, value] for label, value in bilan.portfolio.publics]
          + [[f"Contrat : {label}", value] for label, value in bilan.portfolio.contrats])
    sheet("Pénalités", [("Marché", 16), ("Pénalités potentielles (€)", 16), ("Décision le", 14), ("Retenues (€)", 14),
                        ("Motif", 60)],
          [[r["reference"], r["penalites_potentielles"], r["procedure_contradictoire"], r["penalites_retenues"],
            next((s.penalites_motif for s in bilan.markets if s.reference == r["reference"]), "")] for r in rows])
    sheet("Colonnes", [("Colonne", 30), ("Signification", 100)], [[name, text] for name, text in CSV_COLUMNS])
    wb.close()
    return buffer.getvalue()


# ----------------------------------------------------------------------------- Word report


def _fmt(value: Any, kind: str = "nombre") -> str:
    if value is None:
        return "—"
    if kind == "pourcent":
        return api.fr_pourcent(round(value, 3))
    if kind == "euros":
        return api.fr_euros(float(value))
    if kind == "date":
        return api.fr_date(value)
    if kind == "mois":
        return tableau.month_long(value)
    return api.fr_nombre(value, 2 if isinstance(value, float) and not float(value).is_integer() else 0)


def report_docx(bilan: Bilan) -> bytes:
    from . import graphiques  # lazy: matplotlib, ≈ 0,5 s, only for the charts

    b = api.report_blocks()
    Heading, Paragraph, Bullet, Table, Run, Image = (b["Heading"], b["Paragraph"], b["BulletItem"], b["Table"], b["Run"],
                                                     b["Image"])

    def p(*parts: Any) -> Any:
        return Paragraph([Run(text, bold) if isinstance(text, str) else text for text, bold in parts])

    def table(head: list[str], rows: list[list[str]]) -> Any:
        return Table([[[Run(c)] for c in head]] + [[[Run(c)] for c in row] for row in rows])

    totals, portfolio, year = bilan.portfolio.totals, bilan.portfolio, bilan.annee
    rows = market_rows(bilan)
    figure = [0]

    def picture(fig: Any, alt: str, caption: str, width: float = 16.0) -> list[Any]:
        figure[0] += 1
        data = graphiques.png(fig)
        w, h = fig.get_size_inches()
        return [Image(data, width, round(width * h / w, 2), alt), p((f"Figure {figure[0]} — ", True), (caption, False))]

    blocks: list[Any] = [Heading(1, [Run("Synthèse")])]
    done_year = totals["heures_realisees_annee"]
    blocks += [
        p((f"Marchés suivis en {year} : ", True), (f"{totals['marches']}, dont {totals['avec_retour']} avec au moins un "
                                                   "retour de grille de suivi.", False)),
        p(("Heures d'insertion : ", True), (f"{_fmt(totals['heures_engagees'])} heures engagées sur la durée des marchés ; "
                                            f"{_fmt(done_year)} heures réalisées en {year}, {_fmt(totals['heures_realisees'])} "
                                            f"depuis le début des marchés ({_fmt(totals['taux'], 'pourcent')} de l'engagement).",
                                            False)),
        p(("Personnes : ", True), (f"{_fmt(totals['beneficiaires'])} (somme des personnes distinctes de chaque marché), "
                                   f"dont {_fmt(totals['part_femmes'], 'pourcent')} de femmes et "
                                   f"{_fmt(totals['part_qpv'], 'pourcent')} de résidents des quartiers prioritaires.", False)),
        p(("Actions sociales : ", True), (f"{_fmt(totals['actions_realisees'])} réalisées, "
                                          f"{_fmt(totals['participants_actions'])} participants ; plans de progrès produits : "
                                          f"{_fmt(totals['plans_produits'])}.", False)),
        p(("Suivi : ", True), (f"{totals['en_retard']} marché(s) en retard sur l'attendu, {totals['retours_manquants']} "
                               "retour(s) mensuel(s) manquant(s) dans l'année.", False)),
    ]
    year_points = [pt for pt in portfolio.points if pt.mois.year == year]
    blocks.append(Heading(1, [Run("Heures d'insertion, mois par mois")]))
    if year_points:
        last = next((pt for pt in reversed(year_points) if pt.realise is not None), None)
        alt = (f"Courbe des heures d'insertion cumulées en {year} : réalisé {_fmt(last.realise if last else None)} heures "
               f"en fin d'année contre {_fmt(last.attendu if last else None)} attendues.")
        blocks += picture(graphiques.cumulative(year_points, None), alt,
                          "heures réalisées (cumul des retours) et heures attendues, tous marchés")
        blocks.append(table(["Mois", "Attendu (cumul)", "Réalisé (cumul)", "Écart"],
                            [[tableau.month_long(pt.mois), _fmt(pt.attendu), _fmt(pt.realise), _fmt(pt.ecart)]
                             for pt in year_points]))
    else:
        blocks.append(p(("Aucun retour ni période d'exécution connue pour cette année.", False)))

    blocks.append(Heading(1, [Run("Par marché")]))
    blocks.append(table(["Marché", "Objet", "Engagées", f"Réalisées en {year}", "Cumul", "Taux", "Suivi"],
                        [[r["reference"], r["objet"], _fmt(r["heures_engagees"]), _fmt(r["heures_realisees_annee"]),
                          _fmt(r["heures_realisees_cumul"]), _fmt(r["taux_realisation"], "pourcent"),
                          ("en retard" if r["en_retard"] == "oui" else "à jour" if r["dernier_retour"] else "sans retour")
                          + (f", {r['retours_manquants']} mois manquant(s)" if r["retours_manquants"] else "")]
                         for r in rows]))
    measured = [r for r in rows if r["heures_engagees"]]
    if measured:
        shown = measured[:20]
        blocks += picture(graphiques.paired_bars([r["reference"] for r in shown], [r["heures_engagees"] for r in shown],
                                                 [r["heures_realisees_cumul"] or 0 for r in shown]),
                          "Heures engagées et réalisées (cumul) par marché : "
                          + " ; ".join(f"{r['reference']} {_fmt(r['heures_realisees_cumul'])} sur {_fmt(r['heures_engagees'])}"
                                       for r in shown),
                          "heures engagées et réalisées depuis le début, par marché"
                          + (f" (les 20 premiers sur {len(measured)})" if len(measured) > 20 else ""))

    blocks.append(Heading(1, [Run("Par entreprise")]))
    enterprises = enterprise_rows(bilan)
    blocks.append(table(["Entreprise titulaire", "Lots", "Heures engagées", "Heures réalisées"],
                        [[name, str(lots), _fmt(due), _fmt(done)] for name, done, due, lots in enterprises]))
    blocks.append(p(("Le titulaire de chaque lot est celui que le facilitateur a renseigné sur la fiche du marché.", False)))

    blocks.append(Heading(1, [Run("Publics")]))
    blocks.append(table(["Public", "Personnes"], [[label, _fmt(value)] for label, value in portfolio.publics]))
    blocks.append(p(("La grille de suivi ne porte ni nom ni motif d'éligibilité (il peut révéler un handicap ou une "
                     "condamnation) : les personnes y sont désignées par un identifiant pseudonymisé, et les catégories "
                     "d'éligibilité restent au facilitateur.", False)))
    if portfolio.contrats:
        blocks += picture(graphiques.bars(portfolio.contrats, "Personnes"),
                          "Personnes par type de contrat : " + " ; ".join(f"{k} {v}" for k, v in portfolio.contrats),
                          "personnes par type de contrat")
        blocks.append(table(["Type de contrat", "Personnes"], [[k, _fmt(v)] for k, v in portfolio.contrats]))

    blocks.append(Heading(1, [Run("Résultats")]))
    met = [r for r in rows if r["taux_realisation"] is not None and r["taux_realisation"] >= 1]
    blocks += [
        Bullet([Run(f"Engagement d'heures atteint : {len(met)} marché(s) sur {len(measured)} à heures engagées.")]),
        Bullet([Run(f"Heures de formation comprises dans le réalisé : {_fmt(totals['heures_formation'])}.")]),
        Bullet([Run(f"Heures réalisées par des structures inclusives sous-traitantes ou cotraitantes : "
                    f"{_fmt(totals['heures_structures_inclusives'])}.")]),
        Bullet([Run(f"Personnes en CDI : {_fmt(sum(v for k, v in portfolio.contrats if k == 'CDI'))}.")]),
    ]

    blocks.append(Heading(1, [Run("Pénalités")]))
    blocks.append(p(("Les pénalités potentielles sont calculées à chaque retour (heures ou actions non réalisées × "
                     "pénalité unitaire) ; elles ne sont dues qu'en fin d'exécution, après la procédure contradictoire "
                     "prévue par le CCAG, et jamais lorsque le facilitateur n'a pu présenter aucun candidat.", False)))
    blocks.append(table(["Marché", "Potentielles (dernier retour)", "Décision", "Retenues", "Motif"],
                        [[s.suivi.reference, _fmt(next(r["penalites_potentielles"] for r in rows
                                                       if r["reference"] == s.suivi.reference), "euros"),
                          _fmt(s.suivi.procedure_contradictoire_le, "date"), _fmt(s.suivi.penalites_retenues, "euros"),
                          s.suivi.penalites_motif or "—"] for s in bilan.states]))
    decided = bilan.decided_penalties
    total = sum((s.penalites_retenues or Decimal(0)) for s in decided)
    blocks.append(p((f"Pénalités retenues en {year} après procédure contradictoire : ", True),
                    (f"{_fmt(total, 'euros')} ({len(decided)} décision(s)).", False)))

    blocks.append(Heading(1, [Run("Méthode")]))
    blocks.append(p(("Chaque chiffre vient des grilles de suivi renvoyées par les titulaires, consolidées par clausier "
                     "(les mêmes chiffres que « clausier suivi consolider ») ; pour chaque marché, le dernier retour de "
                     f"l'année {year} fait foi, et les heures de l'année sont la différence avec le dernier retour de "
                     "l'année précédente. L'attendu répartit l'engagement de chaque marché également sur ses mois "
                     "d'exécution. Un marché est en retard quand son réalisé est sous 80 % de l'attendu au mois de son "
                     "dernier retour, à partir du troisième mois.", False)))
    subtitle = bilan.organisation.nom
    return api.word_document(blocks, f"Bilan {year} des clauses sociales", subtitle, bilan.organisation.nom,
                             f"Bilan {year}", bilan.stamp, note=f"Document établi avec clausier à partir des retours de grilles de suivi enregistrés pour {year}.",
                             toc=True)
