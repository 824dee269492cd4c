"""The Excel questionnaire form (``clausier questionnaire modele``) filled in as a buyer fills it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from drafting import api

ANSWERS = {
    "Nom de l'acheteur": "Ville de Formulaire", "Type d'acheteur": "collectivite", "Référence du marché": "2027-FORM-01",
    "Objet du marché": "Rénovation d'une école", "Nature": "travaux", "Date de notification prévue": dt.datetime(2027, 3, 1),
    "Durée initiale (mois)": 24.0, "Objectif : illettrisme": "oui", "Facilitateur : structure": "PLIE du formulaire",
    "Considération : plan de progres": "non",
}


def filled_form(tmp_path: Path, lots: list[list], answers: dict = ANSWERS) -> Path:
    """The blank form, its « Marché » answers by label and its « Lots » rows, saved as ``rempli.xlsx``."""
    blank = tmp_path / "formulaire.xlsx"
    blank.write_bytes(api.questionnaire_form(api.library()))
    wb = openpyxl.load_workbook(blank)
    sheet = wb["Marché"]
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value in answers:
            sheet.cell(row, 2).value = answers[sheet.cell(row, 1).value]
    for lot in lots:
        wb["Lots"].append(lot)
    path = tmp_path / "rempli.xlsx"
    wb.save(path)
    return path
