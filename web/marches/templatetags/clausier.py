"""French figures in templates, written by the engine as in the documents: « 1 500 000,00 € », « 45 % »,
« 964 heures », « 15 décembre 2026 »."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from drafting import api

register = template.Library()
NBSP = "\u00a0"


def _number(value):
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value) if isinstance(value, str) else value
    except ValueError:
        return None


def _figure(name: str, say):
    """A filter writing a figure as the documents do, « — » when there is none."""
    def write(value):
        number = _number(value)
        return "—" if number is None else say(number)
    register.filter(name, write)


_figure("nombre", api.fr_nombre)
_figure("euros", api.fr_euros)  # « 1 500 000,00 € », as the pieces write amounts
_figure("pourcent", api.fr_pourcent)
_figure("heures", api.fr_heures)


@register.filter
def octets(value):
    value = int(value or 0)
    if value < 1024:
        return f"{value}{NBSP}o"
    if value < 1024 * 1024:
        return f"{api.fr_nombre(round(value / 1024, 1), 1)}{NBSP}Ko"
    return f"{api.fr_nombre(round(value / 1024 / 1024, 1), 1)}{NBSP}Mo"


def _date(value):
    """A date from a date or its ISO text; anything else is given back as it is (shown, never an error)."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


@register.filter
def date_fr(value):
    """« 15 décembre 2026 » for a date or ISO text; « 5 décembre 2026 à 08:05 » for a moment (local time)."""
    if not value:
        return "—"
    value = _date(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{api.fr_date(local.date())} à {local:%H:%M}"
    return api.fr_date(value)


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


@register.filter
def mois_fr(value):
    """« mars 2027 » for the first day of a month (a return's month, the end of an execution)."""
    if not value:
        return "—"
    value = _date(value)
    if isinstance(value, str):
        return value
    from ...suivi.tableau import month_long

    return month_long(value)


@register.filter
def action_label(value):
    from ...suivi.views import action_label as label

    return label(value)


@register.filter
def nombre_entier(value):
    number = _number(value)
    return "—" if number is None else api.fr_nombre(round(number), 0)


@register.filter
def part(value):
    """A share as a dashboard says it: « 33,3 % » (one decimal at most)."""
    number = _number(value)
    return "—" if number is None else api.fr_pourcent(round(number, 3))


@register.filter
def pluriel(value, suffix="s"):
    """French plural: « 0 problème », « 1 problème », « 2 problèmes » (Django's pluralize puts an s on 0)."""
    try:
        count = abs(float(len(value) if hasattr(value, "__len__") else value))
    except (TypeError, ValueError):
        return ""
    singular, _, plural = suffix.rpartition(",") if "," in suffix else ("", "", suffix)
    return plural if count >= 2 else singular
