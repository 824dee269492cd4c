"""French figures in templates: « 1 500 000 € HT », « 45 % », « 964 heures », « 15 décembre 2026 »."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats, timezone

from drafting import api

register = template.Library()
NNBSP = "\u202f"
NBSP = "\u00a0"


def _grouped(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return text


@register.filter
def nombre(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return _grouped(value, 2).rstrip("0").rstrip(",")
    return _grouped(float(value))


@register.filter
def euros(value):
    """« 1 500 000 € » (cents only when there are some)."""
    if value is None or value == "":
        return "—"
    value = float(value)
    return f"{_grouped(value, 0 if value.is_integer() else 2)}{NBSP}€"


@register.filter
def pourcent(value):
    if value is None:
        return "—"
    number = round(float(value) * 100, 2)
    return f"{nombre(number)}{NNBSP}%"


@register.filter
def heures(value):
    if value is None:
        return "—"
    value = int(value)
    return f"{_grouped(value)}{NBSP}heure{'s' if value > 1 else ''}"


@register.filter
def octets(value):
    value = int(value or 0)
    if value < 1024:
        return f"{value}{NBSP}o"
    if value < 1024 * 1024:
        return f"{nombre(round(value / 1024, 1))}{NBSP}Ko"
    return f"{nombre(round(value / 1024 / 1024, 1))}{NBSP}Mo"


@register.filter
def date_fr(value):
    """« 15 décembre 2026 » for a date or ISO text; « 5 décembre 2026 à 08:05 » for a moment."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        day = "1er" if local.day == 1 else str(local.day)
        return f"{day} {formats.date_format(local, 'F Y')} à {local:%H:%M}"
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {formats.date_format(value, 'F Y')}"


@register.filter
def type_label(value):
    return api.TYPE_LABELS.get(value, value)


@register.filter
def statut_label(value):
    return api.statut_labels().get(value, value)


@register.filter
def choix_label(value):
    return api.choice_labels().get(value, value)


@register.filter
def item(mapping, key):
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def position(issue):
    """Where an issue is: « ligne 12 » in a YAML file, the cell « Lots!E4 » in the Excel form."""
    line = getattr(issue, "line", None)
    if isinstance(line, str):
        return line
    return f"ligne {line}" if line else "—"


@register.filter
def html_id(path):
    from ..chemins import html_id as to_id

    return to_id(str(path))
