"""`clausier suivi consolider`: filled grids read back, figures recomputed, hostile files survived.

Every hostile case goes through the real command (click's CliRunner): it must say
what is wrong in French, keep consolidating the other files, and never show a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import EXAMPLES, questionnaire

SCHOOL = "2026-TRV-014"


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
    action_types = [c.value for c in lists["D"][1:] if c.value]
    hours = wb["Suivi heures"]
    day = dt.date
    rows = [
        # id, lot, category, validated, delivery, employer, contract, start, end, ROME, month, worked, training, F, QPV
        ("ENT-001", 1, "Parent isolé", day(2027, 1, 4), "Embauche directe", "Bâtir SA", "CDDI", day(2027, 1, 4),
         day(2027, 6, 30), "F1703", day(2027, 1, 1), 120, 7, "O", "N"),
        ("ENT-001", 1, "Parent isolé", day(2027, 1, 4), "Embauche directe", "Bâtir SA", "CDDI", day(2027, 1, 4),
         day(2027, 6, 30), "F1703", day(2027, 2, 1), 130, None, "O", "N"),
        ("ENT-002", 1, "Jeune de moins de 26 ans", day(2027, 1, 8), "Mise à disposition", "ETTI du Rhône",
         "Intérim (ETTI)", day(2027, 1, 10), day(2027, 3, 31), "F1602", day(2027, 1, 1), 151.67, None, "N", "O"),
        (" ent-002 ", 2, "Jeune de moins de 26 ans", day(2027, 1, 8), "Mise à disposition", "ETTI du Rhône",
         "Intérim (ETTI)", day(2027, 1, 10), day(2027, 3, 31), "F1602", day(2027, 2, 1), 60, None, "N", "O"),
        ("ENT-003", 2, "Habitant d'un QPV ou d'une ZRR", day(2027, 2, 1), "Embauche directe", "Bâtir SA", "CDI",
         day(2027, 2, 1), None, "F1606", day(2027, 3, 1), 100, 14, "O", "O"),
        ("ENT-004", 1, "Parent isolé", day(2027, 2, 1), "Embauche directe", "Bâtir SA", "CDD", day(2027, 2, 1),
         day(2027, 8, 1), "F1703", day(2027, 3, 1), -8, None, "N", "N"),                       # bad row
        ("ENT-005", 2, "Autre (validé par le facilitateur)", day(2027, 2, 1), "Embauche directe", "Bâtir SA", "CDI",
         day(2027, 2, 1), None, "F1606", day(2027, 3, 1), "=20*7", None, "O", "N"),           # formula typed in
        ("ENT-006", "2", "Parent isolé", day(2027, 2, 1), "Embauche directe", "Bâtir SA", "CDI", day(2027, 2, 1),
         None, "F1606", day(2027, 3, 1), 35, None, "N", "N"),                                  # lot typed as text
        ("ENT-007", 3, "Parent isolé", day(2027, 2, 1), "Embauche directe", "Bâtir SA", "CDI", day(2027, 2, 1),
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


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    import yaml

    folder = tmp_path_factory.mktemp("grilles")
    source = folder / "q.yaml"
    source.write_text(yaml.safe_dump(three_clause_market(), allow_unicode=True), encoding="utf-8")
    grid = generate(CliRunner(), source, folder / "sortie")
    return fill_grid(grid, folder / "remplie.xlsx")


@pytest.fixture(scope="module")
def school_grid(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ecole")
    return generate(CliRunner(), EXAMPLES / "example-ecole.yaml", folder)


def consolidate_json(*paths: Path, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["suivi", "consolider", *map(str, paths), "--format", "json", *extra])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def by_lot(market: dict) -> dict[tuple[int, str], dict]:
    return {(line["lot"], line["type"]): line for line in market["lignes"]}


def test_filled_grid_is_recomputed_from_input_cells(filled):
    code, report = consolidate_json(filled)
    assert code == 0 and report["fichiers_non_lus"] == []
    market = report["marches"][0]
    assert market["reference"] == "2026-T-001"
    lines = by_lot(market)
    hours1, hours2 = lines[(1, "insertion")], lines[(2, "insertion")]
    assert hours1["realise"] == pytest.approx(120 + 7 + 130 + 151.67)   # -8 h not counted
    assert hours1["heures_formation"] == 7 and hours1["beneficiaires"] == 3
    assert hours2["realise"] == 174 and hours2["beneficiaires"] == 3      # " ent-002 " is ENT-002; formula ignored
    assert hours1["ecart"] == pytest.approx(hours1["engagement"] - hours1["realise"])
    assert hours1["penalites"] == pytest.approx(hours1["ecart"] * 30)
    assert (lines[(1, "action_sociale")]["realise"], lines[(1, "action_sociale")]["participants"]) == (2, 13)
    assert lines[(2, "action_sociale")]["realise"] == 0 and lines[(3, "action_sociale")]["realise"] == 1
    assert lines[(1, "action_sociale")]["penalite_unitaire"] == 1000
    plans = lines[(1, "plan_de_progres")]
    assert (plans["engagement"], plans["realise"], plans["ecart"], plans["penalites"]) == (3, 2, 1, 1500)
    assert lines[(2, "plan_de_progres")]["realise"] == 0
    indicators = market["indicateurs"]
    assert indicators["beneficiaires"] == 5 and indicators["femmes"] == 3 and indicators["residents_qpv"] == 2
    assert indicators["part_femmes"] == pytest.approx(0.6)
    assert indicators["types_contrat"] == {"CDD": 1, "CDDI": 1, "CDI": 2, "Intérim (ETTI)": 1}
    assert indicators["heures_formation"] == 21
    assert report["penalites_potentielles"] == pytest.approx(sum(line["penalites"] or 0 for line in market["lignes"]))


def test_each_bad_cell_is_reported_where_it_is(filled):
    _, report = consolidate_json(filled)
    problems = {p["cellule"]: p["message"] for p in report["marches"][0]["problemes"]}
    assert problems["Suivi heures!L7"].startswith("nombre d'heures négatif")
    assert "formule" in problems["Suivi heures!L8"] and "=20*7" in problems["Suivi heures!L8"]
    assert "texte" in problems["Suivi heures!B9"] and "sans clause d'insertion" in problems["Suivi heures!B10"]
    assert "aucun participant" in problems["Actions sociales!D4"]
    assert "formule" in problems["Actions sociales!C6"]
    assert "incomplète" in problems["Plan de progrès!D5"] and "formule" in problems["Plan de progrès!G6"]


def test_text_report_and_xlsx_report_are_french_and_written_atomically(filled, tmp_path):
    out = tmp_path / "rapport.xlsx"
    result = CliRunner().invoke(main, ["suivi", "consolider", str(filled), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Marché 2026-T-001" in result.stdout and "Suivi heures!L7 : nombre d'heures négatif" in result.stdout
    assert "Total des pénalités potentielles" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]   # no temporary file left
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Consolidation", "Indicateurs", "Problèmes"]
    rows = list(wb["Consolidation"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 7 and {r[1] for r in rows} == {"2026-T-001"}
    assert any(r[4] == 1 and r[7] == "heures" and r[8] == 643 for r in rows)
    assert wb["Indicateurs"]["C2"].value == 5
    assert any(r[2] == "Suivi heures!L7" for r in wb["Problèmes"].iter_rows(values_only=True))


def test_report_cannot_overwrite_a_grid(filled):
    result = CliRunner().invoke(main, ["suivi", "consolider", str(filled), "--out", str(filled)])
    assert result.exit_code == 1 and "écraserait" in result.output
    assert openpyxl.load_workbook(filled, read_only=True)["Clausier"]["A1"].value == "clausier-grille"


def test_formula_looking_text_stays_text_in_grid_and_report(runner, tmp_path, write_q):
    objet = '=HYPERLINK("http://exemple.invalid","cliquez")'
    data = questionnaire(**{"marche.objet": objet, "acheteur.nom": "+Ville & Cie"})
    data["lots"][0]["intitule"] = "@Lot -1"
    grid = generate(runner, write_q(data), tmp_path / "sortie")
    wb = openpyxl.load_workbook(grid)
    texts = [(ws.title, c) for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)
             and ("HYPERLINK" in c.value or c.value in ("+Ville & Cie", "@Lot -1"))]
    assert {title for title, _ in texts} >= {"Mode d'emploi", "Engagements", "Clausier"}
    assert all(c.data_type == "s" for _, c in texts)
    assert wb["Clausier"]["B3"].value == objet
    out = tmp_path / "rapport.xlsx"
    result = runner.invoke(main, ["suivi", "consolider", str(grid), "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    market = json.loads(result.stdout)["marches"][0]
    assert market["objet"] == objet and market["acheteur"] == "+Ville & Cie"
    report = openpyxl.load_workbook(out)["Consolidation"]
    assert report["C2"].value == objet and report["C2"].data_type == "s"
    assert report["D2"].value == "+Ville & Cie" and report["D2"].data_type == "s"
    assert report["F2"].value == "@Lot -1" and report["F2"].data_type == "s"


# --- hostile files ---------------------------------------------------------------------------------------------------

def run(*paths: Path) -> object:
    result = CliRunner().invoke(main, ["suivi", "consolider", *map(str, paths)])
    assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, ValueError, TypeError))
    return result


def rezip(source: Path, target: Path, change) -> Path:
    """A copy of an xlsx with some parts replaced (change: name -> bytes or None to drop)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
    return target


def sheet_part(grid: Path, title: str) -> str:
    """The zip member of a sheet, found through the workbook as a reader would."""
    wb = openpyxl.load_workbook(grid, read_only=True)
    index = wb.sheetnames.index(title) + 1
    wb.close()
    return f"xl/worksheets/sheet{index}.xml"


def test_not_a_zip_is_reported_and_the_good_file_still_counts(school_grid, tmp_path):
    fake = tmp_path / "grille.xlsx"
    fake.write_text("Identifiant;Heures\nENT-001;35\n", encoding="utf-8")
    result = run(fake, school_grid)
    assert result.exit_code == 2
    assert "pas une archive zip" in result.stdout and f"Marché {SCHOOL}" in result.stdout
    assert "n'ont pas pu être lues" in result.stderr


def test_zip_that_is_not_a_workbook(tmp_path):
    other = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("notes.txt", "bonjour")
    result = run(other)
    assert result.exit_code == 2 and "archive zip qui n'est pas un classeur Excel" in result.stdout


def test_truncated_and_damaged_workbooks(school_grid, tmp_path):
    truncated = tmp_path / "tronquee.xlsx"
    truncated.write_bytes(school_grid.read_bytes()[: school_grid.stat().st_size // 2])
    part = sheet_part(school_grid, "Suivi heures")
    damaged = rezip(school_grid, tmp_path / "abimee.xlsx",
                    lambda name, data: b"<worksheet><sheetData><row r='2'><c r='A2'" if name == part else data)
    result = run(truncated, damaged)
    assert result.exit_code == 2
    assert "tronquee.xlsx : ce n'est pas un classeur Excel" in result.stdout
    assert "abimee.xlsx : classeur Excel endommagé ou illisible" in result.stdout


def test_workbook_that_is_not_one_of_our_grids(tmp_path):
    plain = tmp_path / "autre.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=1+1"
    wb.save(plain)
    result = run(plain)
    assert result.exit_code == 2 and "n'est pas une grille de suivi clausier" in result.stdout


def test_grid_with_a_missing_sheet(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    wb.remove(wb["Suivi heures"])
    wb.save(tmp_path / "incomplete.xlsx")
    result = run(tmp_path / "incomplete.xlsx")
    assert result.exit_code == 2 and "onglet « Suivi heures » absent" in result.stdout


def test_grid_from_a_newer_clausier_and_tampered_metadata(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    wb["Clausier"]["B1"] = 99
    wb.save(tmp_path / "future.xlsx")
    wb["Clausier"]["B1"] = 1
    wb["Clausier"]["D14"] = "=1/0"
    wb.save(tmp_path / "alteree.xlsx")
    result = run(tmp_path / "future.xlsx", tmp_path / "alteree.xlsx")
    assert result.exit_code == 2
    assert "format 99" in result.stdout and "mettez clausier à jour" in result.stdout
    assert "altéré (formule en D14)" in result.stdout


def test_huge_sheet_is_capped_and_says_so(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    ws = wb["Suivi heures"]
    ws["A2"], ws["B2"], ws["L2"] = "ENT-001", 1, 35
    ws["A1000000"] = "ENT-999"
    wb.save(tmp_path / "enorme.xlsx")
    code, report = consolidate_json(tmp_path / "enorme.xlsx")
    assert code == 0
    market = report["marches"][0]
    assert any("plus de 100 000 lignes" in p["message"] for p in market["problemes"])
    assert by_lot(market)[(1, "insertion")]["realise"] == 35


def test_rows_beyond_the_input_zone_are_reported_not_counted(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    ws = wb["Suivi heures"]
    ws["A600"], ws["B600"], ws["L600"] = "ENT-001", 1, 35
    wb.save(tmp_path / "longue.xlsx")
    code, report = consolidate_json(tmp_path / "longue.xlsx")
    assert code == 0
    assert by_lot(report["marches"][0])[(1, "insertion")]["realise"] == 0
    assert any("au-delà de la ligne 501" in p["message"] for p in report["marches"][0]["problemes"])


def test_missing_file_and_folder_are_reported(tmp_path, school_grid):
    code, report = consolidate_json(tmp_path / "absente.xlsx", tmp_path, school_grid)
    assert code == 2 and len(report["marches"]) == 1
    errors = [f["erreur"] for f in report["fichiers_non_lus"]]
    assert errors == ["fichier introuvable", "c'est un dossier, pas un classeur Excel"]


def test_same_market_twice_is_flagged(school_grid):
    code, report = consolidate_json(school_grid, school_grid)
    assert code == 0 and "figure aussi dans" in report["marches"][1]["problemes"][0]["message"]


def test_empty_grid_reports_the_whole_commitment_as_due(school_grid):
    code, report = consolidate_json(school_grid)
    lines = by_lot(report["marches"][0])
    assert code == 0 and report["marches"][0]["problemes"] == []
    assert (lines[(1, "insertion")]["engagement"], lines[(1, "insertion")]["realise"]) == (964, 0)
    assert lines[(1, "insertion")]["penalites"] == 964 * 30
    assert lines[(3, "action_sociale")]["engagement"] == 4


def test_altered_columns_and_report_into_a_folder(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    wb["Suivi heures"]["L1"] = "Heures"
    wb.save(tmp_path / "colonnes.xlsx")
    result = run(tmp_path / "colonnes.xlsx")
    assert result.exit_code == 2 and "colonnes de l'onglet « Suivi heures » modifiées" in result.stdout
    result = CliRunner().invoke(main, ["suivi", "consolider", str(school_grid), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "est un dossier" in result.output and "Traceback" not in result.output
