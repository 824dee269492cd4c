"""Accounts: ``clausier comptes``, logging in (throttled), sessions, security headers, the team server's start."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from click.testing import CliRunner
from django.test import Client

from cli import main
from tests.web.bureau import PASSWORD

pytestmark = pytest.mark.django_db


def run(*args: str, input: str | None = None, data=None):
    result = CliRunner().invoke(main, [*args, "--data", str(data)], input=input)
    assert "Traceback" not in result.output, result.output
    return result


def text(response) -> str:
    return html.unescape(response.content.decode())


# ----------------------------------------------------------------------------- clausier comptes


def test_an_account_is_created_with_the_password_read_from_stdin_and_hashed_with_argon2(settings):
    from django.contrib.auth import get_user_model

    from web.marches.models import Journal, Membre

    result = run("comptes", "ajouter", "Alice@Ville-A.fr", "--role", "acheteur", "--organisation", "Ville A",
                 "--nom", "Alice Achat", input=PASSWORD + "\n", data=settings.CLAUSIER_DATA)
    assert result.exit_code == 0, result.output
    assert "Organisation créée : Ville A (ville-a)" in result.output
    assert "Compte créé : alice@ville-a.fr (acheteur ; Ville A)." in result.output
    user = get_user_model().objects.get()
    assert user.username == "alice@ville-a.fr" and user.get_full_name() == "Alice Achat"
    assert user.password.startswith("argon2$") and user.check_password(PASSWORD)
    assert PASSWORD not in user.password
    assert Membre.objects.get().role == "acheteur"
    assert Journal.objects.get(action="compte_cree").detail["compte"] == "alice@ville-a.fr"


def test_an_address_that_already_has_an_account_is_refused_in_french(settings):
    data = settings.CLAUSIER_DATA
    run("comptes", "ajouter", "alice@ville-a.fr", "--role", "acheteur", "--organisation", "Ville A",
        input=PASSWORD + "\n", data=data)
    again = run("comptes", "ajouter", "ALICE@ville-a.fr", "--role", "facilitateur", "--organisation", "Ville B",
                input=PASSWORD + "\n", data=data)
    assert again.exit_code == 2
    assert "un compte existe déjà pour l'adresse alice@ville-a.fr : rien n'a été créé" in again.output


@pytest.mark.parametrize("password, message", [
    ("court", "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères."),
    ("123456789012345", "Ce mot de passe est entièrement numérique."),
    ("password12345", "Ce mot de passe est trop courant."),
])
def test_passwords_go_through_django_validators_with_french_messages(settings, password, message):
    from django.contrib.auth import get_user_model

    result = run("comptes", "ajouter", "bob@ville-a.fr", "--role", "acheteur", "--organisation", "Ville A",
                 input=password + "\n", data=settings.CLAUSIER_DATA)
    assert result.exit_code == 2 and "mot de passe refusé" in result.output and message in result.output
    assert not get_user_model().objects.exists()


def test_the_password_is_never_an_argument_and_bad_input_is_said_in_french(settings):
    data = settings.CLAUSIER_DATA
    help_text = run("comptes", "ajouter", "--help", data=data).output
    assert "mot de passe" in help_text.lower() and "--mot-de-passe" not in help_text and "--password" not in help_text
    assert "adresse électronique invalide" in run("comptes", "ajouter", "pas-une-adresse", "--role", "admin",
                                                  input=PASSWORD + "\n", data=data).output
    facilitator = run("comptes", "ajouter", "f@plie.fr", "--role", "facilitateur", input=PASSWORD + "\n", data=data)
    assert facilitator.exit_code == 2 and "--organisation est requis" in facilitator.output
    empty = run("comptes", "ajouter", "f@plie.fr", "--role", "admin", input="", data=data)
    assert empty.exit_code == 2 and "mot de passe attendu sur l'entrée standard" in empty.output


def test_list_change_password_deactivate_and_attach(settings):
    from django.contrib.auth import get_user_model

    data = settings.CLAUSIER_DATA
    run("comptes", "ajouter", "f@plie.fr", "--role", "facilitateur", "--organisation", "Ville A",
        input=PASSWORD + "\n", data=data)
    run("comptes", "ajouter", "admin@clausier.fr", "--role", "admin", input=PASSWORD + "\n", data=data)
    attached = run("comptes", "rattacher", "f@plie.fr", "--organisation", "Ville B", "--role", "facilitateur", data=data)
    assert attached.exit_code == 0 and "facilitateur pour Ville B" in attached.output
    listing = run("comptes", "lister", data=data).output
    assert re.search(r"f@plie\.fr  facilitateur  Ville A \(ville-a\); Ville B \(ville-b\)  \(jamais connecté\)", listing)
    assert "admin@clausier.fr  admin" in listing
    assert run("comptes", "mot-de-passe", "f@plie.fr", input="Un-autre-mot-de-passe-2028\n", data=data).exit_code == 0
    user = get_user_model().objects.get(username="f@plie.fr")
    assert user.check_password("Un-autre-mot-de-passe-2028")
    assert run("comptes", "desactiver", "f@plie.fr", data=data).exit_code == 0
    assert "[désactivé]" in run("comptes", "lister", data=data).output
    assert run("comptes", "mot-de-passe", "x@y.fr", input=PASSWORD + "\n", data=data).exit_code == 2


def test_passwords_are_typed_twice_in_a_terminal(settings, tmp_path, base_isolee):
    """A real terminal (pexpect): typed twice, hidden, a mismatch asked again."""
    import sys

    pexpect = pytest.importorskip("pexpect")
    from tests.web.conftest import process_env

    env = process_env({**base_isolee, "CLAUSIER_DATA": str(tmp_path / "donnees")})
    child = pexpect.spawn(sys.executable, ["-c", "from cli import main; main()", "comptes", "ajouter", "t@ville.fr",
                                           "--role", "admin"], env=env, encoding="utf-8", timeout=60,
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    child.expect("Mot de passe pour t@ville.fr")
    child.sendline(PASSWORD)
    child.expect("une seconde fois")
    child.sendline(PASSWORD + "x")
    child.expect("Les deux saisies diffèrent")
    child.expect("Mot de passe pour")
    child.sendline(PASSWORD)
    child.expect("une seconde fois")
    child.sendline(PASSWORD)
    child.expect("Compte créé : t@ville.fr")
    child.expect(pexpect.EOF)
    assert PASSWORD not in child.before


# ----------------------------------------------------------------------------- logging in


def _login(client: Client, address: str, password: str, **extra):
    page = client.get("/connexion/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post("/connexion/", {"adresse": address, "mot_de_passe": password, "csrfmiddlewaretoken": token,
                                       **extra})


def test_team_mode_asks_to_log_in_and_a_session_lasts_a_working_day(equipe):
    from web.marches.models import Journal

    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/suivi/tableau-de-bord/").status_code == 302
    assert browser.get("/suivi/tableau-de-bord/")["Location"] == "/connexion/?suivant=%2Fsuivi%2Ftableau-de-bord%2F"
    response = _login(browser, "Facilitatrice@PLIE.fr", PASSWORD, suivant="/suivi/tableau-de-bord/")
    assert response.status_code == 302 and response["Location"] == "/suivi/tableau-de-bord/"
    assert browser.get("/suivi/tableau-de-bord/").status_code == 200
    assert 9 * 3600 < browser.session.get_expiry_age() <= 10 * 3600
    assert Journal.objects.filter(action="connexion", acteur="facilitatrice@plie.fr").exists()
    # a link elsewhere is not followed
    other = Client()
    assert _login(other, "facilitatrice@plie.fr", PASSWORD, suivant="https://ailleurs.example/")["Location"] == "/suivi/"
    # logging out is a POST, with its token
    page = browser.get("/suivi/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post("/deconnexion/").status_code == 403
    assert browser.post("/deconnexion/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert browser.get("/suivi/").status_code == 302


def test_the_start_token_no_longer_opens_anything_once_accounts_exist(equipe):
    from web.acces import local_user, new_session_token

    user, _ = local_user()
    token = new_session_token(user)
    client = Client()
    assert client.get(f"/?token={token}")["Location"].startswith("/connexion/")
    assert client.get("/").status_code == 302
    # nor does it open the API: the programs of a team use their accounts' tokens
    assert Client().get("/api/v1/bibliotheque", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403


def test_a_wrong_password_is_said_beside_the_field_without_saying_which_was_wrong(equipe):
    from web.marches.models import Journal

    response = _login(Client(), "facilitatrice@plie.fr", "pas le bon")
    page = text(response)
    assert response.status_code == 401
    assert 'id="mot_de_passe-erreurs"><p class="erreur">Adresse électronique ou mot de passe incorrect.' in page
    assert _login(Client(), "inconnu@nulle-part.fr", "x").status_code == 401
    refused = Journal.objects.filter(action="connexion_refusee")
    assert [e.acteur for e in refused] == ["facilitatrice@plie.fr"]  # an unknown address is not recorded


def test_logins_are_throttled_after_repeated_failures(equipe, settings):
    from web.comptes.models import EchecConnexion

    client = Client()
    for _ in range(settings.CLAUSIER_CONNEXION_ECHECS):
        assert _login(client, "acheteur@ville-a.fr", "mauvais").status_code == 401
    blocked = _login(client, "acheteur@ville-a.fr", PASSWORD)  # even the right password: not tried
    assert blocked.status_code == 429
    assert "Trop de tentatives de connexion : réessayez dans 15 minutes" in text(blocked)
    assert "_auth_user_id" not in client.session
    # other accounts are not blocked by one being guessed
    assert _login(Client(), "acheteur@ville-b.fr", PASSWORD).status_code == 302
    # once the window has passed, the right password works and clears the failures
    EchecConnexion.objects.update(date=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16))
    assert _login(client, "acheteur@ville-a.fr", PASSWORD).status_code == 302
    assert not EchecConnexion.objects.filter(identifiant="acheteur@ville-a.fr").exists()


def test_one_address_guessing_many_accounts_is_throttled_too(equipe, settings):
    settings.CLAUSIER_CONNEXION_ECHECS_IP = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(3):
        _login(client, f"inconnu{n}@exemple.fr", "x")
    assert _login(client, "acheteur@ville-b.fr", PASSWORD).status_code == 429
    assert _login(Client(REMOTE_ADDR="203.0.113.10"), "acheteur@ville-b.fr", PASSWORD).status_code == 302


def test_the_throttling_rule():
    from web.comptes.limitation import refused_until

    now = dt.datetime(2027, 1, 10, 12, 0)
    window = dt.timedelta(minutes=15)
    at = [now - dt.timedelta(minutes=m) for m in (14, 10, 5, 2, 1)]
    assert refused_until(at[1:], now, 5, window) is None  # four failures: still allowed
    assert refused_until(at, now, 5, window) == at[0] + window  # five: until the oldest leaves the window
    assert refused_until([now - dt.timedelta(minutes=20)] + at[1:], now, 5, window) is None  # one too old


def test_every_page_carries_the_security_headers(equipe):
    for client, url in ((Client(), "/connexion/"), (equipe.client_facilitateur, "/suivi/"),
                        (equipe.client_facilitateur, "/suivi/tableau-de-bord/")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_the_admin_pages_are_for_administrators_and_reached_through_the_throttled_login(equipe):
    assert Client().get("/admin/")["Location"].startswith("/connexion/")  # never Django's own login form
    assert equipe.client_facilitateur.get("/admin/").status_code == 302  # not staff: sent to the admin's login…
    assert "/admin/login/" in equipe.client_facilitateur.get("/admin/")["Location"]
    page = equipe.client_admin.get("/admin/")
    assert page.status_code == 200 and "Administration de clausier" in text(page)
    inline = {"adhesions-TOTAL_FORMS": "1", "adhesions-INITIAL_FORMS": "0", "adhesions-0-organisation": equipe.org_a.pk,
              "adhesions-0-role": "acheteur"}
    add = equipe.client_admin.post("/admin/auth/user/add/", {"username": "Acheteur@Ville-A.fr", "password1": PASSWORD,
                                                            "password2": PASSWORD, "usable_password": "true", **inline})
    assert add.status_code == 200 and "Un compte existe déjà pour l'adresse acheteur@ville-a.fr." in text(add)
    created = equipe.client_admin.post("/admin/auth/user/add/", {"username": "Nouveau@Ville-A.fr", "password1": PASSWORD,
                                                                "password2": PASSWORD, "usable_password": "true", **inline})
    assert created.status_code == 302
    weak = equipe.client_admin.post("/admin/auth/user/add/", {"username": "faible@ville-a.fr", "password1": "court",
                                                             "password2": "court", "usable_password": "true", **inline})
    assert "Ce mot de passe est trop court" in text(weak)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="nouveau@ville-a.fr")
    assert user.email == "nouveau@ville-a.fr" and user.password.startswith("argon2$")
    assert user.adhesions.get().organisation == equipe.org_a
    journal = equipe.client_admin.get("/admin/marches/journal/")
    assert journal.status_code == 200 and "/admin/marches/journal/add/" not in text(journal)


def test_an_account_token_for_programs_is_shown_once_and_replaces_the_previous(equipe):
    from web.marches.models import JetonAcces

    client = equipe.client_acheteur_a
    first = re.search(r"<pre><code>([A-Za-z0-9_-]{40,})</code></pre>", client.post("/acces-programmes/jeton/").content.decode()).group(1)
    second = re.search(r"<pre><code>([A-Za-z0-9_-]{40,})</code></pre>", client.post("/acces-programmes/jeton/").content.decode()).group(1)
    assert first != second and JetonAcces.objects.filter(revoque=False, type="api").count() == 1
    api = Client()
    assert api.get("/api/v1/suivi/marches", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 403
    assert api.get("/api/v1/suivi/marches", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    assert first not in client.get("/acces-programmes/").content.decode()


# ----------------------------------------------------------------------------- clausier serve on a team server


def cli(*args: str, input: str | None = None, env: dict | None = None):
    """``clausier`` in its own process, on its own data folder (this process's Django is the tests' database)."""
    import subprocess
    import sys

    from tests.web.conftest import process_env

    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    return subprocess.run([sys.executable, "-c", "from cli import main; main()", *args], input=input,
                          capture_output=True, text=True, env=process_env(env), cwd=root, timeout=120)


def test_serve_on_another_address_needs_an_administrator_account(tmp_path, base_isolee):
    data = str(tmp_path / "donnees")
    refused = cli("serve", "--host", "0.0.0.0", "--data", data, env=base_isolee)
    assert refused.returncode == 2 and "créez d'abord un compte administrateur" in refused.stderr
    assert not (tmp_path / "donnees" / "clausier.sqlite3").exists() or base_isolee
    # a buyer's account is not enough
    made = cli("comptes", "ajouter", "a@ville.fr", "--role", "acheteur", "--organisation", "Ville", "--data", data,
               input=PASSWORD + "\n", env=base_isolee)
    assert made.returncode == 0, made.stderr
    again = cli("serve", "--host", "0.0.0.0", "--data", data, env=base_isolee)
    assert again.returncode == 2 and "créez d'abord un compte administrateur" in again.stderr


def test_serve_starts_in_team_mode_once_an_administrator_exists(tmp_path, base_isolee):
    """A real start on every address (port 0): one line, no token, each person logs in."""
    import subprocess
    import sys
    import urllib.request

    data = tmp_path / "donnees"
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    from tests.web.conftest import process_env

    env = process_env({**base_isolee, "CLAUSIER_ALLOWED_HOSTS": "127.0.0.1"})
    created = subprocess.run([sys.executable, "-c", "from cli import main; main()", "comptes", "ajouter", "admin@ville.fr",
                              "--role", "admin", "--data", str(data)], input=PASSWORD + "\n", capture_output=True,
                             text=True, env=env, cwd=root, timeout=60)
    assert created.returncode == 0, created.stderr
    process = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", "--host", "0.0.0.0",
                                "--port", "0", "--data", str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    try:
        line = process.stdout.readline()
        match = re.match(r"^clausier : http://[^:/]+:(\d+)/ \(connexion avec votre compte\)$", line.strip())
        assert match, line
        page = urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/connexion/")
        assert page.status == 200 and "Se connecter" in page.read().decode()
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_a_database_that_cannot_be_reached_is_said_with_exit_code_5(tmp_path, monkeypatch):
    import subprocess
    import sys

    from tests.web.conftest import process_env

    env = process_env({"CLAUSIER_DATABASE_URL": "postgresql://personne@127.0.0.1:1/nulle"})
    result = subprocess.run([sys.executable, "-c", "from cli import main; main()", "db", "migrer", "--data",
                             str(tmp_path)], capture_output=True, text=True, env=env, timeout=60,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert result.returncode == 5 and "base de données inaccessible" in result.stderr and "Traceback" not in result.stderr
