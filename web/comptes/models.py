"""Failed logins, counted to slow down whoever guesses passwords (``web.comptes.limitation``)."""

from __future__ import annotations

from django.db import models


class EchecConnexion(models.Model):
    """One refused password. Kept for the throttling window only: a successful login clears the account's."""

    identifiant = models.CharField(max_length=254, db_index=True)  # the address typed, lower case
    adresse = models.GenericIPAddressField(null=True, blank=True)
    date = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "échec de connexion"
        verbose_name_plural = "échecs de connexion"
