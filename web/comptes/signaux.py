"""An account created, changed or removed in this process switches the team mode and the API tokens at once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..marches.models import Membre


@receiver(post_save, sender=get_user_model())
@receiver(post_delete, sender=get_user_model())
@receiver(post_save, sender=Membre)
@receiver(post_delete, sender=Membre)
def accounts_changed(**kwargs) -> None:
    from .. import acces

    acces.team_mode.clear()
    acces.BEARERS.clear()
