"""Helpers of the facilitator desk's tests: accounts of two organisations, generated markets, filled grids.

Grids are filled as an enterprise fills them (openpyxl on the grid clausier generated), with hours month by
month; everything here is copied rather than imported from the engine's own tests.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable, Optional

import openpyxl
import pytest
import yaml

from drafting import api

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "example-ecole.yaml"
PASSWORD = "Un-mot-de-passe-solide-2027"
REFERENCE = "2026-TRV-014"


def questionnaire(reference: str = REFERENCE, notification: str = "2027-01-04", months: int = 20,
                  plan_de_progres: bool = False, considerations: Optional[dict] = None) -> bytes:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["marche"]["reference"] = reference
    data["marche"]["date_notification_prevue"] = dt.date.fromisoformat(notification)
    data["marche"]["duree_mois"] = months
    if plan_de_progres:
        data["marche"]["duree_mois"] = max(months, 36)
        data["lots"][0]["considerations"] = {"plan_de_progres": "oui"}
    if considerations:
        data["lots"][0]["considerations"] = {**data["lots"][0].get("considerations", {}), **considerations}
        data.setdefault("justifications", {})
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def render(reference: str = REFERENCE, **kwargs) -> tuple[api.RenderedMarket, bytes]:
    """A market drafted in memory, and its questionnaire."""
    raw = questionnaire(reference, **kwargs)
    lib = api.library()
    return api.render_market(api.read_questionnaire(raw, lib, f"{reference}.yaml"), lib), raw


def grid_of(market: api.RenderedMarket) -> bytes:
    return market.files[f"{market.reference}_grille-de-suivi.xlsx"]


def fill(grid: bytes, months: Iterable[dt.date], per_month: float = 40.0, people: int = 3,
         actions: int = 0, extra_rows: Optional[list[tuple]] = None) -> bytes:
    """What an enterprise sends back for the months given: ``people`` persons on lot 1 (then 2), ``per_month`` hours
    each month for each, women one in three, QPV residents one in two; ``actions`` social actions on lot 1."""
    wb = openpyxl.load_workbook(io.BytesIO(grid))
    hours = wb["Suivi heures"]
    row = 2
    contracts = ["CDDI", "Intérim (ETTI)", "CDI", "CDD"]
    for month in months:
        for person in range(people):
            values = (f"ENT-{person + 1:03d}", 1 if person % 3 != 2 else 2, dt.date(2027, 1, 4),
                      "Embauche directe", "Bâtir SA", None, contracts[person % len(contracts)], dt.date(2027, 1, 4),
                      dt.date(2028, 6, 30), "F1703", month, per_month, 2 if person == 0 else None,
                      "O" if person % 3 == 0 else "N", "O" if person % 2 == 0 else "N")
            for col, value in enumerate(values, start=1):
                if value is not None:
                    hours.cell(row, col, value)
            row += 1
    for values in extra_rows or []:
        for col, value in enumerate(values, start=1):
            if value is not None:
                hours.cell(row, col, value)
        row += 1
    if actions and "Actions sociales" in wb.sheetnames:
        sheet = wb["Actions sociales"]
        for n in range(actions):
            for col, value in enumerate((1, "Visite de chantier ou de site", dt.date(2027, 2, 10 + n), 8, "Collège"),
                                        start=1):
                sheet.cell(2 + n, col, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def months(first: str, count: int) -> list[dt.date]:
    start = dt.date.fromisoformat(first)
    return [dt.date(start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1) for n in range(count)]


def upload(client, files: list[tuple[str, bytes]], month: str, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploads = [SimpleUploadedFile(name, data, content_type="application/octet-stream") for name, data in files]
    return client.post("/suivi/retours/", {"mois": month, "grilles": uploads, **extra})


def consolidate_cli(paths: list[Path], marches: Optional[Path] = None) -> dict:
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["suivi", "consolider", *map(str, paths), "--format", "json",
                                       *(["--marches", str(marches)] if marches else [])])
    assert "Traceback" not in result.output, result.output
    return json.loads(result.stdout)


class FormPage(HTMLParser):
    """A page's language, its inputs and the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict] = []
        self.labels: set[str] = set()
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append(a)


SINGLE_USER_LINE = re.compile(r"^clausier : (http://127\.0\.0\.1:(\d+))/\?token=([A-Za-z0-9_-]{40,})$")


def start_server(data: Path) -> tuple[subprocess.Popen, str, str]:
    """``clausier serve --port 0`` in a subprocess, as a buyer starts it; returns (process, base URL, token)."""
    from tests.web.conftest import process_env

    process = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "serve", "--port", "0",
                                "--data", str(data)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=process_env())
    line = process.stdout.readline().rstrip("\n")
    match = SINGLE_USER_LINE.match(line)
    if not match:
        process.kill()
        raise AssertionError(f"ligne de démarrage inattendue : {line!r} ; {process.stderr.read()}")
    return process, match.group(1), match.group(3)


# ----------------------------------------------------------------------------- a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="chromium et chromium-driver absents (apt-get install chromium chromium-driver)"),
]
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900",
         "--lang=fr-FR"]


def chromium(profile: Path, downloads: Optional[Path] = None) -> Any:
    """Debian's Chromium driven by chromium-driver: headless, in French, its own profile, downloads kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False, "intl.accept_languages": "fr-FR"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    return driver


def assert_french_and_labelled(url: str, html: str) -> None:
    """The page says it is French, and every input is named by a <label>."""
    page = FormPage()
    page.feed(html)
    assert page.lang == "fr", url
    for attrs in page.inputs:
        assert attrs.get("id") in page.labels, f"{url} : champ sans <label> {attrs}"
