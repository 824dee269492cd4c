"""The facilitator's desk in a real browser (marker ``browser``): Debian's chromium through chromium-driver.

A team server is started as a team starts it (accounts created with ``clausier comptes``, a market imported with
``clausier portefeuille importer``, then ``clausier serve``). A facilitator logs in, uploads two months of a grid,
reads the dashboard's figures and chart, downloads the yearly bilan; a buyer of another organisation cannot reach
that market. Screenshots of every page are saved under each test's temporary folder (``captures/``).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.web.bureau import BROWSER_MARKS, PASSWORD, chromium, fill, grid_of, months, render
from tests.web.conftest import process_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = BROWSER_MARKS
LINE = re.compile(r"^clausier : (http://127\.0\.0\.1:\d+)/ \(connexion avec votre compte\)$")


def cli(*args: str, data: Path, input: str | None = None) -> None:
    result = subprocess.run([sys.executable, "-c", "from cli import main; main()", *args, "--data", str(data)],
                            capture_output=True, text=True, env=process_env(), cwd=ROOT, timeout=120, input=input)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A team server: a facilitator following Ville A, a buyer of Ville B, Ville A's school market in the portfolio."""
    from drafting import api

    data = tmp_path_factory.mktemp("donnees")
    cli("comptes", "ajouter", "facilitatrice@plie.fr", "--role", "facilitateur", "--organisation", "Ville A",
        "--nom", "Fanny Suivi", data=data, input=PASSWORD + "\n")
    cli("comptes", "ajouter", "acheteur@ville-b.fr", "--role", "acheteur", "--organisation", "Ville B", data=data,
        input=PASSWORD + "\n")
    out = tmp_path_factory.mktemp("sortie")
    market, raw = render()
    api.write_market(out, market)
    questionnaires = tmp_path_factory.mktemp("questionnaires")
    (questionnaires / "2026-TRV-014.yaml").write_bytes(raw)
    cli("portefeuille", "importer", str(out), "--organisation", "Ville A", "--questionnaires", str(questionnaires),
        data=data)
    grids = tmp_path_factory.mktemp("grilles")
    (grids / "grille-janvier.xlsx").write_bytes(fill(grid_of(market), months("2027-01-01", 1), actions=1))
    (grids / "grille-fevrier.xlsx").write_bytes(fill(grid_of(market), months("2027-01-01", 2), actions=2))
    process = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", "--port", "0", "--data",
                                str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=process_env({"CLAUSIER_AUJOURDHUI": "2027-03-15"}), cwd=ROOT)
    line = process.stdout.readline().strip()
    match = LINE.match(line)
    if not match:
        process.kill()
        raise AssertionError(f"ligne de démarrage inattendue : {line!r} ; {process.stderr.read()}")
    yield match.group(1), grids
    process.terminate()
    process.communicate(timeout=10)


@pytest.fixture(scope="module")
def facilitatrice(team, tmp_path_factory):
    downloads = tmp_path_factory.mktemp("telechargements")
    driver = chromium(tmp_path_factory.mktemp("profil"), downloads)
    driver.downloads = downloads
    driver.base = team[0]
    yield driver
    driver.quit()


def wait_for(predicate, timeout: float = 15.0, what: str = ""):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"attendu en vain : {what}")


def login(driver, address: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(driver.base + "/")
    wait_for(lambda: "/connexion/" in driver.current_url, what="la page de connexion")
    driver.find_element(By.ID, "adresse").send_keys(address)
    driver.find_element(By.ID, "mot_de_passe").send_keys(PASSWORD)
    driver.find_element(By.XPATH, "//button[normalize-space()='Se connecter']").click()
    wait_for(lambda: "/connexion/" not in driver.current_url, what="la connexion")


def loaded_images(driver) -> list[tuple[str, int]]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('figure img')).map(i => [i.getAttribute('src'), i.naturalWidth]);")


def test_a_facilitator_uploads_two_months_reads_the_dashboard_and_downloads_the_bilan(facilitatrice, team, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = facilitatrice
    shots = tmp_path / "captures"
    shots.mkdir()

    def shot(name: str, whole: bool = False) -> None:
        if whole:  # the whole page, to look at it as a facilitator scrolls it
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(height + 120, 6000))
        driver.save_screenshot(str(shots / f"{name}.png"))
        if whole:
            driver.set_window_size(1280, 900)

    driver.get(driver.base + "/")
    shot("connexion")
    login(driver, "facilitatrice@plie.fr")
    assert driver.current_url.endswith("/suivi/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Suivi des marchés"
    assert "sans retour" in driver.find_element(By.TAG_NAME, "tbody").text
    shot("portefeuille-avant")
    _, grids = team
    for month, name in (("2027-01", "grille-janvier.xlsx"), ("2027-02", "grille-fevrier.xlsx")):
        driver.find_element(By.LINK_TEXT, "Retours mensuels").click()
        Select(driver.find_element(By.ID, "mois")).select_by_value(month)
        driver.find_element(By.ID, "grilles").send_keys(str(grids / name))
        assert name in driver.find_element(By.ID, "grilles-choisies").text  # the chosen files are said
        shot(f"depot-{month}-choisi")
        driver.find_element(By.XPATH, "//button[normalize-space()='Déposer et consolider']").click()
        results = wait_for(lambda: driver.find_element(By.ID, "resultats").text, what="le résultat du dépôt")
        assert "1 grille enregistrée" in results and "retour enregistré" in results
        shot(f"depot-{month}-resultat")
    assert "244 heures réalisées sur 1 164 engagées" in results.replace("\u202f", " ").replace("\u00a0", " ")
    driver.find_element(By.LINK_TEXT, "Tableau de bord").click()
    assert driver.find_element(By.TAG_NAME, "h1").text == "Tableau de bord"
    wait_for(lambda: all(width > 0 for _, width in loaded_images(driver)) and loaded_images(driver),
             what="les graphiques du tableau de bord")
    cards = driver.find_element(By.CSS_SELECTOR, "ul.cartes").text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "244 heures réalisées" in cards and "sur 1 164 engagées" in cards and "3 personnes" in cards
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#courbe-titre + .graphique tbody tr")]
    assert any(r.startswith("février 2027") and "244" in r for r in rows), rows
    shot("tableau-de-bord")
    shot("tableau-de-bord-entier", whole=True)
    driver.find_element(By.LINK_TEXT, "Suivi des marchés").click()
    driver.find_element(By.LINK_TEXT, "2026-TRV-014").click()
    wait_for(lambda: loaded_images(driver) and all(w > 0 for _, w in loaded_images(driver)), what="les graphiques du marché")
    assert "février 2027" in driver.find_element(By.ID, "retours-titre").find_element(By.XPATH, "..").text
    shot("marche")
    shot("marche-entier", whole=True)
    driver.find_element(By.LINK_TEXT, "février 2027").click()
    shot("retour")
    driver.find_element(By.LINK_TEXT, "Bilans").click()
    Select(driver.find_element(By.ID, "b-annee")).select_by_value("2027")
    driver.find_element(By.XPATH, "//button[normalize-space()='Afficher']").click()
    shot("bilans", whole=True)
    driver.find_element(By.LINK_TEXT, "Télécharger le bilan (Word)").click()
    target = driver.downloads / "bilan-2027-ville-a.docx"
    wait_for(lambda: target.is_file() and not list(driver.downloads.glob("*.crdownload")), what="le bilan téléchargé")
    import docx

    document = docx.Document(io.BytesIO(target.read_bytes()))
    assert "Bilan 2027 des clauses sociales" in document.paragraphs[0].text and len(document.inline_shapes) >= 2
    for url, name in (("/suivi/journal/", "journal"), ("/bibliotheque/", "bibliotheque"),
                      ("/bibliotheque/fragments/insertion/ccap/?apercu=1", "bibliotheque-apercu"),
                      ("/bibliotheque/fragments/insertion/ccap/?de=1.2.0&a=", "bibliotheque-diff"),
                      ("/bibliotheque/impact/", "bibliotheque-impact"), ("/suivi/importer/", "importer")):
        driver.get(driver.base + url)
        assert driver.find_element(By.TAG_NAME, "h1").text, url
        shot(name)
    assert (shots / "tableau-de-bord.png").stat().st_size > 10000


def test_a_buyer_of_another_organisation_cannot_reach_that_market(team, tmp_path_factory, tmp_path):
    from selenium.webdriver.common.by import By

    driver = chromium(tmp_path_factory.mktemp("profil"), tmp_path_factory.mktemp("dl"))
    driver.base = team[0]
    try:
        login(driver, "acheteur@ville-b.fr")
        assert "2026-TRV-014" not in driver.find_element(By.TAG_NAME, "main").text
        for path in ("/suivi/marches/1/", "/suivi/marches/1/graphiques/heures.svg", "/suivi/bilans/ville-a/2027/bilan.docx"):
            driver.get(driver.base + path)
            assert driver.find_element(By.TAG_NAME, "h1").text == "Page introuvable", path
        driver.save_screenshot(str(tmp_path / "acheteur-b-introuvable.png"))
    finally:
        driver.quit()


def test_keyboard_only_the_upload_form_is_reachable_with_a_visible_focus(facilitatrice, team, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = facilitatrice
    driver.get(driver.base + "/suivi/retours/")
    if "/connexion/" in driver.current_url:
        login(driver, "facilitatrice@plie.fr")
        driver.get(driver.base + "/suivi/retours/")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element.text == "Aller au contenu"
    seen = []
    for _ in range(60):
        ActionChains(driver).send_keys(Keys.TAB).perform()  # the keyboard, not a file typed into the file field
        element = driver.switch_to.active_element
        if element.tag_name == "body":
            break
        style = driver.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", element)
        label = element.get_attribute("id") or element.text
        assert style[0] != "none" and float(style[1].rstrip("px")) >= 2, f"focus invisible sur {label} : {style}"
        seen.append(label)
        if label == "grilles":
            driver.save_screenshot(str(tmp_path / "clavier-depot.png"))
    for wanted in ("mois", "grilles", "Déposer et consolider"):
        assert wanted in seen, seen
    assert seen.index("mois") < seen.index("grilles") < seen.index("Déposer et consolider")
