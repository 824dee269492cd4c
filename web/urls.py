"""Routes of ``clausier serve``: the buyer's pages, the JSON API, the static files."""

from django.contrib import admin
from django.contrib.staticfiles.views import serve as static_serve
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control

from .api import api
from .comptes import views as comptes
from .marches import views

handler400 = "web.erreurs.bad_request"
handler403 = "web.erreurs.forbidden"
handler404 = "web.erreurs.not_found"
handler500 = "web.erreurs.server_error"


@cache_control(max_age=3600, public=True)
def static(request, path):
    """The style sheet, htmx and the API documentation's files, from the packages themselves (no CDN, no
    collectstatic): the server is local and these files are small."""
    return static_serve(request, path, insecure=True)


urlpatterns = [
    path("", views.accueil, name="accueil"),
    path("marches/nouveau/", views.nouveau, name="nouveau"),
    path("marches/importer/", views.importer, name="importer"),
    path("marches/<int:pk>/", views.fiche, name="fiche"),
    path("marches/<int:pk>/questionnaire.yaml", views.export_yaml, name="export_yaml"),
    path("marches/<int:pk>/entretien/lots/<int:n>/", views.lot, name="lot"),
    path("marches/<int:pk>/entretien/lots/<int:n>/supprimer/", views.lot_supprimer, name="lot_supprimer"),
    path("marches/<int:pk>/entretien/recapitulatif/", views.fin, name="fin"),
    path("marches/<int:pk>/entretien/<slug:etape>/", views.etape, name="etape"),
    path("marches/<int:pk>/plan/", views.plan, name="plan"),
    path("marches/<int:pk>/plan/choix/", views.plan_choix, name="plan_choix"),
    path("marches/<int:pk>/pieces/", views.pieces, name="pieces"),
    path("marches/<int:pk>/generer/", views.generer, name="generer"),
    path("marches/<int:pk>/generations/<int:numero>/", views.generation, name="generation"),
    path("marches/<int:pk>/generations/<int:numero>/pdf/", views.generation_pdf, name="generation_pdf"),
    path("marches/<int:pk>/generations/<int:numero>/dce.zip", views.dce_zip, name="dce_zip"),
    path("marches/<int:pk>/generations/<int:numero>/dce-avec-pdf.zip", views.dce_pdf_zip, name="dce_pdf_zip"),
    path("marches/<int:pk>/generations/<int:numero>/fichiers/<str:nom>", views.fichier, name="fichier"),
    path("marches/<int:pk>/bibliotheque/", views.bibliotheque, name="bibliotheque"),
    path("acces-programmes/", views.api_acces, name="api_acces"),
    path("acces-programmes/jeton/", comptes.jeton_api, name="jeton_api"),
    path("connexion/", comptes.connexion, name="connexion"),
    path("deconnexion/", comptes.deconnexion, name="deconnexion"),
    path("suivi/", include("web.suivi.urls")),
    path("bibliotheque/", include("web.suivi.urls_bibliotheque")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^static/(?P<path>.*)$", static),
]
