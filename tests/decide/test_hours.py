"""Unit tests of the hours formula and of parameter resolution (pure code)."""

import datetime as dt
from decimal import Decimal

import pytest

from drafting.decide.hours import compute_hours, hours_per_100k, lot_hours, resolve_params, round_half_up
from drafting.intake.model import Questionnaire
from tests.support import questionnaire


def test_worked_example_of_the_guide():
    # 1 000 000 € × 50 % × 5 % ÷ 30 € = 833,33 h
    assert compute_hours(1_000_000, 0.5, 0.05, 30) == 833


def test_school_example_lot_1():
    assert compute_hours(1_500_000, 0.45, 0.05, 35) == 964


def test_rounding_is_half_up_not_bankers():
    # 100 × 0.5 × 0.05 ÷ 1 = 2.5 exactly -> 3 (Python's round() would give 2)
    assert compute_hours(100, 0.5, 0.05, 1) == 3
    assert round_half_up(Decimal("0.45"), "0.1") == Decimal("0.5")


def test_ratio_per_100k():
    assert hours_per_100k(0.8, 0.05, 23) == pytest.approx(173.9)


def _resolve(library, data):
    q = Questionnaire.model_validate(data)
    lot = q.lots[0]
    return q, lot, resolve_params(q, lot, library.sectors[lot.secteur], library, q.marche.date_notification_prevue)


def test_parameters_come_from_sector_and_library_by_default(library):
    _, _, p = _resolve(library, questionnaire())
    assert (p.part_main_oeuvre.value, p.part_main_oeuvre.origine) == (0.45, "secteur")
    assert (p.cout_horaire.value, p.cout_horaire.origine) == (35.0, "secteur")
    assert (p.taux_insertion.value, p.taux_insertion.origine) == (0.05, "bibliotheque")
    assert p.heures_minimum.origine == "territoire"


def test_lot_wins_over_market_which_wins_over_defaults(library):
    data = questionnaire(**{"parametres": {"taux_insertion": 0.07, "cout_horaire": 30}})
    data["lots"][0]["parametres"] = {"taux_insertion": 0.1}
    _, _, p = _resolve(library, data)
    assert (p.taux_insertion.value, p.taux_insertion.origine) == (0.1, "lot")
    assert (p.cout_horaire.value, p.cout_horaire.origine) == (30.0, "marche")


def test_territory_minimum_defaults_to_library(library):
    data = questionnaire()
    del data["territoire"]
    _, _, p = _resolve(library, data)
    assert p.heures_minimum.origine == "bibliotheque"
    assert p.heures_minimum.value == library.param("heures_minimum", dt.date(2026, 12, 15))


def test_framework_hours_at_minimum_maximum_and_per_100k(library):
    data = questionnaire(**{"marche.forme": "accord_cadre_bons_de_commande"})
    data["lots"][0] = {"numero": 1, "intitule": "Nettoyage", "secteur": "nettoyage",
                       "montant_minimum_ht": 100000, "montant_maximum_ht": 400000}
    q, lot, p = _resolve(library, data)
    result = lot_hours(q, lot, p)
    assert result.heures == compute_hours(100000, 0.8, 0.05, 23) == 174
    assert result.heures_maximum == compute_hours(400000, 0.8, 0.05, 23) == 696
    assert result.heures_par_100k == pytest.approx(173.9)
    assert result.base == "minimum"


def test_framework_without_minimum_has_no_main_figure(library):
    data = questionnaire(**{"marche.forme": "accord_cadre_bons_de_commande"})
    data["lots"][0] = {"numero": 1, "intitule": "Nettoyage", "secteur": "nettoyage", "montant_maximum_ht": 400000}
    q, lot, p = _resolve(library, data)
    result = lot_hours(q, lot, p)
    assert result.heures is None
    assert result.heures_reference == result.heures_maximum == 696
    assert result.base == "maximum"
