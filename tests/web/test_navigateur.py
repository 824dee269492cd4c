"""Real-browser tests (marked ``browser``): Debian's chromium driven by Selenium through chromium-driver.

The application is started as a buyer starts it (``clausier serve --port 0`` in a subprocess,
its one line read for the URL). Screenshots of the main pages are saved under each test's
temporary folder (``captures/``). Skipped, with the reason, where chromium or chromedriver
is missing; CI installs both (``.ci/run``).
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest

from tests.web.bureau import BROWSER_MARKS, chromium, start_server
from tests.web.conftest import EXAMPLE

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, base, token = start_server(tmp_path_factory.mktemp("donnees"))
    yield base, token
    process.terminate()
    process.communicate(timeout=10)


@pytest.fixture(scope="module")
def session(server, tmp_path_factory):
    """One browser for the module, its session opened with the start URL, as a buyer does once."""
    downloads = tmp_path_factory.mktemp("telechargements")
    driver = chromium(tmp_path_factory.mktemp("profil"), downloads)
    base, token = server
    driver.get(f"{base}/?token={token}")
    driver.downloads = downloads
    driver.base = base
    yield driver
    driver.quit()


@pytest.fixture
def browser(session, tmp_path):
    shots = tmp_path / "captures"
    shots.mkdir()

    def shot(name: str) -> None:
        session.save_screenshot(str(shots / f"{name}.png"))
    session.shot = shot
    session.shots = shots
    return session


def wait_for(predicate, timeout: float = 10.0, what: str = ""):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
        except Exception:  # the element is being swapped
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"attendu en vain : {what}")


def by_name(driver, name: str):
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.NAME, name)
    return found[0] if found else None


def test_the_start_url_is_refused_in_a_second_browser(server, tmp_path):
    from selenium.webdriver.common.by import By

    other = chromium(tmp_path / "autre-profil")
    try:
        base, token = server
        other.get(f"{base}/")
        assert other.find_element(By.TAG_NAME, "h1").text == "Accès refusé"
        other.save_screenshot(str(tmp_path / "acces-refuse.png"))
    finally:
        other.quit()


def import_example(browser) -> None:
    """« Importer un questionnaire » with the bundled example, as a buyer does; ends on its plan."""
    from selenium.webdriver.common.by import By

    browser.get(browser.base + "/")
    browser.find_element(By.LINK_TEXT, "Importer un questionnaire").click()
    browser.find_element(By.ID, "questionnaire").send_keys(str(EXAMPLE))
    browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]").click()
    wait_for(lambda: "/plan/" in browser.current_url, what="la page du plan")


def test_a_buyer_imports_the_example_and_downloads_the_dce_zip(browser):
    from selenium.webdriver.common.by import By

    browser.get(browser.base + "/")
    browser.shot("accueil")
    import_example(browser)
    assert "importé : 3 lots" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    browser.shot("plan")
    browser.find_element(By.LINK_TEXT, "Aperçu des pièces et génération du DCE").click()
    assert browser.find_element(By.CSS_SELECTOR, "#piece-ccap h2").text == "Cahier des clauses administratives particulières"
    browser.shot("pieces")
    browser.find_element(By.XPATH, "//button[normalize-space()='Générer le DCE']").click()
    wait_for(lambda: "/generations/" in browser.current_url, what="la page de la génération")
    browser.shot("generation")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "Télécharger le DCE")
    link.click()
    target = browser.downloads / "2026-TRV-014_DCE.zip"
    wait_for(lambda: target.is_file() and not list(browser.downloads.glob("*.crdownload")), what="le .zip téléchargé")
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        names = archive.namelist()
    assert "2026-TRV-014/manifest.json" in names and "2026-TRV-014/2026-TRV-014_CCAP_clauses-sociales.docx" in names
    assert "2026-TRV-014/2026-TRV-014_grille-de-suivi.xlsx" in names


def test_a_buyer_answers_the_interview_for_a_two_lot_framework(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    browser.get(browser.base + "/")
    browser.find_element(By.XPATH, "//button[normalize-space()='Nouveau marché']").click()
    wait_for(lambda: "/entretien/marche/" in browser.current_url, what="l'entretien")
    browser.shot("entretien-marche")
    by_name(browser, "acheteur.nom").send_keys("Ville de Navigateur")
    Select(by_name(browser, "acheteur.type")).select_by_value("collectivite")
    by_name(browser, "marche.reference").send_keys("2027-NAV-01")
    by_name(browser, "marche.objet").send_keys("Entretien des espaces verts")
    browser.find_element(By.CSS_SELECTOR, "input[name='marche.nature'][value='services']").click()
    assert by_name(browser, "marche.attributaires") is None
    browser.find_element(By.CSS_SELECTOR, "input[name='marche.forme'][value='accord_cadre_bons_de_commande']").click()
    # the framework's own question appears without leaving the page (htmx)
    wait_for(lambda: by_name(browser, "marche.attributaires"), what="la question des attributaires")
    by_name(browser, "marche.duree_mois").send_keys("12")
    browser.shot("entretien-accord-cadre")
    browser.find_element(By.XPATH, "//button[normalize-space()='Enregistrer et continuer']").click()
    wait_for(lambda: "/entretien/lots/1/" in browser.current_url, what="le lot 1")
    # a framework asks minimum and maximum, not an estimate
    assert by_name(browser, "lots[0].montant_minimum_ht") and by_name(browser, "lots[0].montant_maximum_ht")
    assert by_name(browser, "lots[0].montant_estime_ht") is None
    by_name(browser, "lots[0].intitule").send_keys("Parcs du nord")
    by_name(browser, "lots[0].secteur").send_keys("espaces verts")
    by_name(browser, "lots[0].montant_minimum_ht").send_keys("100 000")
    maximum = by_name(browser, "lots[0].montant_maximum_ht")
    maximum.send_keys("1.500")
    maximum.send_keys(Keys.TAB)  # leaving the field checks it
    errors = wait_for(lambda: browser.find_element(By.ID, "q-lots-0-montant_maximum_ht-erreurs").text,
                      what="le message sous le montant maximum")
    assert "montant illisible « 1.500 »" in errors
    assert wait_for(lambda: by_name(browser, "lots[0].montant_maximum_ht").get_attribute("aria-invalid") == "true",
                    what="le champ marqué invalide")
    assert "Gros" not in browser.find_element(By.ID, "q-lots-0-secteur-sens").text
    assert "Entretien des espaces verts" in browser.find_element(By.ID, "q-lots-0-secteur-sens").text  # the meaning
    browser.shot("entretien-montant-refuse")
    maximum = by_name(browser, "lots[0].montant_maximum_ht")
    maximum.clear()
    maximum.send_keys("600 000")
    maximum.send_keys(Keys.TAB)
    wait_for(lambda: browser.find_element(By.ID, "q-lots-0-montant_maximum_ht-erreurs").text == "",
             what="le message effacé")
    browser.find_element(By.XPATH, "//button[normalize-space()='Enregistrer et ajouter un lot']").click()
    wait_for(lambda: "/entretien/lots/2/" in browser.current_url, what="le lot 2")
    by_name(browser, "lots[1].intitule").send_keys("Cimetières")
    by_name(browser, "lots[1].secteur").send_keys("espaces_verts")
    by_name(browser, "lots[1].montant_maximum_ht").send_keys("250 000")
    browser.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Enregistrer et continuer')]").click()
    wait_for(lambda: "/entretien/objectifs/" in browser.current_url, what="les objectifs")
    browser.find_element(By.XPATH, "//button[normalize-space()='Enregistrer et continuer']").click()
    wait_for(lambda: "/entretien/facilitateur/" in browser.current_url, what="le facilitateur")
    by_name(browser, "facilitateur.structure").send_keys("PLIE du Navigateur")
    browser.find_element(By.XPATH, "//button[normalize-space()='Enregistrer et voir le récapitulatif']").click()
    wait_for(lambda: "/recapitulatif/" in browser.current_url, what="le récapitulatif")
    assert "Le questionnaire est complet" in browser.page_source
    browser.find_element(By.LINK_TEXT, "Voir le plan").click()
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "section.lot h2")]
    assert titles == ["Lot n° 1 — Parcs du nord", "Lot n° 2 — Cimetières"]


def test_the_plan_changes_after_an_override(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    import_example(browser)
    card = browser.find_element(By.ID, "lot-0-plan_de_progres")
    assert card.find_element(By.CSS_SELECTOR, ".etat").text == "écartée"
    card.find_element(By.TAG_NAME, "summary").click()
    Select(card.find_element(By.NAME, "lots[0].considerations.plan_de_progres")).select_by_value("oui")
    card.find_element(By.NAME, "lots[0].justifications.plan_de_progres").send_keys("Chantier suivi par le PLIE.")
    url = browser.current_url
    card.find_element(By.XPATH, ".//button[normalize-space()='Enregistrer ce choix']").click()
    changed = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "#lot-0-plan_de_progres .etat").text == "retenue",
                       what="le plan mis à jour")
    assert changed and browser.current_url == url  # changed in place, no page load
    assert "motif : « Chantier suivi par le PLIE. »" in browser.find_element(By.ID, "lot-0-plan_de_progres").text
    assert "Choix enregistré" in browser.find_element(By.ID, "plan-modifie").text
    browser.shot("plan-apres-choix")


def test_keyboard_only_the_interview_is_reachable_and_the_focus_visible(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(browser.base + "/")
    browser.find_element(By.XPATH, "//button[normalize-space()='Nouveau marché']").click()
    wait_for(lambda: "/entretien/marche/" in browser.current_url)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    first = browser.switch_to.active_element
    assert first.text == "Aller au contenu"  # the skip link comes first
    seen = []
    for _ in range(80):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        element = browser.switch_to.active_element
        if element.tag_name == "body":  # past the last control of the page
            break
        name = element.get_attribute("name") if element.tag_name in ("input", "select", "textarea") else element.text
        style = browser.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth, s.outlineColor];", element)
        assert style[0] != "none" and float(style[1].rstrip("px")) >= 2, f"focus invisible sur {name} : {style}"
        seen.append(name)
        if name == "marche.reference":
            browser.shot("clavier-focus")
    for wanted in ("acheteur.nom", "acheteur.type", "marche.reference", "marche.objet", "marche.forme",
                   "marche.duree_mois", "Enregistrer et continuer"):
        assert wanted in seen, "\n".join(seen)
    assert seen.index("acheteur.nom") < seen.index("marche.reference") < seen.index("marche.objet")


def test_home_lists_the_markets_with_french_dates(browser):
    from selenium.webdriver.common.by import By

    import_example(browser)
    browser.get(browser.base + "/")
    browser.shot("accueil-marches")
    assert (browser.shots / "accueil-marches.png").stat().st_size > 1000
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    dates = [row.find_elements(By.TAG_NAME, "td")[3].text for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")]
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
    assert dates and all(re.fullmatch(rf"(1er|\d{{1,2}}) ({'|'.join(months)}) 20\d\d à \d\d:\d\d", d) for d in dates), dates
