"""Generations: recorded, downloaded again byte for byte, the same bytes as the CLI and the API; PDF in the background;
library releases."""

from __future__ import annotations

import io
import json
import stat
import sys
import zipfile
from pathlib import Path

from click.testing import CliRunner

from cli import main
from tests.web.conftest import EXAMPLE


def _generate(client, market, version: str = ""):
    response = client.post(f"/marches/{market.pk}/generer/", {"bibliotheque": version})
    assert response.status_code == 302, response.content.decode()[:2000]
    from web.marches.models import Generation

    return Generation.objects.get(marche=market, numero=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def _files_of(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def test_a_generation_is_recorded_and_downloaded_again_byte_for_byte(client, imported):
    from web import moteur

    gen = _generate(client, imported)
    assert gen.numero == 1 and gen.bibliotheque_version == moteur.library().version
    first = client.get(f"/marches/{imported.pk}/generations/1/dce.zip")
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    assert first["Content-Disposition"] == 'attachment; filename="2026-TRV-014_DCE.zip"'
    files = _files_of(first.content)
    manifest = files["2026-TRV-014/manifest.json"]
    import hashlib

    assert hashlib.sha256(manifest).hexdigest() == gen.manifest_sha256
    assert json.loads(manifest)["questionnaire"] == {"fichier": "example-ecole.yaml",
                                                      "sha256": hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()}
    # a second generation later: recorded apart; the first is still downloaded as it was
    second = _generate(client, imported)
    assert second.numero == 2
    again = client.get(f"/marches/{imported.pk}/generations/1/dce.zip")
    assert again.content == first.content
    for name in gen.fichiers:
        one = client.get(f"/marches/{imported.pk}/generations/1/fichiers/{name}")
        assert one.status_code == 200 and one.content == files[f"2026-TRV-014/{name}"]
    assert client.get(f"/marches/{imported.pk}/generations/1/fichiers/inconnu.docx").status_code == 404
    page = client.get(f"/marches/{imported.pk}/").content.decode()
    assert gen.manifest_sha256[:12] in page and "Généré" in page


def test_the_web_zip_is_the_engines_and_the_files_are_the_clis(client, imported, tmp_path):
    from web import moteur

    gen = _generate(client, imported)
    web_zip = client.get(f"/marches/{imported.pk}/generations/{gen.numero}/dce.zip").content
    lib = moteur.library()
    loaded = moteur.ENGINE.read_questionnaire(EXAMPLE.read_bytes(), lib, "example-ecole.yaml")
    assert web_zip == moteur.ENGINE.dce_zip(moteur.ENGINE.render_market(loaded, lib))
    result = CliRunner().invoke(main, ["generate", str(EXAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = {p.name: p.read_bytes() for p in (tmp_path / "2026-TRV-014").iterdir()}
    assert {f"2026-TRV-014/{k}": v for k, v in written.items()} == _files_of(web_zip)


def test_a_market_edited_after_generation_shows_it(client, imported):
    _generate(client, imported)
    client.post(f"/marches/{imported.pk}/plan/choix/", {"lots[0].considerations.illettrisme": "oui",
                                                         "lots[0].justifications.illettrisme": "Chantier école."})
    assert "Modifié depuis la génération" in client.get("/").content.decode()
    gen = _generate(client, imported)
    manifest = json.loads(client.get(f"/marches/{imported.pk}/generations/{gen.numero}/fichiers/manifest.json").content)
    assert manifest["questionnaire"]["fichier"] == "2026-TRV-014.yaml" and "illettrisme" in manifest["types_retenus"]


def test_regenerating_with_a_published_version_and_the_impact_page(client, imported):
    from web import moteur

    versions = moteur.versions()
    oldest = versions[0]
    gen = _generate(client, imported, oldest)
    assert gen.bibliotheque_version == oldest and gen.bibliotheque_demandee == oldest
    manifest = json.loads(client.get(f"/marches/{imported.pk}/generations/{gen.numero}/fichiers/manifest.json").content)
    assert manifest["bibliotheque"]["version"] == oldest
    page = client.get(f"/marches/{imported.pk}/bibliotheque/").content.decode()
    fragments, data = moteur.ENGINE.impact(manifest, moteur.library())
    assert fragments or data  # the library moved since its oldest release
    for fid in fragments:
        assert f"<code>{fid}</code>" in page
    assert f"version {oldest}" in page and "(celle de la génération)" in page
    row = page[page.index(f"version {oldest}"):].split("</tr>")[0]
    assert "Aucun changement" in row  # its own version changes nothing
    # the same version again gives the same bytes
    again = _generate(client, imported, oldest)
    assert again.zip_sha256 == gen.zip_sha256
    assert client.post(f"/marches/{imported.pk}/generer/", {"bibliotheque": "1999.1.0"}).status_code == 422


def _fake_soffice(folder: Path) -> Path:
    """Writes « PDF » files the way LibreOffice does (one per document, in --outdir)."""
    script = folder / "soffice"
    script.write_text(f"""#!{sys.executable}
import sys, pathlib
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--outdir") + 1])
out.mkdir(parents=True, exist_ok=True)
for name in args:
    if name.endswith(".docx"):
        (out / (pathlib.Path(name).stem + ".pdf")).write_bytes(b"%PDF-1.4 copie de " + pathlib.Path(name).name.encode())
""", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _keep_test_connection(monkeypatch) -> None:
    """The background task closes its thread's database connection when done; run here, in the test's thread, that
    would be the test's own (its transaction, on PostgreSQL): it is kept open."""
    from types import SimpleNamespace

    from web.marches import pdf

    monkeypatch.setattr(pdf, "close_old_connections", lambda: None)
    monkeypatch.setattr(pdf, "connection", SimpleNamespace(close=lambda: None))


def test_pdf_copies_are_converted_in_the_background_with_a_visible_state(client, imported, tmp_path, monkeypatch):
    from web.marches import pdf
    from web.marches.models import Generation

    queued = []
    monkeypatch.setattr(pdf, "submit", lambda task, *args: queued.append((task, args)))
    monkeypatch.setenv("CLAUSIER_SOFFICE", str(_fake_soffice(tmp_path)))
    gen = _generate(client, imported)
    gen.refresh_from_db()
    assert gen.pdf_etat == Generation.PDF_EN_COURS and len(queued) == 1
    page = client.get(f"/marches/{imported.pk}/generations/{gen.numero}/").content.decode()
    assert "Conversion en cours" in page and 'hx-trigger="every 2s"' in page
    assert client.get(f"/marches/{imported.pk}/generations/{gen.numero}/dce-avec-pdf.zip").status_code == 404
    task, args = queued.pop()
    _keep_test_connection(monkeypatch)
    task(*args)  # what the background thread runs
    gen.refresh_from_db()
    assert gen.pdf_etat == Generation.PDF_PRET
    fragment = client.get(f"/marches/{imported.pk}/generations/{gen.numero}/?pdf=etat", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div id="pdf-etat"') and "Prêtes" in fragment.content.decode()
    archive = _files_of(client.get(f"/marches/{imported.pk}/generations/{gen.numero}/dce-avec-pdf.zip").content)
    pdfs = sorted(n for n in archive if n.endswith(".pdf"))
    assert len(pdfs) == len([n for n in gen.fichiers if n.endswith(".docx")])
    manifest = json.loads(archive["2026-TRV-014/manifest.json"])
    assert manifest["options"]["pdf"] is True and any(f["nom"].endswith(".pdf") for f in manifest["fichiers"])
    # the Word set of the generation is untouched
    plain = _files_of(client.get(f"/marches/{imported.pk}/generations/{gen.numero}/dce.zip").content)
    assert not any(n.endswith(".pdf") for n in plain)


def test_without_libreoffice_the_state_says_so(client, imported):
    gen = _generate(client, imported)
    gen.refresh_from_db()
    assert gen.pdf_etat == "indisponible"
    assert "LibreOffice n&#x27;est pas installé" in client.get(f"/marches/{imported.pk}/generations/1/").content.decode()


def test_a_failed_conversion_is_shown_and_can_be_started_again(client, imported, tmp_path, monkeypatch):
    from web.marches import pdf

    broken = tmp_path / "soffice"
    broken.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(1)\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setenv("CLAUSIER_SOFFICE", str(broken))
    _keep_test_connection(monkeypatch)
    monkeypatch.setattr(pdf, "submit", lambda task, *args: task(*args))
    gen = _generate(client, imported)
    gen.refresh_from_db()
    assert gen.pdf_etat == "echec" and "LibreOffice n'a pas converti" in gen.pdf_message
    page = client.get(f"/marches/{imported.pk}/generations/1/").content.decode()
    assert "Relancer la conversion" in page
    (tmp_path / "ok").mkdir()
    monkeypatch.setenv("CLAUSIER_SOFFICE", str(_fake_soffice(tmp_path / "ok")))
    assert client.post(f"/marches/{imported.pk}/generations/1/pdf/").status_code == 302
    gen.refresh_from_db()
    assert gen.pdf_etat == "pret"


def test_a_stored_file_that_was_altered_is_never_served(client, imported):
    from django.test import Client

    from web import blobs

    gen = _generate(client, imported)
    path = blobs.path_of(gen.zip_sha256)
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    c = Client(raise_request_exception=False)
    c.force_login(imported.createur)
    response = c.get(f"/marches/{imported.pk}/generations/1/dce.zip")
    page = response.content.decode()
    assert response.status_code == 500 and "Numéro d'incident" in page and "a été altéré" in page


def test_the_first_article_number_is_an_option_kept_when_regenerating(client, imported, token):
    from django.test import Client

    response = client.post(f"/marches/{imported.pk}/generer/", {"bibliotheque": "", "premier_article": "7"})
    assert response.status_code == 302
    gen = imported.generations.get()
    assert gen.options == {"premier_article": 7}
    files = _files_of(client.get(f"/marches/{imported.pk}/generations/1/dce.zip").content)
    assert json.loads(files["2026-TRV-014/manifest.json"])["options"]["premier_article"] == 7
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    same = api.post("/api/v1/dce?fichier=example-ecole.yaml&premier_article=7", EXAMPLE.read_bytes(),
                    content_type="application/yaml")
    assert same.content == client.get(f"/marches/{imported.pk}/generations/1/dce.zip").content
    page = client.get(f"/marches/{imported.pk}/bibliotheque/").content.decode()
    assert 'name="premier_article" value="7"' in page and "premier article n° 7" in page
    refused = client.post(f"/marches/{imported.pk}/generer/", {"premier_article": "zéro"})
    assert refused.status_code == 422 and "de 1 à 999" in refused.content.decode()
