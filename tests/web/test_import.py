"""« Importer un questionnaire »: the CLI's own reader, every issue with its path and line, 422, nothing stored."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
import yaml

from tests.support.form import filled_form
from tests.web.conftest import EXAMPLES, import_example

BAD = b"""version: 1
acheteur:
  nom: Ville
  type: commune
marche:
  reference: A B
  objet: Test
  nature: travaux
lots:
  - numero: 1
    intitule: Lot
    secteur: peinture
    montant_estime_ht: "1.500 EUR"
"""


def _upload(client, name: str, raw: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/marches/importer/", {"questionnaire": SimpleUploadedFile(name, raw)})


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_each_example_is_imported_and_opens_on_its_plan(client, example):
    from web.marches.models import Marche

    response = import_example(client, EXAMPLES / example)
    market = Marche.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/marches/{market.pk}/plan/"
    assert market.valide and market.origine == "import" and market.questionnaire_nom == example
    plan = client.get(response["Location"])
    assert plan.status_code == 200 and market.reference in plan.content.decode()
    assert "importé" in plan.content.decode()


def test_an_imported_file_is_kept_byte_for_byte_and_exported_as_it_was(client, imported):
    from web import blobs

    original = (EXAMPLES / "example-ecole.yaml").read_bytes()
    assert blobs.get(imported.questionnaire_sha256) == original
    exported = client.get(f"/marches/{imported.pk}/questionnaire.yaml")
    assert exported.status_code == 200 and exported.content == original
    assert exported["Content-Disposition"] == 'attachment; filename="2026-TRV-014.yaml"'


def test_a_file_with_problems_gets_every_issue_with_path_and_line_and_nothing_is_stored(client):
    from web.marches.models import Marche

    response = _upload(client, "mauvais.yaml", BAD)
    page = response.content.decode()
    assert response.status_code == 422
    assert "mauvais.yaml : 4 erreurs dans le questionnaire" in page
    for line, path in ((4, "acheteur.type"), (6, "marche.reference"), (12, "lots[0].secteur"),
                       (13, "lots[0].montant_estime_ht")):
        assert f"<tr><td>ligne {line}</td><td><code>{path}</code></td>" in page, path
    assert "secteurs proches : btp_peinture" in page
    assert "Rien n'a été enregistré" in page
    assert not Marche.objects.exists()


def test_broken_yaml_and_json_are_explained(client):
    response = _upload(client, "casse.yaml", b"version: 1\nacheteur: [\n")
    assert response.status_code == 422 and "YAML mal formé" in response.content.decode()
    response = _upload(client, "casse.json", b'{"version": 1,}')
    assert response.status_code == 422 and "JSON mal formé" in response.content.decode()


def test_a_filled_excel_form_is_read_by_the_engine(client, tmp_path):
    from web.marches.models import Marche

    form = filled_form(tmp_path, [[1, "Gros œuvre", "btp_gros_oeuvre", None, 1500000]])
    response = _upload(client, "formulaire.xlsx", form.read_bytes())
    assert response.status_code == 302, response.content.decode()[:3000]
    market = Marche.objects.get()
    assert market.reference == "2027-FORM-01" and market.donnees["lots"][0]["secteur"] == "btp_gros_oeuvre"
    # the answers can be edited in the interview: the form's values became questionnaire keys
    assert client.get(f"/marches/{market.pk}/entretien/lots/1/").status_code == 200


def test_an_excel_form_with_errors_names_the_cells(client, tmp_path):
    form = filled_form(tmp_path, [[1, "Gros œuvre", "btp_inconnu", None, -5]])
    response = _upload(client, "formulaire.xlsx", form.read_bytes())
    page = response.content.decode()
    assert response.status_code == 422
    assert "<td>Lots!C2</td>" in page and "lots[0].secteur" in page


def test_an_excel_bomb_is_stopped_by_the_archive_guard(client):
    """A workbook whose directory announces 4 GB once unpacked is refused before anything is unpacked."""
    from web.marches.models import Marche

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 1000)
    raw = bytearray(buffer.getvalue())
    directory = raw.rindex(b"PK\x01\x02")  # central directory entry of the sheet
    struct.pack_into("<I", raw, directory + 24, 0xFFFFFFF0)  # its uncompressed size, as a zip bomb states it
    response = _upload(client, "bombe.xlsx", bytes(raw))
    assert response.status_code == 422 and "décompressé démesuré" in response.content.decode()
    assert not Marche.objects.exists()
    garbage = _upload(client, "pas-un-classeur.xlsx", b"PK\x03\x04 ceci n'est pas un classeur")
    assert garbage.status_code == 422 and "classeur Excel .xlsx lisible" in garbage.content.decode()


def test_other_files_and_missing_files_are_refused(client):
    response = _upload(client, "photo.png", b"\x89PNG")
    assert response.status_code == 422 and "n&#x27;est pas un questionnaire" in response.content.decode()
    response = client.post("/marches/importer/", {})
    assert response.status_code == 422 and "Choisissez un fichier" in response.content.decode()


def test_the_import_page_has_a_labelled_file_field(client):
    page = client.get("/marches/importer/").content.decode()
    assert '<label for="questionnaire">' in page and 'id="questionnaire"' in page and 'enctype="multipart/form-data"' in page


def test_imported_data_round_trips_through_the_engine(client, imported):
    """The answers kept for editing describe the same market as the file (same plan)."""
    from drafting import api
    from web import moteur

    lib = moteur.library()
    model, issues = moteur.ENGINE.check_answers(imported.donnees, lib)
    assert not issues
    original = yaml.safe_load((EXAMPLES / "example-ecole.yaml").read_text(encoding="utf-8"))
    assert imported.donnees["lots"][0]["parametres"] == original["lots"][0]["parametres"]
    from_file = moteur.ENGINE.read_questionnaire((EXAMPLES / "example-ecole.yaml").read_bytes(), lib, "x.yaml")
    assert api.plan_json_text(moteur.ENGINE.plan(model, lib)) == api.plan_json_text(moteur.ENGINE.plan(from_file, lib))
