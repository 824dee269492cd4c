"""Every bad-input case of the contract, through the CLI: French message, path, exit 2, nothing written."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from cli import main
from tests.support import questionnaire


def run_generate(runner, path, tmp_path):
    out = tmp_path / "sortie"
    result = runner.invoke(main, ["generate", str(path), "--out", str(out)])
    return result, out


def assert_refused(result, out, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_unknown_key_is_reported_with_its_path_and_a_suggestion(runner, write_q, tmp_path):
    data = questionnaire()
    data["lots"][0]["montant_estime"] = 10
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "lots[0].montant_estime", "clé inconnue", "montant_estime_ht")


def test_wrong_types_and_ranges(runner, write_q, tmp_path):
    data = questionnaire(**{"marche.duree_mois": "vingt", "parametres": {"taux_insertion": 5}})
    data["lots"][0]["montant_estime_ht"] = -3
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "marche.duree_mois", "nombre entier", "parametres.taux_insertion",
                   "0.05 pour 5 %", "lots[0].montant_estime_ht", "supérieure ou égale à 0")


def test_every_error_of_a_file_is_reported_at_once_with_lines(runner, write_q, tmp_path):
    data = questionnaire(**{"acheteur.type": "mairie", "marche.nature": "travail"})
    data["lots"].append({"numero": 1, "intitule": "Doublon", "secteur": "peinture", "montant_estime_ht": 10})
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "acheteur.type", "valeurs possibles", "marche.nature", "lots[1].numero",
                   "déjà utilisé", "lots[1].secteur", "btp_peinture", "4 erreurs")
    assert "ligne " in result.stderr


def test_unknown_sector_lists_nearest_known_ids(runner, write_q, tmp_path):
    data = questionnaire()
    data["lots"][0]["secteur"] = "espace_vert"
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "lots[0].secteur", "secteur « espace_vert » inconnu", "espaces_verts")


@pytest.mark.parametrize("reference", ["../../etc", "..", "a/b", "réf 2026", ".cache"])
def test_unsafe_reference_is_refused(runner, write_q, tmp_path, reference):
    result, out = run_generate(runner, write_q(questionnaire(**{"marche.reference": reference})), tmp_path)
    assert_refused(result, out, "marche.reference", "non admise")


def test_yaml_syntax_error_gives_the_line(runner, write_q, tmp_path):
    text = "version: 1\nacheteur:\n  nom: Ville\n  type: [collectivite\nmarche: {}\n"
    result, out = run_generate(runner, write_q(text=text), tmp_path)
    assert_refused(result, out, "YAML mal formé", "ligne ")


def test_yaml_aliases_and_custom_tags_are_refused(runner, write_q, tmp_path):
    text = ("version: 1\nacheteur: &a\n  nom: Ville\n  type: collectivite\nfacilitateur: *a\n"
            "marche: !!python/object:os.system {}\nlots: []\n")
    result, out = run_generate(runner, write_q(text=text), tmp_path)
    assert_refused(result, out, "références YAML", "étiquette YAML")


def test_duplicate_keys_are_refused(runner, write_q, tmp_path):
    text = yaml.safe_dump(questionnaire(), allow_unicode=True, sort_keys=False) + "version: 1\n"
    result, out = run_generate(runner, write_q(text=text), tmp_path)
    assert_refused(result, out, "clé en double")


@pytest.mark.parametrize("text", ["", "   \n\n", "# seulement un commentaire\n"])
def test_empty_file(runner, write_q, tmp_path, text):
    result, out = run_generate(runner, write_q(text=text), tmp_path)
    assert_refused(result, out)
    assert "vide" in result.stderr or "aucune donnée" in result.stderr


@pytest.mark.parametrize("version, message", [(2, "version « 2 » non prise en charge"), (None, "clé obligatoire absente")])
def test_wrong_or_missing_version(runner, write_q, tmp_path, version, message):
    data = questionnaire()
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, message)


def test_json_questionnaire_errors(runner, write_q, tmp_path):
    result, out = run_generate(runner, write_q(text='{"version": 1, "acheteur": }', name="q.json"), tmp_path)
    assert_refused(result, out, "JSON mal formé", "ligne 1")
    data = questionnaire()
    data["lots"][0]["montant_estime_ht"] = "1,500"
    result, out = run_generate(runner, write_q(text=json.dumps(data), name="q.json"), tmp_path)
    assert_refused(result, out, "lots[0].montant_estime_ht", "montant illisible")


def test_amount_written_in_french_is_accepted_exactly(runner, write_q, library):
    from drafting.intake.reader import parse_questionnaire

    data = questionnaire()
    data["lots"][0]["montant_estime_ht"] = "1 500 000,50 € HT"
    loaded = parse_questionnaire(yaml.safe_dump(data, allow_unicode=True).encode(), "q.yaml", library)
    assert loaded.model.lots[0].montant_estime_ht == 1500000.5


def test_framework_amount_rules(runner, write_q, tmp_path):
    data = questionnaire(**{"marche.forme": "accord_cadre_bons_de_commande"})
    data["lots"][0] = {"numero": 1, "intitule": "Lot", "secteur": "nettoyage", "montant_minimum_ht": 5000}
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "lots[0].montant_maximum_ht", "obligatoire pour un accord-cadre")
    data["lots"][0]["montant_maximum_ht"] = 1000
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "le montant minimum dépasse le montant maximum")


def test_missing_file_and_non_utf8(runner, tmp_path):
    result = runner.invoke(main, ["plan", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2 and "fichier introuvable" in result.stderr
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\nacheteur: {nom: Génère}\n".encode("latin-1"))
    result = runner.invoke(main, ["plan", str(path)])
    assert result.exit_code == 2 and "UTF-8" in result.stderr


def test_plan_refuses_bad_input_with_exit_2(runner, write_q):
    result = runner.invoke(main, ["plan", str(write_q(questionnaire(**{"lots": []})))])
    assert result.exit_code == 2
    assert "au moins un lot est requis" in result.stderr


@pytest.mark.parametrize("text, expected", [
    ("departement: null", "acheteur"),                               # optional field explicitly empty: accepted
    ("montant: .inf", "nombre fini attendu"),
    ("montant: 1e30", "inférieure ou égale à 100000000000"),
    ("cle_liste", "clé invalide"),
    ("notification: 2019-06-01", "date antérieure aux paramètres"),
    ("considerations: yes", None),                                   # yes/no read as oui/non
])
def test_hostile_values_are_reported_not_crashed(runner, write_q, tmp_path, text, expected):
    data = questionnaire()
    if text == "departement: null":
        data["acheteur"]["departement"] = None
    elif text.startswith("montant"):
        data["lots"][0]["montant_estime_ht"] = float("inf") if "inf" in text else 1e30
    elif text == "notification: 2019-06-01":
        data["marche"]["date_notification_prevue"] = "2019-06-01"
    elif text == "considerations: yes":
        data["considerations"] = {"insertion": True}
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if text == "cle_liste":
        body += "? [a, b]\n: z\n"
    result = runner.invoke(main, ["plan", str(write_q(text=body))])
    assert "Traceback" not in result.output and "Erreur interne" not in result.stderr
    if expected in (None, "acheteur"):
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 2 and expected in result.stderr, result.stderr


def test_yaml_flow_mapping_is_yaml_not_json(runner, write_q):
    text = json.dumps(questionnaire()).replace('"version": 1', "version: 1")
    result = runner.invoke(main, ["plan", str(write_q(text=text, name="q.yaml"))])
    assert result.exit_code == 0, result.stderr


def test_amount_words_inside_digits_are_refused(library):
    from drafting.errors import QuestionnaireError
    from drafting.intake.reader import parse_questionnaire

    data = questionnaire()
    data["lots"][0]["montant_estime_ht"] = "1 HT 500 EUR 000"
    with pytest.raises(QuestionnaireError):
        parse_questionnaire(yaml.safe_dump(data, allow_unicode=True).encode(), "q.yaml", library)


def test_clause_details_are_checked(runner, write_q, tmp_path):
    data = questionnaire(clauses={"action_sociale": {"actions": ["visite_chantier"], "nombre": 3},
                                  "marche_reserve": {"article": "L2113-99"}})
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert_refused(result, out, "clauses.action_sociale.nombre", "3 actions demandées parmi 1 proposées",
                   "clauses.marche_reserve.article")
    imposed = questionnaire(clauses={"action_sociale": {"actions": ["formation"], "mode": "imposees", "nombre": 1}})
    result, out = run_generate(runner, write_q(imposed, name="imposees.yaml"), tmp_path)
    assert_refused(result, out, "« nombre » ne s'emploie qu'avec « mode: au_choix »")


def test_clause_details_reach_the_documents(runner, write_q, tmp_path):
    import docx

    data = questionnaire(**{"considerations": {"action_sociale": "oui", "marche_reserve": "oui"},
                            "clauses": {"action_sociale": {"actions": ["visite_chantier", "immersion_pmsmp", "formation"],
                                                           "nombre": 2},
                                        "marche_reserve": {"article": "L2113-12"}}})
    result, out = run_generate(runner, write_q(data), tmp_path)
    assert result.exit_code == 0, result.output
    folder = out / "2026-T-001"

    def text(name: str) -> str:
        document = docx.Document(str(folder / name))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)

    ccap, rc = text("2026-T-001_CCAP_clauses-sociales.docx"), text("2026-T-001_RC_clauses-sociales.docx")
    assert "Immersion professionnelle (PMSMP)" in ccap and "Visite de chantier ou de site" in ccap
    assert "Parrainage" not in ccap
    assert "réalise au moins 2\u00a0actions distinctes, qu’il choisit parmi" in ccap.replace(" actions", "\u00a0actions")
    cited = set(re.findall(r"L\.\s?(2113-[\d-]+)", rc))
    assert "2113-12" in cited and "2113-13" not in cited and "2113-15" not in cited
