"""Accounts, as ``clausier comptes`` and the administrators' pages make them: one address, one account.

The address is the login (lower case). A role is held in organisations: an ``acheteur`` in its own
organisation, a ``facilitateur`` in each buyer organisation it follows, an ``admin`` everywhere (a
superuser, who also reaches the administration pages). Passwords go through Django's validators,
whose messages are in French, and are hashed with Argon2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import translation
from django.utils.text import slugify

from .. import acces
from ..marches.models import Membre, Organisation

ROLES = (acces.ACHETEUR, acces.FACILITATEUR, acces.ADMIN)
COMMAND_LINE = "ligne de commande (clausier comptes)"


class AccountError(Exception):
    """A request about accounts that cannot be done, said in French (exit code 2 on the command line)."""


def normalise_email(text: str) -> str:
    address = (text or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise AccountError(f"adresse électronique invalide : « {text} »") from None
    return address


def find_account(email: str):
    User = get_user_model()
    address = normalise_email(email)
    return User.objects.filter(username__iexact=address).first() or User.objects.filter(email__iexact=address).first()


def check_password(password: str, email: str) -> None:
    """Django's validators (length, common passwords, numbers only, too close to the address), in French."""
    User = get_user_model()
    if not password:
        raise AccountError("mot de passe vide")
    with translation.override("fr"):
        try:
            password_validation.validate_password(password, User(username=email, email=email))
        except ValidationError as exc:
            raise AccountError("mot de passe refusé : " + " ".join(exc.messages)) from None


def organisation(name: str, create: bool = True) -> tuple[Organisation, bool]:
    """An organisation by its short name (slug) or its name; created when unknown (and ``create``)."""
    name = " ".join((name or "").split())
    slug = slugify(name)[:60]
    if not slug:
        raise AccountError(f"nom d'organisation invalide : « {name} »")
    found = Organisation.objects.filter(slug=slug).first() or Organisation.objects.filter(nom__iexact=name).first()
    if found is not None:
        return found, False
    if not create:
        raise AccountError(f"organisation inconnue : « {name} »")
    return Organisation.objects.create(nom=name, slug=slug), True


@dataclass
class Created:
    user: object
    organisations: list[tuple[Organisation, bool]]  # (organisation, created now)


def create_account(email: str, role: str, organisations: list[str], password: str, nom: str = "") -> Created:
    address = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"rôle inconnu « {role} » : acheteur, facilitateur ou admin")
    if find_account(address) is not None:
        raise AccountError(f"un compte existe déjà pour l'adresse {address} : rien n'a été créé "
                           "(« clausier comptes mot-de-passe » change son mot de passe)")
    if role in (acces.ACHETEUR, acces.FACILITATEUR) and not organisations:
        raise AccountError("--organisation est requis : l'organisation de l'acheteur, ou chaque acheteur que suit le "
                           "facilitateur")
    if role == acces.ACHETEUR and len(organisations) > 1:
        raise AccountError("un acheteur appartient à une seule organisation")
    check_password(password, address)
    User = get_user_model()
    first, _, last = " ".join(nom.split()).partition(" ")
    with transaction.atomic():
        user = User(username=address, email=address, first_name=first[:150], last_name=last[:150],
                    is_staff=role == acces.ADMIN, is_superuser=role == acces.ADMIN)
        user.set_password(password)
        user.save()
        found = [organisation(name) for name in organisations]
        for org, _ in found:
            Membre.objects.create(utilisateur=user, organisation=org, role=role)
        acces.journal(None, "compte_cree", organisation=found[0][0] if found else None,
                      compte=address, role=role, organisations=[o.slug for o, _ in found], par=COMMAND_LINE)
    return Created(user, found)


def set_password(email: str, password: str) -> None:
    user = find_account(email)
    if user is None:
        raise AccountError(f"aucun compte pour l'adresse {normalise_email(email)}")
    check_password(password, user.email or user.username)
    user.set_password(password)
    user.save(update_fields=["password"])
    acces.journal(None, "mot_de_passe", compte=user.username, par=COMMAND_LINE)


def set_active(email: str, active: bool) -> None:
    user = find_account(email)
    if user is None:
        raise AccountError(f"aucun compte pour l'adresse {normalise_email(email)}")
    user.is_active = active
    user.save(update_fields=["is_active"])
    acces.journal(None, "compte_active" if active else "compte_desactive", compte=user.username, par=COMMAND_LINE)


def attach(email: str, name: str, role: str) -> tuple[Organisation, bool]:
    """Another organisation for an account (a facilitator who follows one more buyer)."""
    user = find_account(email)
    if user is None:
        raise AccountError(f"aucun compte pour l'adresse {normalise_email(email)}")
    if role not in ROLES:
        raise AccountError(f"rôle inconnu « {role} » : acheteur, facilitateur ou admin")
    org, created = organisation(name)
    Membre.objects.update_or_create(utilisateur=user, organisation=org, defaults={"role": role})
    acces.journal(None, "compte_rattache", organisation=org, compte=user.username, role=role, par=COMMAND_LINE)
    return org, created


@dataclass
class Row:
    email: str
    nom: str
    role: str
    organisations: list[str]
    actif: bool
    derniere_connexion: Optional[object]


def accounts() -> list[Row]:
    User = get_user_model()
    rows = []
    users = User.objects.exclude(username=acces.LOCAL_USERNAME).prefetch_related("adhesions__organisation").order_by("username")
    for user in users:
        portee = acces.portee_of(user) if user.is_active else None
        role = portee.role if portee else ("admin" if user.is_superuser else next(
            (m.role for m in user.adhesions.all()), acces.ACHETEUR))
        rows.append(Row(user.username, user.get_full_name(), role,
                        sorted(f"{m.organisation.nom} ({m.organisation.slug})" for m in user.adhesions.all()),
                        user.is_active, user.last_login))
    return rows
