"""Markets and filled grids for the monitoring tests: what an enterprise sends back, written with openpyxl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from cli import main
from tests.support import questionnaire


def three_clause_market() -> dict:
    """Two lots with insertion, action sociale and plan de progrès; a third with actions only; 36 months."""
    data = questionnaire(**{"marche.duree_mois": 36,
                            "considerations": {"action_sociale": "oui", "plan_de_progres": "oui"}})
    data["lots"].append({"numero": 2, "intitule": "Peinture", "secteur": "btp_peinture", "montant_estime_ht": 400000})
    data["lots"].append({"numero": 3, "intitule": "Signalétique", "secteur": "btp_peinture", "montant_estime_ht": 100000,
                         "considerations": {"insertion": "non", "plan_de_progres": "non"}})
    return data


def generate(runner: CliRunner, source: Path, out: Path) -> Path:
    result = runner.invoke(main, ["generate", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return next((out / next(out.iterdir()).name).glob("*_grille-de-suivi.xlsx"))


def fill_grid(grid: Path, target: Path) -> Path:
    """What an enterprise sends back: several people, months and lots, one bad row, formulas typed in cells."""
    wb = openpyxl.load_workbook(grid)
    lists = wb["Listes"]
    column = next(col for col in lists.iter_cols(min_row=1, max_row=1) if col[0].value == "actions")[0].column_letter
    action_types = [c.value for c in lists[column][1:] if c.value]
    hours = wb["Suivi heures"]
    day = dt.date
    rows = [
        # id, lot, validated, delivery, employer, attestation, contract, start, end, ROME, month, worked, training, F, QPV
        ("ENT-001", 1, day(2027, 1, 4), "Embauche directe", "Bâtir SA", None, "CDDI", day(2027, 1, 4),
         day(2027, 6, 30), "F1703", day(2027, 1, 1), 120, 7, "O", "N"),
        ("ENT-001", 1, day(2027, 1, 4), "Embauche directe", "Bâtir SA", None, "CDDI", day(2027, 1, 4),
         day(2027, 6, 30), "F1703", day(2027, 2, 1), 130, None, "O", "N"),
        ("ENT-002", 1, day(2027, 1, 8), "Mise à disposition", "ETTI du Rhône", None,
         "Intérim (ETTI)", day(2027, 1, 10), day(2027, 3, 31), "F1602", day(2027, 1, 1), 151.67, None, "N", "O"),
        (" ent-002 ", 2, day(2027, 1, 8), "Mise à disposition", "ETTI du Rhône", None,
         "Intérim (ETTI)", day(2027, 1, 10), day(2027, 3, 31), "F1602", day(2027, 2, 1), 60, None, "N", "O"),
        ("ENT-003", 2, day(2027, 2, 1), "Embauche directe", "Bâtir SA", None, "CDI",
         day(2027, 2, 1), None, "F1606", day(2027, 3, 1), 100, 14, "O", "O"),
        ("ENT-004", 1, day(2027, 2, 1), "Embauche directe", "Bâtir SA", None, "CDD", day(2027, 2, 1),
         day(2027, 8, 1), "F1703", day(2027, 3, 1), -8, None, "N", "N"),                       # bad row
        ("ENT-005", 2, day(2027, 2, 1), "Embauche directe", "Bâtir SA", None, "CDI",
         day(2027, 2, 1), None, "F1606", day(2027, 3, 1), "=20*7", None, "O", "N"),           # formula typed in
        ("ENT-006", "2", day(2027, 2, 1), "Embauche directe", "Bâtir SA", None, "CDI", day(2027, 2, 1),
         None, "F1606", day(2027, 3, 1), 35, None, "N", "N"),                                  # lot typed as text
        ("ENT-007", 3, day(2027, 2, 1), "Embauche directe", "Bâtir SA", None, "CDI", day(2027, 2, 1),
         None, "F1606", day(2027, 3, 1), 35, None, "N", "N"),                                  # lot without hours
    ]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            if value is not None:
                hours.cell(r, c, value)
    if "Actions sociales" in wb.sheetnames:
        actions = wb["Actions sociales"]
        for r, values in enumerate([
            (1, action_types[0], day(2027, 3, 15), 12, "Collège Jean-Moulin"),
            (1, action_types[1], day(2027, 5, 2), 1, "France Travail"),
            (2, action_types[2], day(2027, 4, 1), 0, "GRETA"),                  # nobody came: does not count
            (3, action_types[0], day(2027, 6, 1), 8, "Lycée"),
            (2, action_types[2], "=TODAY()", 5, "GRETA"),                       # formula typed in the date
        ], start=2):
            for c, value in enumerate(values, start=1):
                actions.cell(r, c, value)
    if "Plan de progrès" in wb.sheetnames:
        plan = wb["Plan de progrès"]
        for r, values in enumerate([
            (1, 1, "Axe 1", "Recruter deux personnes au-delà de la clause", "Recrutements", 0, 2, 1),
            (1, 1, "Axe 2", "Former les chefs d'équipe", "Heures de formation", 0, 50, 20),
            (1, 2, "Axe 1", "Tutorat", "Tuteurs formés", 0, 2, None),
            (2, 1, "Axe 3", "Offres d'emploi neutres", None, 0, 1, None),       # no indicator: incomplete
            (2, 1, "Axe 3", "Offres d'emploi neutres", "Offres revues", 0, "=1+1", None),  # formula as target
        ], start=2):
            for c, value in enumerate(values, start=1):
                if value is not None:
                    plan.cell(r, c, value)
    wb.save(target)
    return target
