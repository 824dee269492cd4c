"""clausier's command line: a thin click layer over the engine's one API (``drafting.api``).

cli.py imports nothing of the engine but ``drafting.api`` (a test holds it to that); the web
face's own commands (``serve``, ``comptes``, ``db``, ``portefeuille``) are loaded by name from
``web.commandes`` when asked for. Every ClausierError becomes its French message on stderr and
its exit code, from the one table of ``drafting.errors`` (README, « Architecture », codes de
sortie); an unexpected bug gives a short message, and the traceback only with CLAUSIER_DEBUG=1.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Optional

import click

from drafting import api

# At exit the interpreter collects every object before freeing the modules: after a batch that is
# ≈ 50 ms of pure waste. Frozen, they are skipped (open files are closed by ``with`` everywhere).
atexit.register(gc.freeze)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except api.ClausierError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:  # output piped into head: not an error
            sys.stderr.close()
            sys.exit(api.EXIT_OK)
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("Interrompu : aucun fichier partiel n'a été laissé.", err=True)
            sys.exit(api.EXIT_INTERRUPTED)
        except Exception as exc:  # a bug: say so plainly, keep the details for developers
            if os.environ.get("CLAUSIER_DEBUG"):
                raise
            click.echo(f"Erreur interne de clausier ({type(exc).__name__} : {exc}). Relancez avec CLAUSIER_DEBUG=1 "
                       "et transmettez le message à l'équipe.", err=True)
            sys.exit(api.EXIT_BUG)
    return wrapper


def _library(path: Optional[str], version: Optional[str] = None) -> api.Library:
    return api.library(Path(path) if path else None, version)


library_option = click.option("--library", "library_dir", metavar="DOSSIER", envvar="CLAUSIER_LIBRARY",
                              help="Bibliothèque de clauses à utiliser (par défaut : celle livrée avec clausier).")
version_option = click.option("--library-version", "library_version", metavar="VERSION", default=None,
                              help="Version publiée de la bibliothèque à utiliser (par défaut : le dossier tel qu'il est), "
                                   "pour régénérer à l'identique un DCE déjà publié.")


# The web face's commands are its own (web/commandes.py, Django behind them). They are built only
# when one of them is asked for, or when the help lists them: every other command would otherwise
# pay for building them. A test holds this list to web_commands().
WEB_COMMANDS = ("comptes", "db", "portefeuille", "serve")


class ClausierGroup(click.Group):
    """The engine's commands, and the web face's ones loaded on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *WEB_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name in WEB_COMMANDS:
            commands = import_module("web.commandes").web_commands()
            return next((c for c in commands if c.name == name), None)
        return super().get_command(ctx, name)


@click.group(cls=ClausierGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(api.__version__, prog_name="clausier", message="%(prog)s %(version)s")
def main() -> None:
    """clausier : rédige les clauses sociales d'un marché public à partir d'un questionnaire."""


@main.command()
@click.argument("questionnaire", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text pour les personnes, json pour les programmes.")
@library_option
@version_option
@friendly_errors
def plan(questionnaire: Path, fmt: str, library_dir: Optional[str], library_version: Optional[str]) -> None:
    """Décide, lot par lot, des considérations sociales adaptées, avec leurs raisons."""
    library = _library(library_dir, library_version)
    result = api.plan(api.read_questionnaire(questionnaire, library), library)
    click.echo(api.plan_json_text(result) if fmt == "json" else api.plan_text(result), nl=False)


@main.command()
@click.argument("questionnaire", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              metavar="DOSSIER", help="Dossier de sortie ; le marché est écrit dans DOSSIER/<référence>/.")
@click.option("--premier-article", default=None, type=click.IntRange(1, 999),
              help="Numéro du premier article social (par défaut 1, ou avec --ccap-modele la suite des articles "
                   "qui précèdent « [[CLAUSES SOCIALES]] »).")
@click.option("--ccap-modele", "ccap_modele", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="CCAP.docx", help="CCAP de l'acheteur contenant un paragraphe « [[CLAUSES SOCIALES]] » : "
                                        "les articles sociaux y sont insérés (<référence>_CCAP.docx).")
@click.option("--pdf", is_flag=True, help="Écrit aussi une copie PDF de chaque pièce Word (LibreOffice requis).")
@library_option
@version_option
@friendly_errors
def generate(questionnaire: Path, out_dir: Path, premier_article: Optional[int], ccap_modele: Optional[Path], pdf: bool,
             library_dir: Optional[str], library_version: Optional[str]) -> None:
    """Écrit les pièces Word, la grille de suivi Excel et le manifeste du marché."""
    library = _library(library_dir, library_version)
    loaded = api.read_questionnaire(questionnaire, library)
    model = (str(ccap_modele), ccap_modele.read_bytes()) if ccap_modele else None
    rendered = api.render_market(loaded, library, api.Options(premier_article, model, pdf))
    target = api.write_market(out_dir, rendered)  # the previous version of the market is gone when it returns
    result = rendered.plan
    click.echo(f"Marché {result.reference} : {len(rendered.files)} fichiers écrits dans {target}")
    for name in sorted(rendered.files):
        click.echo(f"  {name}")
    if rendered.warnings:
        click.echo(f"{len(rendered.warnings)} avertissement(s) : voir « clausier plan {questionnaire} ».")
    if result.a_completer:
        click.echo(f"{len(result.a_completer)} zone(s) à compléter avant publication : voir la première page de "
                   f"{result.reference}_note-de-synthese.docx.")
    else:
        click.echo("Aucune zone à compléter avant publication.")
    pending = rendered.manifest["bibliotheque"].get("modifications_non_publiees")
    if pending:
        click.echo(f"Attention : la bibliothèque {library.version} comporte {len(pending)} modification(s) non publiée(s) ; "
                   "le manifeste les énumère. Publiez-la (« clausier library release ») avant de diffuser ce DCE.", err=True)


@main.command()
@library_option
@friendly_errors
def secteurs(library_dir: Optional[str]) -> None:
    """Liste les secteurs de la bibliothèque, avec leurs valeurs par défaut."""
    library = _library(library_dir)
    click.echo(f"Secteurs de la bibliothèque {library.version} :")
    for line in api.sector_lines(library):
        click.echo(f"  {line}")


@main.command()
@click.argument("dossier", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DOSSIER",
              help="Dossier de sortie ; chaque marché est écrit dans DOSSIER/<référence>/.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="Processus en parallèle.")
@click.option("--shard", "shard_text", default="1/1", show_default=True, metavar="K/N",
              help="Ne traiter que la K-ième des N parts du portefeuille (répartition stable entre machines).")
@click.option("--force", is_flag=True, help="Régénérer aussi les marchés inchangés.")
@click.option("--only-impacted", is_flag=True, help="Ne régénérer que les marchés touchés par une modification de la bibliothèque.")
@click.option("--since", "since", metavar="VERSION", default=None,
              help="Avec --only-impacted : les modifications depuis cette version publiée.")
@click.option("--premier-article", default=1, show_default=True, type=click.IntRange(1, 999))
@library_option
@version_option
@friendly_errors
def batch(dossier: Path, out_dir: Path, jobs: int, shard_text: str, force: bool, only_impacted: bool, since: Optional[str],
          premier_article: int, library_dir: Optional[str], library_version: Optional[str]) -> None:
    """Génère tous les questionnaires d'un dossier (yaml, yml, json, formulaire xlsx) ; les marchés inchangés sont
    laissés tels quels.

    Code de sortie 6 si des questionnaires sont en échec (les autres marchés sont écrits ; les échecs sont listés).
    """
    produced, unchanged, failed, ignored = api.batch_statuses()
    summary = api.run_batch(dossier, out_dir, jobs=jobs, shard=shard_text, force=force, only_impacted=only_impacted,
                            since=since, premier_article=premier_article, library_dir=library_dir,
                            library_version=library_version, report=_progress(failed))
    for outcome in summary.outcomes:
        if outcome.status in (failed, ignored):
            label = "échec" if outcome.status == failed else "ignoré"
            click.echo(f"{label} : {outcome.path}\n  " + outcome.message.replace("\n", "\n  "), err=True)
    seconds = f"{summary.seconds:.1f}".replace(".", ",")
    extra = f", {summary.count(ignored)} ignoré(s)" if summary.count(ignored) else ""
    extra += f", {summary.skipped} non touché(s) par la bibliothèque" if summary.skipped else ""
    click.echo(f"{len(summary.outcomes)} questionnaire(s) : {summary.count(produced)} produit(s), "
               f"{summary.count(unchanged)} inchangé(s), {summary.count(failed)} en échec{extra}, en {seconds} s")
    if summary.failed:
        sys.exit(api.EXIT_PARTIAL)


def _progress(failed: str) -> Callable[[Any, int, int], None]:
    """A progress line on a terminal, plain log lines otherwise (CI logs, cron mails)."""
    interactive = sys.stderr.isatty()

    def report(outcome: Any, done: int, count: int) -> None:
        name = outcome.reference or outcome.path.name
        if interactive:
            width = 30
            filled = int(width * done / max(count, 1))
            click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{count} {name[:40]:<40}", err=True, nl=done == count)
        else:
            seconds = f"{outcome.seconds:.2f} s".replace(".", ",")
            timing = f" ({seconds})" if outcome.status != failed and outcome.seconds else ""
            click.echo(f"[{done}/{count}] {name} : {outcome.status}{timing}", err=True)
    return report


@main.command()
@click.argument("programme", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="PROGRAMME.xlsx|.csv")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), metavar="REVUE.xlsx",
              help="Classeur de la revue : une recommandation par marché, synthèse, anomalies.")
@click.option("--modele", "modele", type=click.Path(dir_okay=False, path_type=Path), metavar="PROGRAMME.xlsx",
              help="Écrit le classeur vierge du programme (listes déroulantes, instructions) au lieu d'une revue.")
@click.option("--acheteur-type", "acheteur_type", type=click.Choice(["etat", "collectivite", "epci", "departement", "region",
                                                                     "etablissement_sante", "bailleur_social", "autre"]),
              default="collectivite", show_default=True, help="Type d'acheteur (seuils européens).")
@library_option
@friendly_errors
def revue(programme: Optional[Path], out_file: Optional[Path], modele: Optional[Path], acheteur_type: str,
          library_dir: Optional[str]) -> None:
    """Revue de marchés : les considérations sociales adaptées à chaque marché d'un programme d'achats.

    Code de sortie 0 si toutes les lignes ont été lues, 6 si des lignes ont été rejetées (la revue est écrite ;
    voir « Anomalies »), 2 si le fichier lui-même est illisible (aucun fichier écrit).
    """
    if modele is not None:
        if programme is not None or out_file is not None:
            raise api.InputError("--modele s'emploie seul : « clausier revue --modele programme.xlsx ».")
        if modele.exists():
            raise api.OutputError(f"{modele} existe déjà : choisissez un autre nom, un programme rempli ne doit pas être écrasé")
        api.write_file(modele, api.programme_template(_library(library_dir)), noun="classeur")
        click.echo(f"Modèle de programme écrit : {modele} (une ligne par marché ; voir la feuille « Instructions »).")
        return
    if programme is None or out_file is None:
        raise api.InputError("indiquez le programme et --out : « clausier revue programme.xlsx --out revue.xlsx » "
                             "(ou « clausier revue --modele programme.xlsx » pour le modèle vierge).")
    result, workbook, summary = api.review_programme(programme, _library(library_dir), acheteur_type)
    api.write_file(out_file, workbook, (programme,), noun="classeur")
    for anomalie in result.anomalies:
        click.echo(anomalie.render(), err=True)
    click.echo(summary + f"Revue écrite : {out_file}", nl=True)
    if not result.complete:
        click.echo(f"{len(result.anomalies)} anomalie(s) : voir la feuille « Anomalies » de {out_file}.", err=True)
        sys.exit(api.EXIT_PARTIAL)


@main.group()
def library() -> None:
    """Commandes des facilitateurs : tenir, vérifier et publier la bibliothèque de clauses."""


def _short(path: str) -> str:
    cwd = str(Path.cwd()) + os.sep
    return path[len(cwd):] if path.startswith(cwd) else path


def _root(library_dir: Optional[str]) -> Path:
    return api.engine().library_root(Path(library_dir) if library_dir else None)


@library.command("init")
@click.argument("dossier", type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def library_init(dossier: Path) -> None:
    """Crée dans DOSSIER une copie de la bibliothèque, versions publiées comprises."""
    api.library_init(dossier, Path(os.environ["CLAUSIER_LIBRARY"]) if os.environ.get("CLAUSIER_LIBRARY") else None)
    click.echo(f"Bibliothèque copiée dans {dossier}. Travaillez-y avec « --library {dossier} » "
               f"ou « export CLAUSIER_LIBRARY={dossier} ».")


@library.command("list")
@library_option
@version_option
@click.option("--versions", "show_versions", is_flag=True, help="Liste les versions publiées de la bibliothèque.")
@friendly_errors
def library_list(library_dir: Optional[str], library_version: Optional[str], show_versions: bool) -> None:
    """Liste les fragments (identifiant, version, statut, date d'effet)."""
    lib = _library(library_dir, library_version)
    if show_versions:
        for entry in lib.changelog:
            click.echo(f"{entry.get('version')}  {entry.get('date')}  {entry.get('resume', '')}")
        missing = set(api.release_versions(lib.root)) - {str(e.get("version")) for e in lib.changelog}
        for version in sorted(missing):
            click.echo(f"{version}  (publiée, sans entrée de changelog)")
        return
    changed = {c.name: c for c in api.pending_changes(lib)} if lib.release is None else {}
    click.echo(f"Bibliothèque {lib.version}" + (" (version publiée)" if lib.release else f" — {lib.root}"))
    for fragment in sorted(lib.fragments.values(), key=lambda f: (f.type != "commun", f.type, f.ordre, f.id)):
        mark = f"  [{changed[fragment.id].kind}]" if fragment.id in changed else ""
        click.echo(f"  {fragment.id:<34} {fragment.version:<8} {fragment.statut:<10} {fragment.date_effet}{mark}")


@library.command("show")
@click.argument("fragment_id", metavar="ID")
@click.option("--version", "fragment_version", metavar="V", default=None,
              help="Une version publiée du fragment (par défaut : celle du dossier de travail).")
@library_option
@friendly_errors
def library_show(fragment_id: str, fragment_version: Optional[str], library_dir: Optional[str]) -> None:
    """Affiche un fragment : métadonnées et texte."""
    label, text, versions = api.fragment_text(_library(library_dir).root, fragment_id, fragment_version)
    click.echo(f"# {label} — versions publiées : {', '.join(versions) or 'aucune'}")
    click.echo(text, nl=not text.endswith("\n"))


@library.command("check")
@library_option
@click.option("--corriger", is_flag=True, help="Corrige d'abord la typographie française des fragments.")
@friendly_errors
def library_check(library_dir: Optional[str], corriger: bool) -> None:
    """Vérifie la bibliothèque ; code de sortie 3 s'il reste une erreur (comme toute erreur de bibliothèque)."""
    problems, counts = api.check_library(_root(library_dir), fix_typography=corriger)
    for problem in problems:
        click.echo(_short(str(problem)))
    click.echo(f"{counts['erreur']} erreur(s), {counts['avertissement']} avertissement(s).")
    if counts["erreur"]:
        sys.exit(api.EXIT_LIBRARY)


@library.command("diff")
@click.argument("fragment_id", metavar="ID")
@click.argument("versions", nargs=-1, metavar="[V1 [V2]]")
@library_option
@friendly_errors
def library_diff(fragment_id: str, versions: tuple[str, ...], library_dir: Optional[str]) -> None:
    """Différences d'un fragment entre deux versions (par défaut : dernière publiée et dossier de travail)."""
    click.echo(api.fragment_diff(_library(library_dir).root, fragment_id, versions), nl=False)


@library.command("release")
@click.option("-m", "--message", required=True, help="Résumé de la version, pour le changelog.")
@click.option("--version", "new_version", metavar="AAAA.N.N", default=None,
              help="Numéro de la nouvelle version (par défaut : le suivant).")
@library_option
@friendly_errors
def library_release(message: str, new_version: Optional[str], library_dir: Optional[str]) -> None:
    """Publie une nouvelle version : verrou, copies immuables, changelog."""
    version, changes = api.release_library(_root(library_dir), message, new_version)
    click.echo(f"Version {version} publiée ({len(changes)} modification(s)) :")
    for change in changes:
        click.echo(f"  {change}")


@library.command("preview")
@click.argument("fragment_id", metavar="ID")
@click.argument("questionnaire", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DOSSIER")
@library_option
@friendly_errors
def library_preview(fragment_id: str, questionnaire: Path, out_dir: Path, library_dir: Optional[str]) -> None:
    """Rend un fragment dans un document Word, sur un questionnaire, pour relecture."""
    lib = _library(library_dir)
    name, data = api.preview_fragment(api.read_questionnaire(questionnaire, lib), lib, fragment_id)
    click.echo(f"Aperçu écrit : {api.write_preview(out_dir, name, data)}")


@library.command("impact")
@click.argument("out_dir", metavar="DOSSIER_SORTIE", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--since", metavar="VERSION", default=None,
              help="Modifications depuis cette version publiée (par défaut : depuis la génération de chaque marché).")
@library_option
@friendly_errors
def library_impact(out_dir: Path, since: Optional[str], library_dir: Optional[str]) -> None:
    """Liste les marchés générés touchés par une modification de la bibliothèque."""
    lib = _library(library_dir)
    found = api.impacted(out_dir, lib, since)
    origin = f"depuis la version {since}" if since else "depuis leur génération"
    if not found:
        click.echo(f"Aucun marché de {out_dir} n'est touché par les modifications de la bibliothèque {origin}.")
        return
    click.echo(f"{len(found)} marché(s) touché(s) {origin} (bibliothèque {lib.version}) :")
    for impact in found:
        details = [*impact.fragments, *(f"données {d}" for d in impact.donnees)]
        click.echo(f"  {impact.reference} : {', '.join(details)}")
    click.echo(f"Pour les régénérer : clausier batch QUESTIONNAIRES --out {out_dir} --only-impacted"
               + (f" --since {since}" if since else ""))


@main.group()
def questionnaire() -> None:
    """Écrire un questionnaire : en répondant aux questions, dans un classeur Excel, avec un schéma."""


@questionnaire.command("nouveau")
@click.argument("fichier", required=False, type=click.Path(dir_okay=False, path_type=Path))
@library_option
@friendly_errors
def questionnaire_nouveau(fichier: Optional[Path], library_dir: Optional[str]) -> None:
    """Pose les questions dans le terminal, montre le plan et écrit un questionnaire YAML commenté."""
    lib = _library(library_dir)
    if fichier is not None and not fichier.resolve().parent.is_dir():  # said before the questions, not after
        raise api.OutputError(f"le dossier {fichier.resolve().parent} n'existe pas : choisissez où écrire le questionnaire")
    data = api.interview(lib)
    text = api.questionnaire_yaml(data)
    loaded = api.read_questionnaire(text.encode("utf-8"), lib, str(fichier or "questionnaire.yaml"))
    click.echo("\n" + api.plan_text(api.engine().plan(loaded.model, lib)))
    target = fichier or Path(f"{loaded.model.marche.reference}.yaml")
    if target.exists() and not api.ask_yes_no(f"{target} existe déjà : le remplacer ?", False):
        click.echo("Rien n'a été écrit.")
        return
    api.write_file(target, text.encode("utf-8"), noun="questionnaire")
    click.echo(f"Questionnaire écrit : {target}. Suite : clausier generate {target} --out sortie")


@questionnaire.command("modele")
@click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
@library_option
@friendly_errors
def questionnaire_modele(fichier: Path, library_dir: Optional[str]) -> None:
    """Écrit le formulaire Excel à remplir (onglets « Marché » et « Lots », listes déroulantes)."""
    api.write_file(fichier, api.questionnaire_form(_library(library_dir)), noun="formulaire")
    click.echo(f"Formulaire écrit : {fichier}. Remplissez-le puis : clausier plan {fichier}")


@questionnaire.command("schema")
def questionnaire_schema() -> None:
    """Affiche le schéma JSON du questionnaire (pour l'éditeur : complétion et contrôle des clés)."""
    click.echo(api.questionnaire_schema_text(), nl=False)


@main.group()
def suivi() -> None:
    """Commandes des facilitateurs : lire les grilles de suivi remplies par les titulaires."""


@suivi.command("consolider")
@click.argument("grilles", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="GRILLE.xlsx…")
@click.option("--out", "out_file", type=click.Path(path_type=Path), metavar="RAPPORT.xlsx",
              help="Écrit aussi le rapport dans un classeur Excel (consolidation, indicateurs, problèmes).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text pour les personnes, json pour les programmes.")
@click.option("--marches", "marches", type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="DOSSIER",
              help="Dossier où « clausier generate » ou « batch » a écrit les marchés : les engagements et pénalités "
                   "sont pris dans la grille générée (empreinte vérifiée avec le manifeste), et toute différence avec "
                   "la grille renvoyée est signalée.")
@friendly_errors
def suivi_consolider(grilles: tuple[Path, ...], out_file: Optional[Path], fmt: str, marches: Optional[Path]) -> None:
    """Consolide des grilles remplies : engagements, réalisations, écarts, pénalités et indicateurs.

    Une seule grille par marché est comptée (celle qui a le plus de lignes saisies) ; les autres sont écartées.
    Code de sortie 0 si toutes les grilles ont été lues (les problèmes de saisie sont des avertissements),
    6 si une grille n'a pas pu être lue (les autres sont quand même consolidées, le rapport est écrit).
    """
    result = api.consolidate(grilles, marches)
    if out_file is not None:
        api.write_file(out_file, api.consolidation_workbook(result), grilles, noun="rapport")
    click.echo(api.consolidation_json(result) if fmt == "json" else api.consolidation_text(result), nl=False)
    if out_file is not None and fmt == "text":
        click.echo(f"Rapport écrit : {out_file}")
    if result.failures:
        if fmt == "text":
            click.echo(f"{len(result.failures)} grille(s) n'ont pas pu être lues : voir « Fichiers non lus ».", err=True)
        sys.exit(api.EXIT_PARTIAL)


if __name__ == "__main__":
    main()
