"""``clausier library check``: what a facilitator must fix before a release.

Each rule answers a way a library goes wrong in practice: a Jinja typo, a
variable the engine does not provide, a legal reference nobody can trace, a
published text edited in place (which would silently change DCEs already
out), a clause without penalties or indicators (the guide requires both), an
attribute reach that the sandbox would refuse, French typography. Problems name
the file and the line, and say what to do.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Optional

import jinja2
from jinja2 import meta, nodes
from jinja2 import sandbox as jsandbox

from drafting.compose.pieces import BASE_VARIABLES, compose
from drafting.compose.render import make_environment
from drafting.decide.policy import build_plan
from drafting.decide.terms import TYPE_EXTRAS
from drafting.errors import ClausierError, LibraryError
from drafting.facilitators.check_references import check_citations, check_references, maintainer_markers
from drafting.facilitators.problems import AVERTISSEMENT, ERREUR, INFO, Problem, where
from drafting.facilitators.typography import check_typography, fix_typography_in
from drafting.intake.reader import load_questionnaire
from drafting.library import (
    CONSIDERATION_TYPES,
    LOCK_FILE,
    Fragment,
    Library,
    direct_includes,
    fragment_store_path,
    load_library,
    parse_fragment_bytes,
    pending_changes,
    release_versions,
    released_lock,
    version_key,
)
from drafting.monitoring.grid_format import GRID_STEM

UNSAFE_ATTRIBUTES = frozenset().union(
    jsandbox.UNSAFE_FUNCTION_ATTRIBUTES, jsandbox.UNSAFE_METHOD_ATTRIBUTES,
    jsandbox.UNSAFE_GENERATOR_ATTRIBUTES, jsandbox.UNSAFE_COROUTINE_ATTRIBUTES,
    jsandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES, {"mro", "format", "format_map"},
)

REQUIRED_HEADINGS = (("Pénalités", "pénalités"), ("Indicateurs", "indicateurs de suivi"))



def check_library(root: Path, fix_typography: bool = False) -> list[Problem]:
    """Every problem of a library folder, errors first; optionally fix typography in place."""
    root = Path(root)
    problems: list[Problem] = []
    if fix_typography:
        problems += fix_typography_in(root)
    try:
        library = load_library(root)
    except LibraryError as exc:
        return problems + [Problem(ERREUR, "chargement", str(root), exc.message)] + _unparsable(root)

    env = make_environment()
    for fragment in sorted(library.fragments.values(), key=lambda f: f.id):
        problems += _check_fragment(fragment, library, env, root)
    problems += _check_coverage(library)
    problems += _check_annex_names(library)
    problems += _check_releases(root)
    problems += _check_lock(library, root)
    problems += _check_rendering(library, root)
    problems += check_references(library)
    order = {ERREUR: 0, AVERTISSEMENT: 1, INFO: 2}
    return sorted(problems, key=lambda p: (order[p.severity], p.where, p.message))


def _unparsable(root: Path) -> list[Problem]:
    """When the library does not load, still point at each fragment that does not parse."""
    out = []
    for path in sorted((root / "fragments").glob("*/*.txt")):
        try:
            parse_fragment_bytes(path.read_bytes(), str(path), root)
        except LibraryError as exc:
            out.append(Problem(ERREUR, "metadonnees", str(path), exc.message))
    return out



def _check_fragment(fragment: Fragment, library: Library, env: jinja2.Environment, root: Path) -> list[Problem]:
    problems = _check_metadata(fragment, library)
    try:
        tree = env.parse(fragment.body)
    except jinja2.TemplateSyntaxError as exc:
        return problems + [Problem(ERREUR, "syntaxe", where(fragment, exc.lineno), f"syntaxe Jinja : {exc.message}")]
    try:
        meta.find_undeclared_variables(tree)
    except jinja2.TemplateSyntaxError as exc:  # unknown filter or test: found at compile time
        return problems + [Problem(ERREUR, "syntaxe", where(fragment, exc.lineno), f"Jinja : {exc.message}")]
    problems += _check_sandbox(fragment, tree)
    problems += _check_variables(fragment, tree, library, env)
    problems += check_typography(fragment)
    problems += check_citations(fragment)
    return problems


def _check_metadata(fragment: Fragment, library: Library) -> list[Problem]:
    out = []
    rel = Path(fragment.path)
    expected = f"{rel.parent.name}/{rel.stem}"
    if fragment.id != expected:
        out.append(Problem(ERREUR, "metadonnees", fragment.path,
                           f"identifiant « {fragment.id} » différent du chemin : écrivez « id: {expected} »"))
    if fragment.type != rel.parent.name:
        out.append(Problem(ERREUR, "metadonnees", fragment.path,
                           f"type « {fragment.type} » rangé dans le dossier « {rel.parent.name} »"))
    if fragment.piece == "annexe" and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}", fragment.fichier or "x"):
        out.append(Problem(ERREUR, "metadonnees", fragment.path,
                           f"« fichier: {fragment.fichier} » : lettres, chiffres, « _ » et « - » seulement "
                           "(il nomme le document produit)"))
    if not fragment.changelog.strip():
        out.append(Problem(ERREUR, "metadonnees", fragment.path, "ligne « changelog » vide : dites ce que cette version change"))
    for index, base in enumerate(fragment.bases_legales):
        if not isinstance(base, dict) or not base.get("reference"):
            out.append(Problem(ERREUR, "reference", fragment.path, f"bases_legales[{index}] : « reference » manquante"))
            continue
        if base["reference"] not in library.references:
            known = _nearest(str(base["reference"]), list(library.references))
            out.append(Problem(ERREUR, "reference", fragment.path,
                               f"référence juridique inconnue « {base['reference']} » : ajoutez-la à references.yaml "
                               f"avec sa source, ou corrigez-la{known}"))
            continue
        registered = library.references[base["reference"]].get("source")
        if "source" in base and str(base["source"]).strip() != str(registered).strip():
            out.append(Problem(ERREUR, "reference", fragment.path,
                               f"« {base['reference']} » : une référence, une adresse ; retirez « source » (le registre "
                               f"references.yaml donne « {registered} ») ou corrigez le registre"))
    if fragment.statut == "publie":
        out += [Problem(ERREUR, "marqueur", where(fragment, line), message)
                for line, message in maintainer_markers(fragment.body)]
    return out



def _nearest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=2, cutoff=0.6)
    return f" (voulez-vous dire {' ou '.join('« ' + c + ' »' for c in close)} ?)" if close else ""


def _check_sandbox(fragment: Fragment, tree: nodes.Template) -> list[Problem]:
    """What the sandbox would refuse at render time, refused here with its line."""
    out = []
    for filter_ in tree.find_all(nodes.Filter):
        if filter_.name == "attr":
            argument = filter_.args[0] if filter_.args else None
            if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
                if argument.value.startswith("_") or argument.value in UNSAFE_ATTRIBUTES:
                    out.append(Problem(ERREUR, "bac_a_sable", where(fragment, filter_.lineno),
                                       f"accès à « {argument.value} » interdit par le bac à sable"))
            else:
                out.append(Problem(ERREUR, "bac_a_sable", where(fragment, filter_.lineno),
                                   "filtre « attr » avec un nom calculé : écrivez l'attribut en clair (objet.nom)"))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        name = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        elif isinstance(node, nodes.Name):
            name = node.name if node.name.startswith("_") else None
        if name is not None and (name.startswith("_") or name in UNSAFE_ATTRIBUTES):
            out.append(Problem(ERREUR, "bac_a_sable", where(fragment, node.lineno),
                               f"accès à « {name} » interdit par le bac à sable : un fragment ne lit que les "
                               "variables de son contexte"))
    return out


def context_variables(type_: str) -> set[str]:

    extra = {TYPE_EXTRAS[type_][0]} if type_ in TYPE_EXTRAS else set()
    return set(BASE_VARIABLES) | extra


def _needed(fragment: Fragment, library: Library, env: jinja2.Environment, stack: tuple[str, ...] = ()) -> set[str]:
    """Variables a fragment reads, its includes' included (they render with its context)."""
    try:
        tree = env.parse(fragment.body)
        needed = set(meta.find_undeclared_variables(tree))
    except jinja2.TemplateSyntaxError:
        return set()
    for name in meta.find_referenced_templates(tree):
        if name in library.fragments and name not in stack:
            needed |= _needed(library.fragments[name], library, env, stack + (fragment.id,))
    return needed


def _check_variables(fragment: Fragment, tree: nodes.Template, library: Library, env: jinja2.Environment) -> list[Problem]:
    out = []
    for name in meta.find_referenced_templates(tree):
        if name is None:
            out.append(Problem(ERREUR, "inclusion", fragment.path,
                               "inclusion d'un nom calculé : écrivez le nom du fragment en clair, "
                               "par exemple {% include \"commun/publics\" %}"))
        elif name not in library.fragments:
            out.append(Problem(ERREUR, "inclusion", fragment.path,
                               f"fragment inclus « {name} » absent de la bibliothèque"))
        elif library.fragments[name].statut != "publie" and fragment.statut == "publie":
            out.append(Problem(ERREUR, "inclusion", fragment.path,
                               f"fragment publié qui inclut « {name} », qui n'est pas publié"))
    seen_by_engine = set(direct_includes(fragment.sha256, fragment.body))
    for node in tree.find_all((nodes.Import, nodes.FromImport)):
        out.append(Problem(ERREUR, "inclusion", where(fragment, node.lineno),
                           "« import » et « from … import » ne sont pas admis : incluez le fragment avec "
                           "{% include \"commun/…\" %}"))
    for name in meta.find_referenced_templates(tree):
        if isinstance(name, str) and name not in seen_by_engine:
            out.append(Problem(ERREUR, "inclusion", fragment.path,
                               f"inclusion de « {name} » sous une forme que le moteur ne suit pas : écrivez "
                               f"{{% include \"{name}\" %}}"))
    declared = set(fragment.variables)
    needed = _needed(fragment, library, env)
    for name in sorted(needed - declared):
        out.append(Problem(ERREUR, "variable", where(fragment, _first_use(tree, name)),
                           f"variable « {name} » utilisée mais non déclarée : ajoutez-la à « variables »"))
    for name in sorted(declared - needed):
        out.append(Problem(AVERTISSEMENT, "variable", fragment.path, f"variable « {name} » déclarée mais inutilisée"))
    if fragment.type != "commun":
        for name in sorted(declared - context_variables(fragment.type)):
            out.append(Problem(ERREUR, "variable", fragment.path,
                               f"variable « {name} » inconnue du moteur pour le type {fragment.type} "
                               f"(voir FORMAT.md, contexte fourni aux fragments)"))
    return out


def _first_use(tree: nodes.Template, name: str) -> Optional[int]:
    lines = [node.lineno for node in tree.find_all(nodes.Name) if node.name == name and node.ctx == "load"]
    return min(lines) if lines else None




def _type_text(library: Library, type_: str, piece: str) -> str:
    """The source text of a type's piece, includes inlined (for the coverage rules)."""
    texts = []
    for fragment in library.fragments_for(type_, piece):
        texts.append(fragment.body)
        for name in re.findall(r'\{%-?\s*include\s+"([^"]+)"', fragment.body):
            if name in library.fragments:
                texts.append(library.fragments[name].body)
    return "\n".join(texts)


RESERVED_FILE_STEMS = ("CCAP_clauses-sociales", "RC_clauses-sociales", "AE_annexe-engagements-sociaux",
                       "note-de-synthese", GRID_STEM, "CCAP")


def _check_annex_names(library: Library) -> list[Problem]:
    """Two documents with one name would overwrite each other in the market's folder."""
    out: list[Problem] = []
    seen: dict[str, str] = {}
    for fragment in sorted(library.fragments.values(), key=lambda f: f.id):
        if fragment.piece != "annexe" or fragment.statut != "publie":
            continue
        stem = fragment.fichier or fragment.id.replace("/", "_")
        if stem in RESERVED_FILE_STEMS or stem in seen:
            other = seen.get(stem, "une pièce de clausier")
            out.append(Problem(ERREUR, "metadonnees", fragment.path,
                               f"« fichier: {stem} » déjà utilisé par {other} : choisissez un autre nom"))
        seen[stem] = fragment.id
    return out


def _check_releases(root: Path) -> list[Problem]:
    """Every released copy still has the hash its lock recorded: last year's DCEs stay reproducible."""

    out = []
    for version in release_versions(root):
        try:
            load_library(root, version)
        except LibraryError as exc:
            out.append(Problem(ERREUR, "version", str(root / "versions" / f"{version}.lock"), exc.message))
    return out


def _check_coverage(library: Library) -> list[Problem]:
    """Each type has its CCAP, with penalties and indicators (the guide's rules 3 and 4)."""
    out = []
    where = str(library.root / "fragments")
    for type_ in CONSIDERATION_TYPES:
        ccap = _type_text(library, type_, "ccap")
        if not ccap:
            out.append(Problem(ERREUR, "couverture", where, f"le type {type_} n'a pas de fragment CCAP publié"))
            continue
        headings = [line for line in ccap.split("\n") if line.startswith("## ")]
        for word, what in REQUIRED_HEADINGS:
            if not any(word.lower() in h.lower() for h in headings):
                out.append(Problem(ERREUR, "couverture", where,
                                   f"le CCAP du type {type_} n'a pas de sous-article « {word} » ({what})"))
        for piece in ("rc", "ae"):
            if not library.fragments_for(type_, piece):
                out.append(Problem(AVERTISSEMENT, "couverture", where, f"le type {type_} n'a pas de fragment {piece.upper()}"))
    return out


def _check_lock(library: Library, root: Path) -> list[Problem]:
    """A published text never changes under the same version: that would alter DCEs already out."""

    lock = released_lock(root)
    if lock is None:
        return [Problem(AVERTISSEMENT, "version", str(root / LOCK_FILE),
                        "aucune version publiée : lancez « clausier library release »")]
    out = []
    for fragment in library.fragments.values():
        if fragment.statut != "publie":
            continue
        stored = root / fragment_store_path(fragment.id, fragment.version)
        locked = lock["fragments"].get(fragment.id)
        if stored.is_file() and hashlib.sha256(stored.read_bytes()).hexdigest() != fragment.sha256:
            bump = _bump(fragment.version)
            out.append(Problem(ERREUR, "version", fragment.path,
                               f"fragment publié modifié sans nouvelle version : la version {fragment.version} est déjà "
                               f"publiée avec un autre texte ; passez « version » à {bump} et décrivez le changement "
                               "dans « changelog »"))
        elif locked and version_key(fragment.version) < version_key(locked["version"]):
            out.append(Problem(ERREUR, "version", fragment.path,
                               f"version {fragment.version} antérieure à la version publiée {locked['version']}"))
    changes = pending_changes(library)
    if changes:
        out.append(Problem(INFO, "version", str(root / LOCK_FILE),
                           f"{len(changes)} modification(s) non publiée(s) depuis {lock.get('version')} "
                           "(détail : « clausier library list » ; publication : « clausier library release »)"))
    return out


def _bump(version: str) -> str:
    major, minor, _ = (int(p) for p in version.split("."))
    return f"{major}.{minor + 1}.0"


def essay_questionnaires(root: Path) -> list[Path]:
    return sorted((Path(root) / "essais").glob("*.yaml"))


def _check_rendering(library: Library, root: Path) -> list[Problem]:
    """Each type forced on each test questionnaire of the library: every fragment must render."""

    essays = essay_questionnaires(root)
    if not essays:
        return [Problem(AVERTISSEMENT, "rendu", str(root / "essais"),
                        "aucun questionnaire d'essai : les fragments ne sont pas rendus pendant la vérification")]
    out: dict[str, Problem] = {}
    for path in essays:
        try:
            base = load_questionnaire(path, library).model
        except ClausierError as exc:
            out[str(path)] = Problem(ERREUR, "rendu", str(path), f"questionnaire d'essai invalide : {exc.render()}")
            continue
        for type_ in CONSIDERATION_TYPES:
            q = force_type(base, type_)
            try:
                compose(build_plan(q, library), library)
            except ClausierError as exc:
                where, message = _render_location(exc, library)
                key = f"{where}|{message}"
                out.setdefault(key, Problem(ERREUR, "rendu", where, f"{message} (essai {path.name}, type {type_} imposé)"))
    return list(out.values())


def force_type(q, type_: str):
    """The questionnaire with ``type_`` imposed on every lot (what check and preview render)."""
    lots = [lot.model_copy(update={"considerations": lot.considerations.model_copy(update={type_: "oui"})})
            for lot in q.lots]
    return q.model_copy(update={"lots": lots})


def _render_location(exc: ClausierError, library: Library) -> tuple[str, str]:
    fragment = library.fragments.get(getattr(exc, "fragment_id", ""))
    line = getattr(exc, "line", None)
    if fragment is None:
        return str(library.root), exc.render()
    return (f"{fragment.path}:{line}" if line else fragment.path), getattr(exc, "detail", exc.render())



__all__ = ["Problem", "check_library", "force_type"]
