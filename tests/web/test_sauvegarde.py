"""Backups: ``clausier db sauvegarder`` then ``db restaurer`` into a new, empty data folder loses nothing (every
record, every file, the passwords, the audit trail); a non-empty database is protected; the audit trail is
append-only in the database itself."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tests.web.sauvegardes import clausier, contents, populate, round_trip


@pytest.fixture(scope="module")
def peuple(tmp_path_factory) -> Path:
    """One data folder filled once for this module; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("peuple") / "donnees"
    populate(folder)
    return folder


def copy_of(folder: Path, target: Path) -> Path:
    shutil.copytree(folder, target)
    return target


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
