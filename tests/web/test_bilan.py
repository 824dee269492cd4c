"""The yearly bilan: Word report (charts and tables), Excel annex, national survey CSV; byte-identical on two runs;
the CSV's columns as the README documents them; the dashboard's rules (expected line, delay, missing months)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from drafting import api
from tests.web.bureau import REFERENCE, ROOT, fill, grid_of, months, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def deux_mois(equipe, suivi_a, settings):
    """Ville A's market with January and February 2027 returned, a holder named, a penalty decided."""
    settings.CLAUSIER_AUJOURDHUI = "2028-02-01"
    grid = grid_of(suivi_a.market)
    upload(equipe.client_facilitateur, [("janvier.xlsx", fill(grid, months("2027-01-01", 1), actions=1))], "2027-01")
    upload(equipe.client_facilitateur, [("fevrier.xlsx", fill(grid, months("2027-01-01", 2), actions=2))], "2027-02")
    lot = suivi_a.lots.get(numero=1)
    lot.titulaire = "Bâtir SA"
    lot.save()
    suivi_a.procedure_contradictoire_le = dt.date(2027, 11, 3)
    suivi_a.penalites_retenues = 1250
    suivi_a.penalites_motif = "Heures manquantes du lot 2"
    suivi_a.save()
    return suivi_a


def _files(client, slug: str, year: int) -> dict[str, bytes]:
    out = {}
    for name in ("bilan.docx", "annexe.xlsx", "enquete.csv"):
        response = client.get(f"/suivi/bilans/{slug}/{year}/{name}")
        assert response.status_code == 200, name
        out[name] = response.content
    return out


def test_the_bilan_files_are_byte_identical_on_two_runs(equipe, deux_mois):
    first = _files(equipe.client_facilitateur, equipe.org_a.slug, 2027)
    second = _files(equipe.client_acheteur_a, equipe.org_a.slug, 2027)
    assert first == second


def test_the_word_report_has_its_charts_tables_and_figures(equipe, deux_mois):
    import docx

    document = docx.Document(io.BytesIO(_files(equipe.client_facilitateur, equipe.org_a.slug, 2027)["bilan.docx"]))
    texts = "\n".join(p.text for p in document.paragraphs)
    assert "Bilan 2027 des clauses sociales" in texts and "Ville A" in texts
    assert "244 heures réalisées en 2027" in texts.replace("\u202f", " ").replace("\u00a0", " ")
    assert len(document.inline_shapes) >= 2  # the cumulative curve, the markets' bars, the contracts
    for shape in document.inline_shapes:
        assert shape._inline.docPr.get("descr")  # each with its text alternative
    tables = ["\n".join(c.text for row in t.rows for c in row.cells) for t in document.tables]
    assert any("Bâtir SA" in t for t in tables)                      # per enterprise
    assert any(REFERENCE in t and "Potentielles" in t for t in tables)  # penalties
    assert any("janvier 2027" in t and "février 2027" in t for t in tables)  # the curve's data
    assert "Pénalités retenues en 2027 après procédure contradictoire : 1 250,00 €" in texts.replace("\u202f", " ").replace("\u00a0", " ")
    assert document.core_properties.created.year == 2027


def test_the_survey_csv_has_the_documented_stable_columns(equipe, deux_mois):
    from web.suivi.bilan import CSV_COLUMNS, CSV_FORMAT

    data = _files(equipe.client_facilitateur, equipe.org_a.slug, 2027)["enquete.csv"]
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert list(rows[0]) == [name for name, _ in CSV_COLUMNS]
    row = rows[0]
    assert (row["format"], row["annee"], row["reference"], row["acheteur_code"]) == (CSV_FORMAT, "2027", REFERENCE, "ville-a")
    assert row["heures_realisees_cumul"] == "244" and row["heures_realisees_annee"] == "244"
    assert row["heures_engagees"] == "1164" and row["taux_realisation"] == "0,2096"
    assert row["beneficiaires"] == "3" and row["femmes"] == "1" and row["contrats_cddi"] == "1"
    assert row["penalites_retenues"] == "1250" and row["procedure_contradictoire"] == "2027-11-03"
    assert row["dernier_retour"] == "2027-02-01" and row["debut_execution"] == "2027-01-04"
    assert row["titulaires"] == "Bâtir SA" and row["secteurs"] == "btp_charpente_metallique | btp_gros_oeuvre | btp_peinture"
    # the README documents every column, in order, with the format's name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z_]+)` \| ", readme[readme.index(CSV_FORMAT):], re.MULTILINE)
    assert documented[:len(CSV_COLUMNS)] == [name for name, _ in CSV_COLUMNS]


def test_the_excel_annex_opens_with_its_sheets(equipe, deux_mois):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(_files(equipe.client_facilitateur, equipe.org_a.slug, 2027)["annexe.xlsx"]))
    assert wb.sheetnames == ["Marchés", "Lots", "Entreprises", "Mois", "Publics", "Pénalités", "Colonnes"]
    assert wb["Marchés"]["E2"].value == REFERENCE
    assert [c.value for c in wb["Mois"]["A"]][1:3] == [dt.datetime(2027, 1, 1), dt.datetime(2027, 2, 1)]


def test_a_year_without_returns_still_gives_a_readable_bilan(equipe, suivi_a):
    files = _files(equipe.client_facilitateur, equipe.org_a.slug, 2031)
    assert files["enquete.csv"].decode("utf-8-sig").count("\r\n") == 1  # the header only: no market executed in 2031
    import docx

    assert "Aucun retour" in "\n".join(p.text for p in docx.Document(io.BytesIO(files["bilan.docx"])).paragraphs)


# ----------------------------------------------------------------------------- the dashboard's rules


def test_expected_line_delay_and_missing_months():
    from types import SimpleNamespace

    from web.suivi import tableau

    start = dt.date(2027, 1, 15)
    assert tableau.expected_at(1200, start, 12, dt.date(2027, 1, 1)) == 100
    assert tableau.expected_at(1200, start, 12, dt.date(2027, 6, 1)) == 600
    assert tableau.expected_at(1200, start, 12, dt.date(2028, 6, 1)) == 1200
    assert tableau.expected_at(1200, start, 12, dt.date(2026, 12, 1)) == 0
    assert tableau.expected_at(None, start, 12, dt.date(2027, 6, 1)) is None
    assert tableau.last_month_due(dt.date(2027, 6, 10)) == dt.date(2027, 4, 1)  # May's grid due on 10 June, not late yet
    assert tableau.last_month_due(dt.date(2027, 6, 11)) == dt.date(2027, 5, 1)

    suivi = SimpleNamespace(debut_execution=start, duree_mois=12)

    def returned(month: str, hours: float):
        return SimpleNamespace(mois=dt.date.fromisoformat(month), heures_realisees=hours, figures={})

    # April: 350 h against 400 expected (87,5 %): on schedule; May missing; June not yet due on 5 July
    state = tableau.market_state(suivi, [returned("2027-01-01", 90), returned("2027-02-01", 180),
                                         returned("2027-03-01", 250), returned("2027-04-01", 350)],
                                 1200, dt.date(2027, 7, 5))
    assert state.realise == 350 and state.attendu == 400 and not state.en_retard
    assert state.manquants == [dt.date(2027, 5, 1)]
    # 250 h in April: 62,5 % of the expected line, from the third month: behind schedule
    late = tableau.market_state(suivi, [returned("2027-04-01", 250)], 1200, dt.date(2027, 5, 20))
    assert late.en_retard and late.avancement == pytest.approx(0.625)
    assert late.manquants == [dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)]
    # the first two months are a grace period
    early = tableau.market_state(suivi, [returned("2027-02-01", 10)], 1200, dt.date(2027, 3, 20))
    assert not early.en_retard
    # the year's own hours: the last return of the year minus the last of the year before
    over = tableau.market_state(suivi, [returned("2027-11-01", 1000), returned("2028-01-01", 1150)], 1200,
                                dt.date(2028, 3, 1), year=2028)
    assert over.realise == 1150 and over.realise_annee == 150


def test_the_portfolio_curve_carries_each_markets_last_return():
    from types import SimpleNamespace

    from web.suivi import tableau

    def state(start: str, points: list[tuple[str, float]]):
        suivi = SimpleNamespace(debut_execution=dt.date.fromisoformat(start), duree_mois=4)
        returns = [SimpleNamespace(mois=dt.date.fromisoformat(m), heures_realisees=h, figures={}) for m, h in points]
        return tableau.market_state(suivi, returns, 400, dt.date(2027, 12, 1))

    one = state("2027-01-01", [("2027-01-01", 100), ("2027-03-01", 300)])
    two = state("2027-02-01", [("2027-02-01", 50)])
    result = tableau.summarise([one, two])
    by_month = {p.mois: (p.attendu, p.realise) for p in result.points}
    assert by_month[dt.date(2027, 2, 1)] == (200 + 100, 100 + 50)
    assert by_month[dt.date(2027, 3, 1)] == (300 + 200, 300 + 50)
    assert by_month[dt.date(2027, 5, 1)] == (400 + 400, None)  # one has ended: its whole commitment expected;
    # nothing is « done » after the last return received (March), where the future is not known yet


def test_api_number_formats_used_by_the_bilan():
    assert api.fr_euros(1250).replace("\u202f", " ").replace("\u00a0", " ") == "1 250,00 €"
