import datetime as dt

import pytest

from drafting.common import formatting as fr


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


def test_figures_and_dates_agree_with_babel():
    """babel is the reference (a test dependency); clausier formats French figures itself to start faster."""
    import random
    from decimal import Decimal

    from babel.dates import format_date
    from babel.numbers import format_decimal

    rng = random.Random(20261126)
    values = [0, 1, 7, 0.5, 0.125, 0.135, 2.5, 3.5, -2.5, 1234.5, 999.995, 0.005, 0.015, 1e15, 123456789.125,
              Decimal("1.005"), Decimal("2.675"), 10**20, *(rng.uniform(-1e9, 1e9) for _ in range(400)),
              *(round(rng.uniform(0, 1e6), rng.randrange(5)) for _ in range(400)),
              *(rng.randrange(-10**12, 10**12) for _ in range(200))]
    wrong = [(v, p) for v in values for p in ("#,##0", "#,##0.#", "#,##0.##", "#,##0.00")
             if fr._decimal.__wrapped__(v, p) != format_decimal(v, format=p, locale="fr_FR")]
    assert not wrong[:5]
    assert fr._decimal.__wrapped__(-0.001, "#,##0.00") == "0,00"  # babel writes « -0,00 »: not in a DCE
    for offset in range(0, 800, 7):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        expected = (f"1er\u00a0{format_date(day, 'MMMM y', locale='fr_FR')}" if day.day == 1
                    else format_date(day, "d MMMM y", locale="fr_FR").replace(" ", "\u00a0", 1))
        assert fr.date_fr(day) == expected


def test_cardinal_agrees_with_num2words():
    """num2words is the reference (a test dependency); clausier spells numbers itself to start faster."""
    import random

    from num2words import num2words

    rng = random.Random(20261126)
    numbers = [*range(0, 1_100), *range(1_100, 200_000, 97), *(rng.randrange(10**19) for _ in range(500)),
               *(m * 10**k for m in (1, 2, 21, 80, 100, 200) for k in range(11))]
    wrong = [(n, fr.cardinal(n), num2words(n, lang="fr")) for n in numbers if fr.cardinal(n) != num2words(n, lang="fr")]
    assert not wrong[:5]


@pytest.mark.parametrize("number, words", [
    (21, "vingt et un"), (71, "soixante et onze"), (80, "quatre-vingts"), (81, "quatre-vingt-un"),
    (91, "quatre-vingt-onze"), (200, "deux cents"), (280, "deux cent quatre-vingts"), (80_000, "quatre-vingt mille"),
    (200_000, "deux cent mille"), (80_000_000, "quatre-vingts millions"), (2_000_000, "deux millions"),
    (1_200_000, "un million deux cent mille"), (21_000_000_000, "vingt et un milliards"),
    (2 * 10**15 + 5, "deux billiards cinq"),
])
def test_cardinal_plural_rules(number, words):
    assert fr.cardinal(number) == words


def test_amounts_in_letters_of_large_and_negative_amounts():
    assert fr.euros_lettres(10**12) == "un billion d’euros"
    assert fr.euros_lettres(-1.5) == "moins un euro et cinquante centimes"


def test_whole_numbers_in_letters():
    assert fr.en_lettres(964) == "neuf cent soixante-quatre"
    assert fr.en_lettres(70.5) == "soixante et onze"
