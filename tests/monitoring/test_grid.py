"""The monitoring grid itself: only the sheets the retained clauses need, validated input, protection,
no personal data beyond a pseudonym, and a hidden sheet that describes the market for consolidation."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from tests.support import EXAMPLES
from tests.support.grids import generate, three_clause_market

PERSONAL = ("nom", "prénom", "naissance", "sécurité sociale", "nir", "adresse")


@pytest.fixture(scope="module")
def grids(tmp_path_factory) -> dict[str, Path]:
    import yaml

    folder = tmp_path_factory.mktemp("grilles")
    runner = CliRunner()
    out = {}
    for example in ("example-ecole.yaml", "informatique-etat.json", "nettoyage-accord-cadre.yaml"):
        out[example.split("-")[0]] = generate(runner, EXAMPLES / example, folder / example)
    source = folder / "trois.yaml"
    source.write_text(yaml.safe_dump(three_clause_market(), allow_unicode=True), encoding="utf-8")
    out["trois"] = generate(runner, source, folder / "trois")
    return out


def metadata(path: Path) -> tuple[dict, list[dict]]:
    rows = list(openpyxl.load_workbook(path)["Clausier"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "lot")
    values = {r[0]: r[1] for r in rows[:header] if r[0]}
    items = [dict(zip(rows[header], r)) for r in rows[header + 1:] if r[0] is not None]
    return values, items


def column(ws, letter: str):
    """The <col> element covering a column (adjacent columns with the same style share one)."""
    from openpyxl.utils import column_index_from_string

    index = column_index_from_string(letter)
    return next(d for d in ws.column_dimensions.values() if d.min <= index <= d.max)


def test_sheets_follow_the_retained_clauses(grids):
    names = {key: openpyxl.load_workbook(path).sheetnames for key, path in grids.items()}
    assert names["example"] == ["Mode d'emploi", "Engagements", "Suivi heures", "Actions sociales", "Synthèse",
                                "Listes", "Clausier"]
    assert names["informatique"] == ["Mode d'emploi", "Engagements", "Actions sociales", "Synthèse", "Listes",
                                     "Clausier"]
    assert names["nettoyage"] == ["Mode d'emploi", "Engagements", "Suivi heures", "Synthèse", "Listes", "Clausier"]
    assert names["trois"] == ["Mode d'emploi", "Engagements", "Suivi heures", "Actions sociales", "Plan de progrès",
                              "Synthèse", "Listes", "Clausier"]


def test_hidden_sheet_describes_the_market_for_consolidation(grids):
    wb = openpyxl.load_workbook(grids["example"])
    assert wb["Clausier"].sheet_state == "veryHidden" and wb["Clausier"].protection.sheet   # not in Excel's « Afficher »
    assert wb["Listes"].sheet_state == "hidden"
    values, items = metadata(grids["example"])
    assert values["clausier-grille"] == 2 and values["reference"] == "2026-TRV-014"
    assert values["objet"] == "Construction du groupe scolaire Jean-Zay" and values["lignes_saisie"] == 500
    assert (values["penalite_horaire"], values["penalite_action_sociale"]) == (35, 1000)
    assert [(i["lot"], i["type"], i["engagement"], i["unite"]) for i in items] == [
        (1, "insertion", 964, "heures"), (1, "action_sociale", 4, "actions"), (2, "insertion", 200, "heures"),
        (2, "action_sociale", 4, "actions"), (3, "action_sociale", 4, "actions")]
    summary = wb["Synthèse"]
    for item in items:  # each commitment points at its own row of « Synthèse »
        row = item["synthese_ligne"]
        assert summary.cell(row, 1).value == item["lot"] and summary.cell(row, 2).value == item["engagement"]


def test_plan_de_progres_sheet_and_summary(grids):
    wb = openpyxl.load_workbook(grids["trois"])
    plan = wb["Plan de progrès"]
    headers = [c.value for c in plan[1]][:9]
    assert headers == ["Lot", "Année d'exécution (1, 2, 3…)", "Axe de progrès", "Action", "Indicateur",
                       "Valeur de départ", "Cible", "Valeur atteinte", "Commentaire"]
    kinds = {str(dv.sqref): (dv.type, dv.formula1) for dv in plan.data_validations.dataValidation}
    assert kinds["A2:A501"] == ("list", "Listes!$G$2:$G$3") and kinds["B2:B501"][0] == "whole"
    assert kinds["C2:C501"] == ("list", "Listes!$H$2:$H$9")
    assert [wb["Listes"]["G2"].value, wb["Listes"]["G3"].value] == ["1", "2"]
    _, items = metadata(grids["trois"])
    plans = [i for i in items if i["type"] == "plan_de_progres"]
    assert [(i["lot"], i["engagement"], i["penalite_unitaire"]) for i in plans] == [(1, 3, 1500), (2, 3, 1500)]
    summary = wb["Synthèse"]
    row = plans[0]["synthese_ligne"]
    assert summary.cell(row - 1, 2).value == "Plans d'actions dus"
    assert summary.cell(row, 3).value.startswith("=SUMIF('Plan de progrès'!$A$2:$A$501,A")
    assert summary.cell(row, 8).value == f'=IF(ISNUMBER(F{row}),F{row}*1500.0,"")'
    actions = [i for i in items if i["type"] == "action_sociale"]
    assert {i["engagement"] for i in actions} == {6}          # 2 actions a year over 3 years
    grand_total = [r for r in summary.iter_rows(values_only=True) if r[0] and str(r[0]).startswith("Total des pénalités")]
    assert grand_total and grand_total[0][7].count("+H") == 2  # three sections summed
    commitments = [[c.value for c in r] for r in wb["Engagements"].iter_rows(min_row=2)]
    assert any(r[2] == "Plan de progrès en matière sociale" and r[3] == 3 and r[4] == "plans d'actions annuels"
               for r in commitments)
    assert all(r[9] == "PLIE de Test — Alex Martin — a.martin@example.org" for r in commitments)


def test_summary_without_hours_starts_with_the_actions(grids):
    summary = openpyxl.load_workbook(grids["informatique"])["Synthèse"]
    assert (summary["A1"].value, summary["B1"].value, summary["A2"].value) == ("Lot", "Actions dues", 2)


def test_input_unlocked_helpers_hidden_and_locked_everything_protected(grids):
    wb = openpyxl.load_workbook(grids["trois"])
    for ws in wb:
        assert ws.protection.sheet is True, ws.title
    for title, inputs, helpers in (("Suivi heures", "ABCDEFGHIJKLMNO", "PQRS"), ("Actions sociales", "ABCDEF", "G"),
                                   ("Plan de progrès", "ABCDEFGHI", "JK")):
        ws = wb[title]
        for letter in inputs:
            assert column(ws, letter).protection.locked is False, (title, letter)
        for letter in helpers:
            assert column(ws, letter).hidden, (title, letter)
            assert ws[f"{letter}2"].protection.locked is True and ws[f"{letter}501"].value.startswith("=")
        assert ws[f"{helpers[0]}502"].value is None


def test_entries_are_validated(grids):
    wb = openpyxl.load_workbook(grids["trois"])
    hours = {str(dv.sqref): dv for dv in wb["Suivi heures"].data_validations.dataValidation}
    dates = [ref for ref, dv in hours.items() if dv.type == "date"]
    assert sorted(dates) == ["C2:C501", "F2:F501", "H2:H501", "I2:I501", "K2:K501"]  # validation, attestation…
    assert hours["D2:D501"].type == "list" and hours["G2:G501"].type == "list"   # delivery, contract
    assert not any("catégorie" in (c.value or "").lower() for c in wb["Suivi heures"][1])  # stays with the facilitator
    assert hours["L2:L501"].type == "decimal" and hours["L2:L501"].formula2 == "744"
    assert hours["J2:J501"].type == "textLength" and hours["A2:A501"].type == "textLength"
    actions = {str(dv.sqref): dv.type for dv in wb["Actions sociales"].data_validations.dataValidation}
    assert actions == {"A2:A501": "list", "B2:B501": "list", "C2:C501": "date", "D2:D501": "whole"}


def test_progress_turns_red_or_green(grids):
    summary = openpyxl.load_workbook(grids["trois"])["Synthèse"]
    ranges = sorted(str(r.sqref) for r in summary.conditional_formatting)
    assert len(ranges) == 3 and all(r.startswith("E") for r in ranges)
    rules = [rule.operator for r in summary.conditional_formatting for rule in r.rules]
    assert rules.count("greaterThanOrEqual") == 3 and rules.count("lessThan") == 3


def test_no_column_for_personal_data_and_the_instructions_say_why(grids):
    wb = openpyxl.load_workbook(grids["trois"])
    for title in ("Suivi heures", "Actions sociales", "Plan de progrès"):
        for header in (str(c.value).lower() for c in wb[title][1] if c.value):
            words = set(header.replace("(", " ").replace(")", " ").split())
            assert not [p for p in PERSONAL if (p in header if " " in p else p in words)], header
    instructions = " ".join(str(c.value) for row in wb["Mode d'emploi"].iter_rows() for c in row if c.value)
    assert "RGPD" in instructions and "date de naissance" in instructions and "sécurité sociale" in instructions
    assert "Plan de progrès" in instructions and "formule" in instructions


def test_framework_without_minimum_has_no_fixed_commitment(grids):
    values, items = metadata(grids["nettoyage"])
    lot2 = next(i for i in items if i["lot"] == 2 and i["type"] == "insertion")
    assert lot2["engagement"] is None and lot2["heures_par_100k"] > 0
    summary = openpyxl.load_workbook(grids["nettoyage"])["Synthèse"]
    assert "100 000 € HT commandés" in summary.cell(lot2["synthese_ligne"], 2).value
    result = CliRunner().invoke(main, ["suivi", "consolider", str(grids["nettoyage"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = {(line["lot"], line["type"]): line for line in json.loads(result.stdout)["marches"][0]["lignes"]}
    assert lines[(2, "insertion")]["penalites"] is None and "commandes" in lines[(2, "insertion")]["observation"]
    assert lines[(1, "egalite_diversite")]["realise"] is None
    assert "qualitatif" in lines[(1, "egalite_diversite")]["observation"]


def test_helper_formulas_are_filled_down_as_shared_formulas_consistently(tmp_path, monkeypatch):
    """A shared formula is the row-2 formula moved row by row: each per-row generator must give exactly that."""
    import yaml
    from openpyxl.formula.translate import Translator

    import drafting.monitoring.grid as xw

    generators = []
    real = xw._helper_columns

    def recording(ws, fmt, first, formulas, width=12):
        generators.extend(formulas)
        return real(ws, fmt, first, formulas, width)

    monkeypatch.setattr(xw, "_helper_columns", recording)
    source = tmp_path / "trois.yaml"
    source.write_text(yaml.safe_dump(three_clause_market(), allow_unicode=True), encoding="utf-8")
    grid = generate(CliRunner(), source, tmp_path / "out")
    assert len(generators) >= 7
    for formula in generators:
        for row in (3, 4, 17, 501):
            assert Translator(formula(2), origin="A2").translate_formula(f"A{row}") == formula(row), formula(row)
    with __import__("zipfile").ZipFile(grid) as archive:
        assert any(b't="shared"' in archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))
