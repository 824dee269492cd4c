"""The JSON API for buyers' platforms (django-ninja), documented at ``/api/v1/docs``.

The questionnaire is the request body, as a file would hold it: YAML
(``Content-Type: application/yaml``), JSON (``application/json``) or the Excel form
(``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``). It is read by
the engine's own reader, so the messages, paths and lines are those of ``clausier plan``.
The request schema published in the OpenAPI document is the questionnaire's JSON Schema,
generated from the engine's pydantic model.

Authentication: ``Authorization: Bearer <token>`` (the token of ``clausier serve``'s
start line in single-user mode). Without it 401, with a wrong one 403.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from drafting import api as engine_api

from . import acces, erreurs, moteur

log = logging.getLogger("clausier.web")

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
JSON_TYPES = ("application/json",)
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)
XLSX = XLSX_TYPES[0]


class Refused(Exception):
    """A token was given but is not valid (403), as opposed to no token at all (401)."""


class Bearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        identity = acces.bearer_identity(token)
        if identity is None:
            raise Refused()
        user, request.portee = identity
        request.organisation = request.portee.propre
        return user


def _questionnaire_components() -> dict[str, Any]:
    """The questionnaire's JSON Schema as OpenAPI components: ``Questionnaire`` and its definitions, with the
    references rewritten from the schema's own ``#/$defs/`` to the document's ``#/components/schemas/``."""
    schema = engine_api.questionnaire_schema()
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    definitions = schema.pop("$defs", {})
    text = json.dumps({"Questionnaire": schema, **definitions}, ensure_ascii=False)
    return json.loads(text.replace('"#/$defs/', '"#/components/schemas/'))


class Api(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any):
        document = super().get_openapi_schema(**kwargs)
        document.setdefault("components", {}).setdefault("schemas", {}).update(_questionnaire_components())
        return document


api = Api(
    title="clausier",
    version="1",
    description="Rédaction des clauses sociales d'un marché public : le plan des considérations sociales (le JSON de "
                "« clausier plan --format json ») et le DCE complet en .zip, à partir d'un questionnaire YAML, JSON ou "
                "formulaire Excel. Authentification : « Authorization: Bearer <jeton> ».",
    auth=Bearer(),
    urls_namespace="api",  # the documentation (docs, openapi.json) follows the pages' token rule: web.acces
)


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False, "indent": 2})


@api.exception_handler(AuthenticationError)
def _no_token(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = _json({"detail": "authentification requise : en-tête « Authorization: Bearer <jeton> » (le jeton "
                                "affiché par « clausier serve » au démarrage)"}, 401)
    response["WWW-Authenticate"] = 'Bearer realm="clausier"'
    return response


@api.exception_handler(Refused)
def _bad_token(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _json({"detail": "accès refusé : ce jeton n'est pas (ou plus) valable ; relancez « clausier serve » pour en "
                            "obtenir un nouveau"}, 403)


@api.exception_handler(engine_api.QuestionnaireError)
def _invalid(request: HttpRequest, exc: engine_api.QuestionnaireError) -> HttpResponse:
    return _json({"detail": exc.message, "erreurs": [
        {"chemin": i.path, "ligne": i.line, "message": i.message, "texte": i.render()} for i in exc.issues]},
        exc.http_status)


@api.exception_handler(engine_api.ClausierError)
def _engine_error(request: HttpRequest, exc: engine_api.ClausierError) -> HttpResponse:
    if exc.http_status >= 500:
        number = erreurs.log_incident(request)
        return _json({"detail": exc.message, "incident": number}, exc.http_status)
    return _json({"detail": exc.message}, exc.http_status)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _json({"detail": str(exc.message)}, exc.status_code)


@api.exception_handler(ValidationError)
def _bad_parameters(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    names = [str(e.get("loc", ["", "?"])[-1]) for e in exc.errors]
    return _json({"detail": "paramètre(s) invalide(s) : " + ", ".join(f"« {n} »" for n in names)
                            + " (bibliotheque : une version publiée ; fichier : un nom de fichier ; premier_article : un entier)"},
                 422)


@api.exception_handler(Exception)
def _bug(request: HttpRequest, exc: Exception) -> HttpResponse:
    number = erreurs.log_incident(request, (type(exc), exc, exc.__traceback__))
    return _json({"detail": "erreur interne de clausier", "incident": number}, 500)


class Erreur(Schema):
    chemin: str
    ligne: Optional[Any] = None
    message: str
    texte: str


class Refus(Schema):
    detail: str


class QuestionnaireInvalide(Schema):
    detail: str
    erreurs: list[Erreur]


class Reglages(Schema):
    bibliotheque: Optional[str] = None
    fichier: Optional[str] = None
    premier_article: Optional[int] = None


def _body_doc() -> dict[str, Any]:
    questionnaire = {"$ref": "#/components/schemas/Questionnaire"}
    return {"requestBody": {
        "required": True,
        "description": "Le questionnaire du marché, tel qu'un fichier le contient (voir « clausier questionnaire schema »).",
        "content": {"application/yaml": {"schema": questionnaire}, "application/json": {"schema": questionnaire},
                    XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


def _read(request: HttpRequest, reglages: Reglages):
    """The questionnaire of the body, read by the engine; the library asked (or the one in service)."""
    kind = (request.content_type or "").lower()
    if kind in YAML_TYPES:
        suffix = ".yaml"
    elif kind in JSON_TYPES:
        suffix = ".json"
    elif kind in XLSX_TYPES:
        suffix = ".xlsx"
    else:
        raise HttpError(415, f"type de contenu « {kind or 'absent'} » non pris en charge : envoyez le questionnaire en "
                             "application/yaml, application/json ou formulaire Excel (.xlsx)")
    body = request.body
    if len(body) > settings.MAX_UPLOAD_BYTES:
        raise HttpError(413, "questionnaire trop volumineux")
    name = reglages.fichier or f"questionnaire{suffix}"
    if not name.lower().endswith(suffix if suffix != ".yaml" else (".yaml", ".yml")):
        raise HttpError(422, f"le nom de fichier « {name} » ne correspond pas au type de contenu {kind}")
    if "/" in name or "\\" in name:
        raise HttpError(422, "le nom de fichier ne peut pas contenir de dossier")
    if reglages.bibliotheque is not None and reglages.bibliotheque not in moteur.versions():
        raise HttpError(422, f"la bibliothèque n'a pas de version publiée « {reglages.bibliotheque} » ; versions : "
                             + ", ".join(moteur.versions()))
    if reglages.premier_article is not None and not 1 <= reglages.premier_article <= 999:
        raise HttpError(422, "premier_article : un numéro d'article entre 1 et 999")
    return body, name, moteur.library(reglages.bibliotheque)


PLAN_EXAMPLE = {"marche": {"reference": "2026-TRV-014", "objet": "…"}, "bibliotheque": {"version": "2026.3.0"},
                "lots": [{"numero": 1, "considerations": [{"type": "insertion", "statut": "retenue", "heures": 964}]}],
                "avertissements": [], "decp": {"considerationsSociales": ["Clause sociale"]}}


@api.post("/plan", summary="Le plan du marché (JSON de « clausier plan --format json »)",
          response={200: dict, 401: Refus, 403: Refus, 413: Refus, 415: Refus, 422: QuestionnaireInvalide},
          openapi_extra={**_body_doc(), "responses": {200: {"description": "Le plan, octet pour octet celui de "
                                                             "« clausier plan --format json »",
                                                             "content": {"application/json": {"example": PLAN_EXAMPLE}}}}})
def plan(request: HttpRequest, reglages: Query[Reglages]) -> HttpResponse:
    body, name, lib = _read(request, reglages)
    loaded = moteur.ENGINE.read_questionnaire(body, lib, name)
    text = engine_api.plan_json_text(moteur.ENGINE.plan(loaded, lib))
    return HttpResponse(text.encode("utf-8"), content_type="application/json; charset=utf-8")


@api.post("/dce", summary="Le DCE complet en .zip (pièces Word, grille de suivi, manifeste)",
          response={200: bytes, 401: Refus, 403: Refus, 413: Refus, 415: Refus, 422: QuestionnaireInvalide},
          openapi_extra={**_body_doc(), "responses": {200: {
              "description": "Le DCE : même questionnaire, même nom de fichier et même version de bibliothèque, mêmes octets.",
              "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}})
def dce(request: HttpRequest, reglages: Query[Reglages]) -> HttpResponse:
    body, name, lib = _read(request, reglages)
    options = engine_api.Options(premier_article=reglages.premier_article)
    market, archive = moteur.RENDERS.render(body, name, lib, options)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{market.reference}_DCE.zip"'
    response["X-Clausier-Manifeste"] = market.manifest_sha256
    return response


@api.get("/bibliotheque", summary="Versions publiées de la bibliothèque de clauses",
         response={200: dict, 401: Refus, 403: Refus})
def bibliotheque(request: HttpRequest) -> dict[str, Any]:
    lib = moteur.library()
    return {"en_service": lib.version, "versions": moteur.versions()}


# ----------------------------------------------------------------------------- the monitoring, for programs
# What an account sees of the portfolio (its scope, as on the pages: another organisation's market is a 404).


def _suivi_json(suivi, state=None) -> dict[str, Any]:
    return {"id": suivi.pk, "reference": suivi.reference, "objet": suivi.objet, "acheteur": suivi.organisation.nom,
            "acheteur_code": suivi.organisation.slug, "bibliotheque": suivi.bibliotheque,
            "debut_execution": suivi.debut_execution.isoformat() if suivi.debut_execution else None,
            "duree_mois": suivi.duree_mois,
            "heures_engagees": state.engagement if state else None,
            "heures_realisees": state.realise if state and state.dernier else None,
            "dernier_retour": state.dernier.mois.isoformat() if state and state.dernier else None,
            "en_retard": bool(state and state.en_retard),
            "retours_manquants": [m.isoformat() for m in state.manquants] if state else [],
            "attendu": state.attendu if state else None}


@api.get("/suivi/marches", summary="Les marchés suivis que ce compte voit, avec l'état de leur suivi",
         response={200: dict, 401: Refus, 403: Refus})
def suivi_marches(request: HttpRequest) -> dict[str, Any]:
    from .suivi import tableau
    from .suivi.models import MarcheSuivi

    markets = list(request.portee.filtre(MarcheSuivi.objects.select_related("organisation")).order_by("reference", "pk"))
    result = tableau.portfolio(markets, tableau.today())
    return {"marches": [_suivi_json(s.suivi, s) for s in result.states]}


@api.get("/suivi/marches/{pk}", summary="Un marché suivi : fiche, engagements, et les chiffres de son dernier retour "
                                       "(ceux de « clausier suivi consolider --format json »)",
         response={200: dict, 401: Refus, 403: Refus, 404: Refus})
def suivi_marche(request: HttpRequest, pk: int) -> dict[str, Any]:
    from .suivi import tableau
    from .suivi.models import MarcheSuivi

    suivi = request.portee.filtre(MarcheSuivi.objects.select_related("organisation")).filter(pk=pk).first()
    if suivi is None:
        raise HttpError(404, "marché inconnu")
    returns = list(suivi.retours.filter(actif=True).order_by("mois"))
    state = tableau.market_state(suivi, returns, tableau.insertion_commitments([suivi.pk]).get(suivi.pk), tableau.today())
    body = _suivi_json(suivi, state)
    body["lots"] = [{"numero": lot.numero, "intitule": lot.intitule, "secteur": lot.secteur, "titulaire": lot.titulaire}
                    for lot in suivi.lots.all()]
    body["engagements"] = [{"lot": e.lot, "type": e.type, "unite": e.unite, "engagement": e.engagement,
                            "penalite_unitaire": e.penalite_unitaire} for e in suivi.engagements.all()]
    body["retours"] = [{"id": r.pk, "mois": r.mois.isoformat(), "fichier": r.fichier_nom,
                        "heures_realisees": r.heures_realisees, "problemes": r.nb_problemes} for r in returns]
    body["dernier"] = ({**state.dernier.figures, "problemes": state.dernier.problemes} if state.dernier else None)
    return body
