"""End to end through the CLI, then the produced files opened and read back."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from drafting.library import load_library
from tests.support import EXAMPLES, questionnaire

REF = "2026-TRV-014"


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("sortie")
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / REF


def doc_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [" | ".join(c.text for c in row.cells) for row in table.rows]
    return "\n".join(parts)


def test_files_are_named_after_the_reference(school):
    names = sorted(p.name for p in school.iterdir())
    assert names == sorted([f"{REF}_CCAP_clauses-sociales.docx", f"{REF}_RC_clauses-sociales.docx",
                            f"{REF}_AE_annexe-engagements-sociaux.docx", f"{REF}_grille-de-suivi.xlsx",
                            f"{REF}_note-de-synthese.docx", f"{REF}_annexe-publics-eligibles.docx",
                            f"{REF}_annexe-facilitateur.docx", f"{REF}_annexe-attestation-structure-inclusive.docx",
                            "manifest.json"])


def test_ccap_holds_the_insertion_article_per_lot(school):
    path = school / f"{REF}_CCAP_clauses-sociales.docx"
    document = docx.Document(str(path))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == ("Heading 1", "Article 1 – Clause sociale d\u2019insertion")
    assert ("Heading 2", "1.1 Objet et fondement juridique") in headings
    text = doc_text(path)
    assert "Maison de l\u2019emploi du Val de Rhône" in text and "c.martin@example.org" in text
    assert "demandeurs d\u2019emploi de longue durée" in text          # eligible publics
    assert "entreprise de travail temporaire d\u2019insertion" in text  # delivery methods
    assert "35,00\u00a0€" in text                                     # penalty per hour: the works hourly cost
    rows = {tuple(c.text for c in row.cells) for row in document.tables[0].rows}
    assert ("1", "Gros œuvre", "964\u00a0heures") in rows
    assert ("2", "Peinture", "200\u00a0heures") in rows
    assert any(r[0] == "Total" and r[2] == "1\u202f164\u00a0heures" for r in rows)
    assert "Charpente" not in " ".join(" ".join(r) for r in rows)     # lot 3: insertion set aside
    header = document.sections[0].header.paragraphs[0].text
    assert "Commune de Vaulx-sur-Rhône" in header and REF in header


def test_zones_to_complete_are_highlighted_only_where_the_questionnaire_is_silent(school, tmp_path):
    document = docx.Document(str(school / f"{REF}_CCAP_clauses-sociales.docx"))
    to_fill = [r for p in document.paragraphs for r in p.runs if r.style is not None and r.style.name == "À compléter"]
    assert any("action" in p.text.lower() for p in document.paragraphs if p.style.name == "Heading 1")
    assert to_fill == [], "every value of the school's CCAP comes from its questionnaire"
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "nettoyage-accord-cadre.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    ccap = docx.Document(str(tmp_path / "2027-SRV-003" / "2027-SRV-003_CCAP_clauses-sociales.docx"))
    holes = [r.text for p in ccap.paragraphs for r in p.runs if r.style is not None and r.style.name == "À compléter"]
    assert any("facilitateur" in h for h in holes)  # no facilitator in that questionnaire
    assert "zone(s) à compléter avant publication" in result.output


def test_rc_and_ae_pieces(school):
    rc = doc_text(school / f"{REF}_RC_clauses-sociales.docx")
    assert "condition d\u2019exécution" in rc and "critère" in rc
    ae = doc_text(school / f"{REF}_AE_annexe-engagements-sociaux.docx")
    assert "964\u00a0heures" in ae and "Je soussigné" in ae


def test_grid_sheets_validations_formulas_protection(school):
    wb = openpyxl.load_workbook(school / f"{REF}_grille-de-suivi.xlsx")
    assert wb.sheetnames[:5] == ["Mode d'emploi", "Engagements", "Suivi heures", "Actions sociales", "Synthèse"]
    assert wb["Listes"].sheet_state == "hidden"
    commitments = [[c.value for c in row] for row in wb["Engagements"].iter_rows(min_row=2)]
    assert [1, "Gros œuvre", "Clause sociale d'insertion (heures d'insertion)", 964] == commitments[0][:4]
    hours = wb["Suivi heures"]
    headers = [c.value for c in hours[1]]
    assert "Identifiant pseudonymisé" in headers
    assert not any(h and ("Nom" == h or "naissance" in h.lower() or "sécurité sociale" in h.lower()) for h in headers)
    assert hours.protection.sheet is True
    # input columns carry an unlocked style (Excel and LibreOffice apply it to every empty cell)
    assert hours.column_dimensions["L"].protection.locked is False
    assert hours["A1"].protection.locked is True
    kinds = {(dv.type, str(dv.sqref)) for dv in hours.data_validations.dataValidation}
    assert ("list", "B2:B501") in kinds and ("decimal", "L2:M501") in kinds or ("decimal", "L2:L501") in kinds
    lot_list = next(dv for dv in hours.data_validations.dataValidation if str(dv.sqref) == "B2:B501")
    assert lot_list.formula1 == "Listes!$E$2:$E$3"
    assert [wb["Listes"]["F2"].value, wb["Listes"]["F3"].value] == ["1", "2"]
    summary = wb["Synthèse"]
    assert summary["A2"].value == 1 and summary["B2"].value == 964
    assert summary["C2"].value.startswith("=SUMIF('Suivi heures'!$B$2:$B$501,A2,")
    assert summary["H2"].value == '=IF(ISNUMBER(F2),F2*35.0,"")'
    assert "Mode d'emploi" in wb.sheetnames and "RGPD" in " ".join(
        str(c.value) for row in wb["Mode d'emploi"].iter_rows() for c in row)


def runner_plan_json(path: Path) -> str:
    result = CliRunner().invoke(main, ["plan", str(path), "--format", "json"])
    assert result.exit_code == 0
    return result.output


def test_manifest_records_versions_fragments_and_hashes(school):
    manifest = json.loads((school / "manifest.json").read_text(encoding="utf-8"))
    library = load_library()
    assert manifest["bibliotheque"]["version"] == library.version and "modifications_non_publiees" not in manifest["bibliotheque"]
    assert manifest["bibliotheque"]["donnees"]["parametres.yaml"] == library.data_hashes["parametres.yaml"]
    assert manifest["options"] == {"premier_article": 1, "pdf": False, "ccap_modele": None}
    source = (EXAMPLES / "example-ecole.yaml").read_bytes()
    assert manifest["questionnaire"]["sha256"] == hashlib.sha256(source).hexdigest()
    plan = json.loads(runner_plan_json(EXAMPLES / "example-ecole.yaml"))
    retained = {c["type"] for lot in plan["lots"] for c in lot["considerations"] if c["statut"] == "retenue"}
    expected = {f"{t}/{p}" for t in retained for p in ("ccap", "rc", "ae")}
    expected |= {"commun/facilitateur", "commun/publics", "commun/procedure_contradictoire", "commun/derogation_ccag",
                 "commun/annexe_publics", "commun/annexe_facilitateur", "commun/annexe_attestation"}
    assert {f["id"] for f in manifest["fragments"]} == expected
    for entry in manifest["fragments"]:
        fragment = library.fragments[entry["id"]]
        assert (entry["version"], entry["sha256"]) == (fragment.version, fragment.sha256)
        assert hashlib.sha256(Path(fragment.path).read_bytes()).hexdigest() == entry["sha256"]
    listed = {f["nom"]: f["sha256"] for f in manifest["fichiers"]}
    assert set(listed) == {p.name for p in school.iterdir()} - {"manifest.json"}
    for name, digest in listed.items():
        assert hashlib.sha256((school / name).read_bytes()).hexdigest() == digest


def test_same_inputs_give_byte_identical_outputs(runner, tmp_path):
    outputs = []
    for run in ("a", "b"):
        result = runner.invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path / run)])
        assert result.exit_code == 0
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / run / REF).iterdir()})
    assert outputs[0] == outputs[1]
    with zipfile.ZipFile(tmp_path / "a" / REF / f"{REF}_CCAP_clauses-sociales.docx") as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_failure_leaves_no_partial_output(runner, tmp_path, monkeypatch):
    import drafting.common.files as files

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", broken)
    out = tmp_path / "sortie"
    result = runner.invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out)])
    assert result.exit_code == 4
    assert "aucun fichier n'a été modifié" in result.stderr
    assert list(out.iterdir()) == []


def test_regeneration_replaces_the_previous_output_whole(runner, tmp_path, write_q):
    out = tmp_path / "sortie"
    first = questionnaire()
    assert runner.invoke(main, ["generate", str(write_q(first)), "--out", str(out)]).exit_code == 0
    (out / "2026-T-001" / "vieux-fichier.txt").write_text("reste d'une ancienne version")
    assert runner.invoke(main, ["generate", str(write_q(first)), "--out", str(out)]).exit_code == 0
    assert not (out / "2026-T-001" / "vieux-fichier.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["2026-T-001"]


def test_buyer_text_never_becomes_markup_or_formula(runner, tmp_path, write_q):
    data = questionnaire(**{"marche.objet": "=HYPERLINK(\"http://x\") | **gras** [[trou]]",
                            "acheteur.nom": "+Ville & <Cie>"})
    out = tmp_path / "sortie"
    result = runner.invoke(main, ["generate", str(write_q(data)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = out / "2026-T-001"
    document = docx.Document(str(folder / "2026-T-001_CCAP_clauses-sociales.docx"))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "=HYPERLINK(\"http://x\") | **gras** [[trou]]" in body.replace("\u00a0", " ")
    assert not [r for p in document.paragraphs for r in p.runs if "trou" in r.text and r.style.name == "À compléter"]
    wb = openpyxl.load_workbook(folder / "2026-T-001_grille-de-suivi.xlsx")
    cells = [c for row in wb["Mode d'emploi"].iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" for c in cells)


def test_missing_facilitator_gives_highlighted_placeholders(runner, tmp_path, write_q):
    data = questionnaire()
    del data["facilitateur"]
    out = tmp_path / "sortie"
    assert runner.invoke(main, ["generate", str(write_q(data)), "--out", str(out)]).exit_code == 0
    document = docx.Document(str(out / "2026-T-001" / "2026-T-001_CCAP_clauses-sociales.docx"))
    holes = [r.text for p in document.paragraphs for r in p.runs if r.style.name == "À compléter"]
    assert any("structure du facilitateur" in h for h in holes)


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_every_bundled_example_generates(runner, tmp_path, example):
    result = runner.invoke(main, ["generate", str(EXAMPLES / example), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = next(tmp_path.iterdir())
    for path in folder.glob("*.docx"):
        assert doc_text(path).strip()
    openpyxl.load_workbook(next(folder.glob("*.xlsx")))


def test_decision_note_for_the_buyers_file(school):
    path = school / f"{REF}_note-de-synthese.docx"
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Le marché", "Synthèse des décisions", "Décisions et raisons, lot par lot",
                        "Avertissements sur l\u2019ensemble du marché", "Dérogations au CCAG à récapituler",
                        "Bases légales citées", "Données essentielles (DECP)"]
    text = doc_text(path)
    assert "1\u202f500\u202f000,00\u00a0€ HT × 45\u00a0%" in text and "964,29 → 964\u00a0heures" in text
    assert "insertion_non_adaptee" in text
    assert "L2112-2" in text
    assert "considerationsSociales\u00a0: Clause sociale" in text
    summary = {tuple(c.text for c in row.cells) for row in document.tables[0].rows}
    assert any(r[0] == "1 — Gros œuvre" and r[3] == "964\u00a0heures" for r in summary)


def test_lot_penalty_overrides_reach_the_ccap_and_the_grid(runner, tmp_path, write_q):
    data = questionnaire()
    data["lots"][0]["parametres"] = {"penalite_horaire": 45}
    data["lots"] += [{**data["lots"][0], "numero": n, "parametres": {}} for n in (2, 3)]
    out = tmp_path / "sortie"
    assert runner.invoke(main, ["generate", str(write_q(data)), "--out", str(out)]).exit_code == 0
    text = doc_text(out / "2026-T-001" / "2026-T-001_CCAP_clauses-sociales.docx")
    # the penalty most lots share is the market's (works: at least the hourly cost), the other an exception
    assert "une pénalité de 35,00\u00a0€ par heure d’insertion non réalisée" in text
    assert "pour le lot n° 1, la pénalité est fixée à 45,00\u00a0€" in text
    wb = openpyxl.load_workbook(out / "2026-T-001" / "2026-T-001_grille-de-suivi.xlsx")
    assert "F2*45.0" in wb["Synthèse"]["H2"].value


def test_files_removed_in_the_background_are_gone_after_waiting(tmp_path):
    from drafting.common.files import remove_later, wait_for_removals

    folders = [tmp_path / f".m{n}.old" for n in range(5)]
    for folder in folders:
        (folder / "sous").mkdir(parents=True)
        (folder / "sous" / "f.docx").write_bytes(b"x" * 1000)
        remove_later(folder)
    wait_for_removals()
    assert not any(f.exists() for f in folders)


def test_folders_are_removed_at_once_when_no_thread_can_start(tmp_path, monkeypatch):
    import threading

    from drafting.common import files

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    folder = tmp_path / ".m.old"
    (folder / "sous").mkdir(parents=True)
    files.remove_later(folder)
    assert not folder.exists()
    files.wait_for_removals()  # nothing started, nothing to wait for
