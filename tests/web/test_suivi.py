"""The portfolio and the monthly returns: markets in, grids consolidated by the engine, months replaced, figures
equal to ``clausier suivi consolider --format json`` on the same grids."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import zipfile

import pytest

from drafting import api
from tests.web.bureau import REFERENCE, consolidate_cli, fill, grid_of, months, render, upload
from tests.web.conftest import import_example

pytestmark = pytest.mark.django_db


def test_a_dce_generated_on_the_web_enters_the_portfolio_with_its_commitments(client, imported):
    from web.marches.models import Journal
    from web.suivi.models import MarcheSuivi

    assert client.post(f"/marches/{imported.pk}/generer/", {}).status_code == 302
    suivi = MarcheSuivi.objects.get()
    assert (suivi.reference, suivi.organisation, suivi.marche) == (REFERENCE, imported.organisation, imported)
    assert suivi.debut_execution == dt.date(2026, 12, 15) and suivi.duree_mois == 20  # the questionnaire's, then the grid's
    lots = {lot.numero: lot for lot in suivi.lots.all()}
    assert lots[1].secteur == "btp_gros_oeuvre" and lots[1].montant_ht == 1500000
    due = {(e.lot, e.type): e for e in suivi.engagements.all()}
    assert due[(1, "insertion")].engagement == 964 and due[(1, "insertion")].penalite_unitaire == 35
    assert due[(1, "action_sociale")].unite == "actions"
    assert Journal.objects.filter(action="suivi_ajout", suivi=suivi).exists()
    # generated again: the same record, updated, the facilitator's corrections kept
    suivi.debut_execution = dt.date(2027, 2, 1)
    suivi.save()
    client.post(f"/marches/{imported.pk}/generer/", {})
    assert MarcheSuivi.objects.count() == 1 and MarcheSuivi.objects.get().debut_execution == dt.date(2027, 2, 1)
    page = client.get(f"/marches/{imported.pk}/").content.decode()
    assert f'href="/suivi/marches/{suivi.pk}/"' in page  # the buyer's market links to its monitoring


def test_the_plan_de_progres_axes_are_recorded(equipe):
    from tests.web.bureau import render
    from web.suivi import portefeuille

    market, raw = render("2027-PDP-001", plan_de_progres=True)
    suivi, created = portefeuille.record(market.files, equipe.org_a, None, origine="web", questionnaire=(raw, "q.yaml"))
    assert created and len(suivi.axes) == 5 and suivi.axes[0].startswith("Axe 1 : emploi et insertion")
    assert suivi.engagements.filter(type="plan_de_progres").get().unite == "plans"


def _dce_zip(market: api.RenderedMarket, tamper: str = "") -> bytes:
    archive = api.engine().dce_zip(market)
    if not tamper:
        return archive
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, data + (b" " if info.filename.endswith(tamper) else b""))
    return out.getvalue()


def test_markets_are_imported_from_their_generated_folders_with_the_manifest_checked(equipe):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from web.suivi.models import MarcheSuivi

    good, raw = render("2027-IMP-001")
    other, _ = render("2027-IMP-002")
    files = [SimpleUploadedFile("2027-IMP-001_DCE.zip", _dce_zip(good)),
             SimpleUploadedFile("2027-IMP-002_DCE.zip", _dce_zip(other, tamper="_CCAP_clauses-sociales.docx")),
             SimpleUploadedFile("2027-IMP-001.yaml", raw)]
    response = equipe.client_facilitateur.post("/suivi/importer/", {"acheteur": equipe.org_a.pk, "fichiers": files})
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "2027-IMP-001</a> : ajouté au suivi" in page
    assert "2027-IMP-002_CCAP_clauses-sociales.docx a été modifié depuis sa génération" in page
    suivi = MarcheSuivi.objects.get()
    assert suivi.origine == MarcheSuivi.DOSSIER and suivi.lots.get(numero=2).secteur == "btp_peinture"  # from the questionnaire
    # a buyer does not import (the facilitator's desk), and nobody imports into an organisation it does not see
    assert equipe.client_acheteur_a.post("/suivi/importer/", {"acheteur": equipe.org_a.pk}).status_code == 403
    response = equipe.client_facilitateur.post("/suivi/importer/", {"acheteur": equipe.org_b.pk, "fichiers": files[:1]})
    assert response.status_code == 422 and "Choisissez l'acheteur" in html.unescape(response.content.decode())


def test_the_command_line_imports_a_batch_output_folder(equipe, tmp_path, settings):
    from click.testing import CliRunner

    from cli import main
    from web.suivi.models import MarcheSuivi

    out = tmp_path / "sortie"
    for reference in ("2027-CLI-001", "2027-CLI-002"):
        market, _ = render(reference)
        api.write_market(out, market)
    (out / "2027-CLI-002" / "manifest.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(main, ["portefeuille", "importer", str(out), "--organisation", "Ville A",
                                       "--data", str(settings.CLAUSIER_DATA)])
    assert "Traceback" not in result.output
    assert "2027-CLI-001 : ajouté au suivi" in result.output and "illisible ou sans liste de fichiers" in result.output
    assert result.exit_code == 6  # partly done
    assert list(MarcheSuivi.objects.values_list("reference", flat=True)) == ["2027-CLI-001"]
    unknown = CliRunner().invoke(main, ["portefeuille", "importer", str(out), "--organisation", "Ville Z"])
    assert unknown.exit_code == 2 and "organisation inconnue" in unknown.output


def test_two_months_uploaded_then_a_month_sent_again_replaces_the_earlier_one(equipe, suivi_a):
    from web.marches.models import Journal
    from web.suivi.models import Retour

    grid = grid_of(suivi_a.market)
    january = fill(grid, months("2027-01-01", 1))
    february = fill(grid, months("2027-01-01", 2))
    client = equipe.client_facilitateur
    first = upload(client, [("grille-janvier.xlsx", january)], "2027-01")
    assert first.status_code == 200, html.unescape(first.content.decode())[:3000]
    assert "1 grille enregistrée pour janvier 2027" in html.unescape(first.content.decode())
    assert upload(client, [("grille-fevrier.xlsx", february)], "2027-02").status_code == 200
    active = list(Retour.objects.filter(actif=True).order_by("mois"))
    assert [r.mois for r in active] == [dt.date(2027, 1, 1), dt.date(2027, 2, 1)]
    assert [r.heures_realisees for r in active] == [120 + 2, 240 + 4]  # 3 people × 40 h a month, 2 h of training
    # the same file again: nothing changes
    again = html.unescape(upload(client, [("grille-fevrier.xlsx", february)], "2027-02").content.decode())
    assert "déjà reçu, rien de changé" in again and Retour.objects.count() == 2
    # February corrected by the enterprise: it replaces the earlier one, kept and recorded
    corrected = fill(grid, months("2027-01-01", 2), per_month=50)
    page = html.unescape(upload(client, [("grille-fevrier-v2.xlsx", corrected)], "2027-02").content.decode())
    assert "retour du mois remplacé" in page and "remplace le retour déposé le" in page
    february_returns = Retour.objects.filter(mois=dt.date(2027, 2, 1)).order_by("pk")
    assert [r.actif for r in february_returns] == [False, True]
    assert february_returns[1].remplace == february_returns[0] and february_returns[1].heures_realisees == 300 + 4
    change = Journal.objects.get(action="retour_remplace")
    assert change.detail["remplace"]["heures_realisees"] == 244 and change.detail["heures_realisees"] == 304
    assert change.acteur == "facilitatrice@plie.fr" and change.suivi == suivi_a


def test_foreign_damaged_and_unknown_grids_are_refused_in_french_and_the_others_recorded(equipe, suivi_a):
    from web.suivi.models import Retour

    grid = grid_of(suivi_a.market)
    other, _ = render("2027-ABS-001")
    files = [("bonne.xlsx", fill(grid, months("2027-01-01", 1))), ("texte.xlsx", b"ceci n'est pas un classeur"),
             ("inconnue.xlsx", fill(grid_of(other), months("2027-01-01", 1))),
             ("doublon.xlsx", fill(grid, months("2027-01-01", 1), per_month=10))]
    response = upload(equipe.client_facilitateur, files, "2027-01")
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "« texte.xlsx »" not in page or "texte.xlsx" in page
    assert re.search(r"texte\.xlsx</strong> — fichier refusé : ce n.est pas un classeur Excel", page)
    assert "marché 2027-ABS-001 absent du suivi" in page
    assert re.search(r"doublon\.xlsx</strong> — grille écartée : grille écartée, non comptée : même marché que « bonne\.xlsx »", page) \
        or re.search(r"bonne\.xlsx</strong> — grille écartée", page)
    assert "/tmp/" not in page and "clausier-retours-" not in page  # temporary paths never shown
    assert Retour.objects.count() == 1


def test_problems_are_listed_per_cell_and_the_commitments_are_the_generated_ones(equipe, suivi_a):
    from web.suivi.models import Retour

    grid = grid_of(suivi_a.market)
    bad_row = ("ENT-009", 1, dt.date(2027, 1, 4), "Embauche directe", "Bâtir SA", None, "CDD", dt.date(2027, 1, 4),
               None, "F1703", dt.date(2027, 1, 1), -8, None, "N", "N")
    data = fill(grid, months("2027-01-01", 1), extra_rows=[bad_row])
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb["Engagements"]["D2"] = 1  # the enterprise « lowered » its commitment in the visible sheet
    out = io.BytesIO()
    wb.save(out)
    assert upload(equipe.client_facilitateur, [("grille.xlsx", out.getvalue())], "2027-01").status_code == 200
    retour = Retour.objects.get()
    cells = {p["cellule"]: p["message"] for p in retour.problemes}
    assert "nombre d'heures négatif" in cells["Suivi heures!L5"]
    assert any("engagement modifié dans la grille renvoyée" in m for m in cells.values())
    line = next(line for line in retour.figures["lignes"] if line["lot"] == 1 and line["type"] == "insertion")
    assert line["engagement"] == 964  # the generated grid's, not the one typed in
    page = equipe.client_facilitateur.get(f"/suivi/marches/{suivi_a.pk}/retours/{retour.pk}/").content.decode()
    assert "<code>Suivi heures!L5</code> : nombre d" in page and "<h3>Suivi heures (" in page


def test_the_dashboard_figures_equal_suivi_consolider_on_the_same_grids(equipe, suivi_a, tmp_path):
    """Per market (the page's figures, its JSON, the API) and for the portfolio (sums), against the command line."""
    from web.suivi import portefeuille
    from web.suivi.models import MarcheSuivi

    second, raw2 = render("2027-TRV-099", notification="2027-02-01")
    suivi_b, _ = portefeuille.record(second.files, equipe.org_a, None, origine=MarcheSuivi.WEB,
                                     questionnaire=(raw2, "q.yaml"))
    grids = {REFERENCE: fill(grid_of(suivi_a.market), months("2027-01-01", 3), per_month=35.5, people=5, actions=2),
             "2027-TRV-099": fill(grid_of(second), months("2027-02-01", 2), per_month=20, people=4)}
    paths = []
    for reference, data in grids.items():
        path = tmp_path / f"{reference}.xlsx"
        path.write_bytes(data)
        paths.append(path)
    response = upload(equipe.client_facilitateur, [(p.name, p.read_bytes()) for p in paths], "2027-03")
    assert response.status_code == 200
    folder = tmp_path / "sortie"
    api.write_market(folder, suivi_a.market)
    api.write_market(folder, second)
    expected = consolidate_cli(paths, folder)
    assert expected["fichiers_non_lus"] == [] and len(expected["marches"]) == 2
    api_list = equipe.client_facilitateur.get("/api/v1/suivi/marches",
                                              HTTP_AUTHORIZATION=f"Bearer {_token(equipe.facilitateur)}").json()
    assert {m["reference"] for m in api_list["marches"]} == {REFERENCE, "2027-TRV-099"}
    for market in expected["marches"]:
        suivi = MarcheSuivi.objects.get(reference=market["reference"])
        retour = suivi.retours.get(actif=True)
        mine = equipe.client_facilitateur.get(f"/suivi/marches/{suivi.pk}/retours/{retour.pk}/chiffres.json").json()
        assert {k: v for k, v in mine.items() if k != "fichier"} == {k: v for k, v in market.items() if k != "fichier"}
        via_api = equipe.client_facilitateur.get(f"/api/v1/suivi/marches/{suivi.pk}",
                                                 HTTP_AUTHORIZATION=f"Bearer {_token(equipe.facilitateur)}").json()
        assert via_api["dernier"]["lignes"] == market["lignes"]
        assert via_api["dernier"]["indicateurs"] == market["indicateurs"]
        # the page shows the same figures, in French
        page = equipe.client_facilitateur.get(f"/suivi/marches/{suivi.pk}/").content.decode()
        hours = sum(line["realise"] for line in market["lignes"] if line["type"] == "insertion")
        assert f"{api.fr_nombre(round(hours), 0)}</span> heures réalisées" in page
        for line in market["lignes"]:
            if line["type"] == "insertion":
                assert f'<td class="nombre">{api.fr_nombre(line["realise"])}</td>' in page
    # the portfolio's dashboard: sums of the command line's figures
    page = equipe.client_facilitateur.get("/suivi/tableau-de-bord/").content.decode()
    done = sum(line["realise"] for m in expected["marches"] for line in m["lignes"] if line["type"] == "insertion")
    people = sum(m["indicateurs"]["beneficiaires"] for m in expected["marches"])
    actions = sum(m["indicateurs"]["actions_realisees"] for m in expected["marches"])
    penalties = sum(line["penalites"] or 0 for m in expected["marches"] for line in m["lignes"])
    assert f'<span class="valeur">{api.fr_nombre(round(done), 0)}</span> heures réalisées' in page
    assert f'<span class="valeur">{api.fr_nombre(people)}</span> personnes' in page
    assert f'<span class="valeur">{api.fr_nombre(actions)}</span> actions sociales' in page
    insertion_penalties = sum(line["penalites"] or 0 for m in expected["marches"] for line in m["lignes"]
                              if line["type"] == "insertion")
    assert api.fr_euros(insertion_penalties) in page and penalties >= insertion_penalties
    women = sum(m["indicateurs"]["femmes"] for m in expected["marches"])
    assert re.search(rf'<th scope="row">Femmes</th><td class="nombre">{women}</td>', page)


def _token(user) -> str:
    import secrets

    from web import acces
    from web.marches.models import JetonAcces

    token = secrets.token_urlsafe(32)
    JetonAcces.objects.create(utilisateur=user, type=JetonAcces.API, empreinte=acces.digest(token))
    return token


def test_a_return_stores_no_personal_row_only_pseudonymous_figures(equipe, suivi_a):
    from web.suivi.models import Retour

    upload(equipe.client_facilitateur, [("g.xlsx", fill(grid_of(suivi_a.market), months("2027-01-01", 1)))], "2027-01")
    retour = Retour.objects.get()
    stored = json.dumps([retour.figures, retour.problemes], ensure_ascii=False)
    assert "ENT-001" not in stored  # not even the pseudonymous codes: only counts
    assert "categorie" not in stored and "eligibilit" not in stored.lower()
    fields = {f.name for f in Retour._meta.fields}
    assert not fields & {"categorie", "handicap", "rqth", "detention", "sante", "justice"}


def test_the_desk_pages_render_for_a_facilitator(equipe, suivi_a):
    upload(equipe.client_facilitateur, [("g.xlsx", fill(grid_of(suivi_a.market), months("2027-01-01", 2)))], "2027-02")
    retour = suivi_a.retours.get()
    urls = ["/suivi/", "/suivi/?etat=retard", "/suivi/?annee=2027", "/suivi/importer/", "/suivi/retours/",
            "/suivi/tableau-de-bord/", "/suivi/tableau-de-bord/?annee=2027&secteur=btp_gros_oeuvre",
            f"/suivi/marches/{suivi_a.pk}/", f"/suivi/marches/{suivi_a.pk}/retours/{retour.pk}/", "/suivi/bilans/",
            f"/suivi/bilans/?acheteur={equipe.org_a.pk}&annee=2027", "/suivi/journal/", "/acces-programmes/"]
    for url in urls:
        response = equipe.client_facilitateur.get(url)
        assert response.status_code == 200, url
        assert '<html lang="fr">' in html.unescape(response.content.decode()), url
    for url in (f"/suivi/marches/{suivi_a.pk}/graphiques/heures.svg", f"/suivi/marches/{suivi_a.pk}/graphiques/lots.svg",
                "/suivi/tableau-de-bord/graphiques/heures.svg", "/suivi/tableau-de-bord/graphiques/contrats.svg",
                "/suivi/tableau-de-bord/graphiques/publics.svg?annee=2027"):
        response = equipe.client_facilitateur.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml", url
        assert response.content.startswith(b"<?xml") and b"<script" not in response.content
        assert "script-src" not in response["Content-Security-Policy"] and "default-src 'none'" in response["Content-Security-Policy"]


def test_the_fiche_and_the_penalties_are_recorded_with_french_errors_beside_the_fields(equipe, suivi_a):
    from web.marches.models import Journal

    url = f"/suivi/marches/{suivi_a.pk}/"
    bad = equipe.client_facilitateur.post(url + "fiche/", {"debut_execution": "2027-13-45", "duree_mois": "0"})
    page = bad.content.decode()
    assert bad.status_code == 422 and "Date illisible" in page and "Une durée en mois, de 1 à 600." in page
    ok = equipe.client_facilitateur.post(url + "fiche/", {
        "debut_execution": "2027-01-04", "duree_mois": "18", "facilitateur": equipe.facilitateur.pk,
        "lot-1-titulaire": "Bâtir SA", "lot-1-secteur": "btp_gros_oeuvre", "lot-2-titulaire": "Peintures du Rhône"})
    assert ok.status_code == 302
    suivi_a.refresh_from_db()
    assert (suivi_a.duree_mois, suivi_a.facilitateur) == (18, equipe.facilitateur)
    assert suivi_a.lots.get(numero=2).titulaire == "Peintures du Rhône"
    assert Journal.objects.filter(action="fiche_modifiee", suivi=suivi_a).get().detail["avant"]["duree_mois"] == 20
    refused = equipe.client_facilitateur.post(url + "penalites/", {"penalites_retenues": "1.500"})
    assert refused.status_code == 422 and "montant illisible" in refused.content.decode()
    assert equipe.client_acheteur_a.post(url + "penalites/", {"procedure_contradictoire_le": "2028-09-01",
                                                               "penalites_retenues": "1 250,50",
                                                               "penalites_motif": "Observations du titulaire entendues."}
                                         ).status_code == 302  # the buyer decides, and records it
    suivi_a.refresh_from_db()
    assert str(suivi_a.penalites_retenues) == "1250.50"


def test_withdrawing_a_return_is_for_the_desk_and_recorded(equipe, suivi_a):
    from web.marches.models import Journal

    upload(equipe.client_facilitateur, [("g.xlsx", fill(grid_of(suivi_a.market), months("2027-01-01", 1)))], "2027-03")
    retour = suivi_a.retours.get()
    url = f"/suivi/marches/{suivi_a.pk}/retours/{retour.pk}/retirer/"
    assert equipe.client_acheteur_a.post(url).status_code == 403
    assert equipe.client_facilitateur.post(url).status_code == 302
    retour.refresh_from_db()
    assert not retour.actif and retour.retire_le is not None
    assert Journal.objects.filter(action="retour_retire").count() == 1


def test_uploads_over_the_limit_are_refused_before_reading(equipe):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("grosse.xlsx", b"0" * (20 * 1024 * 1024 + 1))
    response = equipe.client_facilitateur.post("/suivi/retours/", {"mois": "2027-01", "grilles": big})
    assert response.status_code == 413 and "20 Mo" in html.unescape(response.content.decode())


def test_missing_month_field_and_no_file_are_said_beside_the_fields(equipe):
    response = equipe.client_facilitateur.post("/suivi/retours/", {"mois": "n'importe"})
    page = html.unescape(response.content.decode())
    assert response.status_code == 422
    assert "Choisissez le mois sur lequel portent les grilles." in page
    assert "Choisissez au moins une grille de suivi remplie (.xlsx)." in page


def test_import_example_still_works_for_buyers(client):
    assert import_example(client).status_code == 302


def test_pages_hold_when_the_depositor_account_is_gone(equipe, suivi_a):
    from web.suivi.models import Retour

    upload(equipe.client_facilitateur, [("g.xlsx", fill(grid_of(suivi_a.market), months("2027-01-01", 1)))], "2027-01")
    Retour.objects.update(depose_par=None)  # what deleting an account leaves (SET_NULL)
    retour = Retour.objects.get()
    for url in (f"/suivi/marches/{suivi_a.pk}/", f"/suivi/marches/{suivi_a.pk}/retours/{retour.pk}/", "/suivi/retours/"):
        assert equipe.client_facilitateur.get(url).status_code == 200, url


def test_the_desk_pages_render_before_any_return_and_with_markets_without_one(equipe, suivi_a):
    from web.suivi import portefeuille

    other, raw = render("2027-SANS-001")
    portefeuille.record(other.files, equipe.org_a, None, origine="web", questionnaire=(raw, "q.yaml"))
    for url in ("/suivi/", "/suivi/tableau-de-bord/", "/suivi/tableau-de-bord/graphiques/heures.svg",
                f"/suivi/marches/{suivi_a.pk}/", f"/suivi/bilans/?acheteur={equipe.org_a.pk}&annee=2027",
                "/api/v1/suivi/marches"):
        client = equipe.client_facilitateur
        response = client.get(url) if not url.startswith("/api/") else client.get(
            url, HTTP_AUTHORIZATION=f"Bearer {_token(equipe.facilitateur)}")
        assert response.status_code == 200, url
    upload(equipe.client_facilitateur, [("g.xlsx", fill(grid_of(suivi_a.market), months("2027-01-01", 1)))], "2027-01")
    for url in ("/suivi/", "/suivi/tableau-de-bord/", "/suivi/tableau-de-bord/graphiques/heures.svg"):
        assert equipe.client_facilitateur.get(url).status_code == 200, url  # one market with a return, one without
