"""The library desk: a facilitator's own library (``library init``), browsed, previewed, compared, checked; the impact
of pending changes on the portfolio; a release made in the browser equal to one made with the command line."""

from __future__ import annotations

import html
import re
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from drafting import api
from tests.web.bureau import REFERENCE, render

pytestmark = pytest.mark.django_db
FRAGMENT = "illettrisme/rc"
OLD = "actions de formation aux savoirs de base"
NEW = "actions de formation aux savoirs de base et au numérique"


@pytest.fixture
def bibliotheque(tmp_path, monkeypatch):
    """A facilitators' library (``clausier library init``), in service for the web application."""
    from web import moteur

    folder = tmp_path / "ma-biblio"
    api.library_init(folder)
    monkeypatch.setenv("CLAUSIER_LIBRARY", str(folder))
    moteur._WORKING.clear()
    yield folder
    moteur._WORKING.clear()


def edit(folder) -> None:
    """A facilitator changes a wording and its version, as FORMAT.md asks."""
    path = folder / "fragments" / "illettrisme" / "rc.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(OLD, NEW).replace("version: 1.1.0", "version: 1.2.0", 1), encoding="utf-8")
    from web import moteur

    moteur._WORKING.clear()  # the server reads its working folder again at most once a second


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_fragments_are_browsed_by_type_and_piece(equipe, bibliotheque):
    client = equipe.client_facilitateur
    page = text(client.get("/bibliotheque/"))
    assert "Bibliothèque de clauses" in page and str(bibliotheque) in page
    assert 'href="/bibliotheque/fragments/insertion/ccap/"' in page and "Le dossier est exactement la version publiée" in page
    only = text(client.get("/bibliotheque/?type=illettrisme&piece=rc"))
    assert "illettrisme/rc" in only and "insertion/ccap" not in only


def test_a_fragment_previewed_on_a_sample_market_and_in_word(equipe, bibliotheque, suivi_a):
    client = equipe.client_facilitateur
    page = text(client.get(f"/bibliotheque/fragments/illettrisme/rc/?essai=suivi:{suivi_a.pk}&apercu=1"))
    assert "Aperçu du fragment illettrisme/rc, version 1.1.0" in page
    assert "Clause de lutte contre l’illettrisme" in page and "Gros œuvre" in page  # rendered on that market's lots
    essays = text(client.get("/bibliotheque/fragments/insertion/ccap/?essai=essai:travaux-ordinaire.yaml&apercu=1"))
    assert "Aperçu du fragment insertion/ccap" in essays
    word = client.get(f"/bibliotheque/fragments/illettrisme/rc/apercu.docx?essai=suivi:{suivi_a.pk}")
    lib = api.library(bibliotheque)
    name, expected = api.preview_fragment(api.read_questionnaire(_questionnaire(suivi_a), lib, f"{REFERENCE}.yaml"), lib,
                                          FRAGMENT)
    assert word.status_code == 200 and word.content == expected  # the file `library preview` writes
    assert name in word["Content-Disposition"]


def _questionnaire(suivi) -> bytes:
    from web import blobs

    return blobs.get(suivi.questionnaire_sha256)


def test_two_versions_are_compared_and_check_problems_listed(equipe, bibliotheque):
    edit(bibliotheque)
    client = equipe.client_facilitateur
    page = text(client.get("/bibliotheque/fragments/illettrisme/rc/?de=1.1.0&a="))
    assert "[-base-]{+base et au numérique+}" in page or "au numérique" in page
    assert 'class="diff-mots"' in page or 'class="diff-ajout"' in page
    listing = text(client.get("/bibliotheque/"))
    assert "1 modification non publiée" in listing and "1.1.0 → 1.2.0" in listing
    # a change without a new version is an error of `library check`, shown as such
    path = bibliotheque / "fragments" / "illettrisme" / "ae.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("illettrisme", "illetrisme", 3), encoding="utf-8")
    check = client.get("/bibliotheque/verification/")
    problems, counts = api.check_library(bibliotheque)
    assert counts["erreur"] >= 1
    assert f"{counts['erreur']} erreur" in text(check)
    for problem in problems:
        assert html.unescape(problem.message) in text(check)


def test_the_impact_of_pending_changes_lists_the_markets_that_would_change(equipe, bibliotheque, suivi_a, tmp_path):
    from web.suivi import portefeuille

    literacy, raw = render("2027-ILL-001", considerations={"illettrisme": "oui"})
    portefeuille.record(literacy.files, equipe.org_a, None, origine="web", questionnaire=(raw, "q.yaml"))
    assert "Aucune modification en attente" in text(equipe.client_facilitateur.get("/bibliotheque/impact/"))
    edit(bibliotheque)
    page = text(equipe.client_facilitateur.get("/bibliotheque/impact/"))
    folder = tmp_path / "sortie"
    api.write_market(folder, suivi_a.market)
    api.write_market(folder, literacy)
    expected = {i.reference: i for i in api.impacted(folder, api.library(bibliotheque), api.release_versions(bibliotheque)[-1])}
    assert "2027-ILL-001" in expected and FRAGMENT in expected["2027-ILL-001"].fragments  # the command line's answer
    assert ">2027-ILL-001</a>" in page and f"<code>{FRAGMENT}</code>" in page
    assert (f">{REFERENCE}</a>" in page) == (REFERENCE in expected)
    assert "1 marché touché sur 2 suivis" in re.sub(r"<[^>]+>", "", page)


def test_a_release_in_the_browser_equals_one_made_with_the_command_line(equipe, bibliotheque, tmp_path):
    from web.marches.models import Journal

    twin = tmp_path / "jumelle"
    shutil.copytree(bibliotheque, twin)
    edit(bibliotheque)
    edit(twin)
    client = equipe.client_facilitateur
    refused = client.post("/bibliotheque/publier/", {"message": "  "})
    assert refused.status_code == 422 and "Résumez la version" in text(refused)
    done = client.post("/bibliotheque/publier/", {"message": "Illettrisme : savoirs numériques"})
    assert done.status_code == 302
    cli = CliRunner().invoke(main, ["library", "release", "-m", "Illettrisme : savoirs numériques", "--library", str(twin)])
    assert cli.exit_code == 0, cli.output
    ours = {p.relative_to(bibliotheque): p.read_bytes() for p in bibliotheque.rglob("*") if p.is_file()}
    theirs = {p.relative_to(twin): p.read_bytes() for p in twin.rglob("*") if p.is_file()}
    assert ours == theirs
    entry = Journal.objects.get(action="bibliotheque_publiee")
    assert entry.acteur == "facilitatrice@plie.fr" and entry.detail["message"] == "Illettrisme : savoirs numériques"
    assert "Rien à publier" in text(client.get("/bibliotheque/publier/"))


def test_the_bundled_library_is_never_released_from_the_browser(equipe, monkeypatch):
    from web import moteur

    monkeypatch.delenv("CLAUSIER_LIBRARY", raising=False)
    moteur._WORKING.clear()
    page = equipe.client_facilitateur.get("/bibliotheque/publier/")
    assert "Publication impossible depuis ce serveur" in text(page) and "clausier library init" in text(page)
    assert equipe.client_facilitateur.post("/bibliotheque/publier/", {"message": "x"}).status_code == 409
