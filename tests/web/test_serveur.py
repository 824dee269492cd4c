"""`clausier serve` itself: one line, loopback only, the data folder, the database URL, what is vendored."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.web.bureau import assert_french_and_labelled, start_server

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
LINE = re.compile(r"^clausier : (http://127\.0\.0\.1:(\d+))/\?token=([A-Za-z0-9_-]{40,})$")


def test_serve_prints_one_line_and_serves_the_refusal_page_without_the_token(tmp_path):
    process, base, token = start_server(tmp_path / "donnees")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/")
        assert refused.value.code == 403 and "Accès refusé" in refused.value.read().decode()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        home = opener.open(f"{base}/?token={token}")
        assert home.status == 200 and "Mes marchés" in home.read().decode()
        # the server's identity is not advertised beyond the product
        assert home.headers["Server"] == "clausier"
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert out == "" and err == ""  # nothing else printed: the one line was all
    data = tmp_path / "donnees"
    assert (data / "clausier.sqlite3").is_file() and (data / "cle-secrete").is_file() and (data / "fichiers").is_dir()
    if sys.platform != "win32":
        assert (data / "cle-secrete").stat().st_mode & 0o077 == 0


def test_a_second_start_reuses_the_data_and_gives_a_new_token(tmp_path):
    first, base, token = start_server(tmp_path)
    first.terminate()
    first.communicate(timeout=10)
    second, base2, token2 = start_server(tmp_path)
    try:
        assert token2 != token
        with pytest.raises(urllib.error.HTTPError) as old:
            urllib.request.urlopen(f"{base2}/?token={token}")
        assert old.value.code == 403
        request = urllib.request.Request(f"{base2}/api/v1/bibliotheque", headers={"Authorization": f"Bearer {token2}"})
        assert urllib.request.urlopen(request).status == 200
    finally:
        second.terminate()
        second.communicate(timeout=10)


def test_any_other_address_than_loopback_needs_accounts(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "demande des comptes utilisateurs" in result.output and "127.0.0.1" in result.output
    assert not (tmp_path / "clausier.sqlite3").exists()


def test_a_port_in_use_is_said_in_french(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port),
                                 "--data", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and f"le port {port} est déjà utilisé" in result.stderr


def test_loopback_addresses():
    from web.server import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("exemple.fr")


def test_the_database_url():
    from web.settings import database_from_url

    folder = Path("/donnees")
    sqlite = database_from_url(None, folder)
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3" and sqlite["NAME"] == str(folder / "clausier.sqlite3")
    pg = database_from_url("postgresql://acheteur:m%40t@db.exemple:5433/clausier?sslmode=require", folder)
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == ("acheteur", "m@t", "db.exemple", "5433",
                                                                                 "clausier")
    assert pg["OPTIONS"] == {"sslmode": "require"}
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="postgresql://"):
        database_from_url("mysql://x@y/z", folder)


def test_migrations_are_complete(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_vendored_htmx_matches_its_record():
    record = (WEB / "static/clausier/vendor/VENDORED.md").read_text(encoding="utf-8")
    digest = re.search(r"`htmx-2\.0\.11\.min\.js` .*`([0-9a-f]{64})`", record).group(1)
    assert hashlib.sha256((WEB / "static/clausier/vendor/htmx-2.0.11.min.js").read_bytes()).hexdigest() == digest
    assert "htmx-2.0.11.min.js" in (WEB / "templates/base.html").read_text(encoding="utf-8")


def test_no_page_loads_anything_from_the_internet_nor_runs_inline_script():
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', text), template.name
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script and 'type="application/json"' not in script, template.name  # no inline script
        assert "style=" not in text, template.name  # styles in the style sheet (a CSP without inline styles)


def test_every_page_is_french_and_every_input_has_its_label(client, imported):
    client.post(f"/marches/{imported.pk}/generer/", {})
    client.post("/marches/nouveau/")
    urls = ["/", "/marches/importer/", "/acces-programmes/", f"/marches/{imported.pk}/", f"/marches/{imported.pk}/plan/",
            f"/marches/{imported.pk}/pieces/", f"/marches/{imported.pk}/generations/1/", f"/marches/{imported.pk}/bibliotheque/",
            "/marches/2/entretien/marche/", "/marches/2/entretien/lots/1/", "/marches/2/entretien/objectifs/",
            "/marches/2/entretien/facilitateur/", "/marches/2/entretien/recapitulatif/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_french_and_labelled(url, response.content.decode())

