"""What the database records; the files themselves live in the content-addressed store (``web.blobs``).

Every market belongs to an organisation and has a creator: on a buyer's PC there is one
local organisation and one local user (created on first start); on a team server
(accounts) each organisation sees only its own markets.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

ROLES = [("acheteur", "Acheteur"), ("facilitateur", "Facilitateur"), ("admin", "Administrateur")]


class Organisation(models.Model):
    nom = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    cree_le = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.nom


class Membre(models.Model):
    """A person's role in an organisation."""

    utilisateur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="adhesions")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="membres")
    role = models.CharField(max_length=20, choices=ROLES, default="acheteur")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["utilisateur", "organisation"], name="membre_unique")]


class Marche(models.Model):
    BROUILLON, GENERE = "brouillon", "genere"
    ETATS = [(BROUILLON, "Brouillon"), (GENERE, "Généré")]
    ENTRETIEN, IMPORT = "entretien", "import"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="marches")
    createur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="marches_crees")
    reference = models.CharField(max_length=64, blank=True)
    objet = models.CharField(max_length=500, blank=True)
    etat = models.CharField(max_length=20, choices=ETATS, default=BROUILLON)
    origine = models.CharField(max_length=20, default=ENTRETIEN)
    # the questionnaire as answered so far (a dict of the questionnaire's keys), valid or not
    donnees = models.JSONField(default=dict)
    valide = models.BooleanField(default=False)
    entretien = models.JSONField(default=dict)  # the interview's own state (steps already checked)
    # the questionnaire file the pieces are drafted from: the imported file as it was, or the YAML written
    # from ``donnees`` once edited here (its bytes are in the file store under this hash)
    questionnaire_sha256 = models.CharField(max_length=64, blank=True)
    questionnaire_nom = models.CharField(max_length=200, blank=True)
    cree_le = models.DateTimeField(auto_now_add=True)
    modifie_le = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-modifie_le"]
        indexes = [models.Index(fields=["organisation", "-modifie_le"])]

    def __str__(self) -> str:
        return self.reference or f"brouillon n° {self.pk}"

    @property
    def derniere_generation(self) -> "Generation | None":
        return self.generations.order_by("-numero").first()


class Generation(models.Model):
    """One DCE drafted for a market: what was used, and every file it gave (re-downloaded byte for byte)."""

    PDF_ABSENT, PDF_EN_COURS, PDF_PRET, PDF_ECHEC, PDF_INDISPONIBLE = "absent", "en_cours", "pret", "echec", "indisponible"
    PDF_ETATS = [(PDF_ABSENT, "Non demandées"), (PDF_EN_COURS, "Conversion en cours"), (PDF_PRET, "Prêtes"),
                 (PDF_ECHEC, "Échec de la conversion"), (PDF_INDISPONIBLE, "LibreOffice absent")]

    marche = models.ForeignKey(Marche, on_delete=models.CASCADE, related_name="generations")
    numero = models.PositiveIntegerField()
    createur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cree_le = models.DateTimeField(auto_now_add=True)
    reference = models.CharField(max_length=64)
    bibliotheque_version = models.CharField(max_length=40)
    bibliotheque_demandee = models.CharField(max_length=40, blank=True)  # "" : the library in service
    questionnaire_sha256 = models.CharField(max_length=64)
    questionnaire_nom = models.CharField(max_length=200)
    options = models.JSONField(default=dict)
    manifest_sha256 = models.CharField(max_length=64)
    fichiers = models.JSONField(default=dict)  # file name -> sha256 in the store
    zip_sha256 = models.CharField(max_length=64)
    zip_octets = models.PositiveIntegerField(default=0)
    pdf_etat = models.CharField(max_length=20, choices=PDF_ETATS, default=PDF_ABSENT)
    pdf_message = models.CharField(max_length=1000, blank=True)
    pdf_fichiers = models.JSONField(default=dict)  # the set with PDF copies (its own manifest), name -> sha256
    pdf_zip_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-numero"]
        constraints = [models.UniqueConstraint(fields=["marche", "numero"], name="generation_unique")]


class JetonAcces(models.Model):
    """An access token: the database keeps its SHA-256, never the token.

    ``session``: the token printed by ``clausier serve`` (one browser session through the URL, once;
    the API's Bearer token while that server runs; the browser session it opened keeps it, to show it
    on the page for programs); ``api``: an account's token for programs.
    """

    SESSION, API = "session", "api"
    utilisateur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jetons")
    type = models.CharField(max_length=20, default=SESSION)
    empreinte = models.CharField(max_length=64, unique=True)
    cree_le = models.DateTimeField(auto_now_add=True)
    connexion_le = models.DateTimeField(null=True, blank=True)  # when the URL opened its browser session
    revoque = models.BooleanField(default=False)


class JournalQuerySet(models.QuerySet):
    """The audit trail is written once: no bulk update or delete through the ORM (the database refuses them too)."""

    def update(self, **kwargs):
        raise JournalEnAjoutSeul("le journal ne se modifie pas")

    def delete(self):
        raise JournalEnAjoutSeul("le journal ne s'efface pas")


class JournalEnAjoutSeul(Exception):
    """An attempt to change or remove an entry of the audit trail."""


class Journal(models.Model):
    """Who did what, and when: the audit trail, append-only.

    The application only ever adds entries; the database refuses UPDATE and DELETE on this table (triggers written
    by migration 0002, for SQLite and PostgreSQL). The actor's address and the market's reference are copied in
    the entry, so it stays readable whatever becomes of the account or the market (the links to them carry no
    database constraint and are never cascaded).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="journal")
    utilisateur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                                    blank=True, related_name="+")
    acteur = models.CharField(max_length=254, blank=True)  # the account's address (or name) at the time
    marche = models.ForeignKey(Marche, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
                               related_name="journal")
    suivi = models.ForeignKey("suivi.MarcheSuivi", on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                              blank=True, related_name="journal")
    reference = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=40)
    detail = models.JSONField(default=dict)
    date = models.DateTimeField(auto_now_add=True)

    objects = JournalQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "entrée du journal"
        verbose_name_plural = "journal"
        indexes = [models.Index(fields=["organisation", "-date"]), models.Index(fields=["action", "-date"])]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise JournalEnAjoutSeul("une entrée du journal ne se modifie pas")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise JournalEnAjoutSeul("une entrée du journal ne s'efface pas")
