"""Legal fidelity of the pieces (issue 15): what a jurist checks before a buyer publishes them.

Each test writes a small market, drafts it in memory through the engine's API and reads the
pieces as text, or goes through the real command when the exit code or the files matter.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import docx
import openpyxl
import yaml
from click.testing import CliRunner

from cli import main
from drafting import api
from drafting.compose.pieces import piece_text
from drafting.facilitators.check import check_library
from drafting.facilitators.check_references import maintainer_markers
from drafting.library import load_library
from tests.support import EXAMPLES, questionnaire

MARKERS = re.compile(r"\[\s*verify|\bverify\b|\bTODO\b|\bFIXME\b|[\[(]\s*à\s+(vérifier|confirmer)", re.IGNORECASE)


def loaded(library, data: dict):
    return api.read_questionnaire(yaml.safe_dump(data, allow_unicode=True).encode("utf-8"), library, "q.yaml")


def pieces(library, data: dict) -> dict[str, str]:
    """Kind of piece (ccap, rc, ae, note, annexe:…) -> its plain text."""
    out = {}
    for piece in api.engine().pieces(loaded(library, data), library):
        key = piece.kind if piece.kind != "annexe" else f"annexe:{piece.filename}"
        out[key] = piece_text(piece)
    return out


def plan_of(library, data: dict):
    return api.plan(loaded(library, data), library)


def codes(plan) -> set[str]:
    return {w.code for w in plan.avertissements} | {w.code for lot in plan.lots for w in lot.avertissements}


def spaces(text: str) -> str:
    """French non-breaking spaces as plain ones, to compare with expected sentences."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


# --------------------------------------------------------------------------- CCAG articles, per CCAG

def test_works_ccap_cites_the_works_ccag_articles(library):
    text = pieces(library, questionnaire(**{"marche.ccag": "travaux"}))["ccap"]
    assert "l’article 20.1 du CCAG-Travaux (clause d’insertion sociale)" in text
    assert "Par dérogation à l’article 19.2.2 (plafonnement du montant des pénalités) et à l’article 19.2.1" in text
    assert "16.1" not in text and "14.1" not in text  # never the numbering of another CCAG
    assert "le cas échéant" not in text.split("Clause sociale d’insertion")[1].split("Publics")[0]
    assert "À compléter : articles du CCAG" not in text


def test_services_ccap_cites_the_fcs_articles(library):
    data = questionnaire(**{"marche.nature": "services", "marche.ccag": "fcs"})
    data["lots"][0].update(secteur="nettoyage", montant_estime_ht=900000)
    text = pieces(library, data)["ccap"]
    assert "l’article 16.1 du CCAG-FCS (clause d’insertion sociale)" in text
    assert "à l’article 14.1.2 (plafonnement du montant des pénalités) et à l’article 14.1.3" in text
    assert "19.2" not in text and "20.1" not in text


def test_an_article_whose_number_is_unknown_is_named_by_its_subject(library):
    data = questionnaire(**{"marche.nature": "fournitures", "marche.ccag": "mi"})
    text = pieces(library, data)["ccap"]
    assert "les stipulations du CCAG-MI relatives à la clause d’insertion sociale" in text
    assert "à l’article 15.2 (plafonnement du montant des pénalités) et aux stipulations relatives à l’exonération" in text
    assert not re.search(r"article\s+None", text)


def test_the_derogation_is_listed_for_the_ccaps_last_article(library):
    data = questionnaire(**{"considerations": {"action_sociale": "oui"}})
    plan = plan_of(library, data)
    listed = [item for item in plan.a_completer if item.piece == "CCAP de l’acheteur"]
    assert len(listed) == 1
    assert ("Clauses sociales : les articles 1.9 et 2.8 du présent cahier dérogent à l’article 19.2.2"
            in listed[0].libelle)
    note = pieces(library, data)["note"]
    assert "Dérogations au CCAG à récapituler" in note and "dernier article du CCAP" in note


def test_the_buyers_ccap_receives_the_derogations_where_it_asks_for_them(tmp_path, write_q):
    model = docx.Document()
    model.add_heading("Article 1 – Objet", 1)
    model.add_paragraph("[[CLAUSES SOCIALES]]")
    model.add_heading("Article 12 – Dérogations au CCAG", 1)
    model.add_paragraph("[[DÉROGATIONS AU CCAG]]")
    model.save(str(tmp_path / "modele.docx"))
    result = CliRunner().invoke(main, ["generate", str(write_q(questionnaire())), "--out", str(tmp_path / "out"),
                                       "--ccap-modele", str(tmp_path / "modele.docx")])
    assert result.exit_code == 0, result.output
    text = spaces(docx_text((tmp_path / "out" / "2026-T-001" / "2026-T-001_CCAP.docx").read_bytes()))
    assert "[[DÉROGATIONS AU CCAG]]" not in text
    assert "Clauses sociales : l’article 2.9 du présent cahier déroge à l’article 19.2.2" in text
    plan = json.loads(CliRunner().invoke(main, ["plan", str(write_q(questionnaire())), "--format", "json"]).output)
    assert any(item["piece"] == "CCAP de l’acheteur" for item in plan["a_completer"])
    assert "1 zone(s) à compléter" in result.output  # the derogation is no longer to paste: the training cap remains


# --------------------------------------------------------------------------- no maintainer's note anywhere

def test_no_maintainers_marker_reaches_any_piece_of_any_example(tmp_path):
    for example in sorted(EXAMPLES.iterdir()):
        result = CliRunner().invoke(main, ["generate", str(example), "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
    documents = sorted(tmp_path.glob("*/*.docx")) + sorted(tmp_path.glob("*/*.xlsx"))
    assert len(documents) > 30
    for path in documents:
        with zipfile.ZipFile(path) as archive:
            text = " ".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml"))
        assert not MARKERS.search(text), (path.name, MARKERS.search(text))


def test_library_check_refuses_a_published_text_that_would_print_a_marker(tmp_path, runner):
    lib = tmp_path / "biblio"
    assert runner.invoke(main, ["library", "init", str(lib)]).exit_code == 0
    fragment = lib / "fragments" / "illettrisme" / "rc.txt"
    fragment.write_text(fragment.read_text(encoding="utf-8") + "\nDélai de quinze jours [verify].\n", encoding="utf-8")
    result = runner.invoke(main, ["library", "check", "--library", str(lib)])
    assert result.exit_code != 0 and "erreur [marqueur]" in result.output
    assert maintainer_markers("Lorsque l’acheteur demande à vérifier un indicateur") == []
    assert maintainer_markers("Seuil (à confirmer) : 30 %")


def test_one_reference_one_address(tmp_path, runner, library):
    for fragment in library.fragments.values():
        for base in fragment.bases_legales:
            assert base["reference"] in library.references, (fragment.id, base)
            assert base.get("source", library.references[base["reference"]]["source"]) == \
                library.references[base["reference"]]["source"]
    lib = tmp_path / "biblio"
    assert runner.invoke(main, ["library", "init", str(lib)]).exit_code == 0
    fragment = lib / "fragments" / "insertion" / "rc.txt"
    text = fragment.read_text(encoding="utf-8").replace('  - reference: "CCP L2112-2"\n',
                                                         '  - reference: "CCP L2112-2"\n    source: "https://ailleurs.example"\n', 1)
    fragment.write_text(text, encoding="utf-8")
    problems = [str(p) for p in check_library(lib) if p.code == "reference" and p.severity == "erreur"]
    assert any("une référence, une adresse" in p for p in problems)


def test_parameters_say_whether_they_are_law_or_convention(library):
    natures = {p.name: p.nature for p in library.parameters.values()}
    assert natures["seuil_ue_travaux"] == "loi" and natures["smic_horaire_brut"] == "loi"
    assert natures["penalite_retard_jour"] == "convention" and natures["penalite_horaire"] == "convention"
    assert natures["plan_de_progres_montant_min"] == "politique"
    for parameter in library.parameters.values():
        assert parameter.nature in ("loi", "convention", "pratique", "politique"), parameter.name
        if parameter.nature == "loi":
            assert parameter.verifie_le is not None, parameter.name


def test_one_full_time_equivalent_across_the_library(library):
    assert library.param("heures_an_temps_plein", dt.date(2026, 12, 1)) == 1607
    for fragment in library.fragments.values():
        assert "1 820" not in fragment.body.replace("\u202f", " ").replace("\u00a0", " "), fragment.id


def test_smic_history_by_date(library):
    smic = library.parameters["smic_horaire_brut"]
    assert [(d.isoformat(), v) for d, v in smic.values] == [
        ("2024-01-01", 11.65), ("2024-11-01", 11.88), ("2026-01-01", 12.02), ("2026-06-01", 12.31)]
    assert library.param("smic_horaire_brut", dt.date(2025, 6, 30)) == 11.88
    assert "2025-1228" in smic.source and "2024-951" in smic.source


# --------------------------------------------------------------------------- the consultation's date

def mandatory_case(**changes) -> dict:
    data = questionnaire(**{"marche.nature": "services", "considerations": {t: "non" for t in api.CONSIDERATION_TYPES},
                            **changes})
    data["lots"][0].update(secteur="nettoyage", montant_estime_ht=900000)
    return data


def test_launch_date_decides_the_mandatory_social_condition(library):
    # launched before 22 August 2026, notified after: the law of the launch applies, no obligation
    data = mandatory_case(**{"marche.date_lancement": "2026-07-01", "marche.date_notification_prevue": "2026-10-01"})
    plan = plan_of(library, data)
    assert "condition_sociale_obligatoire" not in codes(plan)
    assert (plan.parametres["date_consultation"], plan.parametres["date_consultation_origine"]) == ("2026-07-01", "lancement")
    data["marche"]["date_lancement"] = "2026-08-22"
    warning = next(w for w in plan_of(library, data).avertissements if w.code == "condition_sociale_obligatoire")
    assert "lancé le 22 août 2026" in spaces(warning.message) and "marché de travaux d'une durée inférieure à six mois" in warning.message


def test_without_launch_date_the_notification_date_stands_in(library):
    data = mandatory_case(**{"marche.date_notification_prevue": "2026-09-01"})
    plan = plan_of(library, data)
    assert plan.parametres["date_consultation_origine"] == "notification"
    assert "condition_sociale_obligatoire" in codes(plan)


def test_with_no_date_the_current_law_applies_and_the_plan_says_so(library):
    data = mandatory_case()
    del data["marche"]["date_notification_prevue"]
    plan = plan_of(library, data)
    assert plan.parametres["date_consultation_origine"] == "bibliotheque"
    assert {"condition_sociale_obligatoire", "date_consultation_inconnue"} <= codes(plan)  # never silenced by a missing date
    text = api.plan_text(plan)
    assert "ni date de lancement de la consultation ni date de notification" in text


def test_defence_contracts_are_excluded_by_the_law(library):
    data = mandatory_case(**{"marche.date_lancement": "2026-09-01", "marche.defense_ou_securite": True})
    assert "condition_sociale_obligatoire" not in codes(plan_of(library, data))
    exclusions = library.param("condition_sociale_exclusions", dt.date(2026, 9, 1))
    assert exclusions[0]["reference"] in library.references


def test_eu_thresholds_follow_the_consultation_date(library):
    data = questionnaire(**{"marche.date_lancement": "2025-11-15", "marche.date_notification_prevue": "2026-02-01"})
    assert plan_of(library, data).parametres["seuil_europeen_ht"] == 5538000
    data["marche"]["date_lancement"] = "2026-01-05"
    assert plan_of(library, data).parametres["seuil_europeen_ht"] == 5404000


def test_launch_date_is_part_of_the_contract_and_its_schema(runner):
    schema = json.loads(runner.invoke(main, ["questionnaire", "schema"]).output)
    assert "date_lancement" in schema["$defs"]["Marche"]["properties"]


# --------------------------------------------------------------------------- procedure and amounts

def test_mapa_above_the_eu_threshold_is_a_warning_with_its_source(library):
    data = questionnaire(**{"marche.procedure": "mapa", "marche.date_lancement": "2026-10-01"})
    data["lots"][0]["montant_estime_ht"] = 6000000
    warning = next(w for w in plan_of(library, data).avertissements if w.code == "procedure_inadaptee")
    assert "5 404 000,00" in warning.message.replace("\u202f", " ").replace("\u00a0", " ")
    assert "R2123-1" in warning.message
    assert "procedure_inadaptee" in pieces(library, data)["note"]


def test_small_lots_in_mapa_only_within_their_limits(library):
    data = questionnaire(**{"marche.procedure": "appel_offres_ouvert", "marche.date_lancement": "2026-10-01"})
    data["lots"] = [
        {"numero": 1, "intitule": "Gros œuvre", "secteur": "btp_gros_oeuvre", "montant_estime_ht": 5500000},
        {"numero": 2, "intitule": "Peinture", "secteur": "btp_peinture", "montant_estime_ht": 900000, "procedure": "mapa"},
    ]
    assert "procedure_inadaptee" not in codes(plan_of(library, data))   # 900 000 < 1 M€ and 14 % ≤ 20 %
    data["lots"][1]["montant_estime_ht"] = 1200000
    warning = next(w for w in plan_of(library, data).avertissements if w.code == "procedure_inadaptee")
    assert "lot(s) n° 2" in warning.message
    data["lots"][1]["montant_estime_ht"] = 900000
    data["lots"].append({"numero": 3, "intitule": "Sols", "secteur": "btp_second_oeuvre", "montant_estime_ht": 900000,
                         "procedure": "mapa"})
    assert "plus de 20" in next(w.message for w in plan_of(library, data).avertissements if w.code == "procedure_inadaptee")


# --------------------------------------------------------------------------- reservation basis

def reserved(article: str | None) -> dict:
    data = questionnaire(**{"marche.nature": "services", "marche.ccag": "fcs"})
    data["lots"][0].update(secteur="espaces_verts", montant_estime_ht=400000, sourcing={"structures_inclusives": 20})
    if article:
        data["clauses"] = {"marche_reserve": {"article": article}}
    return data


def test_without_a_basis_the_choice_is_due_and_nothing_is_defaulted(library):
    plan = plan_of(library, reserved(None))
    assert "reservation_fondement" in codes(plan)
    assert any("fondement de la réservation" in item.libelle for item in plan.a_completer)
    text = pieces(library, reserved(None))
    assert "L. 2113-13 du code" not in text["ccap"] and "L. 2113-12 du code" not in text["ccap"]


def test_an_siae_reservation_speaks_only_of_siae(library):
    text = pieces(library, reserved("L2113-13"))
    for kind in ("ccap", "rc", "ae"):
        assert "insertion par l’activité économique" in text[kind]
        assert "entreprise adaptée" not in text[kind] and "entreprises adaptées" not in text[kind], kind
        assert "accompagnement par le travail" not in text[kind], kind


def test_the_prison_reservation_cites_the_code_penitentiaire(library):
    text = pieces(library, reserved("L2113-13-1"))
    assert "articles L. 412-10 à L. 412-18 du code pénitentiaire" in text["rc"]
    assert "procédure pénale" not in " ".join(text.values())


def test_the_ess_reservation_points_to_the_services_list_and_three_years(library):
    data = reserved("L2113-15")
    data["marche"]["duree_mois"] = 48
    plan = plan_of(library, data)
    warning = next(w for w in plan.avertissements if w.code == "reservation_ess")
    assert "avis annexé au code" in warning.message and "trente-six mois" in warning.message
    assert "R. 2113-8" not in pieces(library, data)["ccap"]


# --------------------------------------------------------------------------- personal data

def test_the_enterprises_grid_carries_no_eligibility_category(tmp_path):
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 0
    folder = tmp_path / "2026-TRV-014"
    wb = openpyxl.load_workbook(folder / "2026-TRV-014_grille-de-suivi.xlsx")
    headers = [c.value or "" for c in wb["Suivi heures"][1]]
    lists = [c.value or "" for c in wb["Listes"][1]]
    assert not any("catégorie" in h.lower() for h in headers) and "categories" not in lists
    everything = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value)
    assert "RQTH" not in everything and "détention" not in everything
    ccap = docx_text((folder / "2026-TRV-014_CCAP_clauses-sociales.docx").read_bytes())
    assert "Elle ne comporte pas le motif de l’éligibilité." in ccap
    assert "catégorie d’éligibilité retenue par le facilitateur" not in ccap
    annex = docx_text((folder / "2026-TRV-014_annexe-publics-eligibles.docx").read_bytes())
    assert "il ne figure pas dans la grille de suivi" in annex


# --------------------------------------------------------------------------- motives stay in the note

def test_the_ccap_states_no_motive_for_choosing_a_clause(library):
    data = questionnaire(**{"considerations": {"insertion": "non", "action_sociale": "oui", "illettrisme": "oui",
                                               "plan_de_progres": "oui"}, "marche.duree_mois": 48})
    text = pieces(library, data)
    for phrase in ("pour le motif suivant", "est retenue seule", "Il est retenu pour ce motif", "première démarche"):
        assert phrase not in text["ccap"], phrase
    assert "Écartée par l'acheteur" in text["note"]   # the note keeps the reasons


# --------------------------------------------------------------------------- award criteria

def test_insertion_market_criteria_include_an_environmental_criterion(library):
    data = questionnaire(**{"marche.nature": "services", "objectifs": {"objet_insertion": True},
                            "criteres": {"projet_insertion": 40, "valeur_technique": 20, "environnement": 10, "prix": 30}})
    data["lots"][0]["secteur"] = "espaces_verts"
    rc = pieces(library, data)["rc"]
    assert "Caractéristiques environnementales de l’offre" in rc and "| 10 %" in rc
    data["criteres"] = {}
    plan = plan_of(library, data)
    assert any("critère environnemental" in item.libelle for item in plan.a_completer)


def test_award_criterion_on_insertion_alone_or_with_the_clause(library):
    with_clause = questionnaire(**{"criteres": {"insertion": 15}})
    plan = plan_of(library, with_clause)
    assert plan.decp == ["Clause sociale", "Critère social"]
    rc = pieces(library, with_clause)["rc"]
    assert "Critère d’attribution relatif à l’insertion professionnelle" in rc and "15 % de la note globale" in rc
    assert "au-delà du volume d’heures qu’elle impose" in rc
    assert "note d’insertion" in rc
    alone = questionnaire(**{"criteres": {"insertion": 15},
                             "considerations": {t: "non" for t in api.CONSIDERATION_TYPES}})
    assert plan_of(library, alone).decp == ["Critère social"]
    assert "ne comporte pas de clause sociale d’insertion" in pieces(library, alone)["rc"]
    assert "CE 2013 Isère" in library.critere_bases


# --------------------------------------------------------------------------- frameworks and renewals

def test_subsequent_contracts_get_their_hours_each(library):
    data = questionnaire(**{"marche.forme": "accord_cadre_marches_subsequents"})
    data["lots"][0].update(montant_estime_ht=None, montant_minimum_ht=500000, montant_maximum_ht=2000000)
    del data["lots"][0]["montant_estime_ht"]
    text = pieces(library, data)
    assert "chaque marché subséquent fixe le volume d’heures d’insertion dû à son titre" in text["ccap"]
    assert "bons de commande" not in text["ccap"]
    assert "par tranche de 100 000 € HT de marché subséquent" in text["rc"].replace("\u202f", " ").replace("\u00a0", " ")


def test_renewals_show_their_hours_per_period(library):
    data = questionnaire(**{"marche.duree_mois": 24, "marche.reconductions": 2, "marche.duree_reconduction_mois": 12})
    ccap = pieces(library, data)["ccap"]
    rows = [line for line in ccap.splitlines() if line.startswith("1 | ") and ("Période" in line or "Reconduction" in line)]
    # 643 hours over 48 months: 161 for each 12-month renewal, the rest for the initial 24 months
    assert rows == ["1 | Période initiale | 24 mois | 321 heures".replace(" heures", "\u00a0heures").replace("24 mois", "24\u00a0mois"),
                    "1 | Reconduction n° 1 | 12\u00a0mois | 161\u00a0heures", "1 | Reconduction n° 2 | 12\u00a0mois | 161\u00a0heures"]
    assert "Seul est dû le volume des périodes effectivement exécutées" in ccap


# --------------------------------------------------------------------------- inclusive structures as sub-contractors

def test_inclusive_sub_contractor_attestation_and_grid_column(tmp_path):
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 0
    folder = tmp_path / "2026-TRV-014"
    attestation = docx_text((folder / "2026-TRV-014_annexe-attestation-structure-inclusive.docx").read_bytes())
    assert "Attestation d’heures d’insertion" in attestation and "sous-traitant ou cotraitant" in attestation
    wb = openpyxl.load_workbook(folder / "2026-TRV-014_grille-de-suivi.xlsx")
    assert "Attestation de la structure inclusive (date)" in [c.value for c in wb["Suivi heures"][1]]


# --------------------------------------------------------------------------- parameters against the guide

def test_a_penalty_below_the_hourly_cost_is_a_warning(library):
    data = questionnaire(**{"parametres": {"penalite_horaire": 20}})
    warning = next(w for lot in plan_of(library, data).lots for w in lot.avertissements if w.code == "penalite_insuffisante")
    assert "coûterait moins cher que la réaliser" in warning.message
    assert "penalite_insuffisante" not in codes(plan_of(library, questionnaire()))  # the default is the hourly cost
    assert plan_of(library, questionnaire()).penalite_horaire == 35


# --------------------------------------------------------------------------- what is left to complete

def test_every_zone_left_is_listed_and_counted(runner, write_q, tmp_path):
    data = questionnaire()
    del data["facilitateur"]
    path = write_q(data)
    plan = json.loads(runner.invoke(main, ["plan", str(path), "--format", "json"]).output)
    pending = plan["a_completer"]
    assert any(item["libelle"] == "structure du facilitateur" for item in pending)
    assert any(item["piece"].endswith("_CCAP_clauses-sociales.docx") and "Facilitateur" in item["ou"] for item in pending)
    result = runner.invoke(main, ["generate", str(path), "--out", str(tmp_path / "out")])
    assert f"{len(pending)} zone(s) à compléter avant publication" in result.output
    note = docx.Document(str(tmp_path / "out" / "2026-T-001" / "2026-T-001_note-de-synthese.docx"))
    first = [p.text for p in note.paragraphs[:6]]
    assert any(text.startswith(f"À compléter avant publication ({len(pending)})") for text in first)
    # the candidate's own zones (signature…) are not the buyer's to complete
    assert not any("signataire" in item["libelle"] for item in pending)


def test_new_questionnaire_fields_fill_their_zones(library):
    data = questionnaire(**{"considerations": {"illettrisme": "oui", "egalite_diversite": "oui"},
                            "clauses": {"illettrisme": {"interlocuteur": "CRI Auvergne-Rhône-Alpes, 04 00 00 00 01"},
                                        "egalite_diversite": {"actions_decouverte_par_an": 3},
                                        "insertion": {"plafond_formation": 0.25}}})
    ccap = pieces(library, data)["ccap"]
    assert "CRI Auvergne-Rhône-Alpes" in ccap and "au moins 3 action(s) de découverte" in ccap
    assert "dans la limite de 25\u00a0% du volume" in ccap
    assert [item for item in plan_of(library, data).a_completer if item.piece != "CCAP de l’acheteur"] == []


def test_bundled_release_has_a_changelog_entry(library):
    release = load_library(version=library.version)
    assert release.version == library.version
    entry = next(e for e in library.changelog if str(e.get("version")) == library.version)
    assert "CCAG" in entry["resume"]
