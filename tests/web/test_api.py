"""The JSON API: Bearer token, the plan byte for byte as `clausier plan --format json`, the DCE zip, errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from django.test import Client

from cli import main
from tests.web.conftest import EXAMPLE, EXAMPLES

YAML = "application/yaml"


@pytest.fixture
def api(token):
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return c


def test_without_a_token_401_with_a_wrong_one_403(anonymous, buyer):
    body = EXAMPLE.read_bytes()
    for route in ("/api/v1/plan", "/api/v1/dce"):
        missing = anonymous.post(route, body, content_type=YAML)
        assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
        assert "authentification requise" in missing.json()["detail"]
        wrong = anonymous.post(route, body, content_type=YAML, HTTP_AUTHORIZATION="Bearer pas-le-bon")
        assert wrong.status_code == 403 and "accès refusé" in wrong.json()["detail"]
        other_scheme = anonymous.post(route, body, content_type=YAML, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
        assert other_scheme.status_code == 401


def test_a_browser_session_does_not_open_the_api(client):
    """The API is for programs, with the token; a session cookie alone (a page of another site) gets nothing."""
    assert client.post("/api/v1/plan", EXAMPLE.read_bytes(), content_type=YAML).status_code == 401


def test_the_session_token_of_an_earlier_run_no_longer_opens_the_api(api, buyer, token):
    from web.acces import new_session_token

    assert api.post("/api/v1/plan", EXAMPLE.read_bytes(), content_type=YAML).status_code == 200
    new_session_token(buyer)
    assert api.post("/api/v1/plan", EXAMPLE.read_bytes(), content_type=YAML).status_code == 403


@pytest.mark.parametrize("example", ["example-ecole.yaml", "nettoyage-accord-cadre.yaml", "informatique-etat.json"])
def test_the_plan_is_byte_for_byte_the_clis(api, example):
    path = EXAMPLES / example
    kind = "application/json" if example.endswith(".json") else YAML
    response = api.post("/api/v1/plan", path.read_bytes(), content_type=kind)
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    cli = CliRunner().invoke(main, ["plan", str(path), "--format", "json"])
    assert cli.exit_code == 0
    assert response.content == cli.output.encode("utf-8")


def test_an_invalid_questionnaire_gets_422_with_every_issue(api):
    body = b"version: 1\nacheteur:\n  nom: Ville\n  type: commune\nlots: []\n"
    response = api.post("/api/v1/plan", body, content_type=YAML)
    assert response.status_code == 422
    data = response.json()
    assert data["detail"] == "questionnaire.yaml : 3 erreurs dans le questionnaire"
    by_path = {e["chemin"]: e for e in data["erreurs"]}
    assert by_path["acheteur.type"]["ligne"] == 4 and "commune" in by_path["acheteur.type"]["message"]
    assert by_path["acheteur.type"]["texte"].startswith("ligne 4 : acheteur.type : valeur « commune » non admise")
    assert set(by_path) == {"acheteur.type", "marche", "lots"}
    dce = api.post("/api/v1/dce", body, content_type=YAML)
    assert dce.status_code == 422 and dce.json() == data


def test_unsupported_content_types_and_bad_settings(api):
    body = EXAMPLE.read_bytes()
    assert api.post("/api/v1/plan", body, content_type="text/plain").status_code == 415
    assert "application/yaml" in api.post("/api/v1/plan", body, content_type="text/plain").json()["detail"]
    unknown = api.post("/api/v1/plan?bibliotheque=1999.1.0", body, content_type=YAML)
    assert unknown.status_code == 422 and "1999.1.0" in unknown.json()["detail"]
    assert api.post("/api/v1/dce?fichier=../x.yaml", body, content_type=YAML).status_code == 422
    assert api.post("/api/v1/dce?fichier=x.json", body, content_type=YAML).status_code == 422
    assert api.post("/api/v1/dce?premier_article=0", body, content_type=YAML).status_code == 422
    typed = api.post("/api/v1/dce?premier_article=sept", body, content_type=YAML)
    assert typed.status_code == 422 and "« premier_article »" in typed.json()["detail"]


def test_too_large_a_body_is_413(api):
    response = api.post("/api/v1/plan", b"#" * (20 * 1024 * 1024 + 1), content_type=YAML)
    assert response.status_code == 413 and "trop volumineux" in response.json()["detail"]


def test_the_dce_is_the_same_zip_from_the_api_and_from_the_web(api, client, imported):
    body = EXAMPLE.read_bytes()
    first = api.post("/api/v1/dce?fichier=example-ecole.yaml", body, content_type=YAML)
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    assert first["Content-Disposition"] == 'attachment; filename="2026-TRV-014_DCE.zip"'
    second = api.post("/api/v1/dce?fichier=example-ecole.yaml", body, content_type=YAML)
    assert second.content == first.content
    assert client.post(f"/marches/{imported.pk}/generer/", {}).status_code == 302
    web = client.get(f"/marches/{imported.pk}/generations/1/dce.zip")
    assert web.content == first.content
    # the file name is part of the manifest: another name, another manifest
    renamed = api.post("/api/v1/dce", body, content_type=YAML)
    assert renamed.content != first.content


def test_the_dce_of_a_published_version_and_of_a_json_questionnaire(api):
    from web import moteur

    oldest = moteur.versions()[0]
    body = (EXAMPLES / "informatique-etat.json").read_bytes()
    response = api.post(f"/api/v1/dce?bibliotheque={oldest}&fichier=informatique-etat.json", body,
                        content_type="application/json")
    assert response.status_code == 200
    lib = moteur.library(oldest)
    loaded = moteur.ENGINE.read_questionnaire(body, lib, "informatique-etat.json")
    assert response.content == moteur.ENGINE.dce_zip(moteur.ENGINE.render_market(loaded, lib))


def test_the_excel_form_is_accepted_as_a_body(api, tmp_path):
    from tests.support.form import filled_form

    form = filled_form(tmp_path, [[1, "Gros œuvre", "btp_gros_oeuvre", None, 1500000]])
    response = api.post("/api/v1/plan", form.read_bytes(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.status_code == 200 and json.loads(response.content)["marche"]["reference"] == "2027-FORM-01"


def test_the_openapi_document_carries_the_questionnaire_schema(api, anonymous):
    from drafting import api as engine

    assert anonymous.get("/api/v1/openapi.json").status_code == 403
    doc = api.get("/api/v1/openapi.json").json()
    assert set(doc["paths"]) >= {"/api/v1/plan", "/api/v1/dce", "/api/v1/bibliotheque"}
    body = doc["paths"]["/api/v1/plan"]["post"]["requestBody"]["content"]
    assert {"application/yaml", "application/json"} <= set(body)
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Questionnaire"}
    components = doc["components"]["schemas"]
    schema = engine.questionnaire_schema()
    assert set(components["Questionnaire"]["properties"]) == set(schema["properties"])
    assert set(schema["$defs"]) <= set(components)
    # every reference of the document resolves inside it (none left pointing at the schema's own $defs)
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(doc))
    assert refs and all(ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components for ref in refs)
    assert doc["components"]["securitySchemes"]["Bearer"]["scheme"] == "bearer"


def test_the_docs_page_uses_no_cdn(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page and "cdn" not in page.lower() and "http://" not in page.replace(
        "http://www.w3.org", "")
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_library_versions(api):
    from web import moteur

    data = api.get("/api/v1/bibliotheque").json()
    assert data == {"en_service": moteur.library().version, "versions": moteur.versions()}


def test_an_engine_bug_gives_a_json_500_with_an_incident(api, monkeypatch):
    from web import moteur

    monkeypatch.setattr(moteur.ENGINE, "plan", lambda *a, **k: 1 / 0)
    response = api.post("/api/v1/plan", EXAMPLE.read_bytes(), content_type=YAML)
    assert response.status_code == 500
    data = response.json()
    assert data["detail"] == "erreur interne de clausier" and len(data["incident"]) == 15
    assert "ZeroDivision" not in response.content.decode()
