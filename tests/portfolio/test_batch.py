"""Portfolio regeneration: batch, incremental reruns, shards, library impact."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from drafting.portfolio.batch import Shard, discover
from tests.support import EXAMPLES

# The portfolio these tests count on: three of the bundled examples (every example is generated elsewhere).
PORTFOLIO = ("example-ecole.yaml", "nettoyage-accord-cadre.yaml", "informatique-etat.json")
REFERENCES = {"2026-TRV-014", "2027-SRV-003", "2027-FCS-021"}


@pytest.fixture
def portfolio(tmp_path) -> Path:
    folder = tmp_path / "questionnaires"
    (folder / "sous-dossier").mkdir(parents=True)
    for example in sorted(EXAMPLES / name for name in PORTFOLIO):
        target = folder / ("sous-dossier" if example.suffix == ".json" else "") / example.name
        shutil.copy(example, target)
    (folder / "casse.yaml").write_text("version: 1\nacheteur: {nom: X}\n", encoding="utf-8")
    (folder / ".brouillon").mkdir()
    (folder / ".brouillon" / "ignore.yaml").write_text("pas lu", encoding="utf-8")
    return folder


def batch(*args: str):
    return CliRunner().invoke(main, ["batch", *args])


def test_batch_produces_every_market_and_reports_the_bad_one(portfolio, tmp_path):
    out = tmp_path / "sortie"
    result = batch(str(portfolio), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 6
    assert {p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")} == REFERENCES
    assert "échec : " in result.stderr and "casse.yaml" in result.stderr and "marche : champ obligatoire absent" in result.stderr
    assert re.search(r"4 questionnaire\(s\) : 3 produit\(s\), 0 inchangé\(s\), 1 en échec, en \d+,\d s", result.output)
    assert re.search(r"^\[\d/4\] 2026-TRV-014 : produit", result.stderr, re.M)  # plain log lines off a terminal
    for reference in REFERENCES:
        assert (out / reference / "manifest.json").is_file()


def test_unchanged_markets_are_left_as_they_are_and_force_redoes_them(portfolio, tmp_path):
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out))
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/*")}
    again = batch(str(portfolio), "--out", str(out))
    assert "0 produit(s), 3 inchangé(s), 1 en échec" in again.output
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/*")} == stamps

    school = portfolio / "example-ecole.yaml"
    school.write_text(school.read_text(encoding="utf-8").replace("duree_mois: 20", "duree_mois: 30"), encoding="utf-8")
    changed = batch(str(portfolio), "--out", str(out))
    assert "1 produit(s), 2 inchangé(s)" in changed.output
    assert re.search(r"2026-TRV-014 : produit", changed.stderr)

    (out / "2027-SRV-003" / "2027-SRV-003_grille-de-suivi.xlsx").unlink()  # a damaged output is redone
    repaired = batch(str(portfolio), "--out", str(out))
    assert "1 produit(s), 2 inchangé(s)" in repaired.output

    forced = batch(str(portfolio), "--out", str(out), "--force")
    assert "3 produit(s), 0 inchangé(s)" in forced.output


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_replaced_markets_are_gone_when_the_batch_returns(portfolio, tmp_path, jobs):
    """Old folders are deleted in the background while the next market is drafted, but never left behind."""
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out), "--jobs", jobs)
    first = {p.name: p.read_bytes() for p in out.glob("*/*")}
    forced = batch(str(portfolio), "--out", str(out), "--jobs", jobs, "--force")
    assert "3 produit(s)" in forced.output
    assert sorted(p.name for p in out.iterdir()) == sorted([".clausier-index", *REFERENCES])
    assert {p.name: p.read_bytes() for p in out.glob("*/*")} == first  # same inputs, same bytes


def test_shards_split_the_portfolio_deterministically_and_disjointly(portfolio):
    everything = discover(portfolio)
    assert [p.name for p in everything] == ["casse.yaml", "example-ecole.yaml", "nettoyage-accord-cadre.yaml",
                                            "informatique-etat.json"]
    parts = [discover(portfolio, shard=Shard(k, 3)) for k in (1, 2, 3)]
    assert sorted(p for part in parts for p in part) == sorted(everything)
    assert sum(len(part) for part in parts) == len(everything)
    assert parts == [discover(portfolio, shard=Shard(k, 3)) for k in (1, 2, 3)]


@pytest.mark.parametrize("text", ["0/2", "3/2", "deux", "1-2"])
def test_bad_shard_is_refused_in_french(portfolio, tmp_path, text):
    result = batch(str(portfolio), "--out", str(tmp_path / "o"), "--shard", text)
    assert result.exit_code == 2 and "--shard" in result.output and "Traceback" not in result.output


def test_library_impact_and_only_impacted(portfolio, tmp_path):
    lib = tmp_path / "biblio"
    runner = CliRunner()
    assert runner.invoke(main, ["library", "init", str(lib)]).exit_code == 0
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out), "--library", str(lib))
    before = json.loads((out / "2027-FCS-021" / "manifest.json").read_text(encoding="utf-8"))

    nothing = runner.invoke(main, ["library", "impact", str(out), "--library", str(lib)])
    assert nothing.exit_code == 0 and "Aucun marché" in nothing.output

    fragment = lib / "fragments" / "insertion" / "rc.txt"
    text = fragment.read_text(encoding="utf-8").replace("Cette clause n’est ni", "Cette clause n’est en aucun cas ni")
    fragment.write_text(re.sub(r"^version: .*$", "version: 9.0.0", text, count=1, flags=re.M), encoding="utf-8")
    version = json.loads((out / "2026-TRV-014" / "manifest.json").read_text(encoding="utf-8"))["bibliotheque"]["version"]
    assert runner.invoke(main, ["library", "release", "-m", "RC", "--version", "2099.1.0", "--library", str(lib)]).exit_code == 0

    users = {ref for ref in REFERENCES
             if any(f["id"] == "insertion/rc" for f in json.loads((out / ref / "manifest.json").read_text())["fragments"])}
    assert users and users != REFERENCES
    for args in ([], ["--since", version]):
        impact = runner.invoke(main, ["library", "impact", str(out), "--library", str(lib), *args])
        assert impact.exit_code == 0
        listed = set(re.findall(r"^  (\S+) : insertion/rc", impact.output, re.M))
        assert listed == users, impact.output

    rerun = batch(str(portfolio), "--out", str(out), "--library", str(lib), "--only-impacted")
    assert f"{len(users)} produit(s)" in rerun.output
    untouched = json.loads((out / "2027-FCS-021" / "manifest.json").read_text(encoding="utf-8"))
    assert ("2027-FCS-021" in users) or untouched == before
    after = runner.invoke(main, ["library", "impact", str(out), "--library", str(lib)])
    assert "Aucun marché" in after.output


def test_a_new_fragment_for_a_retained_type_makes_the_market_change(portfolio, tmp_path):
    lib = tmp_path / "biblio"
    assert CliRunner().invoke(main, ["library", "init", str(lib)]).exit_code == 0
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out), "--library", str(lib))
    annex = lib / "fragments" / "commun" / "annexe_nouvelle.txt"
    source = (lib / "fragments" / "commun" / "annexe_facilitateur.txt").read_text(encoding="utf-8")
    annex.write_text(source.replace("id: commun/annexe_facilitateur", "id: commun/annexe_nouvelle")
                     .replace("fichier: annexe-facilitateur", "fichier: annexe-nouvelle"), encoding="utf-8")
    rerun = batch(str(portfolio), "--out", str(out), "--library", str(lib))
    assert "0 inchangé(s)" in rerun.output
    assert (out / "2026-TRV-014" / "2026-TRV-014_annexe-nouvelle.docx").is_file()
    impact = CliRunner().invoke(main, ["library", "impact", str(out), "--library", str(lib)])
    assert "Aucun marché" in impact.output


def test_a_new_engine_build_regenerates_everything(portfolio, tmp_path, monkeypatch):
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out))
    import drafting.common.build as build

    build.engine_fingerprint.cache_clear()
    monkeypatch.setattr(build, "_files", lambda folder, suffixes, prefix="": iter([("autre-moteur.py", b"")]))
    assert "3 produit(s), 0 inchangé(s)" in batch(str(portfolio), "--out", str(out)).output


def test_two_questionnaires_with_one_reference_are_both_refused(portfolio, tmp_path):
    shutil.copy(portfolio / "example-ecole.yaml", portfolio / "sous-dossier" / "copie-ecole.yaml")
    out = tmp_path / "sortie"
    result = batch(str(portfolio), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 6
    assert result.stderr.count("la référence 2026-TRV-014 est aussi celle de") == 2
    assert not (out / "2026-TRV-014").exists() and (out / "2027-SRV-003").is_dir()


def test_shards_side_by_side_then_only_impacted_reach_every_market(portfolio, tmp_path):
    lib = tmp_path / "biblio"
    assert CliRunner().invoke(main, ["library", "init", str(lib)]).exit_code == 0
    out = tmp_path / "sortie"
    for k in (1, 2, 3):
        batch(str(portfolio), "--out", str(out), "--library", str(lib), "--shard", f"{k}/3")
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == REFERENCES
    fragment = lib / "fragments" / "commun" / "procedure_contradictoire.txt"
    text = fragment.read_text(encoding="utf-8").replace("quinze jours", "vingt jours")
    fragment.write_text(re.sub(r"^version: .*$", "version: 1.1.0", text, count=1, flags=re.M), encoding="utf-8")
    rerun = batch(str(portfolio), "--out", str(out), "--library", str(lib), "--only-impacted")
    assert "3 produit(s)" in rerun.output, rerun.output
    assert "1 non touché(s)" in rerun.output  # the broken questionnaire never produced a market


def test_what_is_not_a_questionnaire_is_not_read(portfolio, tmp_path):
    (portfolio / "~$formulaire.xlsx").write_bytes(b"verrou d'Excel")
    (portfolio / "questionnaire.schema.json").write_text("{}", encoding="utf-8")
    (portfolio / "manifest.json").write_text("{}", encoding="utf-8")
    names = {p.name for p in discover(portfolio)}
    assert not names & {"~$formulaire.xlsx", "questionnaire.schema.json", "manifest.json"}


def test_odd_manifests_and_generate_only_markets(portfolio, tmp_path):
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out))
    (out / "2027-SRV-003" / "manifest.json").write_text('{"fragments": ["x"], "bibliotheque": "?"}', encoding="utf-8")
    manifest = json.loads((out / "2026-TRV-014" / "manifest.json").read_text(encoding="utf-8"))
    manifest["options"]["pdf"] = True
    (out / "2026-TRV-014" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rerun = batch(str(portfolio), "--out", str(out))
    assert "Erreur interne" not in rerun.output
    assert "1 produit(s), 1 inchangé(s), 1 en échec, 1 ignoré(s)" in rerun.output
    assert "--ccap-modele ou --pdf" in rerun.stderr
    impact = CliRunner().invoke(main, ["library", "impact", str(out)])
    assert impact.exit_code == 0


def test_a_market_left_aside_by_a_crash_is_put_back(portfolio, tmp_path):
    import os

    from drafting.common.files import recover_retired

    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out))
    aside = out / ".2026-TRV-014.abc.old"
    aside.mkdir()
    os.replace(out / "2026-TRV-014", aside / "2026-TRV-014")  # the crash happened between the two renames
    os.utime(aside, (0, 0))
    assert recover_retired(out) == ["2026-TRV-014"]
    assert (out / "2026-TRV-014" / "manifest.json").is_file() and not aside.exists()


def test_a_renamed_reference_frees_the_old_one(portfolio, tmp_path):
    out = tmp_path / "sortie"
    batch(str(portfolio), "--out", str(out))
    school = portfolio / "example-ecole.yaml"
    school.write_text(school.read_text(encoding="utf-8").replace("2026-TRV-014", "2026-TRV-099"), encoding="utf-8")
    shutil.copy(EXAMPLES / "example-ecole.yaml", portfolio / "sous-dossier" / "nouvelle-ecole.yaml")  # takes 2026-TRV-014
    result = batch(str(portfolio), "--out", str(out))
    assert "la référence" not in result.stderr, result.stderr
    assert (out / "2026-TRV-099").is_dir() and (out / "2026-TRV-014").is_dir()


def test_spawned_workers_where_fork_is_not_available(portfolio, tmp_path, monkeypatch):
    """macOS and Windows start workers afresh: they load the engine and library themselves, run to
    the end (no recycling limit, which made CPython's pool hang) and clean up what they replace."""
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    out = tmp_path / "sortie"
    first = batch(str(portfolio), "--out", str(out), "--jobs", "2")
    assert "3 produit(s), 0 inchangé(s), 1 en échec" in first.output
    forced = batch(str(portfolio), "--out", str(out), "--jobs", "2", "--force")
    assert "3 produit(s)" in forced.output
    assert sorted(p.name for p in out.iterdir()) == sorted([".clausier-index", *REFERENCES])


def _dies_on_one(args):
    """A worker killed on one market, as the kernel's out-of-memory killer would (module level: pickled)."""
    import os

    from drafting.portfolio import batch as batch_module

    if args[0].name == "nettoyage-accord-cadre.yaml":
        os._exit(9)
    return batch_module.generate_one(*args)


def test_a_killed_worker_is_reported_and_loses_no_finished_market(portfolio, tmp_path, monkeypatch):
    from drafting.portfolio import batch as batch_module

    monkeypatch.setattr(batch_module, "_worker", _dies_on_one)  # inherited by the forked workers
    out = tmp_path / "sortie"
    result = batch(str(portfolio), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 6
    assert "processus de travail arrêté" in result.stderr and "nettoyage-accord-cadre.yaml" in result.stderr
    entries = list(out.iterdir()) if out.exists() else []  # the pool may break before any market is done
    produced = {p.name for p in entries if p.is_dir() and not p.name.startswith(".")}
    reported = set(re.findall(r"\] (\S+) : produit", result.stderr))
    assert reported <= produced and all((out / r / "manifest.json").is_file() for r in reported)
    assert not [p for p in entries if p.name.endswith((".tmp", ".old"))]
