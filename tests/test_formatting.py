import datetime as dt

import pytest

from drafting import formatting as fr


def test_amounts_in_french_with_no_break_spaces():
    assert fr.euros(1500000) == "1\u202f500\u202f000,00\u00a0€"
    assert fr.euros(1500000, ht=True).endswith("€\u00a0HT")


def test_hours_and_percent():
    assert fr.heures(964) == "964\u00a0heures"
    assert fr.heures(1) == "1\u00a0heure"
    assert fr.pourcent(0.05) == "5\u00a0%"
    assert fr.pourcent(0.125) == "12,5\u00a0%"


def test_dates_in_words():
    assert fr.date_fr(dt.date(2026, 12, 15)) == "15\u00a0décembre 2026"
    assert fr.date_fr(dt.date(2027, 1, 1)).startswith("1er\u00a0janvier")


def test_typography():
    assert fr.typography("l'objet : « test » ; oui ?") == "l\u2019objet\u00a0: «\u00a0test\u00a0»\u202f; oui\u202f?"


@pytest.mark.parametrize("amount, words", [
    (1_000_000, "un million d’euros"),
    (1_500_000, "un million cinq cent mille euros"),
    (1, "un euro"),
    (0.8, "quatre-vingts centimes"),
    (21.21, "vingt et un euros et vingt et un centimes"),
    (1_200_000_000, "un milliard deux cents millions d’euros"),
    (964.505, "neuf cent soixante-quatre euros et cinquante et un centimes"),
])
def test_amounts_in_letters(amount, words):
    assert fr.euros_lettres(amount) == words


def test_whole_numbers_in_letters():
    assert fr.en_lettres(964) == "neuf cent soixante-quatre"
    assert fr.en_lettres(70.5) == "soixante et onze"
