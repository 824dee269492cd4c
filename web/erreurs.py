"""Error pages in French; a server error gets an incident number, logged with its traceback, never shown."""

from __future__ import annotations

import logging
import secrets
import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from drafting.api import ClausierError

log = logging.getLogger("clausier.web")


def incident_number() -> str:
    return f"{timezone.localtime():%Y%m%d}-{secrets.token_hex(3).upper()}"


def log_incident(request: HttpRequest, exc_info=None) -> str:
    number = incident_number()
    log.error("incident %s : %s %s", number, request.method, request.path, exc_info=exc_info or sys.exc_info())
    return number


def page(request: HttpRequest, status: int, titre: str, message: str, **extra) -> HttpResponse:
    return render(request, "erreur.html", {"titre": titre, "message": message, **extra}, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return page(request, 400, "Requête incorrecte", "Le navigateur a envoyé une requête que clausier ne sait pas lire. "
                "Revenez à la page précédente et recommencez.")


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "acces_refuse.html", {}, status=403)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return page(request, 404, "Page introuvable", "Cette page n'existe pas, ou ce marché n'est pas celui de votre "
                "organisation. Revenez à la liste de vos marchés.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this inside its ``except``: the exception is at hand, logged with the incident number."""
    exc = sys.exc_info()[1]
    if isinstance(exc, ClausierError) and exc.http_status < 500:
        return page(request, exc.http_status, "Demande impossible", exc.message)
    number = log_incident(request)
    detail = exc.message if isinstance(exc, ClausierError) else ""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "erreur interne de clausier", "incident": number}, status=500)
    return page(request, 500, "Erreur interne", "clausier n'a pas pu terminer cette opération. Rien n'a été perdu de "
                "ce qui était déjà enregistré.", incident=number, detail=detail)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return page(request, 403, "Formulaire expiré",
                "Ce formulaire n'est plus valable (page ouverte depuis longtemps, ou envoyée depuis un autre site). "
                "Rechargez la page puis recommencez.")
