"""Who may come in, and what each account sees.

Two modes, chosen by the database itself:

- **Single-user** (no account created yet: a buyer's PC): ``clausier serve`` prints
  ``http://127.0.0.1:PORT/?token=…``. That URL opens one browser session, once; the same token is the
  API's ``Authorization: Bearer`` token while this server runs. Without a session, every page answers
  « accès refusé » (403), and only the static files are served. The local user administers its one
  organisation, the facilitator's desk included.
- **Team** (at least one account created by ``clausier comptes ajouter`` or the admin pages): pages
  ask to log in (``/connexion/``, throttled), sessions last one working day, API tokens are per account.

What an account sees is its ``Portee``: an ``acheteur`` the markets of its organisation(s), which it
edits; a ``facilitateur`` the markets of the buyers it follows (a membership with that role in each),
read-only on the buyer's drafting, with the facilitator's desk; an ``admin`` (superuser) every
organisation. Anything outside an account's scope is answered 404, like what does not exist.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from .marches.models import JetonAcces, Journal, Membre, Organisation

TOKEN_PARAM = "token"
API_PREFIX = "/api/v1/"
API_DOCS = ("/api/v1/docs", "/api/v1/openapi.json")
LOGIN_PATH = "/connexion/"
OPEN_PATHS = (LOGIN_PATH,)  # answered without a session in team mode
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
    """(user, its Portee) of a valid API token, or None."""
    key = digest(token)
    known = BEARERS.get(key)
    if known is not None:
        return known
    jeton = (JetonAcces.objects.select_related("utilisateur")
             .filter(empreinte=key, revoque=False).first())
    if jeton is None or not jeton.utilisateur.is_active:
        return None
    if jeton.type == JetonAcces.SESSION and team_mode():  # the start line's token belongs to single-user mode
        return None
    portee = portee_of(jeton.utilisateur)
    if not portee.entre:
        return None
    BEARERS.put(key, jeton.utilisateur, portee)
    return jeton.utilisateur, portee


ACHETEUR, FACILITATEUR, ADMIN = "acheteur", "facilitateur", "admin"
ROLE_LABELS = {ACHETEUR: "acheteur", FACILITATEUR: "facilitateur", ADMIN: "administrateur"}


@dataclass(frozen=True)
class Portee:
    """What one account sees and may change."""

    role: str
    organisations: Optional[frozenset[int]]  # None: every organisation (an administrator)
    ecriture: Optional[frozenset[int]]       # organisations whose buyer markets it edits (None: all)
    propre: Optional[Organisation]           # where the markets it creates or imports go

    @property
    def entre(self) -> bool:
        """Whether the account has anything to see at all."""
        return self.organisations is None or bool(self.organisations)

    @property
    def bureau(self) -> bool:
        """The facilitator's desk: uploads of returned grids, the library, the audit trail."""
        return self.role in (FACILITATEUR, ADMIN)

    @property
    def admin(self) -> bool:
        return self.role == ADMIN

    def voit(self, organisation_id: Optional[int]) -> bool:
        return self.organisations is None or organisation_id in self.organisations

    def modifie(self, organisation_id: Optional[int]) -> bool:
        return self.ecriture is None or organisation_id in self.ecriture

    def filtre(self, queryset: QuerySet, champ: str = "organisation") -> QuerySet:
        """The queryset narrowed to what this account sees."""
        if self.organisations is None:
            return queryset
        return queryset.filter(**{f"{champ}__in": self.organisations})

    def organisations_visibles(self) -> QuerySet:
        return self.filtre(Organisation.objects.all(), "pk").order_by("nom")


NOBODY = Portee(ACHETEUR, frozenset(), frozenset(), None)


def portee_of(user) -> Portee:
    """The role and organisations of an account, from its memberships (``Membre``) and its superuser flag."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    memberships = list(Membre.objects.select_related("organisation").filter(utilisateur=user).order_by("pk"))
    own = [m for m in memberships if m.role in (ACHETEUR, ADMIN)]
    propre = own[0].organisation if own else None
    if user.is_superuser:
        return Portee(ADMIN, None, None, propre)
    roles = {m.role for m in memberships}
    role = ADMIN if ADMIN in roles else FACILITATEUR if FACILITATEUR in roles else ACHETEUR
    return Portee(role, frozenset(m.organisation_id for m in memberships), frozenset(m.organisation_id for m in own), propre)


def require_desk(request: HttpRequest) -> None:
    """The facilitator's desk is for facilitators and administrators; a buyer is refused (403)."""
    if not getattr(request, "portee", NOBODY).bureau:
        raise PermissionDenied("réservé aux facilitateurs")


def actor(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user.email or user.get_username()


def journal(request: Optional[HttpRequest], action: str, marche=None, suivi=None, organisation=None, user=None,
            **detail) -> None:
    """One entry of the audit trail (append-only): who, what, on which market, when."""
    if organisation is None:
        organisation = (marche.organisation if marche is not None else suivi.organisation if suivi is not None
                        else getattr(request, "organisation", None))
    if user is None and request is not None and getattr(request, "user", None) and request.user.is_authenticated:
        user = request.user
    reference = (marche.reference if marche is not None else suivi.reference if suivi is not None else "") or ""
    Journal.objects.create(organisation=organisation, utilisateur=user, acteur=actor(user), marche=marche, suivi=suivi,
                           reference=reference[:64], action=action, detail=detail)


# ----------------------------------------------------------------------------- single-user or team


class TeamMode:
    """Whether accounts exist (team mode), checked at most every few seconds per process: ``clausier comptes
    ajouter`` runs in another process; in this one, creating or changing an account clears it at once."""

    TTL = 5.0

    def __init__(self) -> None:
        self._value: Optional[tuple[float, bool]] = None
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        with self._lock:
            known = self._value
        if known is not None and time.monotonic() - known[0] < self.TTL:
            return known[1]
        value = accounts_exist()
        with self._lock:
            self._value = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None


def accounts_exist() -> bool:
    """Accounts log in with a password; the local user of single-user mode has none."""
    User = get_user_model()
    return User.objects.filter(is_active=True).exclude(username=LOCAL_USERNAME).exclude(
        password__startswith="!").exists()


def admin_exists() -> bool:
    User = get_user_model()
    return User.objects.filter(is_active=True, is_superuser=True).exclude(password__startswith="!").exists()


team_mode = TeamMode()


def refused(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "acces_refuse.html", {"raison": reason}, status=403)


class AccessMiddleware:
    """Who may see a page: the token rule (single-user) or a logged-in account (team); the API checks its Bearer
    token itself (401 or 403 in JSON). Sets ``request.portee`` and ``request.organisation``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        request.portee = NOBODY
        request.organisation = None
        if path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        if path.startswith(API_PREFIX) and not path.startswith(API_DOCS):
            return self.get_response(request)
        if team_mode():
            return self._team(request, path)
        if path in OPEN_PATHS:
            return self.get_response(request)  # the login page says there are no accounts yet
        token = request.GET.get(TOKEN_PARAM)
        if token is not None:
            user = open_session(token)
            if user is not None:
                login(request, user, backend=BACKEND)
                request.session["jeton_api"] = token
                self._scope(request)
                journal(request, "connexion")
            elif not request.user.is_authenticated:
                return refused(request, "lien")
            rest = request.GET.copy()
            rest.pop(TOKEN_PARAM)
            return redirect(path + (f"?{urlencode(list(rest.lists()), doseq=True)}" if rest else ""))
        if request.user.is_authenticated:
            self._scope(request)
            if request.portee.entre:
                return self.get_response(request)
        elif path.startswith(API_DOCS):
            bearer = bearer_token(request)
            if bearer and bearer_identity(bearer) is not None:
                return self.get_response(request)
        return refused(request)

    @staticmethod
    def _scope(request: HttpRequest) -> None:
        request.portee = portee_of(request.user)
        request.organisation = request.portee.propre

    def _team(self, request: HttpRequest, path: str) -> HttpResponse:
        if path in OPEN_PATHS:
            return self.get_response(request)
        if request.user.is_authenticated and request.user.username != LOCAL_USERNAME:
            self._scope(request)
            if request.portee.entre or path == "/deconnexion/":
                return self.get_response(request)
            return render(request, "comptes/sans_organisation.html", status=403)
        if path.startswith(API_DOCS):
            bearer = bearer_token(request)
            if bearer and bearer_identity(bearer) is not None:
                return self.get_response(request)
        if request.method == "GET":
            target = path + (f"?{request.GET.urlencode()}" if request.GET else "")
            return redirect(f"{LOGIN_PATH}?{urlencode({'suivant': target})}" if path != "/" else LOGIN_PATH)
        return render(request, "comptes/connexion_requise.html", status=403)


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every response (no inline script or style, no frame), and a stricter one for
    the SVG charts, which are only ever shown as images (styles inside, no script)."""

    SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("image/svg+xml"):
            response["Content-Security-Policy"] = self.SVG_POLICY
        else:
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response


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


def contexte(request: HttpRequest) -> dict:
    """What every page's header needs: the account's scope and whether accounts are in use."""
    portee = getattr(request, "portee", NOBODY)
    return {"portee": portee, "equipe": team_mode() if getattr(request, "user", None) is not None else False,
            "lecture_seule": getattr(request, "lecture_seule", False)}
