"""What a buyer types, read exactly as the engine would, or handed over as typed so the engine explains.

« 1 500 000 », « 1 500 000,50 € HT », « 24 », « 15/12/2026 »: read. « 1.500 » or « douze »:
kept as text, and the engine's own message says what to write instead.
"""

from __future__ import annotations

import re
from typing import Any, Union

from drafting import api

SPACES = "\u00a0\u202f\u2009 "
_INTEGER = re.compile(r"\d{1,3}(?:[ ]\d{3})+|\d+")
_FR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _spaces(raw: str) -> str:
    text = raw.strip()
    for space in SPACES:
        text = text.replace(space, " ")
    return re.sub(" +", " ", text)


def amount(raw: str) -> Union[int, float, str, None]:
    """Euros HT: a number when the questionnaire's own rule reads it, else the text as typed (the engine's
    message then says what to write)."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = api.read_amount(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def integer(raw: str) -> Union[int, str, None]:
    text = _spaces(raw)
    if not text:
        return None
    return int(text.replace(" ", "")) if _INTEGER.fullmatch(text) else raw.strip()


def date(raw: str) -> Union[str, None]:
    """ISO (what a date field sends) or the French « 15/12/2026 »; anything else as typed."""
    text = raw.strip()
    if not text:
        return None
    match = _FR_DATE.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return text


def text(raw: str) -> Union[str, None]:
    value = raw.strip()
    return value or None


def shown_amount(value: Any) -> str:
    """An amount as a buyer writes it back: « 1 500 000 » or « 1 500 000,50 »."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    whole = int(value)
    cents = round((float(value) - whole) * 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return grouped if not cents else f"{grouped},{cents:02d}"
