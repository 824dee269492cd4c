"""French formatting of figures for documents and messages (babel, fr_FR).

Group separators are narrow no-break spaces and the space before € is a
no-break space, so Word never breaks "1 500 000,00 €" across two lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Union

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "fr_FR"
NBSP = "\u00a0"
NNBSP = "\u202f"
Number = Union[int, float, Decimal]


@lru_cache(maxsize=4096)
def _decimal(value: Number, pattern: str) -> str:
    return format_decimal(value, format=pattern, locale=LOCALE)


def nombre(value: Number, decimals: int = 2) -> str:
    """1500000 -> '1 500 000'; 0.5 -> '0,5'; up to ``decimals`` places, no trailing zeros."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return _decimal(value, pattern)


def euros(value: Number, ht: bool = False) -> str:
    """1500000 -> '1 500 000,00 €' (always cents: amounts in the DCE are to the cent)."""
    text = _decimal(value, "#,##0.00") + NBSP + "€"
    return text + NBSP + "HT" if ht else text


def heures(value: Number) -> str:
    """964 -> '964 heures'; 1 -> '1 heure'."""
    unit = "heure" if abs(value) < 2 else "heures"
    return nombre(value, 1) + NBSP + unit


def pourcent(fraction: Number) -> str:
    """0.05 -> '5 %'; 0.125 -> '12,5 %'."""
    return nombre(Decimal(str(fraction)) * 100, 2) + NBSP + "%"


def date_fr(value: dt.date) -> str:
    """2026-12-15 -> '15 décembre 2026'; the first of the month is '1er'."""
    if value.day == 1:
        return "1er" + NBSP + format_date(value, "MMMM y", locale=LOCALE)
    return format_date(value, "d MMMM y", locale=LOCALE).replace(" ", NBSP, 1)


def en_lettres(value: Number) -> str:
    """A whole number in French words (rectifications of 1990 not applied: « cent vingt-trois »)."""
    from num2words import num2words

    return num2words(int(Decimal(str(value)).to_integral_value(ROUND_HALF_UP)), lang="fr")


def euros_lettres(value: Number) -> str:
    """An amount in words as a commitment form writes it: « un million d’euros », « … et cinquante centimes ».

    num2words' own currency mode misreads integers as cents, so euros and cents are spelt apart.
    """
    cents_total = int((Decimal(str(value)) * 100).to_integral_value(ROUND_HALF_UP))
    units, cents = divmod(cents_total, 100)
    parts = []
    if units or not cents:
        words = en_lettres(units)
        if words.endswith(("million", "millions", "milliard", "milliards")):
            unit = "d’euros"
        else:
            unit = "euro" if units in (0, 1) else "euros"
        parts.append(f"{words} {unit}")
    if cents:
        parts.append(f"{en_lettres(cents)} centime{'s' if cents > 1 else ''}")
    return " et ".join(parts)


def mois(value: int) -> str:
    return f"{value}{NBSP}mois"


_TYPO_RULES = (
    ("'", "\u2019"),
    (" :", NBSP + ":"),
    (" ;", NNBSP + ";"),
    (" ?", NNBSP + "?"),
    (" !", NNBSP + "!"),
    ("« ", "«" + NBSP),
    (" »", NBSP + "»"),
)


@lru_cache(maxsize=8192)
def typography(text: str) -> str:
    """French typography for document text: ’ apostrophes, no-break spaces before : ; ? ! and inside « »."""
    for plain_, typo in _TYPO_RULES:
        if plain_ in text:
            text = text.replace(plain_, typo)
    return text
