"""Backups: ``clausier db sauvegarder`` then ``db restaurer`` into a new, empty data folder loses nothing (every
record, every file, the passwords, the audit trail); a non-empty database is protected; the audit trail is
append-only in the database itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.web.conftest import process_env

ROOT = Path(__file__).resolve().parents[2]


def clausier(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """A command in its own process (this one's Django is the tests' database)."""
    return subprocess.run([sys.executable, "-c", "from cli import main; main()", *args], capture_output=True, text=True,
                          env=process_env(env), cwd=ROOT, timeout=300, input=input)


def populate(folder: Path, env: dict | None = None) -> None:
    result = subprocess.run([sys.executable, "-m", "tests.web.peupler", str(folder)], capture_output=True, text=True,
                            env=process_env(env), cwd=ROOT, timeout=300)
    assert result.returncode == 0 and "peuplé" in result.stdout, result.stderr


def contents(backup: Path) -> tuple[dict[str, list], set[str]]:
    """Every record of a backup by model (the restoration's own journal entry aside), and its files."""
    with zipfile.ZipFile(backup) as archive:
        records = json.loads(archive.read("base.json"))
        files = {n.rsplit("/", 1)[-1] for n in archive.namelist() if n.startswith("fichiers/") and not n.endswith("/")}
    by_model: dict[str, list] = {}
    for record in records:
        if record["model"] == "marches.journal" and record["fields"]["action"] == "restauration":
            continue
        by_model.setdefault(record["model"], []).append(record)
    return by_model, files


@pytest.fixture(scope="module")
def peuple(tmp_path_factory) -> Path:
    """One data folder filled once for this module; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("peuple") / "donnees"
    populate(folder)
    return folder


def copy_of(folder: Path, target: Path) -> Path:
    shutil.copytree(folder, target)
    return target


def round_trip(tmp_path: Path, source: Path, first: dict | None = None, second: dict | None = None) -> None:
    target = tmp_path / "apres"
    saved = clausier("db", "sauvegarder", str(tmp_path / "sauvegarde.zip"), "--data", str(source), env=first)
    assert saved.returncode == 0, saved.stderr
    assert "Sauvegarde écrite" in saved.stdout
    restored = clausier("db", "restaurer", str(tmp_path / "sauvegarde.zip"), "--data", str(target), env=second)
    assert restored.returncode == 0, restored.stderr
    again = clausier("db", "sauvegarder", str(tmp_path / "encore.zip"), "--data", str(target), env=second)
    assert again.returncode == 0, again.stderr
    before, before_files = contents(tmp_path / "sauvegarde.zip")
    after, after_files = contents(tmp_path / "encore.zip")
    assert before == after  # nothing lost, nothing changed: accounts (password hashes), markets, returns, journal
    assert before_files == after_files and len(before_files) > 10
    assert len(before["suivi.retour"]) == 12 and len(before["auth.user"]) == 4
    assert sum(1 for r in before["marches.journal"] if r["fields"]["action"] == "retour_remplace") == 3
    # the restored folder's files are there, intact, and the accounts log in
    for digest in before_files:
        assert (target / "fichiers" / digest[:2] / digest).is_file()
    check = subprocess.run([sys.executable, "-c", (
        "import sys; from web.server import database_ready; from pathlib import Path; database_ready(Path(sys.argv[1]));"
        "from django.contrib.auth import authenticate;"
        "print(authenticate(username='facilitatrice@plie.fr', password='Un-mot-de-passe-solide-2027') is not None)"),
        str(target)], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=process_env(second))
    assert check.stdout.strip() == "True", check.stderr


def test_backup_and_restore_into_a_new_empty_data_folder_lose_nothing(tmp_path, peuple):
    round_trip(tmp_path, copy_of(peuple, tmp_path / "avant"))


def test_a_database_that_is_not_empty_is_not_overwritten_unless_asked(tmp_path, peuple):
    copy_of(peuple, tmp_path / "a")
    assert clausier("db", "sauvegarder", str(tmp_path / "s.zip"), "--data", str(tmp_path / "a")).returncode == 0
    refused = clausier("db", "restaurer", str(tmp_path / "s.zip"), "--data", str(tmp_path / "a"))
    assert refused.returncode == 2 and "la base de données n'est pas vide" in refused.stderr and "--remplacer" in refused.stderr
    replaced = clausier("db", "restaurer", str(tmp_path / "s.zip"), "--remplacer", "--data", str(tmp_path / "a"))
    assert replaced.returncode == 0, replaced.stderr
    assert clausier("db", "sauvegarder", str(tmp_path / "t.zip"), "--data", str(tmp_path / "a")).returncode == 0
    assert contents(tmp_path / "s.zip") == contents(tmp_path / "t.zip")
    # a backup never overwrites another one
    twice = clausier("db", "sauvegarder", str(tmp_path / "s.zip"), "--data", str(tmp_path / "a"))
    assert twice.returncode == 2 and "existe déjà" in twice.stderr


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path, peuple):
    copy_of(peuple, tmp_path / "a")
    clausier("db", "sauvegarder", str(tmp_path / "s.zip"), "--data", str(tmp_path / "a"))
    damaged = tmp_path / "abimee.zip"
    with zipfile.ZipFile(tmp_path / "s.zip") as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data + b"x" if info.filename.startswith("fichiers/") else data)
    result = clausier("db", "restaurer", str(damaged), "--data", str(tmp_path / "b"))
    assert result.returncode == 2 and "altéré" in result.stderr and "Traceback" not in result.stderr
    assert "Aucun compte" in clausier("comptes", "lister", "--data", str(tmp_path / "b")).stdout
    (tmp_path / "texte.zip").write_text("pas une sauvegarde")
    assert "n'est pas une sauvegarde clausier" in clausier("db", "restaurer", str(tmp_path / "texte.zip"), "--data",
                                                           str(tmp_path / "b")).stderr


@pytest.mark.django_db
def test_the_audit_trail_is_append_only_in_the_database():
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    from web.marches.models import Journal, JournalEnAjoutSeul

    entry = Journal.objects.create(action="generation", acteur="a@b.fr", detail={"numero": 1})
    for sql in ("UPDATE marches_journal SET acteur = 'quelqu''un'", "DELETE FROM marches_journal"):
        with pytest.raises(DatabaseError, match="journal en ajout seul"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    with pytest.raises(JournalEnAjoutSeul):
        Journal.objects.filter(pk=entry.pk).update(acteur="x")
    with pytest.raises(JournalEnAjoutSeul):
        Journal.objects.all().delete()
    entry.acteur = "x"
    with pytest.raises(JournalEnAjoutSeul):
        entry.save()
    with pytest.raises(JournalEnAjoutSeul):
        entry.delete()
    assert Journal.objects.get().acteur == "a@b.fr"
