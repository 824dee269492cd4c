"""The web face's commands, registered by cli.py: ``clausier serve``.

Only click is imported here: Django and the application load when a command runs, so the
other commands of ``clausier`` never pay for them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adresse d'écoute ; seule 127.0.0.1 (ce poste) est admise sans comptes utilisateurs.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port d'écoute ; 0 pour un port libre quelconque.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), envvar="CLAUSIER_DATA",
              metavar="DOSSIER", help="Dossier des données (base, fichiers générés) ; par défaut le dossier de données "
                                      "de l'utilisateur. CLAUSIER_DATABASE_URL=postgresql://… pour PostgreSQL.")
def serve(host: str, port: int, data_dir: Optional[Path]) -> None:
    """Lance l'application web des acheteurs et affiche son adresse (avec un jeton à usage unique)."""
    from web.server import ServeError  # lazy: Django and the application, only for this command
    from web.server import serve as run

    try:
        run(host, port, data_dir)
    except ServeError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(2)


def web_commands() -> list[click.Command]:
    """The commands cli.py adds to ``clausier``."""
    return [serve]
