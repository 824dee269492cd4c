"""Django settings of ``clausier serve``.

Nothing here writes to disk: ``web.server`` prepares the data folder (database,
secret key, file store) and passes it through the environment before Django starts:

- ``CLAUSIER_DATA``: the data folder (default: the per-user data directory);
- ``CLAUSIER_DATABASE_URL``: ``postgresql://user:password@host:5432/base`` for PostgreSQL,
  otherwise SQLite in ``<data>/clausier.sqlite3``;
- ``CLAUSIER_SECRET_KEY``: the key that signs sessions (kept in ``<data>/cle-secrete``);
- ``CLAUSIER_ALLOWED_HOSTS``: extra host names, comma separated (loopback names are always allowed).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from platformdirs import user_data_dir

BASE_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    return Path(os.environ.get("CLAUSIER_DATA") or user_data_dir("clausier", appauthor=False))


def database_from_url(url: str | None, folder: Path) -> dict:
    """A Django DATABASES entry from ``CLAUSIER_DATABASE_URL`` (PostgreSQL), or SQLite in the data folder."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(folder / "clausier.sqlite3"),
            "CONN_MAX_AGE": None,  # one connection per server thread, kept: opening SQLite costs more than a query
            # WAL: readers never wait for the writer; IMMEDIATE: a writing transaction takes the lock at once
            # instead of failing half-way when another thread writes (waitress serves with several threads).
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path) or str(folder / "clausier.sqlite3")}
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(
            f"CLAUSIER_DATABASE_URL : schéma « {parts.scheme} » non pris en charge ; écrivez "
            "postgresql://utilisateur:motdepasse@hote:5432/base")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


CLAUSIER_DATA = data_dir()
SECRET_KEY = os.environ.get("CLAUSIER_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False  # always: a buyer never sees a traceback
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"] + [
    h.strip() for h in os.environ.get("CLAUSIER_ALLOWED_HOSTS", "").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",  # the administrators' pages (accounts, organisations), at /admin/
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # its documentation page served from its own static files, no CDN
    "web.marches",
    "web.comptes",
    "web.suivi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "web.acces.SecurityHeadersMiddleware",
    "web.acces.UploadLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "web.acces.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {
        "context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
            "web.acces.contexte",
        ],
        "builtins": ["web.marches.templatetags.clausier"],
    },
}]

DATABASES = {"default": database_from_url(os.environ.get("CLAUSIER_DATABASE_URL"), CLAUSIER_DATA)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CLAUSIER_AUJOURDHUI = os.environ.get("CLAUSIER_AUJOURDHUI", "")  # AAAA-MM-JJ: « today » of the monitoring (tests)
PASSWORD_HASHERS = [  # accounts (team server): Argon2 first
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [  # their messages are Django's, in French
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/connexion/"
# Throttling of the login form (web.comptes.limitation): after ECHECS failures for one address within
# FENETRE seconds, that address is refused until the window has passed; the same for one IP at ECHECS_IP.
CLAUSIER_CONNEXION_ECHECS = 5
CLAUSIER_CONNEXION_ECHECS_IP = 20
CLAUSIER_CONNEXION_FENETRE = 15 * 60

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Sessions: the cookie of a local tool; the one-time token of the start line opens one.
SESSION_COOKIE_NAME = "clausier_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600  # the one-time token's session on a buyer's PC
SESSION_EQUIPE_AGE = 10 * 3600  # an account's session (team server): one working day, then log in again
CSRF_COOKIE_NAME = "clausier_csrftoken"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "web.erreurs.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every page (web.acces.SecurityHeadersMiddleware): scripts and styles from this
# server's files only, no inline script or style, no frame; the SVG charts are images with their own, stricter one.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
# Behind an HTTPS reverse proxy (team server): CLAUSIER_HTTPS=1 marks the cookies secure and trusts the proxy's
# X-Forwarded-Proto header.
if os.environ.get("CLAUSIER_HTTPS") == "1":
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600

# Uploads: 20 MB at most (checked before reading the body by web.acces.UploadLimitMiddleware).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"simple": {"format": "%(asctime)s %(levelname)s %(name)s : %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "simple", "level": "WARNING"}},
    "loggers": {
        "clausier.web": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # the 500 handler logs each incident once, with its number: django.request would log it a second time
        "django.request": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "waitress": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
