"""The plan page (figures, origins, legal bases, overrides with their reason) and the pieces' preview."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import EXAMPLE


def test_the_plan_shows_every_consideration_of_every_lot_with_figures_and_origins(client, imported):
    page = client.get(f"/marches/{imported.pk}/plan/").content.decode()
    for title in ("Lot n° 1 — Gros œuvre", "Lot n° 2 — Peinture", "Lot n° 3 — Charpente métallique"):
        assert title in page
    assert page.count('class="consideration"') == 3 * 7
    # hours and how they were computed, each parameter with where it came from
    assert "<dt>Heures d&#x27;insertion</dt><dd>964\u00a0heures</dd>" in page
    assert "<dt>Part de main-d&#x27;œuvre</dt><dd>45\u00a0%</dd><dd class=\"origine\">valeur du lot</dd>" in page
    assert "<dt>Part de main-d&#x27;œuvre</dt><dd>70\u00a0%</dd><dd class=\"origine\">valeur par défaut du secteur</dd>" in page
    assert "<dd>1\u202f500\u202f000,00\u00a0€\u00a0HT</dd>" in page  # amounts as the pieces write them
    assert "Bases légales" in page and "L2112-2" in page
    assert "Clause sociale" in page  # DECP value


def test_the_plan_lists_what_to_complete_before_publishing_when_the_engine_gives_it(client, imported):
    from drafting import api
    from web import moteur

    lib = moteur.library()
    plan = api.plan_data(moteur.ENGINE.plan(moteur.ENGINE.check_answers(imported.donnees, lib)[0], lib))
    page = client.get(f"/marches/{imported.pk}/plan/").content.decode()
    if "a_completer" not in plan:
        pytest.skip("ce moteur ne donne pas encore la liste « à compléter »")
    assert "À compléter avant publication" in page
    for item in plan["a_completer"]:
        assert item["libelle"].replace("'", "&#x27;").replace("\"", "&quot;")[:40] in page


def _override(client, pk, lot, type_, choice, reason, htmx=False):
    data = {f"lots[{lot}].considerations.{type_}": choice, f"lots[{lot}].justifications.{type_}": reason}
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/marches/{pk}/plan/choix/", data, **extra)


def _status(page: str, lot: int, type_: str) -> str:
    block = page[page.index(f'id="lot-{lot}-{type_}"'):]
    return re.search(r'<span class="etat etat-([a-z_]+)">', block).group(1)


def test_an_override_with_its_reason_changes_the_plan(client, imported):
    page = client.get(f"/marches/{imported.pk}/plan/").content.decode()
    assert _status(page, 0, "plan_de_progres") == "ecartee"
    response = _override(client, imported.pk, 0, "plan_de_progres", "oui", "Chantier de 20 mois suivi par le PLIE.", htmx=True)
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith('<div id="plan-contenu">')  # htmx: the plan in place
    assert _status(page, 0, "plan_de_progres") == "retenue"
    assert "motif : « Chantier de 20 mois suivi par le PLIE. »" in page
    assert "Avis par défaut : écartée" in page
    assert _status(page, 1, "plan_de_progres") == "ecartee"  # the other lots keep the advice
    imported.refresh_from_db()
    assert imported.donnees["lots"][0]["considerations"] == {"plan_de_progres": "oui"}
    assert imported.donnees["lots"][0]["justifications"] == {"plan_de_progres": "Chantier de 20 mois suivi par le PLIE."}
    assert imported.questionnaire_nom == "2026-TRV-014.yaml"  # the pieces now come from the edited answers
    # back to the advice: both keys disappear
    response = _override(client, imported.pk, 0, "plan_de_progres", "auto", "")
    assert response.status_code == 302 and response["Location"].endswith("/plan/#lot-0")
    imported.refresh_from_db()
    assert "considerations" not in imported.donnees["lots"][0] and "justifications" not in imported.donnees["lots"][0]


def test_an_override_without_a_reason_is_refused_beside_the_reason_field(client, imported):
    before = imported.donnees
    response = _override(client, imported.pk, 1, "insertion", "non", "  ")
    page = response.content.decode()
    assert response.status_code == 422
    block = page[page.index('id="q-lots-1-justifications-insertion-erreurs"'):][:400]
    assert "indiquez la raison de ce choix" in block
    assert _status(page, 1, "insertion") == "retenue"
    imported.refresh_from_db()
    assert imported.donnees == before


def test_a_choice_for_every_lot_at_once(client, imported):
    page = client.get(f"/marches/{imported.pk}/plan/").content.decode()
    assert 'name="considerations.illettrisme"' in page and 'name="justifications.illettrisme"' in page
    response = client.post(f"/marches/{imported.pk}/plan/choix/", {"considerations.illettrisme": "oui",
                                                                    "justifications.illettrisme": "Chantier école."},
                           HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "Enregistré : le plan ci-dessous en tient compte." in page
    assert [_status(page, lot, "illettrisme") for lot in range(3)] == ["retenue"] * 3
    assert "Choix fixé pour tout le marché : retenir — « Chantier école. »" in page
    imported.refresh_from_db()
    assert imported.donnees["considerations"] == {"illettrisme": "oui"}
    # a lot may still decide otherwise: its own choice wins
    _override(client, imported.pk, 2, "illettrisme", "non", "Charpente posée en atelier.")
    page = client.get(f"/marches/{imported.pk}/plan/").content.decode()
    assert [_status(page, lot, "illettrisme") for lot in range(3)] == ["retenue", "retenue", "ecartee"]
    refused = client.post(f"/marches/{imported.pk}/plan/choix/", {"considerations.egalite_diversite": "non"})
    assert refused.status_code == 422 and "indiquez la raison de ce choix" in refused.content.decode()


def test_a_reason_too_long_gets_the_engine_message(client, imported):
    response = _override(client, imported.pk, 0, "illettrisme", "oui", "x" * 2001)
    page = response.content.decode()
    assert response.status_code == 422 and "texte trop long (2000 caractères au plus)" in page


def test_the_pieces_are_previewed_from_the_same_composition_as_the_word_files(client, imported):
    from web import moteur

    lib = moteur.library()
    loaded = moteur.ENGINE.read_questionnaire(EXAMPLE.read_bytes(), lib, "example-ecole.yaml")
    pieces = moteur.ENGINE.pieces(loaded, lib)
    page = client.get(f"/marches/{imported.pk}/pieces/").content.decode()
    for piece in pieces:
        assert f'<code>{piece.filename}</code>' in page
        assert piece.title.replace("'", "&#x27;") in page
    ccap = pieces[0]
    first = ccap.blocks[0]
    assert f'<h3><span class="numero">{first.number}</span> {first.runs[0].text}</h3>' in page  # « Article 1 – … »
    assert '<mark class="a-completer">' in page
    assert "964" in page  # the hours of lot 1 in the CCAP
    # buyer's text never becomes markup
    assert "<script" not in page.split("<body", 1)[1].replace('<script src="/static/', "")


def test_a_buyer_text_is_escaped_in_every_page(client):
    from web.marches.models import Marche

    client.post("/marches/nouveau/")
    market = Marche.objects.get()
    client.post(f"/marches/{market.pk}/entretien/marche/",
                {"marche.objet": "<script>alert(1)</script>", "action": "enregistrer"})
    for url in ("/", f"/marches/{market.pk}/", f"/marches/{market.pk}/entretien/marche/"):
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
