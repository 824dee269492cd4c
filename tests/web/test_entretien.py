"""The interview: questions in a buyer's order, conditional questions, the engine's messages beside their field."""

from __future__ import annotations

import re

import pytest
import yaml

MARKET = {"acheteur.nom": "Ville de Test", "acheteur.type": "collectivite", "marche.reference": "2027-AC-001",
          "marche.objet": "Nettoyage des écoles", "marche.nature": "services",
          "marche.forme": "accord_cadre_bons_de_commande", "marche.attributaires": "mono", "marche.duree_mois": "12",
          "marche.reconductions": "3", "marche.duree_reconduction_mois": "12",
          "marche.date_notification_prevue": "2027-03-01"}


@pytest.fixture
def draft(client):
    from web.marches.models import Marche

    response = client.post("/marches/nouveau/")
    market = Marche.objects.get()
    assert response["Location"] == f"/marches/{market.pk}/entretien/marche/"
    return market


def post(client, url, answers, action="continuer", live=False):
    data = dict(answers)
    if live:
        data["verification"] = "direct"
        return client.post(url, data, HTTP_HX_REQUEST="true")
    data["action"] = action
    return client.post(url, data)


def field_html(page: str, path: str) -> str:
    """The place of one question (its label, messages and input) in a page."""
    from web.marches.chemins import html_id

    start = page.index(f'id="{html_id(path)}-place"')
    end = page.find('<div class="place"', start + 10)
    return page[start:end if end > 0 else len(page)]


def errors_of(page: str, path: str) -> list[str]:
    return re.findall(r'<p class="erreur"><span class="sr">Erreur : </span>(.*?)</p>', field_html(page, path))


def test_every_field_is_named_by_its_questionnaire_path_and_has_a_label(client, draft):
    page = client.get(f"/marches/{draft.pk}/entretien/marche/").content.decode()
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', page))
    assert {"acheteur.nom", "acheteur.type", "marche.reference", "marche.objet", "marche.nature", "marche.forme",
            "marche.duree_mois", "marche.reconductions"} <= names
    assert names - {"csrfmiddlewaretoken", "action"} <= {k for k in names if re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", k)}
    for input_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page):
        assert f'for="{input_id}"' in page, f"pas de <label> pour {input_id}"


def test_answers_are_saved_as_the_buyer_goes_and_resumed(client, draft):
    url = f"/marches/{draft.pk}/entretien/marche/"
    response = post(client, url, {"acheteur.nom": "Ville de Test", "marche.objet": "Travaux"}, action="enregistrer")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.donnees["acheteur"]["nom"] == "Ville de Test" and draft.objet == "Travaux" and not draft.valide
    page = client.get(url).content.decode()
    assert 'value="Ville de Test"' in page and 'value="Travaux"' in page
    home = client.get("/").content.decode()
    assert "Travaux" in home and "Brouillon" in home


def test_a_wrong_answer_is_refused_beside_its_field_with_the_engine_message(client, draft):
    url = f"/marches/{draft.pk}/entretien/marche/"
    response = post(client, url, {**MARKET, "marche.reference": "2027/AC 001", "marche.duree_mois": "douze"})
    page = response.content.decode()
    assert response.status_code == 422  # the step is not left
    assert errors_of(page, "marche.reference")[0].startswith("référence « 2027/AC 001 » non admise")
    assert errors_of(page, "marche.duree_mois") == ["un nombre entier est attendu, reçu « douze »"]
    assert errors_of(page, "marche.objet") == []
    assert 'aria-invalid="true"' in field_html(page, "marche.reference")
    # a summary at the top takes the focus and links to each field to fix
    summary = page[page.index('id="autres-erreurs"'):page.index("</ul>", page.index('id="autres-erreurs"'))]
    assert 'tabindex="-1" autofocus' in summary
    assert '<a href="#q-marche-reference">Référence du marché</a>' in summary
    assert '<a href="#q-marche-duree_mois">Durée initiale, en mois</a>' in summary


def test_missing_answers_are_named_only_once_the_step_is_sent(client, draft):
    url = f"/marches/{draft.pk}/entretien/marche/"
    first = client.get(url).content.decode()
    assert "champ obligatoire absent" not in first  # a blank form is not a list of reproaches
    live = post(client, url, {"acheteur.nom": "Ville"}, live=True).content.decode()
    assert "champ obligatoire absent" not in live
    sent = post(client, url, {"acheteur.nom": "Ville"}).content.decode()
    assert errors_of(sent, "marche.objet") == ["champ obligatoire absent"]


def test_a_framework_asks_minimum_and_maximum_not_an_estimate(client, draft):
    url = f"/marches/{draft.pk}/entretien/marche/"
    ordinary = client.get(url).content.decode()
    assert 'name="marche.attributaires"' not in ordinary  # only for frameworks
    # choosing the framework form makes its question appear at once (htmx), in its reserved place
    live = post(client, url, {**MARKET, "marche.attributaires": ""}, live=True).content.decode()
    assert 'id="q-marche-attributaires-place" hx-swap-oob="true"' in live and 'name="marche.attributaires"' in live
    assert post(client, url, MARKET).status_code == 302
    lot = client.get(f"/marches/{draft.pk}/entretien/lots/1/").content.decode()
    assert 'name="lots[0].montant_minimum_ht"' in lot and 'name="lots[0].montant_maximum_ht"' in lot
    assert 'name="lots[0].montant_estime_ht"' not in lot
    # back to an ordinary market: the estimate is asked instead
    post(client, url, {**MARKET, "marche.forme": "ordinaire"})
    lot = client.get(f"/marches/{draft.pk}/entretien/lots/1/").content.decode()
    assert 'name="lots[0].montant_estime_ht"' in lot and 'name="lots[0].montant_maximum_ht"' not in lot


def test_a_wrong_amount_is_refused_beside_its_field(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", MARKET)
    url = f"/marches/{draft.pk}/entretien/lots/1/"
    lot = {"lots[0].intitule": "Écoles du nord", "lots[0].secteur": "nettoyage", "lots[0].montant_minimum_ht": "100 000",
           "lots[0].montant_maximum_ht": "1.500"}
    live = post(client, url, lot, live=True).content.decode()
    assert re.search(r'id="q-lots-0-montant_maximum_ht-erreurs"[^>]*hx-swap-oob="true">.*montant illisible « 1\.500 »', live)
    page = post(client, url, lot).content.decode()
    assert errors_of(page, "lots[0].montant_maximum_ht")[0].startswith("montant illisible « 1.500 »")
    # minimum above maximum: said beside the minimum
    page = post(client, url, {**lot, "lots[0].montant_maximum_ht": "50 000"}).content.decode()
    assert errors_of(page, "lots[0].montant_minimum_ht") == [
        "le montant minimum dépasse le montant maximum : vérifiez les deux montants"]
    # French amounts are read exactly
    assert post(client, url, {**lot, "lots[0].montant_maximum_ht": "1 500 000,50 €"}).status_code == 302
    draft.refresh_from_db()
    assert draft.donnees["lots"][0]["montant_maximum_ht"] == 1500000.5
    assert draft.donnees["lots"][0]["montant_minimum_ht"] == 100000
    shown = client.get(url).content.decode()
    assert 'value="1\u202f500\u202f000,50"' in shown


def test_the_sector_is_found_by_keywords_with_its_meaning(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", {**MARKET, "marche.forme": "ordinaire"})
    url = f"/marches/{draft.pk}/entretien/lots/1/"
    lot = {"lots[0].intitule": "Peinture", "lots[0].montant_estime_ht": "200000"}
    page = post(client, url, {**lot, "lots[0].secteur": "peinture"}, action="verifier").content.decode()
    draft.refresh_from_db()
    assert draft.donnees["lots"][0]["secteur"] == "btp_peinture"
    assert "Peinture, revêtements : main-d&#x27;œuvre sur le site ; heures d&#x27;insertion adaptées" in page
    # several sectors: the candidates with their meaning, one button each (works without JavaScript)
    page = post(client, url, {**lot, "lots[0].secteur": "btp"}, action="verifier").content.decode()
    assert "plusieurs secteurs correspondent à « btp »" in page
    buttons = re.findall(r'<button type="submit" class="secondaire" name="lots\[0\]\.secteur" value="([a-z_]+)"', page)
    assert "btp_gros_oeuvre" in buttons and "btp_peinture" in buttons and "nettoyage" not in buttons
    # accents do not matter: « electricite » finds « Électricité »
    post(client, url, {**lot, "lots[0].secteur": "electricite"}, action="verifier")
    draft.refresh_from_db()
    assert draft.donnees["lots"][0]["secteur"] == "btp_electricite"
    # nothing matches: the engine's message with the nearest ids
    page = post(client, url, {**lot, "lots[0].secteur": "boulangerie"}, action="verifier").content.decode()
    assert "secteur « boulangerie » inconnu de la bibliothèque" in page


def test_reservation_questions_appear_only_where_they_apply(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", {**MARKET, "marche.forme": "ordinaire"})
    url = f"/marches/{draft.pk}/entretien/lots/1/"
    masonry = {"lots[0].intitule": "Gros œuvre", "lots[0].secteur": "btp_gros_oeuvre", "lots[0].montant_estime_ht": "900000",
               "lots[0].sourcing.structures_inclusives": "12"}
    post(client, url, masonry)
    draft.refresh_from_db()
    assert "sourcing" not in draft.donnees["lots"][0]  # not asked for a sector the inclusive structures do not serve
    page = client.get(url).content.decode()
    assert 'name="lots[0].sourcing.structures_inclusives"' not in page
    objectives = client.get(f"/marches/{draft.pk}/entretien/objectifs/").content.decode()
    assert 'name="clauses.marche_reserve.article"' not in objectives
    post(client, url, {**masonry, "lots[0].secteur": "nettoyage"})
    page = client.get(url).content.decode()
    assert 'name="lots[0].sourcing.structures_inclusives"' in page
    objectives = client.get(f"/marches/{draft.pk}/entretien/objectifs/").content.decode()
    assert 'name="clauses.marche_reserve.article"' in objectives
    # the ESS reservation exists only for services, so it is offered only then
    assert 'value="L2113-15"' in objectives
    post(client, f"/marches/{draft.pk}/entretien/marche/", {**MARKET, "marche.forme": "ordinaire", "marche.nature": "travaux"})
    objectives = client.get(f"/marches/{draft.pk}/entretien/objectifs/").content.decode()
    assert 'value="L2113-15"' not in objectives


def _complete_two_lot_framework(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", MARKET)
    for n, (title, sector, minimum, maximum) in enumerate((("Écoles", "nettoyage", "200 000", "800 000"),
                                                          ("Gymnases", "espaces verts", "", "300 000")), start=1):
        i = n - 1
        response = post(client, f"/marches/{draft.pk}/entretien/lots/{n}/", {
            f"lots[{i}].intitule": title, f"lots[{i}].secteur": sector, f"lots[{i}].montant_minimum_ht": minimum,
            f"lots[{i}].montant_maximum_ht": maximum}, action="ajouter_lot" if n == 1 else "continuer")
        assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/marches/{draft.pk}/entretien/objectifs/"
    response = post(client, f"/marches/{draft.pk}/entretien/objectifs/",
                    {"objectifs.themes": ["decouverte_metiers", "egalite_femmes_hommes"],
                     "objectifs.actions_envisagees": ["visite_chantier"]})
    assert response.status_code == 302 and response["Location"] == f"/marches/{draft.pk}/entretien/facilitateur/"
    response = post(client, f"/marches/{draft.pk}/entretien/facilitateur/",
                    {"facilitateur.structure": "PLIE de Test", "facilitateur.courriel": "plie@example.org",
                     "territoire.heures_minimum": "70"})
    assert response.status_code == 302 and response["Location"] == f"/marches/{draft.pk}/entretien/recapitulatif/"


def test_a_two_lot_framework_is_answered_to_its_plan(client, draft):
    from web import blobs

    _complete_two_lot_framework(client, draft)
    recap = client.get(f"/marches/{draft.pk}/entretien/recapitulatif/").content.decode()
    assert "Le questionnaire est complet" in recap
    draft.refresh_from_db()
    assert draft.valide and draft.reference == "2027-AC-001" and draft.questionnaire_nom == "2027-AC-001.yaml"
    data = draft.donnees
    assert [lot["numero"] for lot in data["lots"]] == [1, 2]
    assert data["lots"][1]["secteur"] == "espaces_verts" and "montant_minimum_ht" not in data["lots"][1]
    assert data["objectifs"]["actions_envisagees"] == ["visite_chantier"]
    # the file the pieces come from is the YAML of these answers, stored with the DCE generated from it
    assert client.post(f"/marches/{draft.pk}/generer/", {}).status_code == 302
    generation = draft.generations.get()
    text = blobs.get(generation.questionnaire_sha256).decode()
    assert yaml.safe_load(text)["lots"][0]["montant_maximum_ht"] == 800000
    assert text == client.get(f"/marches/{draft.pk}/questionnaire.yaml").content.decode()
    assert "Généré" in client.get("/").content.decode()
    plan = client.get(f"/marches/{draft.pk}/plan/").content.decode()
    assert "Lot n° 1 — Écoles" in plan and "Lot n° 2 — Gymnases" in plan
    assert "Heures au montant maximum" in plan  # a framework's hours at the maximum


def test_a_draft_exports_to_yaml_at_any_time(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", {"acheteur.nom": "Ville", "marche.duree_mois": "18"},
         action="enregistrer")
    exported = client.get(f"/marches/{draft.pk}/questionnaire.yaml")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/yaml")
    assert f'filename="brouillon-{draft.pk}.yaml"' in exported["Content-Disposition"]
    data = yaml.safe_load(exported.content)
    assert data["acheteur"]["nom"] == "Ville" and data["marche"]["duree_mois"] == 18


def test_the_summary_lists_what_is_missing_with_links_to_the_questions(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", {**MARKET, "marche.objet": ""}, action="enregistrer")
    page = client.get(f"/marches/{draft.pk}/entretien/recapitulatif/").content.decode()
    assert "pas encore complet" in page
    assert f'href="/marches/{draft.pk}/entretien/marche/#q-marche-objet"' in page
    assert f'href="/marches/{draft.pk}/entretien/lots/1/#q-lots"' in page  # no lot yet: the first lot's page
    assert client.get(f"/marches/{draft.pk}/plan/").status_code == 302  # no plan before the questionnaire is complete


def test_lots_are_added_and_removed(client, draft):
    _complete_two_lot_framework(client, draft)
    response = client.post(f"/marches/{draft.pk}/entretien/lots/1/supprimer/")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert [lot["intitule"] for lot in draft.donnees["lots"]] == ["Gymnases"]
    assert client.get(f"/marches/{draft.pk}/entretien/lots/3/").status_code == 404
    assert client.get(f"/marches/{draft.pk}/entretien/lots/2/").status_code == 200  # the next lot, to be added


def test_renewals_ask_their_length_only_when_there_are_some(client, draft):
    url = f"/marches/{draft.pk}/entretien/marche/"
    post(client, url, {**MARKET, "marche.reconductions": "0", "marche.duree_reconduction_mois": "12"})
    draft.refresh_from_db()
    assert "duree_reconduction_mois" not in draft.donnees["marche"]
    assert 'name="marche.duree_reconduction_mois"' not in client.get(url).content.decode()


def test_dates_in_french_are_read(client, draft):
    post(client, f"/marches/{draft.pk}/entretien/marche/", {**MARKET, "marche.date_notification_prevue": "1/3/2027"})
    draft.refresh_from_db()
    assert draft.donnees["marche"]["date_notification_prevue"] == "2027-03-01"
