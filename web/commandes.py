"""The web face's commands, registered by cli.py: ``serve``, ``comptes``, ``db`` and ``portefeuille``.

Only click is imported here: Django and the application load when a command runs, so the other commands of
``clausier`` never pay for them. Every command that touches the database takes ``--data DOSSIER`` (or
``CLAUSIER_DATA``) and honours ``CLAUSIER_DATABASE_URL`` the same way, and migrates the database first.
Bad input: exit code 2, in French, no traceback; a database that cannot be reached: 5.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn, Optional

import click

EXIT_INPUT, EXIT_OUTPUT, EXIT_TOOL = 2, 4, 5  # drafting.errors' table (imported with the engine, later)

data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), envvar="CLAUSIER_DATA", metavar="DOSSIER",
    help="Dossier des données (base SQLite, fichiers) ; par défaut le dossier de données de l'utilisateur. "
         "CLAUSIER_DATABASE_URL=postgresql://… pour PostgreSQL.")


def _folder(data_dir: Optional[Path]) -> Path:
    from platformdirs import user_data_dir

    return Path(data_dir) if data_dir else Path(user_data_dir("clausier", appauthor=False))


def _fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(code)


def _ready(data_dir: Optional[Path]) -> Path:
    """Django set up and the database migrated, or a French message and the exit code."""
    from web.server import DatabaseUnavailable, ServeError, database_ready  # lazy: Django and the application

    folder = _folder(data_dir)
    try:
        database_ready(folder)
    except DatabaseUnavailable as exc:
        _fail(str(exc), EXIT_TOOL)
    except ServeError as exc:
        _fail(str(exc))
    except Exception as exc:  # ImproperlyConfigured (a bad CLAUSIER_DATABASE_URL) and the like
        _fail(str(exc) or type(exc).__name__)
    return folder


# ----------------------------------------------------------------------------- serve


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adresse d'écoute ; une autre que 127.0.0.1 (ce poste) demande un compte administrateur.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port d'écoute ; 0 pour un port libre quelconque.")
@data_option
def serve(host: str, port: int, data_dir: Optional[Path]) -> None:
    """Lance l'application web et affiche son adresse (avec un jeton à usage unique tant qu'aucun compte n'existe)."""
    from web.server import DatabaseUnavailable, ServeError  # lazy: Django and the application, only for this command
    from web.server import serve as run

    try:
        run(host, port, data_dir)
    except DatabaseUnavailable as exc:
        _fail(str(exc), EXIT_TOOL)
    except ServeError as exc:
        _fail(str(exc))


# ----------------------------------------------------------------------------- comptes


def _password(address: str) -> str:
    """Typed twice in a terminal, or the first line of standard input (never an argument)."""
    stream = sys.stdin
    if not stream.isatty():
        line = stream.readline()
        if not line:
            _fail("mot de passe attendu sur l'entrée standard (une ligne)")
        return line.rstrip("\r\n")
    for _ in range(3):
        first = click.prompt(f"Mot de passe pour {address}", hide_input=True, show_default=False)
        second = click.prompt("Le même, une seconde fois", hide_input=True, show_default=False)
        if first == second:
            return first
        click.echo("Les deux saisies diffèrent : recommencez.", err=True)
    _fail("les deux saisies du mot de passe diffèrent")


@click.group("comptes")
def comptes() -> None:
    """Comptes de l'application d'équipe : acheteurs, facilitateurs, administrateurs."""


@comptes.command("ajouter")
@click.argument("email", metavar="ADRESSE")
@click.option("--role", type=click.Choice(["acheteur", "facilitateur", "admin"]), required=True,
              help="acheteur : les marchés de son organisation ; facilitateur : ceux des acheteurs qu'il suit, la "
                   "bibliothèque et le suivi ; admin : tout, et les pages d'administration.")
@click.option("--organisation", "organisations", multiple=True, metavar="NOM",
              help="L'organisation de l'acheteur ; pour un facilitateur, chaque acheteur suivi (option répétée). "
                   "Créée si elle n'existe pas.")
@click.option("--nom", default="", help="Prénom et nom, pour l'affichage.")
@data_option
def comptes_ajouter(email: str, role: str, organisations: tuple[str, ...], nom: str, data_dir: Optional[Path]) -> None:
    """Crée un compte ; le mot de passe est tapé deux fois, ou lu sur l'entrée standard (jamais en argument)."""
    _ready(data_dir)
    from web.comptes.services import AccountError, create_account, find_account, normalise_email

    try:
        address = normalise_email(email)
        if find_account(address) is not None:  # said before asking for a password
            raise AccountError(f"un compte existe déjà pour l'adresse {address} : rien n'a été créé "
                               "(« clausier comptes mot-de-passe » change son mot de passe)")
        created = create_account(address, role, list(organisations), _password(address), nom)
    except AccountError as exc:
        _fail(str(exc))
    for organisation, new in created.organisations:
        if new:
            click.echo(f"Organisation créée : {organisation.nom} ({organisation.slug})")
    where = ", ".join(o.nom for o, _ in created.organisations) or "toutes les organisations"
    click.echo(f"Compte créé : {address} ({role} ; {where}).")


@comptes.command("lister")
@data_option
def comptes_lister(data_dir: Optional[Path]) -> None:
    """Liste les comptes : adresse, rôle, organisations, état, dernière connexion."""
    _ready(data_dir)
    from web.comptes.services import accounts

    rows = accounts()
    if not rows:
        click.echo("Aucun compte : clausier serve fonctionne pour une seule personne, sur ce poste.")
        return
    for row in rows:
        last = row.derniere_connexion.strftime("%d/%m/%Y %H:%M") if row.derniere_connexion else "jamais connecté"
        state = "" if row.actif else " [désactivé]"
        click.echo(f"{row.email}  {row.role}{state}  {'; '.join(row.organisations) or '—'}  ({last})")


@comptes.command("mot-de-passe")
@click.argument("email", metavar="ADRESSE")
@data_option
def comptes_mot_de_passe(email: str, data_dir: Optional[Path]) -> None:
    """Change le mot de passe d'un compte (tapé deux fois, ou lu sur l'entrée standard)."""
    _ready(data_dir)
    from web.comptes.services import AccountError, find_account, normalise_email, set_password

    try:
        if find_account(email) is None:
            raise AccountError(f"aucun compte pour l'adresse {normalise_email(email)}")
        set_password(email, _password(normalise_email(email)))
    except AccountError as exc:
        _fail(str(exc))
    click.echo("Mot de passe changé.")


@comptes.command("desactiver")
@click.argument("email", metavar="ADRESSE")
@click.option("--reactiver", is_flag=True, help="Rend l'accès à un compte désactivé.")
@data_option
def comptes_desactiver(email: str, reactiver: bool, data_dir: Optional[Path]) -> None:
    """Désactive un compte (il ne peut plus se connecter ; son historique reste au journal)."""
    _ready(data_dir)
    from web.comptes.services import AccountError, set_active

    try:
        set_active(email, reactiver)
    except AccountError as exc:
        _fail(str(exc))
    click.echo("Compte réactivé." if reactiver else "Compte désactivé.")


@comptes.command("rattacher")
@click.argument("email", metavar="ADRESSE")
@click.option("--organisation", required=True, metavar="NOM", help="L'organisation (créée si elle n'existe pas).")
@click.option("--role", type=click.Choice(["acheteur", "facilitateur", "admin"]), required=True)
@data_option
def comptes_rattacher(email: str, organisation: str, role: str, data_dir: Optional[Path]) -> None:
    """Rattache un compte à une organisation de plus (un facilitateur qui suit un nouvel acheteur)."""
    _ready(data_dir)
    from web.comptes.services import AccountError, attach

    try:
        org, created = attach(email, organisation, role)
    except AccountError as exc:
        _fail(str(exc))
    click.echo(("Organisation créée. " if created else "") + f"{email} : {role} pour {org.nom}.")


# ----------------------------------------------------------------------------- db


@click.group("db")
def db() -> None:
    """La base de données de l'application : migrations, sauvegarde, restauration."""


@db.command("migrer")
@data_option
def db_migrer(data_dir: Optional[Path]) -> None:
    """Crée ou met à jour les tables (ce que fait aussi clausier serve à chaque démarrage)."""
    _ready(data_dir)
    from django.db import connection

    click.echo(f"Base de données à jour ({'PostgreSQL' if connection.vendor == 'postgresql' else 'SQLite'}).")


@db.command("sauvegarder")
@click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
@data_option
def db_sauvegarder(fichier: Path, data_dir: Optional[Path]) -> None:
    """Écrit toute l'application (comptes, marchés, retours, journal, fichiers) dans FICHIER (.zip)."""
    _ready(data_dir)
    from web.sauvegarde import BackupError, backup

    try:
        summary = backup(fichier)
    except BackupError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"écriture de {fichier} impossible ({exc.strerror or exc})", EXIT_OUTPUT)
    records = sum(summary.objets.values())
    click.echo(f"Sauvegarde écrite : {summary.path} ({records} enregistrements, {summary.fichiers} fichiers).")


@db.command("restaurer")
@click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--remplacer", is_flag=True, help="Écrase une base qui contient déjà des données.")
@data_option
def db_restaurer(fichier: Path, remplacer: bool, data_dir: Optional[Path]) -> None:
    """Restaure une sauvegarde dans la base (vide, ou écrasée avec --remplacer) et le dossier de données."""
    _ready(data_dir)
    from web.sauvegarde import BackupError, restore

    try:
        summary = restore(fichier, remplacer)
    except BackupError as exc:
        _fail(exc.message)
    records = sum(summary.objets.values())
    click.echo(f"Sauvegarde restaurée : {records} enregistrements, {summary.fichiers} fichiers.")


# ----------------------------------------------------------------------------- portefeuille


@click.group("portefeuille")
def portefeuille() -> None:
    """Le portefeuille suivi par les facilitateurs."""


@portefeuille.command("importer")
@click.argument("dossier", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--organisation", required=True, metavar="NOM", help="L'acheteur à qui ces marchés appartiennent.")
@click.option("--questionnaires", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              metavar="DOSSIER", help="Les questionnaires d'origine (le dossier donné à batch) : secteurs, montants et "
                                     "date de notification prévue des lots.")
@data_option
def portefeuille_importer(dossier: Path, organisation: str, questionnaires: Optional[Path], data_dir: Optional[Path]) -> None:
    """Ajoute au suivi les marchés d'un dossier de generate ou batch (manifeste de chacun vérifié)."""
    _ready(data_dir)
    from web.comptes.services import AccountError
    from web.comptes.services import organisation as find
    from web.suivi.portefeuille import folders_on_disk, import_folders, questionnaires_by_hash

    try:
        org, _ = find(organisation, create=False)
    except AccountError as exc:
        _fail(str(exc))
    found = {}
    if questionnaires is not None:
        found = questionnaires_by_hash((p.name, p.read_bytes()) for p in sorted(questionnaires.rglob("*")) if p.is_file())
    outcomes = import_folders(folders_on_disk(dossier), org, None, found)
    if not outcomes:
        _fail(f"aucun marché généré dans {dossier} (pas de <référence>/manifest.json)")
    for outcome in outcomes:
        click.echo(f"{outcome.reference or outcome.source} : {outcome.message}")
    failed = sum(1 for o in outcomes if o.suivi is None)
    click.echo(f"{len(outcomes) - failed} marché(s) suivis, {failed} refusé(s).")
    if failed:
        sys.exit(6 if failed < len(outcomes) else EXIT_INPUT)


def web_commands() -> list[click.Command]:
    """The commands cli.py adds to ``clausier``."""
    return [serve, comptes, db, portefeuille]
