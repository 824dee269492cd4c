"""clausier's command line: a thin click layer over the drafting engine.

Every ClausierError becomes its French message on stderr and its exit code
(2 for bad input); an unexpected bug gives a short message, and the traceback
only with CLAUSIER_DEBUG=1.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from drafting import __version__


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from drafting.errors import ClausierError

        try:
            return command(*args, **kwargs)
        except ClausierError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:  # output piped into head: not an error
            sys.stderr.close()
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("Interrompu : aucun fichier partiel n'a été laissé.", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: say so plainly, keep the details for developers
            if os.environ.get("CLAUSIER_DEBUG"):
                raise
            click.echo(f"Erreur interne de clausier ({type(exc).__name__} : {exc}). Relancez avec CLAUSIER_DEBUG=1 "
                       "et transmettez le message à l'équipe.", err=True)
            sys.exit(1)
    return wrapper


def _library(path: str | None):
    from drafting.library import load_library

    return load_library(Path(path) if path else None)


library_option = click.option("--library", "library_dir", metavar="DOSSIER", envvar="CLAUSIER_LIBRARY",
                              help="Bibliothèque de clauses à utiliser (par défaut : celle livrée avec clausier).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clausier", message="%(prog)s %(version)s")
def main() -> None:
    """clausier : rédige les clauses sociales d'un marché public à partir d'un questionnaire."""


@main.command()
@click.argument("questionnaire", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text pour les personnes, json pour les programmes.")
@library_option
@friendly_errors
def plan(questionnaire: Path, fmt: str, library_dir: str | None) -> None:
    """Décide, lot par lot, des considérations sociales adaptées, avec leurs raisons."""
    from drafting.decisions import build_plan
    from drafting.plan_text import plan_json, plan_text
    from drafting.questionnaire import load_questionnaire

    library = _library(library_dir)
    loaded = load_questionnaire(questionnaire, library)
    result = build_plan(loaded.model, library)
    click.echo(plan_json(result) if fmt == "json" else plan_text(result), nl=False)


@main.command()
@click.argument("questionnaire", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              metavar="DOSSIER", help="Dossier de sortie ; le marché est écrit dans DOSSIER/<référence>/.")
@click.option("--premier-article", default=1, show_default=True, type=click.IntRange(1, 999),
              help="Numéro du premier article social, pour s'insérer dans le CCAP de l'acheteur.")
@library_option
@friendly_errors
def generate(questionnaire: Path, out_dir: Path, premier_article: int, library_dir: str | None) -> None:
    """Écrit les pièces Word, la grille de suivi Excel et le manifeste du marché."""
    from drafting.generate import render_market, write_market
    from drafting.questionnaire import load_questionnaire

    library = _library(library_dir)
    loaded = load_questionnaire(questionnaire, library)
    files, result = render_market(loaded, library, premier_article)
    target = write_market(out_dir, loaded.model.marche.reference, files)
    click.echo(f"Marché {result.reference} : {len(files)} fichiers écrits dans {target}")
    for name in sorted(files):
        click.echo(f"  {name}")
    warnings = [w for lot in result.lots for w in lot.avertissements] + result.avertissements
    if warnings:
        click.echo(f"{len(warnings)} avertissement(s) : voir « clausier plan {questionnaire} ».")


@main.command()
@library_option
@friendly_errors
def secteurs(library_dir: str | None) -> None:
    """Liste les secteurs de la bibliothèque, avec leurs valeurs par défaut."""
    from drafting import formatting as fr

    library = _library(library_dir)
    click.echo(f"Secteurs de la bibliothèque {library.version} :")
    for sector in library.sectors.values():
        hours = "heures d'insertion adaptées" if sector.adapte_heures else "heures peu adaptées"
        click.echo(f"  {sector.id:<28} {sector.libelle} — main-d'œuvre {fr.pourcent(sector.part_main_oeuvre)}, "
                   f"{fr.euros(sector.cout_horaire)}/h, {hours}".replace(fr.NBSP, " ").replace(fr.NNBSP, " "))


if __name__ == "__main__":
    main()
