"""``clausier serve``: prepare the data folder, migrate, print the one line, serve with waitress.

On a buyer's PC: bound to 127.0.0.1, single-user. The database (SQLite by default) is
created and migrated on first start in the data folder, with the secret key that
signs sessions; a fresh one-time token is printed in the start line, and nothing else.

Once accounts exist (``clausier comptes ajouter``), the server is a team's: no token, each
person logs in. Another address than 127.0.0.1 (``--host 0.0.0.0``) opens clausier to other
computers: it is refused until an administrator account exists.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, TextIO

DEFAULT_PORT = 8765
THREADS = 8
MAX_BODY = 100 * 1024 * 1024  # waitress refuses beyond this before buffering; the application's limit is 20 MB
SECRET_FILE = "cle-secrete"
LOG_FILE = "journal.log"


class ServeError(Exception):
    """Why the server cannot start, in French (exit code 2)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def prepare(data: Path) -> None:
    """The data folder and the environment Django's settings read (before Django starts)."""
    try:
        data.mkdir(parents=True, exist_ok=True)
        (data / "fichiers").mkdir(exist_ok=True)
        secret = data / SECRET_FILE
        if not secret.is_file():
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_urlsafe(50))
        key = secret.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ServeError(f"dossier de données {data} inutilisable ({exc.strerror or exc}) : choisissez-en un autre avec "
                         "--data") from None
    os.environ["CLAUSIER_DATA"] = str(data)
    os.environ["CLAUSIER_SECRET_KEY"] = key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")


def database_ready(data: Path, log_to_file: bool = False) -> None:
    """Django set up on the data folder (or CLAUSIER_DATABASE_URL) and its database migrated."""
    prepare(data)
    import django
    from django.core.management import call_command
    from django.db.utils import OperationalError

    django.setup()
    if log_to_file:
        handler = logging.FileHandler(data / LOG_FILE, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s : %(message)s"))
        handler.setLevel(logging.INFO)
        logging.getLogger("clausier.web").addHandler(handler)
    try:
        call_command("migrate", verbosity=0, interactive=False)
    except OperationalError as exc:
        raise DatabaseUnavailable(f"base de données inaccessible ({str(exc).strip().splitlines()[0]}) : vérifiez "
                                  "CLAUSIER_DATABASE_URL, que le serveur PostgreSQL tourne et que la base existe") from None


class DatabaseUnavailable(ServeError):
    """The database cannot be reached or migrated (exit code 5: a tool outside clausier)."""


def setup(data: Path) -> str:
    """Django ready, database migrated; returns a fresh session token (single-user), or "" once accounts exist."""
    database_ready(data, log_to_file=True)
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from .acces import accounts_exist, local_user, new_session_token
    from .marches.pdf import interrupted

    Session.objects.filter(expire_date__lt=timezone.now()).delete()  # expired sessions are not kept
    interrupted()
    if accounts_exist():  # a team's server: the single-user tokens of earlier starts no longer open anything
        from .marches.models import JetonAcces

        JetonAcces.objects.filter(type=JetonAcces.SESSION, revoque=False).update(revoque=True)
        return ""
    user, _ = local_user()
    return new_session_token(user)


def _admin_exists(data: Path) -> bool:
    """Whether an administrator account exists, without creating a database where there is none."""
    if not os.environ.get("CLAUSIER_DATABASE_URL") and not (data / "clausier.sqlite3").is_file():
        return False
    database_ready(data)
    from .acces import admin_exists

    return admin_exists()


def _team_host_names(host: str) -> None:
    """The names another computer reaches this one by, allowed as HTTP hosts (with CLAUSIER_ALLOWED_HOSTS)."""
    names = [n for n in {socket.gethostname(), socket.getfqdn()} if n]
    if host not in ("0.0.0.0", "::", "[::]"):
        names.append(host.strip("[]"))
    known = [h for h in os.environ.get("CLAUSIER_ALLOWED_HOSTS", "").split(",") if h.strip()]
    os.environ["CLAUSIER_ALLOWED_HOSTS"] = ",".join(dict.fromkeys(known + names))


@dataclass
class Running:
    url: str
    token: str
    server: object

    def run(self) -> None:
        self.server.run()

    def close(self) -> None:
        self.server.close()


def create(host: str, port: int, data: Path, threads: int = THREADS) -> Running:
    """A server ready to run (port 0: any free port), and the URL with its one-time token."""
    if not is_loopback(host):
        if not _admin_exists(data):
            raise ServeError(f"--host {host} : une autre adresse que 127.0.0.1 ouvre clausier à d'autres postes, ce qui "
                             "demande des comptes utilisateurs ; créez d'abord un compte administrateur (« clausier "
                             "comptes ajouter ADRESSE --role admin »), puis relancez. En attendant, clausier serve "
                             "n'écoute que sur ce poste (127.0.0.1).")
        _team_host_names(host)
    token = setup(data)
    from waitress import create_server

    from .wsgi import application

    try:
        server = create_server(application, host=host, port=port, threads=threads, ident="clausier",
                               max_request_body_size=MAX_BODY, clear_untrusted_proxy_headers=True)
    except OSError as exc:
        if port and exc.errno in (98, 48, 10048):  # address in use (Linux, macOS, Windows)
            raise ServeError(f"le port {port} est déjà utilisé (un autre clausier serve ?) : choisissez-en un autre "
                             "avec --port, ou --port 0 pour un port libre") from None
        raise ServeError(f"impossible d'écouter sur {host}:{port} ({exc.strerror or exc})") from None
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = socket.getfqdn() or socket.gethostname()
    if not token:
        return Running(f"http://{shown}:{server.effective_port}/ (connexion avec votre compte)", "", server)
    return Running(f"http://{shown}:{server.effective_port}/?token={token}", token, server)


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, data: Optional[Path] = None,
          out: TextIO = sys.stdout) -> None:
    from platformdirs import user_data_dir

    folder = Path(data) if data else Path(user_data_dir("clausier", appauthor=False))
    running = create(host, port, folder)
    print(f"clausier : {running.url}", file=out, flush=True)
    try:
        running.run()
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
