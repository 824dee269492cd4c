"""Throttling of the login form: a few wrong passwords, then a wait.

Pure rule (``refused_until``) and its records (``EchecConnexion``): after ``ECHECS`` failures for one
address within the window, that address is refused until the oldest of them leaves the window; the
same for one IP address at ``ECHECS_IP`` failures, whatever the addresses tried. A refused attempt
does not test the password (no answer to learn from) and is not counted again.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional

from django.conf import settings
from django.utils import timezone

from .models import EchecConnexion


def refused_until(failures: Iterable[dt.datetime], now: dt.datetime, limit: int, window: dt.timedelta) -> Optional[dt.datetime]:
    """When attempts may start again, or None if they may now: ``limit`` failures within ``window`` block until
    the oldest of the last ``limit`` leaves the window."""
    recent = sorted(t for t in failures if now - window < t <= now)
    if len(recent) < limit:
        return None
    return recent[-limit] + window


def window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CLAUSIER_CONNEXION_FENETRE)


def blocked(identifiant: str, adresse: Optional[str], now: Optional[dt.datetime] = None) -> Optional[dt.datetime]:
    """Until when this address (or this IP) is refused, or None."""
    now = now or timezone.now()
    since = now - window()
    by_account = EchecConnexion.objects.filter(identifiant=identifiant, date__gt=since).values_list("date", flat=True)
    ends = [refused_until(by_account, now, settings.CLAUSIER_CONNEXION_ECHECS, window())]
    if adresse:
        by_ip = EchecConnexion.objects.filter(adresse=adresse, date__gt=since).values_list("date", flat=True)
        ends.append(refused_until(by_ip, now, settings.CLAUSIER_CONNEXION_ECHECS_IP, window()))
    found = [end for end in ends if end is not None]
    return max(found) if found else None


def record_failure(identifiant: str, adresse: Optional[str]) -> None:
    now = timezone.now()
    EchecConnexion.objects.create(identifiant=identifiant, adresse=adresse or None, date=now)
    EchecConnexion.objects.filter(date__lt=now - 4 * window()).delete()  # old ones teach nothing


def record_success(identifiant: str) -> None:
    EchecConnexion.objects.filter(identifiant=identifiant).delete()


def minutes_left(until: dt.datetime, now: Optional[dt.datetime] = None) -> int:
    seconds = (until - (now or timezone.now())).total_seconds()
    return max(1, int(-(-seconds // 60)))
