"""Fixtures of the web application's tests (pytest-django).

Django is configured here, not in pyproject: the engine's tests never load it. The data
folder (file store) of each test is its own temporary folder; the database is
pytest-django's test database. LibreOffice is hidden from the application unless a test
provides a converter, so no test starts a real conversion in the background.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
os.environ.setdefault("CLAUSIER_DATA", tempfile.mkdtemp(prefix="clausier-web-tests-"))

import django  # noqa: E402
import pytest  # noqa: E402

django.setup()  # pytest-django found no settings at start-up (on purpose): it takes over from here

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "example-ecole.yaml"


@pytest.fixture(autouse=True)
def data_folder(settings, tmp_path, monkeypatch):
    settings.PASSWORD_HASHERS = ["tests.web.hachage.QuickArgon2PasswordHasher"]
    settings.CLAUSIER_DATA = tmp_path / "donnees"
    from web.suivi.tableau import PORTFOLIOS

    PORTFOLIOS.clear()
    monkeypatch.setenv("CLAUSIER_SOFFICE", str(tmp_path / "pas-de-libreoffice" / "soffice"))
    return settings.CLAUSIER_DATA


@pytest.fixture
def buyer(db):
    from web.acces import local_user

    user, organisation = local_user()
    return user


@pytest.fixture
def client(buyer):
    """A logged-in buyer (the session the start URL opens)."""
    from django.test import Client

    c = Client()
    c.force_login(buyer)
    return c


@pytest.fixture
def csrf_client(buyer):
    """A logged-in buyer whose POSTs are checked for CSRF as a browser's are."""
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(buyer)
    return c


@pytest.fixture
def anonymous(db):
    from django.test import Client

    return Client()


@pytest.fixture
def token(buyer):
    from web.acces import new_session_token

    return new_session_token(buyer)


def import_example(client, path: Path = EXAMPLE, name: str | None = None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")
    return client.post("/marches/importer/", {"questionnaire": upload})


@pytest.fixture
def imported(client):
    """The bundled example imported through the page; returns the market."""
    from web.marches.models import Marche

    response = import_example(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Marche.objects.get()


# ----------------------------------------------------------------------------- the facilitator's desk (team mode)


@pytest.fixture
def equipe(db):
    """Team mode: a buyer of « Ville A », a buyer of « Ville B », a facilitator following Ville A, an administrator.
    Returns a namespace with the users, their organisations, and logged-in clients."""
    from types import SimpleNamespace

    from django.test import Client

    from tests.web.bureau import PASSWORD
    from web.comptes.services import create_account

    made = {
        "acheteur_a": create_account("acheteur@ville-a.fr", "acheteur", ["Ville A"], PASSWORD, "Alice Achat"),
        "acheteur_b": create_account("acheteur@ville-b.fr", "acheteur", ["Ville B"], PASSWORD, "Bruno Bé"),
        "facilitateur": create_account("facilitatrice@plie.fr", "facilitateur", ["Ville A"], PASSWORD, "Fanny Suivi"),
        "admin": create_account("admin@clausier.fr", "admin", [], PASSWORD, "Ada Min"),
    }
    ns = SimpleNamespace(org_a=made["acheteur_a"].organisations[0][0], org_b=made["acheteur_b"].organisations[0][0])
    for name, created in made.items():
        client = Client(raise_request_exception=False)
        client.force_login(created.user)
        setattr(ns, name, created.user)
        setattr(ns, f"client_{name}", client)
    return ns


@pytest.fixture
def suivi_a(equipe):
    """A market of Ville A in the portfolio, as a web generation makes it (its files, its questionnaire)."""
    from tests.web.bureau import render
    from web.suivi import portefeuille
    from web.suivi.models import MarcheSuivi

    market, raw = render()
    suivi, _ = portefeuille.record(market.files, equipe.org_a, equipe.facilitateur, origine=MarcheSuivi.WEB,
                                   questionnaire=(raw, "2026-TRV-014.yaml"))
    suivi.market = market
    return suivi


# ----------------------------------------------------------------------------- clausier in a process of its own


def process_env(extra: dict | None = None) -> dict:
    """The environment of a ``clausier`` started in its own process: none of this process's Django settings (its
    data folder, its database), plus ``extra``."""
    keep = {k: v for k, v in os.environ.items()
            if k not in ("CLAUSIER_DATA", "DJANGO_SETTINGS_MODULE", "CLAUSIER_DATABASE_URL")}
    return {**keep, **(extra or {})}


def with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def fresh_database(url: str):
    """A new, empty PostgreSQL database on the server of ``url`` (dropped afterwards); yields its URL."""
    import secrets

    import psycopg
    from psycopg import sql

    name = f"clausier_t_{secrets.token_hex(5)}"
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def base_isolee():
    """The database of a ``clausier`` started in its own process: SQLite in its own data folder, or, when these tests
    run on PostgreSQL (``CLAUSIER_DATABASE_URL``), a database of its own on the same server, dropped afterwards.
    Returns the environment variables to give it."""
    url = os.environ.get("CLAUSIER_DATABASE_URL")
    if not url:
        yield {}
        return
    with fresh_database(url) as own:
        yield {"CLAUSIER_DATABASE_URL": own}
