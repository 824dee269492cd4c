"""The team server on a real PostgreSQL server (marker ``postgres``): the database tests of the web application,
a real server with accounts, the append-only audit trail, backups across databases.

Skipped without ``CLAUSIER_TEST_DATABASE_URL`` (a server where the tests may create and drop databases);
``.ci/run`` installs Debian's PostgreSQL, starts a throw-away cluster and sets it.
"""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.web.bureau import PASSWORD, fill, grid_of, months, render
from tests.web.conftest import fresh_database, process_env

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("CLAUSIER_TEST_DATABASE_URL", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not URL, reason="PostgreSQL non configuré : CLAUSIER_TEST_DATABASE_URL=postgresql://… "
                                       "(.ci/run installe et démarre un serveur et la définit)"),
]
# The modules whose tests go through the database; those that start servers on SQLite files, drive a browser or
# compare SQLite backups are left out (their PostgreSQL counterparts are below).
DATABASE_MODULES = ["test_acces.py", "test_api.py", "test_entretien.py", "test_generation.py", "test_import.py",
                    "test_plan_pieces.py", "test_suivi.py", "test_roles.py", "test_comptes.py", "test_bilan.py",
                    "test_bibliotheque_bureau.py"]


def clausier(*args: str, env: dict, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli import main; main()", *args], capture_output=True, text=True,
                          env=process_env(env), cwd=ROOT, timeout=300, input=input)


def test_the_database_tests_of_the_web_application_pass_on_postgresql():
    with fresh_database(URL) as own:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not browser and not postgres",
             *(str(ROOT / "tests" / "web" / name) for name in DATABASE_MODULES)],
            capture_output=True, text=True, cwd=ROOT, timeout=1200,
            env={**process_env({"CLAUSIER_DATABASE_URL": own}), "CLAUSIER_TEST_DATABASE_URL": ""})
    tail = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, tail + result.stderr[-3000:]
    assert re.search(r"\d+ passed", tail) and " failed" not in tail


def test_the_audit_trail_is_append_only_in_postgresql(tmp_path):
    import psycopg

    with fresh_database(URL) as own:
        migrated = clausier("db", "migrer", "--data", str(tmp_path), env={"CLAUSIER_DATABASE_URL": own})
        assert migrated.returncode == 0 and "PostgreSQL" in migrated.stdout, migrated.stderr
        with psycopg.connect(own, autocommit=True) as connection:
            connection.execute("INSERT INTO marches_journal (acteur, reference, action, detail, date) "
                               "VALUES ('a@b.fr', '', 'generation', '{}', now())")
            for statement in ("UPDATE marches_journal SET acteur = 'x'", "DELETE FROM marches_journal",
                              "TRUNCATE marches_journal"):
                with pytest.raises(psycopg.errors.RaiseException, match="journal en ajout seul"):
                    connection.execute(statement)
            assert connection.execute("SELECT acteur FROM marches_journal").fetchall() == [("a@b.fr",)]


def test_backups_round_trip_on_postgresql_and_across_databases(tmp_path):
    from tests.web.sauvegardes import contents, round_trip

    with fresh_database(URL) as first, fresh_database(URL) as second:
        round_trip(tmp_path / "pg", populate_into(tmp_path / "pg" / "avant", first), {"CLAUSIER_DATABASE_URL": first},
                   {"CLAUSIER_DATABASE_URL": second})
        # the same backup into a SQLite data folder: the same records, the same files
        restored = clausier("db", "restaurer", str(tmp_path / "pg" / "sauvegarde.zip"), "--data",
                            str(tmp_path / "sqlite"), env={})
        assert restored.returncode == 0, restored.stderr
        assert clausier("db", "sauvegarder", str(tmp_path / "sqlite.zip"), "--data", str(tmp_path / "sqlite"),
                        env={}).returncode == 0
        assert contents(tmp_path / "sqlite.zip") == contents(tmp_path / "pg" / "sauvegarde.zip")


def populate_into(folder: Path, url: str) -> Path:
    from tests.web.sauvegardes import populate

    populate(folder, {"CLAUSIER_DATABASE_URL": url})
    return folder


# ----------------------------------------------------------------------------- a real team server


def _multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Browser:
    """Cookies, and the form's CSRF token, as a browser keeps them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, fields: dict[str, str], files: list | None = None, token_from: str = "") -> tuple[int, str]:
        _, page = self.get(token_from or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body, kind = _multipart({**fields, "csrfmiddlewaretoken": token}, files or [])
        request = urllib.request.Request(self.base + path, data=body, headers={"Content-Type": kind,
                                                                                 "Referer": self.base + path})
        try:
            with self.opener.open(request) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def test_a_team_server_on_postgresql(tmp_path):
    data = tmp_path / "donnees"
    with fresh_database(URL) as own:
        env = {"CLAUSIER_DATABASE_URL": own}
        for address, role, organisation in (("facilitatrice@plie.fr", "facilitateur", "Ville A"),
                                            ("acheteur@ville-b.fr", "acheteur", "Ville B")):
            made = clausier("comptes", "ajouter", address, "--role", role, "--organisation", organisation, "--data",
                            str(data), env=env, input=PASSWORD + "\n")
            assert made.returncode == 0, made.stderr
        out = tmp_path / "sortie"
        market, _ = render()
        from drafting import api

        api.write_market(out, market)
        imported = clausier("portefeuille", "importer", str(out), "--organisation", "Ville A", "--data", str(data), env=env)
        assert imported.returncode == 0, imported.stdout + imported.stderr
        server = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", "--port", "0", "--data",
                                   str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=process_env(env), cwd=ROOT)
        try:
            line = server.stdout.readline().strip()
            match = re.match(r"^clausier : (http://127\.0\.0\.1:\d+)/ \(connexion avec votre compte\)$", line)
            assert match, line + server.stderr.read() if server.poll() is not None else line
            base = match.group(1)
            facilitator = Browser(base)
            assert facilitator.get("/suivi/")[1].count("Connexion") >= 1
            status, _ = facilitator.post("/connexion/", {"adresse": "facilitatrice@plie.fr", "mot_de_passe": PASSWORD})
            assert status == 200  # redirected to the portfolio
            grid = fill(grid_of(market), months("2027-01-01", 2))
            status, page = facilitator.post("/suivi/retours/", {"mois": "2027-02"}, [("grilles", "fevrier.xlsx", grid)])
            assert status == 200 and "1 grille enregistrée pour février 2027" in html.unescape(page), page[-2000:]
            status, page = facilitator.get("/suivi/tableau-de-bord/")
            assert status == 200 and '<span class="valeur">244</span> heures réalisées' in page
            suivi_id = re.search(r'href="/suivi/marches/(\d+)/"', facilitator.get("/suivi/")[1]).group(1)
            # Ville B's buyer: 404 on that market's pages and files, a CSRF-less POST refused
            buyer = Browser(base)
            buyer.post("/connexion/", {"adresse": "acheteur@ville-b.fr", "mot_de_passe": PASSWORD})
            for path in (f"/suivi/marches/{suivi_id}/", f"/suivi/marches/{suivi_id}/grille-generee.xlsx",
                         f"/suivi/marches/{suivi_id}/graphiques/heures.svg"):
                assert buyer.get(path)[0] == 404, path
            forged = urllib.request.Request(base + f"/suivi/marches/{suivi_id}/penalites/", data=b"penalites_retenues=0",
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                facilitator.opener.open(forged)
            assert refused.value.code == 403
        except AssertionError:
            server.terminate()
            raise AssertionError(f"journal du serveur : {server.communicate(timeout=10)[1][-4000:]}") from None
        finally:
            if server.poll() is None:
                server.terminate()
                server.communicate(timeout=10)
