"""Routes of the library desk (namespace ``bibliotheque``)."""

from django.urls import path

from . import bibliotheque as views

app_name = "bibliotheque"
urlpatterns = [
    path("", views.accueil, name="accueil"),
    path("fragments/<slug:type>/<slug:piece>/", views.fragment, name="fragment"),
    path("fragments/<slug:type>/<slug:piece>/apercu.docx", views.apercu_docx, name="apercu_docx"),
    path("verification/", views.verification, name="verification"),
    path("impact/", views.impact, name="impact"),
    path("publier/", views.publier, name="publier"),
]
