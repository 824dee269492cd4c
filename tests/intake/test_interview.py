"""The terminal interview itself (intake.interview), answer by answer, without a terminal."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from drafting.intake.interview import run, to_yaml
from drafting.intake.reader import parse_questionnaire

ANSWERS = [
    "Ville de Lyon", "", "69",                       # buyer: name, type (default), département
    "", "PLIE du Grand Lyon", "", "", "",            # a facilitator (default yes): structure, contact, mail, phone
    "2027-TRV-001", "Rénovation de l'école Jaurès",  # market
    "", "", "", "",                                  # nature, procedure, form, CCAG: the defaults
    "2027-03-01", "douze", "12", "",                 # notification; a duration refused then given; no renewal
    "1,9", "1, 4", "", "",                           # themes (one out of range, then two), first try, insertion
    "1", "Gros œuvre", "maçonnerie", "1 200 000", "",   # one lot, its sector found by a word of its label
]


def interview(library, answers: list[str]) -> tuple[dict, str]:
    lines: list[str] = []
    with CliRunner().isolation(input="\n".join(answers) + "\n"):
        data = run(library, echo=lines.append)
    return data, "\n".join(lines)


def test_each_answer_is_checked_as_it_is_given_and_the_result_is_a_valid_questionnaire(library):
    data, said = interview(library, ANSWERS)
    assert "✗ « douze » n'est pas un nombre : écrivez-le en chiffres, par exemple 12" in said
    assert "« 9 » : donnez des numéros entre 1 et" in said
    assert "→ btp_gros_oeuvre : Gros œuvre, maçonnerie" in said
    assert data["marche"]["duree_mois"] == 12 and "reconductions" not in data["marche"]
    assert data["objectifs"] == {"themes": ["metiers_en_tension", "egalite_femmes_hommes"]}
    assert data["facilitateur"] == {"structure": "PLIE du Grand Lyon"}
    assert data["lots"] == [{"numero": 1, "intitule": "Gros œuvre", "secteur": "btp_gros_oeuvre",
                             "montant_estime_ht": 1200000}]
    loaded = parse_questionnaire(to_yaml(data).encode("utf-8"), "q.yaml", library)
    assert loaded.model.marche.reference == "2027-TRV-001"


def test_the_yaml_written_reads_back_to_the_same_answers(library):
    data, _ = interview(library, ANSWERS)
    text = to_yaml(data, "questionnaire.schema.json")
    assert text.startswith("# yaml-language-server: $schema=questionnaire.schema.json")
    assert yaml.safe_load(text) == data
