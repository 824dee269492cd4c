"""``clausier serve``: prepare the data folder, migrate, print the one line, serve with waitress.

On a buyer's PC: bound to 127.0.0.1, single-user. The database (SQLite by default) is
created and migrated on first start in the data folder, with the secret key that
signs sessions; a fresh one-time token is printed in the start line, and nothing else.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
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


def setup(data: Path) -> str:
    """Django ready, database migrated, local user present; returns a fresh session token."""
    prepare(data)
    import django
    from django.core.management import call_command

    django.setup()
    handler = logging.FileHandler(data / LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s : %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger("clausier.web").addHandler(handler)
    call_command("migrate", verbosity=0, interactive=False)
    from .acces import local_user, new_session_token
    from .marches.pdf import interrupted

    user, _ = local_user()
    interrupted()
    return new_session_token(user)


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
        raise ServeError(f"--host {host} : une autre adresse que 127.0.0.1 ouvre clausier à d'autres postes, ce qui "
                         "demande des comptes utilisateurs (application d'équipe, à venir). En attendant, clausier "
                         "serve n'écoute que sur ce poste (127.0.0.1).")
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
