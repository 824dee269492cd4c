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
from drafting.common.archive import LIMITS
from drafting.monitoring.grid_format import CONTRATS
from tests.support import EXAMPLES, questionnaire
from tests.support.grids import fill_grid, generate, three_clause_market
from tests.support.office import needs_soffice, soffice

SCHOOL = "2026-TRV-014"


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
    assert hours1["penalites"] == pytest.approx(hours1["ecart"] * 35)  # the penalty is at least the hourly cost (35 €)
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
    assert result.exit_code == 4 and "écraserait" in result.output
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
    assert result.exit_code == 6
    assert "pas une archive zip" in result.stdout and f"Marché {SCHOOL}" in result.stdout
    assert "n'ont pas pu être lues" in result.stderr


def test_zip_that_is_not_a_workbook(tmp_path):
    other = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("notes.txt", "bonjour")
    result = run(other)
    assert result.exit_code == 6 and "archive zip qui n'est pas un classeur Excel" in result.stdout


def test_truncated_and_damaged_workbooks(school_grid, tmp_path):
    truncated = tmp_path / "tronquee.xlsx"
    truncated.write_bytes(school_grid.read_bytes()[: school_grid.stat().st_size // 2])
    part = sheet_part(school_grid, "Suivi heures")
    damaged = rezip(school_grid, tmp_path / "abimee.xlsx",
                    lambda name, data: b"<worksheet><sheetData><row r='2'><c r='A2'" if name == part else data)
    result = run(truncated, damaged)
    assert result.exit_code == 6
    assert "tronquee.xlsx : ce n'est pas un classeur Excel" in result.stdout
    assert "abimee.xlsx : classeur Excel endommagé ou illisible" in result.stdout


def test_workbook_that_is_not_one_of_our_grids(tmp_path):
    plain = tmp_path / "autre.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=1+1"
    wb.save(plain)
    result = run(plain)
    assert result.exit_code == 6 and "n'est pas une grille de suivi clausier" in result.stdout


def test_grid_with_a_missing_sheet(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    wb.remove(wb["Suivi heures"])
    wb.save(tmp_path / "incomplete.xlsx")
    result = run(tmp_path / "incomplete.xlsx")
    assert result.exit_code == 6 and "onglet « Suivi heures » absent" in result.stdout


def test_grid_from_a_newer_clausier_and_tampered_metadata(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    wb["Clausier"]["B1"] = 99
    wb.save(tmp_path / "future.xlsx")
    wb["Clausier"]["B1"] = 1
    wb["Clausier"]["D14"] = "=1/0"
    wb.save(tmp_path / "alteree.xlsx")
    result = run(tmp_path / "future.xlsx", tmp_path / "alteree.xlsx")
    assert result.exit_code == 6
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
    assert code == 6 and len(report["marches"]) == 1
    errors = [f["erreur"] for f in report["fichiers_non_lus"]]
    assert errors == ["fichier introuvable", "c'est un dossier, pas un classeur Excel"]


def test_same_file_twice_is_counted_once(school_grid):
    code, report = consolidate_json(school_grid, school_grid)
    assert code == 0 and len(report["marches"]) == 1
    assert [g["raison"] for g in report["grilles_ecartees"]] == [
        "grille écartée, non comptée : même fichier donné deux fois : compté une seule fois ; une seule grille par "
        "marché est consolidée, donnez la dernière version du titulaire"]


def test_empty_grid_reports_the_whole_commitment_as_due(school_grid):
    code, report = consolidate_json(school_grid)
    lines = by_lot(report["marches"][0])
    assert code == 0 and report["marches"][0]["problemes"] == []
    assert (lines[(1, "insertion")]["engagement"], lines[(1, "insertion")]["realise"]) == (964, 0)
    assert lines[(1, "insertion")]["penalites"] == 964 * 35  # works: the hourly cost, 35 €, is the floor
    assert lines[(3, "action_sociale")]["engagement"] == 4


def test_altered_columns_and_report_into_a_folder(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    wb["Suivi heures"]["L1"] = "Heures"
    wb.save(tmp_path / "colonnes.xlsx")
    result = run(tmp_path / "colonnes.xlsx")
    assert result.exit_code == 6 and "colonnes de l'onglet « Suivi heures » modifiées" in result.stdout
    result = CliRunner().invoke(main, ["suivi", "consolider", str(school_grid), "--out", str(tmp_path)])
    assert result.exit_code == 4 and "est un dossier" in result.output and "Traceback" not in result.output


# --- review 14: commitments trusted, hostile numbers, several versions, personal data ---------------------------------

def meta_row(wb, lot: int, kind: str):
    """The cells of one commitment in the very hidden « Clausier » sheet."""
    return next(row for row in wb["Clausier"].iter_rows() if row[0].value == lot and row[2].value == kind)


def tampered(grid: Path, target: Path, engagement: float = 10, rate: float = 1) -> Path:
    """What a contractor could send back: lot 1's hours commitment and penalty rate lowered in the hidden sheet."""
    wb = openpyxl.load_workbook(grid)
    row = meta_row(wb, 1, "insertion")
    row[3].value, row[5].value = engagement, rate
    wb.save(target)
    return target


def problems_of(report: dict) -> dict[str, str]:
    return {p["cellule"]: p["message"] for p in report["marches"][0]["problemes"]}


def test_hidden_commitments_are_checked_against_the_visible_sheets(filled, tmp_path):
    code, report = consolidate_json(tampered(filled, tmp_path / "modifiee.xlsx"))
    assert code == 0
    line = by_lot(report["marches"][0])[(1, "insertion")]
    assert (line["engagement"], line["penalite_unitaire"]) == (10, 1)        # the hidden sheet's figures…
    assert line["observation"].startswith("engagement ou pénalité modifié dans la grille")   # …flagged
    problems = problems_of(report)
    assert problems["Synthèse!B2"].startswith("engagement 643 ici, 10 dans l'onglet masqué « Clausier »")
    assert problems["Engagements!D2"].startswith("engagement 643 ici")
    assert "35,00 € ici, 1,00 €" in problems["Synthèse!H2"] and "35,00 € ici" in problems["Engagements!I2"]
    assert "--marches" in problems["Synthèse!B2"]
    untouched = by_lot(report["marches"][0])[(2, "insertion")]
    assert untouched["observation"] == "" and not any("!B3" in cell for cell in problems)


def test_marches_option_takes_the_commitments_of_the_generated_grid(filled, tmp_path):
    markets = filled.parent / "sortie"                       # where `clausier generate` wrote the market
    changed = tampered(filled, tmp_path / "modifiee.xlsx")
    code, report = consolidate_json(changed, extra=("--marches", str(markets)))
    assert code == 0
    line = by_lot(report["marches"][0])[(1, "insertion")]
    assert (line["engagement"], line["penalite_unitaire"]) == (643, 35)
    assert line["penalites"] == pytest.approx(line["ecart"] * 35)
    problems = problems_of(report)
    assert problems["Clausier!D14"] == ("engagement modifié dans la grille renvoyée : engagement 10 au lieu de 643 "
                                        "dans la grille générée ; le rapport retient 643")
    assert problems["Clausier!F14"].startswith("engagement modifié dans la grille renvoyée : pénalité")
    # the untouched grid agrees with the generated one: nothing to say
    code, report = consolidate_json(filled, extra=("--marches", str(markets)))
    assert not any("engagement" in p["message"] for p in report["marches"][0]["problemes"])


def test_marches_option_refuses_a_generated_grid_edited_since(filled, tmp_path):
    import shutil

    markets = tmp_path / "sortie"
    shutil.copytree(filled.parent / "sortie", markets)
    generated = next(markets.glob("*/*_grille-de-suivi.xlsx"))
    tampered(generated, generated)                           # its hash no longer matches the manifest
    result = CliRunner().invoke(main, ["suivi", "consolider", str(tampered(filled, tmp_path / "m.xlsx")),
                                       "--marches", str(markets)])
    assert result.exit_code == 0, result.output
    assert "modifiée depuis sa génération (empreinte différente de celle du manifeste)" in result.stdout
    assert "Synthèse!B2 : engagement 643 ici, 10 dans l'onglet masqué" in result.stdout   # back to the visible check
    result = CliRunner().invoke(main, ["suivi", "consolider", str(filled), "--marches", str(tmp_path / "vide")])
    assert result.exit_code == 2 and "--marches" in result.output       # click refuses a folder that is not there
    (tmp_path / "vide").mkdir()
    result = CliRunner().invoke(main, ["suivi", "consolider", str(filled), "--marches", str(tmp_path / "vide")])
    assert result.exit_code == 0 and "marché 2026-T-001 absent du dossier" in result.stdout


def test_forged_dimension_does_not_hide_the_rows(filled, tmp_path):
    import re

    part = sheet_part(filled, "Suivi heures")
    forged = rezip(filled, tmp_path / "dimension.xlsx",
                   lambda name, data: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:S1"/>', data)
                   if name == part else data)
    _, honest = consolidate_json(filled)
    code, report = consolidate_json(forged)
    assert code == 0
    assert by_lot(report["marches"][0])[(1, "insertion")]["realise"] == pytest.approx(120 + 7 + 130 + 151.67)
    assert report["marches"][0]["indicateurs"] == honest["marches"][0]["indicateurs"]


def test_absurd_numbers_are_refused_per_cell(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    hours = wb["Suivi heures"]
    for r, (person, lot, worked) in enumerate([("P-1", 1, 1e30), ("P-2", 1e300, 35), ("P-3", 1, 35), ("P-4", 1, 424242),
                                                ("P-5", 1, 434343)],
                                              start=2):
        hours.cell(r, 1, person)
        hours.cell(r, 2, lot)
        hours.cell(r, 11, dt.date(2027, 1, 1))
        hours.cell(r, 12, worked)
    actions = wb["Actions sociales"]
    for r, people in enumerate([1e30, 12], start=2):
        for c, value in enumerate([1, "Formation", dt.date(2027, 3, 1), people], start=1):
            actions.cell(r, c, value)
    wb.save(tmp_path / "grands.xlsx")
    part = sheet_part(school_grid, "Suivi heures")
    forged = rezip(tmp_path / "grands.xlsx", tmp_path / "infini.xlsx",   # Excel cannot store one; a forged file can
                   lambda name, data: data.replace(b"<v>424242</v>", b"<v>1E999</v>").replace(
                       b"<v>434343</v>", b"<v>1" + b"0" * 400 + b"</v>") if name == part else data)
    out = tmp_path / "rapport.xlsx"
    result = CliRunner().invoke(main, ["suivi", "consolider", str(forged), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)                     # strict JSON: no Infinity
    market = report["marches"][0]
    lines = by_lot(market)
    assert lines[(1, "insertion")]["realise"] == 35
    assert (lines[(1, "action_sociale")]["realise"], lines[(1, "action_sociale")]["participants"]) == (1, 12)
    problems = problems_of(report)
    assert problems["Suivi heures!L2"] == "plus de 744 heures dans le mois (1e+30) : non compté"
    assert problems["Suivi heures!B3"] == "lot 1e+300 sans clause d'insertion : ligne non comptée"
    assert problems["Suivi heures!L5"].startswith("nombre infini, indéfini ou démesuré")
    assert problems["Suivi heures!L6"].startswith("nombre infini, indéfini ou démesuré")    # 400 digits
    assert problems["Actions sociales!D2"].startswith("plus de 10 000 participants (1e+30)")
    assert openpyxl.load_workbook(out)["Consolidation"]["J2"].value is not None
    wb = openpyxl.load_workbook(school_grid)
    meta_row(wb, 1, "insertion")[5].value = 1e308        # a hidden figure beyond any market
    wb.save(tmp_path / "meta.xlsx")
    code, report = consolidate_json(tmp_path / "meta.xlsx")
    assert code == 6 and "valeur « penalite_unitaire » invalide" in report["fichiers_non_lus"][0]["erreur"]


def test_zip_bombs_are_refused_from_the_zip_directory(school_grid, tmp_path):
    def add(name: str, member: str, data: bytes) -> Path:
        target = tmp_path / name
        rezip(school_grid, target, lambda n, d: d)
        with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(member, data)
        return target

    big = add("grosse.xlsx", "xl/media/remplissage.bin", bytes(LIMITS.inflated + 2**20))    # the total is checked first
    ratio = add("ratio.xlsx", "xl/media/zeros.bin", bytes(2 * 2**20))
    strings = rezip(school_grid, tmp_path / "textes.xlsx",
                    lambda n, d: bytes(6 * 2**20) if n == "xl/sharedStrings.xml" else d)
    code, report = consolidate_json(big, ratio, strings, school_grid)
    assert code == 6 and len(report["marches"]) == 1
    errors = [f["erreur"] for f in report["fichiers_non_lus"]]
    assert errors[0].startswith("contenu décompressé démesuré (plus de 50 Mo une fois décompressé)")
    assert errors[1].startswith("élément « xl/media/zeros.bin » compressé plus de 100 fois")
    assert errors[2].startswith("textes du classeur trop volumineux (plus de 5 Mo")


def test_hours_typed_as_a_time_count_as_the_grid_counts_them(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    ws = wb["Suivi heures"]
    for r, worked in enumerate([dt.time(7, 30), dt.timedelta(hours=35), 10], start=2):
        ws.cell(r, 1, f"P-{r}")
        ws.cell(r, 2, 1)
        ws.cell(r, 11, dt.date(2027, 1, 1))
        ws.cell(r, 12, worked)
    wb.save(tmp_path / "horaire.xlsx")
    code, report = consolidate_json(tmp_path / "horaire.xlsx")
    assert code == 0
    assert by_lot(report["marches"][0])[(1, "insertion")]["realise"] == pytest.approx(10 + 7.5 / 24 + 35 / 24)
    problems = problems_of(report)
    assert problems["Suivi heures!L2"] == ("heures saisies au format horaire (7:30) : saisissez 7,5 ; comptées 0,3125 "
                                           "comme dans la Synthèse du classeur")
    assert problems["Suivi heures!L3"].startswith("heures saisies au format horaire (35:00) : saisissez 35 ;")
    assert "Suivi heures!L4" not in problems


def write_text(cell, text: str) -> None:
    """Text starting with « = », as Excel stores a value typed after an apostrophe: not a formula."""
    cell.value = text
    cell.data_type = "s"


def test_text_starting_with_equals_is_text_not_a_formula(filled, tmp_path):
    wb = openpyxl.load_workbook(filled)
    write_text(wb["Plan de progrès"]["G6"], "=deux offres")    # the target of row 6 was a real formula
    write_text(wb["Suivi heures"]["L4"], "=151,67")
    write_text(wb["Suivi heures"]["A10"], "=ENT-007")
    wb.save(tmp_path / "egal.xlsx")
    code, report = consolidate_json(tmp_path / "egal.xlsx")
    assert code == 0
    lines, problems = by_lot(report["marches"][0]), problems_of(report)
    assert lines[(2, "plan_de_progres")]["realise"] == 1     # action, indicator and a text target: complete
    assert "Plan de progrès!G6" not in problems
    assert problems["Suivi heures!L4"] == "heures travaillées : pas un nombre, non compté"
    assert lines[(1, "insertion")]["realise"] == pytest.approx(120 + 7 + 130)
    assert problems["Suivi heures!A10"] == "identifiant commençant par « = » : ligne non comptée"


def test_several_versions_of_one_grid_count_once(school_grid, tmp_path):
    import os

    def version(name: str, rows: int, mtime: int) -> Path:
        wb = openpyxl.load_workbook(school_grid)
        ws = wb["Suivi heures"]
        for r in range(2, rows + 2):
            ws.cell(r, 1, f"P-{r}")
            ws.cell(r, 2, 1)
            ws.cell(r, 11, dt.date(2027, r, 1))
            ws.cell(r, 12, 10)
        wb.save(tmp_path / name)
        os.utime(tmp_path / name, (mtime, mtime))
        return tmp_path / name

    march, january, copy = version("mars.xlsx", 3, 1_000), version("janvier.xlsx", 1, 2_000), version("copie.xlsx", 3, 500)
    result = CliRunner().invoke(main, ["suivi", "consolider", str(january), str(march), str(copy)])
    assert result.exit_code == 0, result.output
    assert "3 grille(s) de suivi : 1 lue(s), 0 non lue(s), 2 écartée(s) (même marché)." in result.stdout
    assert result.stdout.count(f"Marché {SCHOOL}") == 1 and f"({march})" in result.stdout
    assert "Grilles écartées (non comptées) :" in result.stdout
    assert (f"{january} : grille écartée, non comptée : même marché que {march}, retenue parce qu'elle compte plus de "
            "lignes saisies (3 contre 1)") in result.stdout
    assert f"{copy} : grille écartée, non comptée : même marché que {march}, autant de lignes saisies (3)" in result.stdout
    code, report = consolidate_json(january, march, copy)
    assert by_lot(report["marches"][0])[(1, "insertion")]["realise"] == 30      # not 70
    assert report["penalites_potentielles"] == (964 - 30) * 35 + sum(
        line["penalites"] or 0 for line in report["marches"][0]["lignes"] if line["type"] != "insertion"
    ) + by_lot(report["marches"][0])[(2, "insertion")]["penalites"]


def test_xlsx_report_has_a_fixed_creation_date(school_grid, tmp_path):
    outs = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for out in outs:
        assert CliRunner().invoke(main, ["suivi", "consolider", str(school_grid), "--out", str(out)]).exit_code == 0
    assert openpyxl.load_workbook(outs[0]).properties.created == dt.datetime(2020, 1, 1)
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_free_text_of_the_grid_never_reaches_the_report(filled, tmp_path):
    wb = openpyxl.load_workbook(filled)
    ws = wb["Suivi heures"]
    ws["A2"] = "Jean Dupont"                     # a name instead of a pseudonym
    ws["G3"] = "CDI de Marie Curie"              # a contract type typed freely
    ws["C4"] = "Fragile, voir Mme Lefebvre"      # a category typed freely
    ws["J5"] = "Paul Durand"                     # ROME code
    ws["N6"] = "Sophie"                          # O/N
    wb.save(tmp_path / "noms.xlsx")
    out = tmp_path / "rapport.xlsx"
    result = CliRunner().invoke(main, ["suivi", "consolider", str(tmp_path / "noms.xlsx"), "--format", "json",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("Dupont", "Curie", "Lefebvre", "Durand", "Sophie"):
        assert name not in result.stdout
        assert all(name not in str(c) for ws in openpyxl.load_workbook(out) for row in ws.iter_rows(values_only=True)
                   for c in row)
    report = json.loads(result.stdout)
    contracts = report["marches"][0]["indicateurs"]["types_contrat"]
    assert contracts["Autre (hors liste)"] == 1 and set(contracts) <= {*CONTRATS, "Autre (hors liste)"}
    problems = problems_of(report)
    assert problems["Suivi heures!A2"].startswith("identifiant qui ressemble à un prénom et un nom")
    assert problems["Suivi heures!G3"] == "type de contrat : valeur hors liste (choisissez-la dans la liste déroulante)"
    assert problems["Suivi heures!J5"] == "code ROME invalide (une lettre et quatre chiffres, ex. F1703)"
    assert problems["Suivi heures!N6"] == "réponse non reconnue : répondez O ou N"
    headers = [c.value for c in openpyxl.load_workbook(out)["Indicateurs"][1]]
    assert "Contrats : Autre (hors liste)" in headers


def test_french_wording_of_messages(school_grid, tmp_path):
    from openpyxl.worksheet.formula import ArrayFormula

    data = questionnaire(**{"marche.duree_mois": 36, "considerations": {"plan_de_progres": "oui"}})
    source = tmp_path / "q.yaml"
    import yaml

    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    grid = generate(CliRunner(), source, tmp_path / "sortie")
    wb = openpyxl.load_workbook(grid)
    hours = wb["Suivi heures"]
    hours["A2"], hours["B2"], hours["K2"] = "P-1", 1, dt.date(2027, 1, 1)   # no validation date: « manquante »
    hours["L2"] = ArrayFormula("L2", '=SUM(1,2)+LEN("Jean Dupont")')
    plan = wb["Plan de progrès"]
    plan["A2"], plan["B2"], plan["C2"], plan["G2"] = 1, 1, "Axe 1", 2       # neither action nor indicator
    plan["A3"], plan["B3"], plan["D3"], plan["E3"], plan["G3"] = 1, 1, "Tutorat", "Tuteurs", 2   # no axis: « manquant »
    wb.save(tmp_path / "mots.xlsx")
    code, report = consolidate_json(tmp_path / "mots.xlsx")
    assert code == 0
    problems = problems_of(report)
    assert problems["Suivi heures!C2"] == "date de validation par le facilitateur manquante"
    assert problems["Suivi heures!L2"] == ('formule saisie dans une cellule de saisie (=SUM(1,2)+LEN("…")) : ignorée, '
                                           "saisissez une valeur")
    assert problems["Plan de progrès!D2"] == "ligne incomplète (l'action et l'indicateur manquent) : non comptée"
    assert problems["Plan de progrès!C3"] == "axe de progrès manquant"


@pytest.mark.office
@needs_soffice
def test_times_and_equals_text_count_as_libreoffice_counts_them(school_grid, tmp_path):
    """Hours typed 7:30 or 35:00 and text starting with « = »: the facilitator's figures are the Synthèse's."""
    wb = openpyxl.load_workbook(school_grid)
    ws = wb["Suivi heures"]
    for r, (person, worked) in enumerate([("P-1", dt.time(7, 30)), ("P-2", dt.timedelta(hours=35)), ("P-3", 20),
                                          ("P-4", "=12")], start=2):
        ws.cell(r, 1, person)
        ws.cell(r, 2, 1)
        ws.cell(r, 11, dt.date(2027, 1, 1))
        write_text(ws.cell(r, 12), worked) if isinstance(worked, str) else ws.cell(r, 12, worked)
    write_text(ws.cell(6, 1), "=P-5")                    # an identifier starting with « = »: left out by both
    ws.cell(6, 2, 1)
    ws.cell(6, 12, 50)
    wb.save(tmp_path / "remplie.xlsx")
    soffice(["--convert-to", "xlsx", "--outdir", str(tmp_path / "recalc"), str(tmp_path / "remplie.xlsx")],
            tmp_path / "profile")
    synthese = openpyxl.load_workbook(tmp_path / "recalc" / "remplie.xlsx", data_only=True)["Synthèse"]
    code, report = consolidate_json(tmp_path / "remplie.xlsx")
    line = by_lot(report["marches"][0])[(1, "insertion")]
    assert code == 0 and line["realise"] == pytest.approx(20 + 7.5 / 24 + 35 / 24)
    assert synthese["C2"].value == pytest.approx(line["realise"])
    assert synthese["G2"].value == line["beneficiaires"] == 4


def test_grids_of_format_1_are_still_read_without_their_category(school_grid, tmp_path):
    """A grid handed out before format 2 has an eligibility category column: read around it, never reported."""
    from drafting.monitoring.grid_format import HOURS_HEADERS_V1

    wb = openpyxl.load_workbook(school_grid)
    wb["Clausier"]["B1"] = 1
    hours = wb["Suivi heures"]
    for col, name in enumerate(HOURS_HEADERS_V1, start=1):
        hours.cell(1, col, name)
    day = dt.date
    # id, lot, category, validated, delivery, employer, contract, start, end, ROME, month, worked, training, F, QPV
    row = ("OLD-1", 1, "Travailleur handicapé (RQTH)", day(2027, 1, 4), "Sous-traitance ou cotraitance", "EA du Rhône",
           "CDI", day(2027, 1, 4), None, "F1703", day(2027, 1, 1), 40, None, "N", "N")
    for col, value in enumerate(row, start=1):
        if value is not None:
            hours.cell(2, col, value)
    wb.save(tmp_path / "ancienne.xlsx")
    code, report = consolidate_json(tmp_path / "ancienne.xlsx")
    assert code == 0
    market = report["marches"][0]
    assert by_lot(market)[(1, "insertion")]["realise"] == 40
    assert market["indicateurs"]["heures_structures_inclusives"] == 40
    assert "RQTH" not in json.dumps(report, ensure_ascii=False)
    assert not any(p["cellule"] == "Suivi heures!C2" for p in market["problemes"])   # the category is not read


def test_hours_of_an_inclusive_sub_contractor_need_its_attestation(school_grid, tmp_path):
    wb = openpyxl.load_workbook(school_grid)
    hours = wb["Suivi heures"]
    day = dt.date
    # id, lot, validated, delivery, employer, attestation, contract, start, end, ROME, month, worked, training, F, QPV
    rows = [("ST-1", 1, day(2027, 1, 4), "Sous-traitance ou cotraitance", "ACI Les Jardins", day(2027, 2, 3), "CDDI",
             None, None, None, day(2027, 1, 1), 60, None, "O", "N"),
            ("ST-2", 1, day(2027, 1, 4), "Sous-traitance ou cotraitance", None, None, "CDDI",
             None, None, None, day(2027, 1, 1), 30, None, "N", "N")]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            if value is not None:
                hours.cell(r, c, value)
    wb.save(tmp_path / "st.xlsx")
    code, report = consolidate_json(tmp_path / "st.xlsx")
    market = report["marches"][0]
    assert market["indicateurs"]["heures_structures_inclusives"] == 90
    problems = problems_of(report)
    assert "sans date d'attestation de la structure" in problems["Suivi heures!F3"]
    assert "non nommée" in problems["Suivi heures!E3"] and "Suivi heures!F2" not in problems
