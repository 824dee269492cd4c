"""Who may come in: the one-time token of the start line, the session it opens, the API's Bearer token.

Single-user mode (``clausier serve`` on 127.0.0.1): ``clausier serve`` prints
``http://127.0.0.1:PORT/?token=…``. That URL opens one browser session, once; the same
token is the API's ``Authorization: Bearer`` token while this server runs. Without a
session, every page answers « accès refusé » (403), and only the static files (style
sheet, htmx) are served.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Optional
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from .marches.models import JetonAcces, Journal, Membre, Organisation

TOKEN_PARAM = "token"
API_PREFIX = "/api/v1/"
API_DOCS = ("/api/v1/docs", "/api/v1/openapi.json")
LOCAL_ORGANISATION = "local"
LOCAL_USERNAME = "acheteur-local"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def local_user():
    """The one organisation and the one user of a buyer's PC, created on first start."""
    User = get_user_model()
    with transaction.atomic():
        organisation, _ = Organisation.objects.get_or_create(slug=LOCAL_ORGANISATION,
                                                             defaults={"nom": "Poste local"})
        user, created = User.objects.get_or_create(username=LOCAL_USERNAME,
                                                   defaults={"first_name": "Acheteur", "last_name": "(poste local)"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membre.objects.get_or_create(utilisateur=user, organisation=organisation, defaults={"role": "admin"})
    return user, organisation


def new_session_token(user) -> str:
    """A fresh token for this server run; the tokens of earlier runs stop working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        JetonAcces.objects.filter(type=JetonAcces.SESSION, revoque=False).update(revoque=True)
        JetonAcces.objects.create(utilisateur=user, type=JetonAcces.SESSION, empreinte=digest(token))
    BEARERS.clear()
    return token


def open_session(token: str):
    """The user the token belongs to, if this is the first time its URL is opened; None otherwise."""
    found = digest(token)
    used = JetonAcces.objects.filter(empreinte=found, type=JetonAcces.SESSION, revoque=False,
                                     connexion_le__isnull=True).update(connexion_le=timezone.now())
    if not used:
        return None
    user = JetonAcces.objects.select_related("utilisateur").get(empreinte=found).utilisateur
    return user if user.is_active else None


def bearer_token(request: HttpRequest) -> Optional[str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class BearerCache:
    """Tokens already checked, for a few seconds: an API call costs one dictionary lookup instead of two
    queries. A token revoked here is forgotten at once; one revoked by another process (a team server's
    administration) stops working within ``TTL`` seconds."""

    TTL = 10.0

    def __init__(self) -> None:
        self._known: dict[str, tuple[float, object, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            hit = self._known.get(key)
        if hit is None or time.monotonic() - hit[0] > self.TTL:
            return None
        return hit[1], hit[2]

    def put(self, key: str, user, organisation) -> None:
        with self._lock:
            if len(self._known) > 1000:
                self._known.clear()
            self._known[key] = (time.monotonic(), user, organisation)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()


BEARERS = BearerCache()


def bearer_identity(token: str):
    """(user, organisation) of a valid API token, or None."""
    key = digest(token)
    known = BEARERS.get(key)
    if known is not None:
        return known
    jeton = (JetonAcces.objects.select_related("utilisateur")
             .filter(empreinte=key, revoque=False).first())
    if jeton is None or not jeton.utilisateur.is_active:
        return None
    organisation = organisation_of(jeton.utilisateur)
    if organisation is None:
        return None
    BEARERS.put(key, jeton.utilisateur, organisation)
    return jeton.utilisateur, organisation


def organisation_of(user) -> Optional[Organisation]:
    membre = Membre.objects.select_related("organisation").filter(utilisateur=user).order_by("pk").first()
    return membre.organisation if membre else None


def journal(request: HttpRequest, action: str, marche=None, **detail) -> None:
    organisation = getattr(request, "organisation", None) or (marche.organisation if marche else None)
    if organisation is None:
        return
    user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    Journal.objects.create(organisation=organisation, utilisateur=user, marche=marche, action=action, detail=detail)


def refused(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "acces_refuse.html", {"raison": reason}, status=403)


class AccessMiddleware:
    """The token rule for every page; the API checks its Bearer token itself (401 or 403 in JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        if path.startswith(API_PREFIX) and not path.startswith(API_DOCS):
            return self.get_response(request)
        token = request.GET.get(TOKEN_PARAM)
        if token is not None:
            user = open_session(token)
            if user is not None:
                login(request, user, backend=BACKEND)
                request.session["jeton_api"] = token
                request.organisation = organisation_of(user)
                journal(request, "connexion")
            elif not request.user.is_authenticated:
                return refused(request, "lien")
            rest = request.GET.copy()
            rest.pop(TOKEN_PARAM)
            return redirect(path + (f"?{urlencode(list(rest.lists()), doseq=True)}" if rest else ""))
        if request.user.is_authenticated:
            request.organisation = organisation_of(request.user)
            if request.organisation is not None:
                return self.get_response(request)
        elif path.startswith(API_DOCS):
            bearer = bearer_token(request)
            if bearer and bearer_identity(bearer) is not None:
                return self.get_response(request)
        return refused(request)


class UploadLimitMiddleware:
    """A body larger than the limit is refused before it is read: 413 with a French message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_UPLOAD_BYTES
        if length > limit:
            return too_large(request, length)
        return self.get_response(request)


def too_large(request: HttpRequest, length: Optional[int] = None) -> HttpResponse:
    limit_mb = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
    size = f" ({length / 1024 / 1024:.1f} Mo)".replace(".", ",") if length else ""
    message = (f"Fichier trop volumineux{size} : {limit_mb} Mo au plus. Un questionnaire tient en quelques "
               "kilo-octets ; vérifiez que vous envoyez le bon fichier.")
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=413, json_dumps_params={"ensure_ascii": False})
    return render(request, "erreur.html", {"titre": "Fichier trop volumineux", "message": message}, status=413)
