"""Logging in and out (team mode), and an account's token for programs."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import acces
from ..marches.models import JetonAcces
from . import limitation
from .services import find_account


def _home(request: HttpRequest) -> str:
    portee = acces.portee_of(request.user)
    return reverse("suivi:portefeuille") if portee.bureau and portee.propre is None else reverse("accueil")


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("suivant") or request.GET.get("suivant") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@never_cache
@require_http_methods(["GET", "POST"])
def connexion(request: HttpRequest) -> HttpResponse:
    if not acces.team_mode():
        return render(request, "comptes/sans_comptes.html")
    context = {"suivant": request.POST.get("suivant") or request.GET.get("suivant", ""), "adresse": ""}
    if request.method == "GET":
        if request.user.is_authenticated and request.user.username != acces.LOCAL_USERNAME:
            return redirect(_home(request))
        return render(request, "comptes/connexion.html", context)
    address = (request.POST.get("adresse") or "").strip().lower()[:254]
    password = request.POST.get("mot_de_passe") or ""
    context["adresse"] = address
    errors = {}
    if not address:
        errors["adresse"] = "Saisissez l'adresse électronique de votre compte."
    if not password:
        errors["mot_de_passe"] = "Saisissez votre mot de passe."
    if errors:
        return render(request, "comptes/connexion.html", {**context, "erreurs": errors}, status=422)
    ip = request.META.get("REMOTE_ADDR") or None
    until = limitation.blocked(address, ip)
    if until is not None:
        minutes = limitation.minutes_left(until)
        message = (f"Trop de tentatives de connexion : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}. "
                   "Si vous avez oublié votre mot de passe, demandez-en un nouveau à un administrateur de clausier.")
        return render(request, "comptes/connexion.html", {**context, "bloque": message}, status=429)
    user = authenticate(request, username=address, password=password)
    if user is None or user.username == acces.LOCAL_USERNAME:
        limitation.record_failure(address, ip)
        known = find_account(address) if "@" in address else None
        if known is not None:  # an unknown address is not recorded: it may be a password typed in the wrong field
            acces.journal(None, "connexion_refusee", user=known, adresse_ip=ip or "")
        errors["mot_de_passe"] = "Adresse électronique ou mot de passe incorrect."
        return render(request, "comptes/connexion.html", {**context, "erreurs": errors}, status=401)
    login(request, user)
    request.session.set_expiry(settings.SESSION_EQUIPE_AGE)
    limitation.record_success(address)
    portee = acces.portee_of(user)
    acces.journal(None, "connexion", user=user, organisation=portee.propre)
    return redirect(_next(request, _home(request)))


@require_POST
def deconnexion(request: HttpRequest) -> HttpResponse:
    logout(request)
    if acces.team_mode():
        messages.info(request, "Vous êtes déconnecté.")
        return redirect("connexion")
    return redirect("accueil")


@require_POST
def jeton_api(request: HttpRequest) -> HttpResponse:
    """A new token for programs (team mode); the account's earlier ones stop working. Shown once, kept as a hash."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        JetonAcces.objects.filter(utilisateur=request.user, type=JetonAcces.API, revoque=False).update(revoque=True)
        JetonAcces.objects.create(utilisateur=request.user, type=JetonAcces.API, empreinte=acces.digest(token))
    acces.BEARERS.clear()
    acces.journal(request, "jeton_api")
    return render(request, "marches/api_acces.html", {"jeton": token, "nouveau": True,
                                                      "base": request.build_absolute_uri("/")[:-1],
                                                      "equipe": True})
