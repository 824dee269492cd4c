"""Who gets in: the one-time token, the session it opens, 403 for everyone else, CSRF on every POST."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.web.conftest import import_example

PAGES = ["/", "/marches/importer/", "/acces-programmes/", "/marches/1/", "/marches/1/plan/", "/marches/1/pieces/",
         "/marches/1/entretien/marche/", "/marches/1/entretien/lots/1/", "/marches/1/entretien/recapitulatif/",
         "/marches/1/questionnaire.yaml", "/marches/1/generations/1/", "/marches/1/generations/1/dce.zip",
         "/marches/1/bibliotheque/", "/api/v1/docs", "/api/v1/openapi.json", "/page-inconnue/"]


@pytest.mark.parametrize("url", PAGES)
def test_without_a_session_every_page_is_refused_in_french(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="fr">' in page and "<h1>Accès refusé</h1>" in page
    assert "Mes marchés" not in page  # nothing of the application shows


def test_the_start_url_opens_a_session_once_and_then_is_refused(anonymous, token):
    response = anonymous.get(f"/?token={token}")
    assert response.status_code == 302 and response["Location"] == "/"  # the token leaves the address bar
    assert anonymous.get("/").status_code == 200
    # the same link opened again in this browser: no harm, the session is there
    assert anonymous.get(f"/?token={token}").status_code == 302
    # in another browser it no longer opens anything
    other = Client()
    again = other.get(f"/?token={token}")
    assert again.status_code == 403
    assert "n'est plus valable" in again.content.decode()
    assert other.get("/").status_code == 403


def test_the_token_keeps_the_rest_of_the_address(anonymous, token):
    response = anonymous.get(f"/marches/importer/?token={token}&x=1")
    assert response.status_code == 302 and response["Location"] == "/marches/importer/?x=1"


def test_a_wrong_token_or_a_token_of_an_earlier_run_is_refused(anonymous, buyer, token):
    from web.acces import new_session_token

    assert anonymous.get("/?token=nimportequoi").status_code == 403
    new_session_token(buyer)  # the server restarted: the earlier line no longer works
    assert anonymous.get(f"/?token={token}").status_code == 403


def test_static_files_are_served_without_a_session(anonymous):
    css = anonymous.get("/static/clausier/clausier.css")
    assert css.status_code == 200 and b"--focus" in b"".join(css.streaming_content)
    assert anonymous.get("/static/clausier/vendor/htmx-2.0.11.min.js").status_code == 200


def test_an_unknown_host_name_is_refused(client):
    """DNS rebinding: a page of another site pointing its name at 127.0.0.1 gets nothing."""
    assert client.get("/", HTTP_HOST="attaquant.example").status_code == 400
    assert client.get("/", HTTP_HOST="localhost:8765").status_code == 200


def _post_routes(client) -> list[str]:
    market = import_example(client)
    pk = int(re.search(r"/marches/(\d+)/", market["Location"]).group(1))
    generated = client.post(f"/marches/{pk}/generer/", {})
    assert generated.status_code == 302
    return ["/marches/nouveau/", "/marches/importer/", f"/marches/{pk}/entretien/marche/",
            f"/marches/{pk}/entretien/objectifs/", f"/marches/{pk}/entretien/facilitateur/",
            f"/marches/{pk}/entretien/lots/1/", f"/marches/{pk}/entretien/lots/1/supprimer/", f"/marches/{pk}/plan/choix/",
            f"/marches/{pk}/generer/", f"/marches/{pk}/generations/1/pdf/"]


def test_every_post_needs_the_csrf_token(client, csrf_client):
    from web.marches.models import Generation, Marche

    routes = _post_routes(client)
    before = (Marche.objects.count(), Generation.objects.count(), Marche.objects.get().donnees)
    for url in routes:
        response = csrf_client.post(url, {"marche.objet": "changé", "action": "continuer"})
        assert response.status_code == 403, url
        assert "Formulaire expiré" in response.content.decode(), url
    assert (Marche.objects.count(), Generation.objects.count(), Marche.objects.get().donnees) == before


def test_a_post_with_the_csrf_token_goes_through(csrf_client):
    page = csrf_client.get("/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = csrf_client.post("/marches/nouveau/", {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302 and "/entretien/marche/" in response["Location"]
    # htmx requests carry it as a header (hx-headers on <body>)
    header = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    assert csrf_client.post("/marches/nouveau/", HTTP_X_CSRFTOKEN=header).status_code == 302


def test_another_organisation_never_sees_a_market(client, imported, db):
    """Anticipates the accounts: a market of another organisation is a 404, like one that does not exist."""
    from django.contrib.auth import get_user_model

    from web.marches.models import Membre, Organisation

    other_org = Organisation.objects.create(nom="Autre commune", slug="autre")
    other = get_user_model().objects.create(username="autre")
    Membre.objects.create(utilisateur=other, organisation=other_org)
    stranger = Client()
    stranger.force_login(other)
    for url in (f"/marches/{imported.pk}/", f"/marches/{imported.pk}/plan/", f"/marches/{imported.pk}/questionnaire.yaml"):
        response = stranger.get(url)
        assert response.status_code == 404 and "Page introuvable" in response.content.decode()
    assert imported.reference not in stranger.get("/").content.decode()


def test_a_server_error_shows_an_incident_number_and_no_traceback(buyer, imported, monkeypatch, caplog):
    from web import moteur

    def broken(*args, **kwargs):
        raise RuntimeError("détail interne qui ne doit pas sortir")

    monkeypatch.setattr(moteur.ENGINE, "plan", broken)
    c = Client(raise_request_exception=False)
    c.force_login(buyer)
    with caplog.at_level("ERROR", logger="clausier.web"):
        response = c.get(f"/marches/{imported.pk}/plan/")
    page = response.content.decode()
    assert response.status_code == 500 and "Erreur interne" in page and '<html lang="fr">' in page
    number = re.search(r"Numéro d'incident : <strong>([0-9]{8}-[0-9A-F]{6})</strong>", page).group(1)
    assert "Traceback" not in page and "détail interne" not in page and "RuntimeError" not in page
    logged = [r for r in caplog.records if number in r.getMessage()]
    assert logged and logged[0].exc_info and "détail interne" in str(logged[0].exc_info[1])


def test_uploads_over_20_mb_are_refused_with_413(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("gros.yaml", b"#" * (20 * 1024 * 1024 + 10))
    response = client.post("/marches/importer/", {"questionnaire": big})
    assert response.status_code == 413
    assert "trop volumineux" in response.content.decode() and "20 Mo" in response.content.decode()
    from web.marches.models import Marche

    assert not Marche.objects.exists()
