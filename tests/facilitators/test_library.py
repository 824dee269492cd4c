"""The clause library in facilitators' hands: check, release, versions, diff, preview.

Each tampering case works on a private copy made with ``clausier library init``,
as a facilitator would, and asserts that ``library check`` names the file, the
line and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from drafting.library import load_library

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def lib(runner, tmp_path) -> Path:
    target = tmp_path / "biblio"
    result = runner.invoke(main, ["library", "init", str(target)])
    assert result.exit_code == 0, result.output
    return target


def check(runner, lib: Path):
    return runner.invoke(main, ["library", "check", "--library", str(lib)])


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} absent de {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def bump(path: Path, version: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_bundled_library_passes_check(runner):
    result = runner.invoke(main, ["library", "check"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^0 erreur\(s\)", result.output, re.M)


def test_bundled_library_is_exactly_its_last_release():
    from drafting.facilitators.release import pending_changes, release_versions

    library = load_library()
    assert pending_changes(library) == []
    assert release_versions(library.root)[-1] == library.version


def test_init_refuses_a_non_empty_folder(runner, tmp_path):
    (tmp_path / "x.txt").write_text("déjà là")
    result = runner.invoke(main, ["library", "init", str(tmp_path)])
    assert result.exit_code == 3 and "n'est pas vide" in result.output


def test_list_and_show(runner, lib):
    listed = runner.invoke(main, ["library", "list", "--library", str(lib)])
    assert listed.exit_code == 0
    for type_ in ("insertion", "action_sociale", "marche_reserve", "insertion_qualification",
                  "illettrisme", "egalite_diversite", "plan_de_progres"):
        assert f"{type_}/ccap" in listed.output
    shown = runner.invoke(main, ["library", "show", "insertion/ccap", "--library", str(lib)])
    assert shown.exit_code == 0 and "## Pénalités" in shown.output
    old = runner.invoke(main, ["library", "show", "insertion/ccap", "--version", "1.0.0", "--library", str(lib)])
    assert old.exit_code == 0 and "version: 1.0.0" in old.output
    missing = runner.invoke(main, ["library", "show", "insertion/ccap", "--version", "9.9.9", "--library", str(lib)])
    assert missing.exit_code == 3 and "non publiée" in missing.output


def test_published_fragment_edited_without_new_version_is_caught_and_release_refused(runner, lib):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "Cette clause n’est ni", "Cette clause n’est en aucun cas ni")
    result = check(runner, lib)
    assert result.exit_code == 3
    assert "fragment publié modifié sans nouvelle version" in result.output and "insertion/rc.txt" in result.output
    refused = runner.invoke(main, ["library", "release", "-m", "essai", "--library", str(lib)])
    assert refused.exit_code == 3 and "publication refusée" in refused.output


def test_release_then_regenerate_last_years_dce_byte_identical(runner, lib, tmp_path):
    questionnaire = str(EXAMPLES / "example-ecole.yaml")
    before = tmp_path / "avant"
    assert runner.invoke(main, ["generate", questionnaire, "--out", str(before), "--library", str(lib)]).exit_code == 0
    old_version = load_library(lib).version

    path = lib / "fragments/insertion/rc.txt"
    edit(path, "Cette clause n’est ni", "Cette clause n’est en aucun cas ni")
    bump(path, "1.3.0")
    edit(path, 'changelog: "', 'changelog: "Formulation renforcée. ')
    released = runner.invoke(main, ["library", "release", "-m", "RC renforcé", "--version", "2099.1.0",
                                    "--library", str(lib)])
    assert released.exit_code == 0, released.output
    assert "insertion/rc" in released.output
    lock = (lib / "bibliotheque.lock").read_text(encoding="utf-8")
    assert "version: 2099.1.0" in lock and hashlib.sha256(path.read_bytes()).hexdigest() in lock
    assert (lib / "versions/fragments/insertion/rc/1.3.0.txt").read_bytes() == path.read_bytes()
    assert check(runner, lib).exit_code == 0

    now = tmp_path / "apres"
    assert runner.invoke(main, ["generate", questionnaire, "--out", str(now), "--library", str(lib)]).exit_code == 0
    again = tmp_path / "reproduit"
    result = runner.invoke(main, ["generate", questionnaire, "--out", str(again), "--library", str(lib),
                                  "--library-version", old_version])
    assert result.exit_code == 0, result.output
    reference = "2026-TRV-014"
    for file in (before / reference).iterdir():
        assert (again / reference / file.name).read_bytes() == file.read_bytes(), file.name
    manifest = json.loads((now / reference / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["bibliotheque"]["version"] == "2099.1.0"
    assert "modifications_non_publiees" not in manifest["bibliotheque"]
    assert {"id": "insertion/rc", "version": "1.3.0",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()} in manifest["fragments"]

    diff = runner.invoke(main, ["library", "diff", "insertion/rc", "1.2.0", "1.3.0", "--library", str(lib)])
    assert diff.exit_code == 0
    assert "~Cette clause n’est {+en aucun cas+} ni" in diff.output  # a long paragraph is compared word by word
    assert "--- insertion/rc 1.2.0" in diff.output and "+++ insertion/rc 1.3.0" in diff.output


def test_unreleased_changes_are_recorded_in_the_manifest(runner, lib, tmp_path):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "Cette clause n’est ni", "Cette clause n’est en aucun cas ni")
    bump(path, "1.3.0")
    result = runner.invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path),
                                  "--library", str(lib)])
    assert result.exit_code == 0 and "non publiée" in result.output
    manifest = json.loads((tmp_path / "2026-TRV-014/manifest.json").read_text(encoding="utf-8"))
    assert manifest["bibliotheque"]["modifications_non_publiees"] == ["modification : insertion/rc (1.2.0 → 1.3.0)"]


def test_tampered_release_copy_is_refused(runner, lib, tmp_path):
    library = load_library(lib)
    version = library.version
    stored = lib / f"versions/fragments/insertion/ccap/{library.fragments['insertion/ccap'].version}.txt"
    edit(stored, "Pénalités", "Pénalités allégées")
    result = runner.invoke(main, ["plan", str(EXAMPLES / "example-ecole.yaml"), "--library", str(lib),
                                  "--library-version", version])
    assert result.exit_code == 3 and "altérée" in result.output


def test_unknown_release_version(runner):
    result = runner.invoke(main, ["plan", str(EXAMPLES / "example-ecole.yaml"), "--library-version", "1999.1.0"])
    assert result.exit_code == 3 and "version inconnue" in result.output


@pytest.mark.parametrize("old, new, code, message", [
    ("{{ marche.objet }}", "{{ marche.objet }", "syntaxe", "syntaxe Jinja"),
    ("{{ marche.objet }}", "{{ marche.objet_inconnu }}", "rendu", "variable indéfinie"),
    ("{{ marche.objet }}", "{{ adresse_du_chantier }}", "variable", "« adresse_du_chantier » utilisée mais non déclarée"),
    ("{{ marche.objet }}", "{{ marche.__class__ }}", "bac_a_sable", "« __class__ » interdit par le bac à sable"),
    ("{{ marche.objet }}", "{{ marche.objet | majuscules }}", "syntaxe", "No filter named 'majuscules'"),
])
def test_broken_jinja_is_caught_with_its_line(runner, lib, old, new, code, message):
    path = lib / "fragments/insertion/ccap.txt"
    number = line_of(path, old)
    edit(path, old, new)
    bump(path, "1.4.0")
    result = check(runner, lib)
    assert result.exit_code == 3
    assert f"fragments/insertion/ccap.txt:{number} : erreur [{code}]" in result.output, result.output
    assert message in result.output


def test_sandbox_escape_is_refused_at_render_too(runner, lib, tmp_path):
    path = lib / "fragments/insertion/ccap.txt"
    number = line_of(path, "{{ marche.objet }}")
    edit(path, "{{ marche.objet }}", "{{ marche.__class__.__mro__ }}")
    result = runner.invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path / "o"),
                                  "--library", str(lib)])
    assert result.exit_code == 3
    assert f"fragment insertion/ccap, ligne {number}" in result.output and "bac à sable" in result.output
    assert not (tmp_path / "o" / "2026-TRV-014").exists()


def test_error_in_an_included_fragment_names_that_fragment(runner, lib, tmp_path):
    path = lib / "fragments/commun/facilitateur.txt"
    number = line_of(path, "{{ facilitateur.courriel }}")
    edit(path, "{{ facilitateur.courriel }}", "{{ facilitateur.fax }}")
    result = runner.invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path),
                                  "--library", str(lib)])
    assert result.exit_code == 3
    assert f"fragment commun/facilitateur, ligne {number}" in result.output


def test_declared_variable_unknown_to_the_engine(runner, lib):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "variables: [", "variables: [meteo, ")
    result = check(runner, lib)
    assert "« meteo » inconnue du moteur" in result.output and result.exit_code == 3


def test_unknown_legal_reference_and_undeclared_citation(runner, lib):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, 'reference: "CCP L2152-2"', 'reference: "CCP L2152-22"')
    edit(path, "Une offre qui la refuserait", "Au sens de l’article L. 2113-13, une offre qui la refuserait")
    result = check(runner, lib)
    assert "référence juridique inconnue « CCP L2152-22 »" in result.output
    assert "voulez-vous dire « CCP L2152-2 »" in result.output
    assert "article L. 2113-13 cité sans être déclaré" in result.output


def test_every_type_needs_a_ccap_with_penalties_and_indicators(runner, lib):
    illettrisme = lib / "fragments/illettrisme/ccap.txt"
    edit(illettrisme, "statut: publie", "statut: retire")
    egalite = lib / "fragments/egalite_diversite/ccap.txt"
    text = egalite.read_text(encoding="utf-8")
    egalite.write_text(re.sub(r"^## (.*)Pénalités", r"## \1Sanctions", text, flags=re.M), encoding="utf-8")
    result = check(runner, lib)
    assert "le type illettrisme n'a pas de fragment CCAP publié" in result.output
    assert "le CCAP du type egalite_diversite n'a pas de sous-article « Pénalités »" in result.output


def test_typography_is_checked_and_fixed(runner, lib):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "# Clause sociale d’insertion\n", "# Clause sociale d’insertion\n\nAttention : texte ajouté ; vraiment !\n")
    bump(path, "1.3.0")
    result = check(runner, lib)
    assert result.exit_code == 3
    assert "espace ordinaire avant « : »" in result.output and "espace ordinaire avant « ; »" in result.output
    fixed = runner.invoke(main, ["library", "check", "--corriger", "--library", str(lib)])
    assert fixed.exit_code == 0, fixed.output
    assert "Attention\u00a0: texte ajouté\u202f; vraiment\u202f!" in path.read_text(encoding="utf-8")


def test_typography_rules():
    from drafting.facilitators.typography import fix_typography_line, typography_issues

    assert typography_issues("Voir https://exemple.fr/a?b=1") == []
    assert typography_issues("| Lot | Heures |") == []
    assert typography_issues("à 10:30 précises") == []
    assert typography_issues('{{ "." if loop.last else " ;" }}') == []
    assert typography_issues("Texte: suite") == ["espace manquante avant « : » : mettez une espace insécable"]
    assert fix_typography_line("« objet » : {{ x }} ; fin") == "«\u00a0objet\u00a0»\u00a0: {{ x }}\u202f; fin"


def test_preview_writes_the_fragment_into_word(runner, tmp_path):
    import docx

    result = runner.invoke(main, ["library", "preview", "action_sociale/ccap", str(EXAMPLES / "example-ecole.yaml"),
                                  "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    produced = list(tmp_path.glob("apercu_action_sociale_ccap_*.docx"))
    assert len(produced) == 1
    text = "\n".join(p.text for p in docx.Document(str(produced[0])).paragraphs)
    assert "Article 1 –" in text and "Pénalités" in text


def test_check_reports_a_fragment_with_bad_metadata(runner, lib):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "version: 1.2.0", "version: un")
    result = check(runner, lib)
    assert result.exit_code == 3 and "version sémantique est attendue" in result.output


def test_a_release_that_fails_midway_leaves_the_library_as_it_was(runner, lib, monkeypatch):
    import drafting.facilitators.release as release_module

    path = lib / "fragments/insertion/rc.txt"
    edit(path, "Cette clause n’est ni", "Cette clause n’est en aucun cas ni")
    bump(path, "1.3.0")
    before = {name: (lib / name).read_bytes() for name in ("bibliotheque.yaml", "bibliotheque.lock")}
    calls = {"n": 0}
    real_store = release_module._store

    def failing_store(raw, target, digest, conflict):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_store(raw, target, digest, conflict)

    monkeypatch.setattr(release_module, "_store", failing_store)
    failed = runner.invoke(main, ["library", "release", "-m", "essai", "--library", str(lib)])
    assert failed.exit_code == 3 and "publication interrompue" in failed.output and "Traceback" not in failed.output
    assert {name: (lib / name).read_bytes() for name in before} == before
    monkeypatch.setattr(release_module, "_store", real_store)
    done = runner.invoke(main, ["library", "release", "-m", "essai", "--library", str(lib)])
    assert done.exit_code == 0, done.output
    assert check(runner, lib).exit_code == 0
    assert (lib / "bibliotheque.yaml").read_text(encoding="utf-8").count("resume: essai") == 1


@pytest.mark.parametrize("example", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_every_example_still_generates_with_the_first_release(runner, example, tmp_path):
    result = runner.invoke(main, ["generate", str(example), "--out", str(tmp_path), "--library-version", "2026.1.0"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text(encoding="utf-8"))
    assert manifest["bibliotheque"]["version"] == "2026.1.0"
    assert {f["version"] for f in manifest["fragments"] if f["id"].startswith("insertion/")} <= {"1.0.0"}


@pytest.mark.parametrize("file, old, new, message", [
    ("publics.yaml", "  - id: rqth\n    libelle:", "  - id: rqth\n    nom:", "publics[3] doit être un dictionnaire avec « libelle »"),
    ("parametres.yaml", "  valeurs:\n    2020-01-01: 70\n", "  valeurs: []\n", "« heures_minimum.valeurs » doit associer"),
    ("actions.yaml", "  parrainage:\n    libelle: \"Parrainage\"", "  parrainage: \"Parrainage\"\n  autre:\n    libelle: \"x\"",
     "« actions.parrainage » doit être un dictionnaire"),
    ("fragments/insertion/rc.txt", "variables: [lots, facilitateur", "variables: 3\nx: [lots, facilitateur",
     "« variables » doit être une liste"),
])
def test_malformed_library_files_get_a_french_message_not_a_crash(runner, lib, file, old, new, message):
    edit(lib / file, old, new)
    for args in (["library", "check"], ["plan", str(EXAMPLES / "example-ecole.yaml")]):
        result = runner.invoke(main, [*args, "--library", str(lib)])
        assert result.exit_code in (1, 3) and message in result.output and "Erreur interne" not in result.output, result.output


def test_sandbox_escape_through_attr_filter_is_caught(runner, lib):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "# Clause sociale d’insertion\n",
         "# Clause sociale d’insertion\n\n{% if false %}{{ lots|attr('__class__') }}{{ lots|attr(lots[0].intitule) }}{% endif %}\n")
    result = check(runner, lib)
    assert "accès à « __class__ » interdit" in result.output and "filtre « attr » avec un nom calculé" in result.output


def test_check_verifies_the_released_copies(runner, lib):
    stored = lib / "versions/fragments/insertion/ccap/1.0.0.txt"
    edit(stored, "Pénalités", "Pénalités allégées")
    result = check(runner, lib)
    assert result.exit_code == 3 and "versions/2026.1.0.lock" in result.output and "altérée" in result.output


def test_annex_file_names_are_checked(runner, lib):
    path = lib / "fragments/commun/annexe_publics.txt"
    edit(path, "fichier: annexe-publics-eligibles", "fichier: CCAP_clauses-sociales")
    assert "déjà utilisé par une pièce de clausier" in check(runner, lib).output
    edit(path, "fichier: CCAP_clauses-sociales", "fichier: ../evasion")
    assert "lettres, chiffres" in check(runner, lib).output


@pytest.mark.parametrize("args", [
    ["library", "show", "../../../../etc/passwd", "--version", "1.0.0"],
    ["library", "show", "insertion/ccap", "--version", "../../../x"],
    ["plan", str(EXAMPLES / "example-ecole.yaml"), "--library-version", "../../x"],
])
def test_names_that_would_leave_the_library_are_refused(runner, args):
    result = runner.invoke(main, args)
    assert result.exit_code == 3 and "invalide" in result.output


@pytest.mark.parametrize("statement, message", [
    ('{% include ["commun/publics"] %}', "sous une forme que le moteur ne suit pas"),
    ('{% from "commun/publics" import x %}', "« import » et « from … import » ne sont pas admis"),
])
def test_includes_the_engine_cannot_follow_are_refused(runner, lib, statement, message):
    path = lib / "fragments/insertion/rc.txt"
    edit(path, "# Clause sociale d’insertion\n", f"# Clause sociale d’insertion\n\n{statement}\n")
    assert message in check(runner, lib).output
