"""Routes of the facilitator's desk (namespace ``suivi``), in French like the rest."""

from django.urls import path

from . import views

app_name = "suivi"
urlpatterns = [
    path("", views.portefeuille_view, name="portefeuille"),
    path("importer/", views.importer, name="importer"),
    path("retours/", views.retours_view, name="retours"),
    path("tableau-de-bord/", views.tableau_view, name="tableau"),
    path("tableau-de-bord/graphiques/<slug:nom>.svg", views.tableau_graphique, name="tableau_graphique"),
    path("marches/<int:pk>/", views.marche, name="marche"),
    path("marches/<int:pk>/graphiques/<slug:nom>.svg", views.marche_graphique, name="marche_graphique"),
    path("marches/<int:pk>/fiche/", views.marche_fiche, name="marche_fiche"),
    path("marches/<int:pk>/penalites/", views.marche_penalites, name="marche_penalites"),
    path("marches/<int:pk>/grille-generee.xlsx", views.generee, name="generee"),
    path("marches/<int:pk>/retours/<int:rid>/", views.retour, name="retour"),
    path("marches/<int:pk>/retours/<int:rid>/grille.xlsx", views.retour_grille, name="retour_grille"),
    path("marches/<int:pk>/retours/<int:rid>/chiffres.json", views.retour_json, name="retour_json"),
    path("marches/<int:pk>/retours/<int:rid>/retirer/", views.retour_retirer, name="retour_retirer"),
    path("bilans/", views.bilans_view, name="bilans"),
    path("bilans/<slug:slug>/<int:annee>/bilan.docx", views.bilan_docx, name="bilan_docx"),
    path("bilans/<slug:slug>/<int:annee>/annexe.xlsx", views.bilan_xlsx, name="bilan_xlsx"),
    path("bilans/<slug:slug>/<int:annee>/enquete.csv", views.bilan_csv, name="bilan_csv"),
    path("journal/", views.journal, name="journal"),
]
