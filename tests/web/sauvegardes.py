"""Helpers of the backup tests (SQLite here, PostgreSQL in test_postgres.py): commands in their own processes, a
data folder filled as months of use fill it, a backup's records compared."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

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


