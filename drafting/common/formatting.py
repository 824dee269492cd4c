"""French formatting of figures for documents and messages (fr_FR conventions).

Group separators are narrow no-break spaces and the space before € is a
no-break space, so Word never breaks "1 500 000,00 €" across two lines.

Written here rather than with babel (now a test dependency): clausier needs one
locale and three number patterns, and importing babel then loading its French
data cost some 40 ms at the start of every command, more than drafting two
markets of a batch. The tests check every function against babel.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Union

NBSP = "\u00a0"
NNBSP = "\u202f"
Number = Union[int, float, Decimal]
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
          "décembre")


@lru_cache(maxsize=1024)
def _decimal(value: Number, pattern: str) -> str:
    """babel's ``format_decimal(value, pattern, locale="fr_FR")`` for the patterns used here:
    ``#,##0`` followed by ``.`` and zeros (fraction digits always shown) or ``#`` (shown if needed);
    half-even rounding, as babel does."""
    fraction = pattern.partition(".")[2]
    shown, allowed = fraction.count("0"), len(fraction)
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"nombre non fini : {value}")
    negative = number.is_signed()
    rounded = abs(number).normalize().quantize(Decimal(1).scaleb(-allowed), rounding=ROUND_HALF_EVEN)
    whole, _, digits = f"{rounded:f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, tail = whole[:-3], whole[-3:]
        groups.insert(0, tail)
    text = NNBSP.join([whole, *groups])
    digits = (digits or "0").ljust(shown, "0")
    if allowed and not (shown == 0 and int(digits) == 0):
        while len(digits) > shown and digits.endswith("0"):
            digits = digits[:-1]
        text += "," + digits
    return ("-" if negative and rounded else "") + text  # never « -0,00 », which babel writes


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
    unit = "heure" if abs(Decimal(str(value))) < 2 else "heures"
    return nombre(value, 1) + NBSP + unit


def pourcent(fraction: Number) -> str:
    """0.05 -> '5 %'; 0.125 -> '12,5 %'."""
    return nombre(Decimal(str(fraction)) * 100, 2) + NBSP + "%"


def date_fr(value: dt.date) -> str:
    """2026-12-15 -> '15 décembre 2026'; the first of the month is '1er'."""
    month = f"{MONTHS[value.month - 1]} {value.year}"
    return f"1er{NBSP}{month}" if value.day == 1 else f"{value.day}{NBSP}{month}"


def en_lettres(value: Number) -> str:
    """A whole number in French words (rectifications of 1990 not applied: « cent vingt-trois »)."""
    return cardinal(int(Decimal(str(value)).to_integral_value(ROUND_HALF_UP)))


_UNITS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
          "treize", "quatorze", "quinze", "seize")
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
_LARGE = ((10**18, "trillion"), (10**15, "billiard"), (10**12, "billion"), (10**9, "milliard"), (10**6, "million"))


@lru_cache(maxsize=1024)
def cardinal(number: int) -> str:
    """French cardinal, traditional spelling (« vingt et un », « quatre-vingts », « deux cent mille »).

    Written here rather than through num2words: importing num2words loads every one of its
    languages, a noticeable share of the start of a batch. The tests check this function
    against num2words (every number to 1 100, then samples up to 10¹³).
    """
    if number < 0:
        return "moins " + cardinal(-number)
    if number == 0:
        return _UNITS[0]
    words = []
    for size, name in _LARGE:  # million, milliard and billion are nouns: « deux cents millions »
        count, number = divmod(number, size)
        if count:
            words.append(f"{cardinal(count)} {name}{'s' if count > 1 else ''}")
    thousands, number = divmod(number, 1000)
    if thousands:  # mille is invariable and makes « vingt » and « cent » before it invariable too
        words.append("mille" if thousands == 1 else f"{_hundreds(thousands, final=False)} mille")
    if number:
        words.append(_hundreds(number))
    return " ".join(words)


def _hundreds(number: int, final: bool = True) -> str:
    """1 to 999; ``final``: nothing follows, so « cents » and « quatre-vingts » take their s."""
    hundreds, rest = divmod(number, 100)
    if not hundreds:
        return _tens(rest, final)
    head = "cent" if hundreds == 1 else f"{_UNITS[hundreds]} cent"
    if not rest:
        return head + ("s" if hundreds > 1 and final else "")
    return f"{head} {_tens(rest, final)}"


def _tens(number: int, final: bool = True) -> str:
    """1 to 99: « et » before un and onze (vingt et un… soixante et onze), hyphens elsewhere."""
    if number < 17:
        return _UNITS[number]
    if number < 20:
        return "dix-" + _UNITS[number - 10]
    tens, unit = divmod(number, 10)
    if tens in (7, 9):  # soixante-dix…, quatre-vingt-dix…: counted on from sixty and eighty
        base, rest = ("soixante", number - 60) if tens == 7 else ("quatre-vingt", number - 80)
        return f"{base} et onze" if rest == 11 and tens == 7 else f"{base}-{_tens(rest)}"
    if tens == 8:
        return ("quatre-vingts" if final else "quatre-vingt") if not unit else f"quatre-vingt-{_UNITS[unit]}"
    if not unit:
        return _TENS[tens]
    return f"{_TENS[tens]} et un" if unit == 1 else f"{_TENS[tens]}-{_UNITS[unit]}"


def euros_lettres(value: Number) -> str:
    """An amount in words as a commitment form writes it: « un million d’euros », « … et cinquante centimes ».

    Euros and cents are spelt apart (num2words' currency mode, once used here, read integers as cents).
    """
    cents_total = int((Decimal(str(value)) * 100).to_integral_value(ROUND_HALF_UP))
    sign = "moins " if cents_total < 0 else ""
    units, cents = divmod(abs(cents_total), 100)
    parts = []
    if units or not cents:
        words = en_lettres(units)
        if words.endswith(tuple(name + plural for _, name in _LARGE for plural in ("", "s"))):
            unit = "d’euros"  # un million d’euros, deux milliards d’euros
        else:
            unit = "euro" if units in (0, 1) else "euros"
        parts.append(f"{words} {unit}")
    if cents:
        parts.append(f"{en_lettres(cents)} centime{'s' if cents > 1 else ''}")
    return sign + " et ".join(parts)


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
