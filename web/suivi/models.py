"""The facilitator's portfolio: generated markets under monitoring, and the monthly grids their enterprises return.

A market enters the portfolio when it is generated through the web, or imported from the folder of
``clausier generate``/``batch`` (its manifest checked): its lots, commitments and penalty rates are those of
the grid clausier generated, kept in the file store with its manifest. Each returned grid accepted for a month is
a ``Retour``: its figures are the consolidation's own (the JSON of ``suivi consolider``), its problems per cell
are kept beside them. Nothing personal is stored: the returned file holds pseudonymous codes only (a grid of
format 1, which still carries an eligibility category, is consolidated but its file is not kept).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..marches.models import Generation, Marche, Organisation


class MarcheSuivi(models.Model):
    WEB, DOSSIER = "web", "dossier"
    ORIGINES = [(WEB, "généré dans l'application"), (DOSSIER, "importé d'un dossier de marchés générés")]

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="marches_suivis",
                                     verbose_name="acheteur")
    marche = models.ForeignKey(Marche, on_delete=models.SET_NULL, null=True, blank=True, related_name="suivis")
    generation = models.ForeignKey(Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    origine = models.CharField(max_length=20, choices=ORIGINES, default=WEB)
    reference = models.CharField(max_length=64)
    objet = models.CharField(max_length=500, blank=True)
    acheteur_nom = models.CharField("acheteur (selon la grille)", max_length=300, blank=True)
    facilitateur_nom = models.CharField("facilitateur (selon la grille)", max_length=300, blank=True)
    facilitateur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="marches_suivis", verbose_name="facilitateur chargé du suivi")
    bibliotheque = models.CharField(max_length=40, blank=True)
    manifeste_sha256 = models.CharField(max_length=64)
    grille_sha256 = models.CharField(max_length=64)   # the grid clausier generated: the commitments the consolidation trusts
    grille_nom = models.CharField(max_length=200)
    questionnaire_sha256 = models.CharField(max_length=64, blank=True)
    nature = models.CharField(max_length=20, blank=True)
    debut_execution = models.DateField("début d'exécution", null=True, blank=True)
    duree_mois = models.PositiveIntegerField("durée d'exécution (mois)", null=True, blank=True)
    types_retenus = models.JSONField(default=list)
    axes = models.JSONField(default=list)  # the plan de progrès' axes, as the CCAP titles them
    # after the contradictory procedure (CCAG 2021): what the buyer retains, if anything, and why
    procedure_contradictoire_le = models.DateField(null=True, blank=True)
    penalites_retenues = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    penalites_motif = models.CharField(max_length=1000, blank=True)
    cree_le = models.DateTimeField(auto_now_add=True)
    modifie_le = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference"]
        verbose_name = "marché suivi"
        verbose_name_plural = "marchés suivis"
        constraints = [models.UniqueConstraint(fields=["organisation", "reference"], name="suivi_reference_unique")]

    def __str__(self) -> str:
        return f"{self.reference} — {self.objet}" if self.objet else self.reference

    @property
    def secteurs(self) -> list[str]:
        return sorted({lot.secteur for lot in self.lots.all() if lot.secteur})


class LotSuivi(models.Model):
    marche = models.ForeignKey(MarcheSuivi, on_delete=models.CASCADE, related_name="lots")
    numero = models.PositiveIntegerField()
    intitule = models.CharField(max_length=300, blank=True)
    secteur = models.CharField(max_length=60, blank=True)
    montant_ht = models.FloatField(null=True, blank=True)
    titulaire = models.CharField("entreprise titulaire", max_length=300, blank=True)  # known after the award

    class Meta:
        ordering = ["numero"]
        constraints = [models.UniqueConstraint(fields=["marche", "numero"], name="lot_suivi_unique")]


class Engagement(models.Model):
    """One retained consideration of one lot, as the generated grid commits the enterprise to it."""

    marche = models.ForeignKey(MarcheSuivi, on_delete=models.CASCADE, related_name="engagements")
    lot = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    unite = models.CharField(max_length=20, blank=True)
    engagement = models.FloatField(null=True, blank=True)  # None: set by the orders or the CCAP, not in advance
    penalite_unitaire = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["lot", "pk"]


class Retour(models.Model):
    """A returned grid accepted for one month of one market; a month sent again replaces it (both are kept)."""

    marche = models.ForeignKey(MarcheSuivi, on_delete=models.CASCADE, related_name="retours")
    mois = models.DateField()  # the first day of the month the grid reports on
    depose_le = models.DateTimeField(auto_now_add=True)
    depose_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    fichier_nom = models.CharField(max_length=200)
    fichier_sha256 = models.CharField(max_length=64, blank=True)  # "" : file not kept (a grid of format 1)
    fichier_octets = models.PositiveIntegerField(default=0)
    format = models.PositiveSmallIntegerField(default=2)
    figures = models.JSONField(default=dict)   # the market's entry in « suivi consolider --format json », problems aside
    problemes = models.JSONField(default=list)  # [{"cellule", "message"}], as the consolidation lists them
    # a few figures of ``figures`` again, as columns, so that a portfolio's dashboard sums them in the database
    heures_realisees = models.FloatField(default=0)
    heures_engagees = models.FloatField(null=True, blank=True)
    actions_realisees = models.PositiveIntegerField(default=0)
    beneficiaires = models.PositiveIntegerField(default=0)
    penalites = models.FloatField(default=0)
    nb_problemes = models.PositiveIntegerField(default=0)
    remplace = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="remplace_par")
    actif = models.BooleanField(default=True)  # False once replaced by the same month sent again, or withdrawn
    retire_le = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mois", "depose_le"]
        constraints = [models.UniqueConstraint(fields=["marche", "mois"], condition=Q(actif=True),
                                               name="un_retour_actif_par_mois")]
        indexes = [models.Index(fields=["marche", "actif", "mois"])]
