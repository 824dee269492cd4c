"""The questionnaire for people: interactive terminal, Excel form, JSON Schema, standard input."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import jsonschema
import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from tests.support import EXAMPLES, ROOT
from tests.support.form import ANSWERS, filled_form

SCHEMA_FILE = ROOT / "schema" / "questionnaire.schema.json"


def invoke(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input)


# ----------------------------------------------------------------------------- schema

def test_schema_is_generated_from_the_model_and_the_committed_file_is_current():
    printed = invoke("questionnaire", "schema")
    assert printed.exit_code == 0
    schema = json.loads(printed.output)
    assert schema["$schema"].endswith("2020-12/schema") and "lots" in schema["required"]
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed.output, (
        "schema/questionnaire.schema.json est périmé : clausier questionnaire schema > schema/questionnaire.schema.json")


def _as_json(value):
    """YAML dates become the ISO strings an editor sees."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("example", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_examples_validate_against_the_schema_and_point_to_it(example):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    text = example.read_text(encoding="utf-8")
    data = json.loads(text) if example.suffix == ".json" else yaml.safe_load(text)
    jsonschema.validate(_as_json(data), schema)
    if example.suffix != ".json":
        first = text.splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/questionnaire.schema.json"
        assert (example.parent / first.split("=", 1)[1]).resolve() == SCHEMA_FILE


def test_schema_catches_a_typo_and_accepts_the_loaders_tolerances():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = _as_json(yaml.safe_load((EXAMPLES / "example-ecole.yaml").read_text(encoding="utf-8")))
    data["lots"][0]["montant_estime_ht"] = "1 500 000,00 €"
    data["considerations"] = {"insertion": True}
    jsonschema.validate(data, schema)
    data["lots"][0]["montant_estime"] = 10
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


# ----------------------------------------------------------------------------- standard input

def test_plan_and_generate_read_standard_input(tmp_path):
    text = (EXAMPLES / "example-ecole.yaml").read_text(encoding="utf-8")
    from_file = invoke("plan", str(EXAMPLES / "example-ecole.yaml"), "--format", "json")
    from_stdin = invoke("plan", "-", "--format", "json", input=text)
    assert from_stdin.exit_code == 0 and from_stdin.output == from_file.output
    as_json = invoke("plan", "-", "--format", "json", input=(EXAMPLES / "informatique-etat.json").read_text(encoding="utf-8"))
    assert as_json.exit_code == 0 and json.loads(as_json.output)["marche"]["reference"]
    generated = invoke("generate", "-", "--out", str(tmp_path), input=text)
    assert generated.exit_code == 0 and (tmp_path / "2026-TRV-014" / "manifest.json").is_file()
    bad = invoke("plan", "-", input="version: 1\nlots: []\n")
    assert bad.exit_code == 2 and "entrée standard" in bad.output


# ----------------------------------------------------------------------------- Excel form

def test_blank_form_has_lists_for_every_enumeration_and_the_sectors(tmp_path):
    blank = tmp_path / "f.xlsx"
    invoke("questionnaire", "modele", str(blank))
    wb = openpyxl.load_workbook(blank)
    assert wb.sheetnames[:3] == ["Mode d'emploi", "Marché", "Lots"] and wb["Listes"].sheet_state == "hidden"
    validations = wb["Lots"].data_validations.dataValidation
    sector = next(v for v in validations if v.sqref and str(v.sqref).startswith("C2"))
    assert sector.type == "list" and sector.formula1.startswith("Listes!")
    listed = [c.value for c in wb["Listes"]["A"] if c.value] + [c.value for row in wb["Listes"].iter_rows() for c in row]
    assert "btp_gros_oeuvre" in listed and "collectivite" in listed
    market = wb["Marché"]
    kinds = {v.type for v in market.data_validations.dataValidation}
    assert {"list", "whole", "decimal", "date"} <= kinds
    assert market.protection.sheet and not market["B2"].protection.locked


def test_filled_form_is_planned_and_generated_like_a_yaml_file(tmp_path):
    form = filled_form(tmp_path, [[1, "Gros œuvre", "btp_gros_oeuvre", None, 1500000],
                                  [2, "Peinture", "btp_peinture", None, 300000.0]])
    plan = invoke("plan", str(form), "--format", "json")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.output)
    insertion = next(c for c in data["lots"][0]["considerations"] if c["type"] == "insertion")
    assert data["marche"]["reference"] == "2027-FORM-01" and insertion["statut"] == "retenue"
    assert any(c["type"] == "illettrisme" and c["statut"] == "retenue" for c in data["lots"][0]["considerations"])
    out = tmp_path / "sortie"
    assert invoke("generate", str(form), "--out", str(out)).exit_code == 0
    assert (out / "2027-FORM-01" / "2027-FORM-01_CCAP_clauses-sociales.docx").is_file()


def test_form_errors_point_at_cells(tmp_path):
    form = filled_form(tmp_path, [[1, "Gros œuvre", "btp_gros_oeuvre", None, 1500000],
                                  [2, "Peinture", "btp_peintur", None, -5]])
    result = invoke("plan", str(form))
    assert result.exit_code == 2
    assert "Lots!E3 : lots[1].montant_estime_ht" in result.output and "supérieure ou égale à 0" in result.output
    assert "Lots!C3 : lots[1].secteur" in result.output and "btp_peinture" in result.output
    answers = {**ANSWERS, "Référence du marché": "2027/FORM"}
    wrong = invoke("plan", str(filled_form(tmp_path, [[1, "Lot", "nettoyage", None, 10]], answers)))
    assert wrong.exit_code == 2 and "Marché!B9 : marche.reference" in wrong.output


@pytest.mark.parametrize("content, message", [
    (b"pas un classeur", "n'est pas un classeur Excel"),
    (None, "n'est pas un questionnaire clausier"),
])
def test_other_workbooks_are_refused_in_french(tmp_path, content, message):
    path = tmp_path / "autre.xlsx"
    if content is None:
        wb = openpyxl.Workbook()
        wb.active["A1"] = "=1+1"
        wb.save(path)
    else:
        path.write_bytes(content)
    result = invoke("plan", str(path))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_batch_reads_forms_too(tmp_path):
    folder = tmp_path / "q"
    folder.mkdir()
    shutil.move(str(filled_form(tmp_path, [[1, "Lot", "nettoyage", None, 500000]])), folder / "rempli.xlsx")
    result = invoke("batch", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "2027-FORM-01" / "manifest.json").is_file()


# ----------------------------------------------------------------------------- terminal

ANSWER_LINES = [
    "Ville de Test", "2", "69",          # buyer: name, type (collectivité), département
    "oui", "PLIE Test", "Camille Martin", "pas-un-courriel", "c.martin@example.org", "",
    "2027/TRV", "2027-TRV-001", "Réfection de l'école", "1", "2", "1", "",  # reference retried
    "2027-13-01", "2027-03-01", "0", "24", "0",                             # date and duration retried
    "1,9", "1,3", "non", "non",                                             # themes retried
    "2", "Gros œuvre", "gros", "1 200 000", "", "Peinture", "peinture", "250 000,50", "5",
]


def test_interactive_questionnaire_asks_checks_and_writes_commented_yaml(tmp_path):
    target = tmp_path / "nouveau.yaml"
    result = invoke("questionnaire", "nouveau", str(target), input="\n".join(ANSWER_LINES) + "\n")
    assert result.exit_code == 0, result.output
    assert "✗ adresse électronique invalide « pas-un-courriel »" in result.output
    assert "✗ référence « 2027/TRV » non admise" in result.output
    assert "✗ date invalide « 2027-13-01 »" in result.output
    assert "✗ la valeur « 0 » doit être strictement supérieure à 0" in result.output
    assert "→ btp_gros_oeuvre" in result.output and "Lot n° 2 — Peinture" in result.output  # plan shown
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=") and "# Les lots" in text
    data = yaml.safe_load(text)
    assert data["marche"]["reference"] == "2027-TRV-001" and data["objectifs"]["themes"] == ["metiers_en_tension", "illettrisme"]
    assert data["lots"][1] == {"numero": 2, "intitule": "Peinture", "secteur": "btp_peinture",
                               "montant_estime_ht": 250000.5, "sourcing": {"structures_inclusives": 5}}
    assert invoke("plan", str(target)).exit_code == 0


def test_interrupted_questionnaire_writes_nothing(tmp_path):
    target = tmp_path / "coupe.yaml"
    result = invoke("questionnaire", "nouveau", str(target), input="Ville\n2\n")
    assert result.exit_code == 130 and "Interrompu" in result.output and not target.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminal POSIX")
def test_interactive_questionnaire_in_a_real_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    target = tmp_path / "terminal.yaml"
    clausier = str(Path(sys.executable).with_name("clausier"))
    child = pexpect.spawn(clausier, ["questionnaire", "nouveau", str(target)], encoding="utf-8", timeout=30,
                          env={**os.environ, "COLUMNS": "120"}, dimensions=(40, 120))
    for line in ANSWER_LINES:
        child.expect([r":\s*$", r"\]\s*$", r"\)\s*$"])
        child.sendline(line)
    child.expect("Questionnaire écrit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["lots"][0]["secteur"] == "btp_gros_oeuvre"


def test_interactive_defaults_and_a_wrong_lot_count_still_give_a_questionnaire(tmp_path):
    answers = ["Ville", "2", "", "non", "2027-X-1", "Objet", "1", "1", "1", "", "", "12", "0", "", "", "",
               "deux", "1", "Lot", "nettoyage", "100000", ""]
    target = tmp_path / "q.yaml"
    result = invoke("questionnaire", "nouveau", str(target), input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "✗ « deux » n'est pas un nombre" in result.output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert "objectifs" not in data and data["lots"][0]["secteur"] == "nettoyage"


def test_interactive_refuses_a_missing_folder_before_asking(tmp_path):
    result = invoke("questionnaire", "nouveau", str(tmp_path / "absent" / "q.yaml"), input="")
    assert result.exit_code == 4 and "n'existe pas" in result.output and "Nom de l'acheteur" not in result.output


def test_form_keeps_leading_zeros_and_checks_yes_no_answers(tmp_path):
    answers = {**ANSWERS, "Département": 1, "Facilitateur : téléphone": "0472000000", "Objectif : illettrisme": "peut-être"}
    form = filled_form(tmp_path, [[1, "Lot", "nettoyage", None, 500000]], answers)
    wb = openpyxl.load_workbook(form)
    sheet = wb["Marché"]
    phone_row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "Facilitateur : téléphone")
    assert sheet.cell(phone_row, 2).number_format == "@"
    result = invoke("plan", str(form))
    assert result.exit_code == 2 and "répondez « oui » ou « non », pas « peut-être »" in result.output
    answers["Objectif : illettrisme"] = "oui"
    fixed = filled_form(tmp_path, [[1, "Lot", "nettoyage", None, 500000]], answers)
    from drafting.intake.form import parse_form
    from drafting.library import load_library

    data, _, problems = parse_form(fixed.read_bytes(), "f.xlsx")
    assert problems == [] and data["acheteur"]["departement"] == 1 and data["facilitateur"]["telephone"] == "0472000000"
    assert invoke("plan", str(fixed)).exit_code == 0 and load_library()


def test_form_with_too_many_lots_says_so(tmp_path):
    form = filled_form(tmp_path, [[n, f"Lot {n}", "nettoyage", None, 1000] for n in range(1, 503)])
    result = invoke("plan", str(form))
    assert result.exit_code == 2 and "Lots!A502" in result.output and "au plus 500 lots" in result.output
