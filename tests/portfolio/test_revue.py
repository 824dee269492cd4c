"""clausier revue: the programme template, the review workbook, and the bad rows and files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, get_args

import openpyxl
import pytest
import yaml

import cli
from drafting.decide.plan import TYPE_LABELS
from drafting.intake.model import TypeAcheteur
from drafting.portfolio import programme, revue
from drafting.portfolio.programme import COLUMNS

HEADERS = list(COLUMNS)
ROWS = [
    ["2027-TRV-001", "Réhabilitation de l'école Jean-Zay", "travaux", "btp_gros_oeuvre", 1500000, 24,
     dt.datetime(2027, 3, 15), "ordinaire", 3],
    ["2027-SRV-002", "Nettoyage des bâtiments", "services", "nettoyage", 640000, 48, dt.datetime(2027, 6, 1),
     "accord_cadre_bons_de_commande", 1],
    ["2027-FOU-003", "Fournitures de bureau", "fournitures", "fournitures", 90000, 12, dt.datetime(2027, 2, 1),
     "ordinaire", 1],
    ["2027-INF-004", "Maintenance informatique", "services", "informatique", 300000, 36, dt.datetime(2027, 9, 1),
     "ordinaire", 1],
]


def _sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path)
    try:
        return [row for row in wb[name].iter_rows(values_only=True) if any(v is not None for v in row)]
    finally:
        wb.close()


def _table(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def _synthesis(path: Path) -> dict[str, Any]:
    return {row[0]: row[1] for row in _sheet(path, "Synthèse") if row[0]}


def _template(runner, tmp_path: Path) -> Path:
    target = tmp_path / "programme.xlsx"
    result = runner.invoke(cli.main, ["revue", "--modele", str(target)])
    assert result.exit_code == 0, result.output
    return target


def _fill(template: Path, rows: list[list[Any]], target: Path) -> Path:
    wb = openpyxl.load_workbook(template)
    ws = wb["Programme"]
    for r, values in enumerate(rows, 2):
        for c, value in enumerate(values, 1):
            ws.cell(row=r, column=c, value=value)
    wb.save(target)
    return target


def _plan_hours(runner, tmp_path: Path, row: list[Any], library) -> tuple[int, list[str]]:
    """`clausier plan` on the questionnaire a buyer would write for this row: hours retained, types retained."""
    reference, objet, nature, secteur, montant, duree, date, forme, lots = row
    key = "montant_maximum_ht" if forme != "ordinaire" else "montant_estime_ht"
    data = {"version": 1, "acheteur": {"nom": "Ville", "type": "collectivite"},
            "marche": {"reference": reference, "objet": objet, "nature": nature, "forme": forme,
                       "date_notification_prevue": date.date().isoformat(), "duree_mois": duree},
            "lots": [{"numero": i, "intitule": f"Lot {i}", "secteur": secteur, key: montant / lots}
                     for i in range(1, lots + 1)]}
    path = tmp_path / f"{reference}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(cli.main, ["plan", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    hours, retained = 0, []
    for lot in plan["lots"]:
        for c in lot["considerations"]:
            if c["statut"] == "retenue":
                retained.append(c["type"])
                if c["type"] == "insertion":
                    hours += c["heures"] if c["heures"] is not None else c["heures_maximum"]
    return hours, [t for t in TYPE_LABELS if t in retained]


def test_template_has_lists_validations_and_instructions(runner, tmp_path, library):
    path = _template(runner, tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Programme", "Instructions", "Listes"]
    assert wb["Listes"].sheet_state == "hidden"
    ws = wb["Programme"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.max_row == 1  # no example rows to skip: the example is on « Instructions »
    sources = {str(dv.sqref).split(":")[0]: (dv.type, dv.formula1) for dv in ws.data_validations.dataValidation}
    assert sources["C2"] == ("list", "Listes!$B$2:$B$4")           # nature
    assert sources["D2"][0] == "list" and sources["D2"][1].startswith("Listes!$A$2")  # secteur
    assert sources["H2"] == ("list", "Listes!$C$2:$C$4")           # forme
    assert {sources[c][0] for c in ("E2", "F2", "G2", "I2")} == {"decimal", "whole", "date"}
    listed = [row[0] for row in wb["Listes"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert listed == list(library.sectors)
    text = " ".join(str(v) for row in wb["Instructions"].iter_rows(values_only=True) for v in row if v)
    assert "clausier revue programme.xlsx --out revue.xlsx" in text and "2027-TRV-001" in text
    # never overwrite a programme that may already be filled
    again = runner.invoke(cli.main, ["revue", "--modele", str(path)])
    assert again.exit_code == 4 and "existe déjà" in again.output


def test_review_of_a_filled_template(runner, tmp_path, library):
    programme = _fill(_template(runner, tmp_path), ROWS, tmp_path / "rempli.xlsx")
    out = tmp_path / "revue.xlsx"
    result = runner.invoke(cli.main, ["revue", str(programme), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 marché(s) étudié(s)" in result.output

    markets = _table(_sheet(out, "Revue"))
    assert [m["Référence"] for m in markets] == [r[0] for r in ROWS]
    assert [m["Ligne"] for m in markets] == [2, 3, 4, 5]
    expected_hours = {}
    for row, market in zip(ROWS, markets):
        hours, retained = _plan_hours(runner, tmp_path, row, library)
        expected_hours[row[0]] = hours
        assert market["Heures d'insertion"] == hours, row[0]
        assert market["Considérations retenues"] == ("\n".join(TYPE_LABELS[t] for t in retained) or "aucune")
        assert market["Montant HT (€)"] == row[4] and market["Lots"] == row[8]
    assert expected_hours["2027-TRV-001"] > 0 and expected_hours["2027-SRV-002"] > 0
    supplies = markets[2]
    assert supplies["DECP (considerationsSociales)"] == "Pas de considération sociale"
    assert "lien_objet" in supplies["Avertissements"]
    assert "accord_cadre_sans_minimum" in markets[1]["Avertissements"]
    assert all("facilitateur_absent" not in (m["Avertissements"] or "") for m in markets)

    synthesis = _synthesis(out)
    with_one = sum(1 for m in markets if m["Considérations retenues"] != "aucune")
    assert with_one == 3  # only the supplies market has none
    assert synthesis["Marchés lus"] == 4
    assert synthesis["Marchés avec au moins une considération sociale retenue"] == with_one
    assert synthesis["Part des marchés avec une considération sociale"] == pytest.approx(with_one / 4)
    assert synthesis["Objectif du PNAD"] == revue.PNAD_CIBLE == 0.30
    assert synthesis["Résultat"] == "objectif atteint"  # 75 % ≥ 30 %
    assert synthesis["Heures d'insertion des clauses retenues"] == sum(expected_hours.values())

    rows = _sheet(out, "Synthèse")
    start = next(i for i, row in enumerate(rows) if row[0] == "Secteur")
    by_sector = {row[0]: row[1:5] for row in rows[start + 1:]}
    gros_oeuvre = f"{library.sectors['btp_gros_oeuvre'].libelle} (btp_gros_oeuvre)"
    assert by_sector[gros_oeuvre] == (1, 1, 1, expected_hours["2027-TRV-001"])
    assert by_sector[f"{library.sectors['fournitures'].libelle} (fournitures)"] == (1, 0, 0, 0)
    assert len(by_sector) == 4

    # same inputs, same bytes (fixed creation date)
    again = tmp_path / "revue2.xlsx"
    assert runner.invoke(cli.main, ["revue", str(programme), "--out", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_share_below_target_says_how_many_are_missing(runner, tmp_path):
    rows = [[f"2027-F-{i}", "Papier", "fournitures", "fournitures", 50000, 12, dt.datetime(2027, 1, 4), "ordinaire", 1]
            for i in range(4)]
    programme = _fill(_template(runner, tmp_path), rows, tmp_path / "p.xlsx")
    out = tmp_path / "r.xlsx"
    result = runner.invoke(cli.main, ["revue", str(programme), "--out", str(out)])
    assert result.exit_code == 0, result.output
    synthesis = _synthesis(out)
    assert synthesis["Part des marchés avec une considération sociale"] == 0
    assert synthesis["Résultat"].startswith("objectif non atteint : 2 marché(s) de plus")  # ceil(30 % × 4) = 2
    assert "non atteint" in result.output


@pytest.mark.parametrize("separator", [";", ","])
def test_csv_with_bom_and_french_decimal_comma(runner, tmp_path, library, separator):
    amount = '"1 500 000,50"' if separator == "," else "1 500 000,50"
    lines = [separator.join(HEADERS),
             separator.join(["2027-TRV-001", "École", "Travaux", "btp_gros_oeuvre", amount, "24", "15/03/2027",
                             "ordinaire", "1"]),
             separator.join(["2027-X-2", '"=HYPERLINK(""http://exemple.org"")"', "services", "Espaces verts",
                             "200000", "", "", "", ""])]
    path = tmp_path / "programme.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    out = tmp_path / "revue.xlsx"
    result = runner.invoke(cli.main, ["revue", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    markets = _table(_sheet(out, "Revue"))
    assert markets[0]["Montant HT (€)"] == 1500000.5
    assert markets[0]["Notification prévue"] == dt.datetime(2027, 3, 15)
    row = ["2027-TRV-001", "École", "travaux", "btp_gros_oeuvre", 1500000.5, 24, dt.datetime(2027, 3, 15), "ordinaire", 1]
    assert markets[0]["Heures d'insertion"] == _plan_hours(runner, tmp_path, row, library)[0]
    assert markets[1]["Secteur"] == "espaces_verts"   # a sector label typed instead of its id
    wb = openpyxl.load_workbook(out)
    cell = wb["Revue"]["C3"]
    assert cell.value == '=HYPERLINK("http://exemple.org")' and cell.data_type == "s"  # text, never a formula


def test_bad_rows_are_reported_with_their_cell_and_the_others_still_count(runner, tmp_path):
    rows = [ROWS[0],
            ["2027-B-2", "Négatif", "travaux", "btp_peinture", -5000, 12, dt.datetime(2027, 3, 1), "ordinaire", 1],
            ["2027-B-3", "Secteur mal écrit", "services", "nettoyge", 100000, 12, dt.datetime(2027, 3, 1), "ordinaire", 1],
            ROWS[1]]
    programme = _fill(_template(runner, tmp_path), rows, tmp_path / "p.xlsx")
    out = tmp_path / "r.xlsx"
    result = runner.invoke(cli.main, ["revue", str(programme), "--out", str(out)])
    assert result.exit_code == 6
    assert "Programme!E3 (montant) : montant négatif" in result.stderr
    assert "Programme!D4 (secteur) : secteur « nettoyge » inconnu" in result.stderr
    assert "secteurs proches : nettoyage" in result.stderr
    assert [m["Référence"] for m in _table(_sheet(out, "Revue"))] == ["2027-TRV-001", "2027-SRV-002"]
    anomalies = _table(_sheet(out, "Anomalies"))
    assert [(a["Cellule"], a["Référence"]) for a in anomalies] == [("Programme!E3", "2027-B-2"), ("Programme!D4", "2027-B-3")]
    synthesis = _synthesis(out)
    assert synthesis["Marchés lus"] == 2 and synthesis["Lignes rejetées (voir la feuille « Anomalies »)"] == 2


def test_row_cap(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(programme, "MAX_MARCHES", 2)
    path = tmp_path / "p.csv"
    path.write_text(";".join(HEADERS) + "\n" + "".join(f"R-{i};Peinture;travaux;btp_peinture;100000;;;;\n"
                                                        for i in range(4)), encoding="utf-8")
    result = runner.invoke(cli.main, ["revue", str(path), "--out", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 6
    assert "ligne 4 : programme limité à" in result.stderr
    assert len(_table(_sheet(tmp_path / "r.xlsx", "Revue"))) == 2


@pytest.mark.parametrize("name,content,message", [
    ("programme.xlsx", b"ceci n'est pas un classeur", "ce n'est pas un classeur Excel .xlsx"),
    ("programme.txt", b"reference;objet\n", "format « .txt » non reconnu"),
    ("programme.csv", b"", "le fichier est vide"),
    ("programme.csv", "reference;objet\n".encode("utf-16"), "n'est pas encodé en UTF-8"),
])
def test_unreadable_file_exit_2_nothing_written(runner, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    out = tmp_path / "revue.xlsx"
    result = runner.invoke(cli.main, ["revue", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output and "Erreur interne" not in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_missing_column_is_named(runner, tmp_path):
    path = tmp_path / "programme.csv"
    path.write_text("reference;objet;nature;montant\nA;B;travaux;5\n", encoding="utf-8")
    out = tmp_path / "revue.xlsx"
    result = runner.invoke(cli.main, ["revue", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "colonne obligatoire absente : secteur" in result.stderr
    assert not out.exists()


def test_missing_columns_in_xlsx(runner, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Programme"
    wb.active.append(["reference", "objet", "nature", "lots"])
    wb.active.append(["A", "B", "travaux", 1])
    wb.save(tmp_path / "p.xlsx")
    result = runner.invoke(cli.main, ["revue", str(tmp_path / "p.xlsx"), "--out", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 2
    assert "colonnes obligatoires absentes : secteur, montant" in result.stderr


def test_usage_and_choices(runner, tmp_path):
    result = runner.invoke(cli.main, ["revue"])
    assert result.exit_code == 2 and "--out" in result.output
    option = next(p for p in cli.revue.params if p.name == "acheteur_type")
    assert list(option.type.choices) == list(get_args(TypeAcheteur))


def test_library_option_gives_sectors_and_defaults(runner, tmp_path):
    lib = tmp_path / "biblio"
    assert runner.invoke(cli.main, ["library", "init", str(lib)]).exit_code == 0
    with (lib / "secteurs.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  entretien_voirie:\n    libelle: Entretien de la voirie\n    nature: travaux\n"
                 "    main_oeuvre_sur_site: true\n    adapte_heures: true\n    offre_inclusive: oui\n"
                 "    metiers_peu_qualifies: true\n    metiers_genres: true\n    part_main_oeuvre: 0.5\n"
                 "    cout_horaire: 30\n    source: essai\n")
    template = tmp_path / "modele.xlsx"
    assert runner.invoke(cli.main, ["revue", "--modele", str(template), "--library", str(lib)]).exit_code == 0
    listed = [row[0] for row in openpyxl.load_workbook(template)["Listes"].iter_rows(min_row=2, values_only=True)]
    assert "entretien_voirie" in listed
    path = tmp_path / "p.csv"
    path.write_text("reference;objet;nature;secteur;montant\nV-1;Voirie;travaux;entretien_voirie;600000\n", encoding="utf-8")
    out = tmp_path / "r.xlsx"
    result = runner.invoke(cli.main, ["revue", str(path), "--out", str(out), "--library", str(lib)])
    assert result.exit_code == 0, result.output
    assert _table(_sheet(out, "Revue"))[0]["Heures d'insertion"] == 500   # 600 000 × 50 % × 5 % ÷ 30
    bundled = runner.invoke(cli.main, ["revue", str(path), "--out", str(out)])
    assert bundled.exit_code == 6 and "D2 (secteur)" in bundled.stderr


# --- review 14 --------------------------------------------------------------------------------------------------------

def _review(runner, path: Path, tmp_path: Path, name: str = "revue.xlsx"):
    out = tmp_path / name
    result = runner.invoke(cli.main, ["revue", str(path), "--out", str(out)])
    assert "Traceback" not in result.output and "Erreur interne" not in result.output
    return result, out


def test_zip_bomb_programme_is_refused(runner, tmp_path):
    import zipfile

    programme = _fill(_template(runner, tmp_path), ROWS, tmp_path / "p.xlsx")
    with zipfile.ZipFile(programme, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", bytes(2 * 2**20))
    result, out = _review(runner, programme, tmp_path)
    assert result.exit_code == 2 and not out.exists()
    assert "élément « xl/media/zeros.bin » compressé plus de 100 fois" in result.stderr


def test_csv_row_longer_than_its_header_is_rejected_with_a_hint(runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("reference,objet,nature,secteur,montant\n"
                    "R-1,Peinture,travaux,btp_peinture,800000\n"
                    "R-2,Peinture,travaux,btp_peinture,1500000,50\n"
                    "R-3,Peinture,travaux,btp_peinture,900000,,\n", encoding="utf-8")   # empty trailing fields: fine
    result, out = _review(runner, path, tmp_path)
    assert result.exit_code == 6
    assert ("ligne 3 : 6 valeurs pour 5 en-têtes : une virgule décimale (1500000,50) dans un CSV séparé par des "
            "virgules ?") in result.stderr
    assert [m["Référence"] for m in _table(_sheet(out, "Revue"))] == ["R-1", "R-3"]
    assert _table(_sheet(out, "Anomalies"))[0]["Référence"] == "R-2"


def test_first_visible_sheet_when_no_programme_sheet(runner, tmp_path):
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "Paramètres"
    hidden.append(["reference", "objet", "nature", "secteur", "montant"])
    hidden.append(["CACHE-1", "Caché", "travaux", "btp_peinture", 100000])
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("Achats 2027")
    ws.append(HEADERS)
    ws.append(ROWS[0])
    wb.save(tmp_path / "p.xlsx")
    result, out = _review(runner, tmp_path / "p.xlsx", tmp_path)
    assert result.exit_code == 0, result.output
    assert _synthesis(out)["Feuille lue"] == "Achats 2027"
    assert [m["Référence"] for m in _table(_sheet(out, "Revue"))] == ["2027-TRV-001"]


def test_header_below_row_10_is_said(runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Programme 2027\n" + "\n" * 11 + ";".join(HEADERS[:5]) + "\nR-1;P;travaux;btp_peinture;800000\n",
                    encoding="utf-8")
    result, out = _review(runner, path, tmp_path)
    assert result.exit_code == 2 and not out.exists()
    assert "en-têtes trouvés ligne 13 : ils doivent figurer dans les 10 premières lignes" in result.stderr


def test_formula_without_cached_value_is_named(runner, tmp_path):
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[0][4] = "=1000000+500000"          # openpyxl saves formulas without their value
    programme = _fill(_template(runner, tmp_path), rows, tmp_path / "p.xlsx")
    result, out = _review(runner, programme, tmp_path)
    assert result.exit_code == 6
    assert "Programme!E2 (montant) : formule sans valeur calculée : ouvrez le programme dans Excel" in result.stderr
    assert "champ obligatoire absent" not in result.stderr


def test_verdict_says_it_holds_for_the_markets_read(runner, tmp_path):
    rows = [ROWS[0], ["2027-B-2", "Négatif", "travaux", "btp_peinture", -5000, 12, dt.datetime(2027, 3, 1),
                      "ordinaire", 1]]
    programme = _fill(_template(runner, tmp_path), rows, tmp_path / "p.xlsx")
    result, out = _review(runner, programme, tmp_path)
    assert result.exit_code == 6
    assert _synthesis(out)["Résultat"] == "objectif atteint sur les marchés lus (hors 1 ligne(s) rejetée(s))"
    assert "objectif du PNAD 30 % : atteint sur les marchés lus (hors 1 ligne(s) rejetée(s))." in result.stdout


def test_lots_typed_as_text_with_a_decimal_point(runner, tmp_path):
    rows = [list(ROWS[0])]
    rows[0][8] = "3.0"
    programme = _fill(_template(runner, tmp_path), rows, tmp_path / "p.xlsx")
    result, out = _review(runner, programme, tmp_path)
    assert result.exit_code == 0, result.output
    assert _table(_sheet(out, "Revue"))[0]["Lots"] == 3


def test_messages_in_plain_french(runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(";".join(HEADERS[:5]) + "\nR-1;P;travaux;btp_peinture;1000000000000\n", encoding="utf-8")
    result, _ = _review(runner, path, tmp_path)
    assert "doit être inférieure ou égale à 100 000 000 000" in result.stderr
    path.write_text(";".join(HEADERS[:5]) + '\nR-1;"' + "x" * 200_000 + "\n", encoding="utf-8")
    result, out = _review(runner, path, tmp_path, "revue2.xlsx")
    assert result.exit_code == 2 and not out.exists()
    assert ("CSV mal formé, ligne 2 : un champ de plus de 131 072 caractères (guillemet « \" » ouvert et jamais "
            "refermé ?)") in result.stderr


def test_windows_1252_csv_is_read_with_a_warning(runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(("reference;objet;nature;secteur;montant\n"
                      "R-1;Réfection de l'école;travaux;btp_peinture;800 000\n").encode("cp1252"))
    result, out = _review(runner, path, tmp_path)
    assert result.exit_code == 0, result.output
    assert "p.csv : CSV lu en Windows-1252 (il n'est pas en UTF-8)" in result.stderr
    assert _table(_sheet(out, "Revue"))[0]["Objet"] == "Réfection de l'école"
    assert "Windows-1252" in _table(_sheet(out, "Anomalies"))[0]["Anomalie"]


def test_numbers_excel_cannot_hold_are_refused_per_cell(runner, tmp_path):
    import zipfile

    programme = _fill(_template(runner, tmp_path), [list(ROWS[0]), list(ROWS[1]), list(ROWS[2])], tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(programme)
    wb["Programme"]["E2"], wb["Programme"]["E3"] = 565656, 575757
    wb.save(programme)
    forged = tmp_path / "forge.xlsx"
    with zipfile.ZipFile(programme) as zin, zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":   # a forged file: 400 digits, an infinity
                data = data.replace(b"<v>565656</v>", b"<v>1" + b"0" * 400 + b"</v>").replace(b"<v>575757</v>",
                                                                                           b"<v>1E999</v>")
            zout.writestr(info.filename, data)
    result, out = _review(runner, forged, tmp_path)
    assert result.exit_code == 6
    assert "Programme!E2 (montant) : nombre infini ou démesuré" in result.stderr
    assert "Programme!E3 (montant) : nombre infini ou démesuré" in result.stderr
    assert [m["Référence"] for m in _table(_sheet(out, "Revue"))] == [ROWS[2][0]]
