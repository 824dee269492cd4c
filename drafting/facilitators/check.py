"""``clausier library check``: what a facilitator must fix before a release.

Each rule answers a way a library goes wrong in practice: a Jinja typo, a
variable the engine does not provide, a legal reference nobody can trace, a
published text edited in place (which would silently change DCEs already
out), a clause without penalties or indicators (the guide requires both), an
attribute reach that the sandbox would refuse, French typography. Problems name
the file and the line, and say what to do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import jinja2
from jinja2 import meta, nodes
from jinja2 import sandbox as jsandbox

from drafting.errors import ClausierError, LibraryError
from drafting.common.formatting import NBSP, NNBSP
from drafting.library.core import (
    CONSIDERATION_TYPES, LOCK_FILE, Fragment, Library, direct_includes, fragment_store_path, load_library,
    parse_fragment_bytes,
)

ERREUR, AVERTISSEMENT, INFO = "erreur", "avertissement", "info"
UNSAFE_ATTRIBUTES = frozenset().union(
    jsandbox.UNSAFE_FUNCTION_ATTRIBUTES, jsandbox.UNSAFE_METHOD_ATTRIBUTES,
    jsandbox.UNSAFE_GENERATOR_ATTRIBUTES, jsandbox.UNSAFE_COROUTINE_ATTRIBUTES,
    jsandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES, {"mro", "format", "format_map"},
)
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
CITATION = re.compile(r"\b([LRD])\.?[ \u00a0\u202f]?(\d{3,4}(?:-\d+)+)\b")
REQUIRED_HEADINGS = (("Pénalités", "pénalités"), ("Indicateurs", "indicateurs de suivi"))


@dataclass(frozen=True)
class Problem:
    severity: str
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} : {self.severity} [{self.code}] {self.message}"


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
    from drafting.compose.render import make_environment

    env = make_environment()
    for fragment in sorted(library.fragments.values(), key=lambda f: f.id):
        problems += _check_fragment(fragment, library, env, root)
    problems += _check_coverage(library)
    problems += _check_annex_names(library)
    problems += _check_releases(root)
    problems += _check_lock(library, root)
    problems += _check_rendering(library, root)
    problems += _check_references(library)
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


def _where(fragment: Fragment, body_line: Optional[int] = None) -> str:
    if body_line is None:
        return fragment.path
    return f"{fragment.path}:{fragment.body_first_line + body_line - 1}"


def _check_fragment(fragment: Fragment, library: Library, env: jinja2.Environment, root: Path) -> list[Problem]:
    problems = _check_metadata(fragment, library)
    try:
        tree = env.parse(fragment.body)
    except jinja2.TemplateSyntaxError as exc:
        return problems + [Problem(ERREUR, "syntaxe", _where(fragment, exc.lineno), f"syntaxe Jinja : {exc.message}")]
    try:
        meta.find_undeclared_variables(tree)
    except jinja2.TemplateSyntaxError as exc:  # unknown filter or test: found at compile time
        return problems + [Problem(ERREUR, "syntaxe", _where(fragment, exc.lineno), f"Jinja : {exc.message}")]
    problems += _check_sandbox(fragment, tree)
    problems += _check_variables(fragment, tree, library, env)
    problems += _check_typography(fragment)
    problems += _check_citations(fragment)
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
        out += [Problem(ERREUR, "marqueur", _where(fragment, line), message)
                for line, message in maintainer_markers(fragment.body)]
    return out


# Notes meant for the library's maintainers, which must never reach a buyer's document.
MARKER = re.compile(
    r"\[\s*verify|\bverify\b|\bTODO\b|\bFIXME\b|\bXXX\b"
    r"|[\[(]\s*(?:point\s+)?à\s+(?:vérifier|confirmer)"          # « [à vérifier] », « (à confirmer : …) »
    r"|\bà\s+(?:vérifier|confirmer)\s*(?:[\]):.;]|$)"             # « … à vérifier. », « à confirmer : »
    r"|^\W*à\s+(?:vérifier|confirmer)\b",                          # a line that starts with it
    re.IGNORECASE)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def maintainer_markers(text: str) -> list[tuple[int, str]]:
    """(line, message) for each maintainer's marker in text that is printed (Jinja comments aside)."""
    text = JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return [(number, f"note de mainteneur « {match.group(0)} » dans un texte imprimé : elle atteindrait la pièce "
                     "de l'acheteur ; réglez le point ou mettez la note en commentaire d'en-tête")
            for number, line in enumerate(text.splitlines(), start=1) for match in MARKER.finditer(line)]


def _nearest(word: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, known, n=2, cutoff=0.6)
    return f" (voulez-vous dire {' ou '.join('« ' + c + ' »' for c in close)} ?)" if close else ""


def _check_sandbox(fragment: Fragment, tree: nodes.Template) -> list[Problem]:
    """What the sandbox would refuse at render time, refused here with its line."""
    out = []
    for node in tree.find_all(nodes.Filter):
        if node.name == "attr":
            argument = node.args[0] if node.args else None
            if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
                if argument.value.startswith("_") or argument.value in UNSAFE_ATTRIBUTES:
                    out.append(Problem(ERREUR, "bac_a_sable", _where(fragment, node.lineno),
                                       f"accès à « {argument.value} » interdit par le bac à sable"))
            else:
                out.append(Problem(ERREUR, "bac_a_sable", _where(fragment, node.lineno),
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
            out.append(Problem(ERREUR, "bac_a_sable", _where(fragment, node.lineno),
                               f"accès à « {name} » interdit par le bac à sable : un fragment ne lit que les "
                               "variables de son contexte"))
    return out


def context_variables(type_: str) -> set[str]:
    from drafting.compose.pieces import BASE_VARIABLES, TYPE_EXTRAS

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
        out.append(Problem(ERREUR, "inclusion", _where(fragment, node.lineno),
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
        out.append(Problem(ERREUR, "variable", _where(fragment, _first_use(tree, name)),
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


def _text_segments(line: str) -> list[tuple[int, str]]:
    """(column, text) of the parts of a line outside Jinja tags."""
    out, start = [], 0
    for match in JINJA_TAG.finditer(line):
        out.append((start, line[start:match.start()]))
        start = match.end()
    out.append((start, line[start:]))
    return out


def typography_issues(line: str) -> list[str]:
    """French typography faults of one line of fragment text (Jinja tags left out)."""
    if re.fullmatch(r"\s*\|?[\s|:-]*", line) or "://" in line:
        return []
    faults = []
    for _, text in _text_segments(line):
        for match in re.finditer(r"(.?)([;?!]|:(?=\s|$))", text):
            before, mark = match.group(1), match.group(2)
            if before in (NBSP, NNBSP) or (before == "" and match.start() == 0 and mark == ":"):
                continue
            if before in ("?", "!", ";", ":", "(", "[") or (mark == ":" and before.isdigit()):
                continue
            kind = "espace ordinaire" if before == " " else "espace manquante"
            wanted = "espace insécable" if mark == ":" else "espace fine insécable"
            faults.append(f"{kind} avant « {mark} » : mettez une {wanted}")
        for match in re.finditer(r"«(.?)", text):
            if match.group(1) not in (NBSP, NNBSP):
                faults.append("après « « », mettez une espace insécable")
        for match in re.finditer(r"(.?)»", text):
            if match.group(1) not in (NBSP, NNBSP):
                faults.append("avant « » », mettez une espace insécable")
    return faults


def _check_typography(fragment: Fragment) -> list[Problem]:
    out = []
    lines = fragment.body.split("\n")
    for number, line in enumerate(lines, start=1):
        following = lines[number:number + 2]
        if (line.rstrip().endswith("%}") and "".join(t for _, t in _text_segments(line)).strip()
                and len(following) == 2 and not following[0].strip() and following[1].strip()):
            out.append(Problem(AVERTISSEMENT, "balisage", _where(fragment, number),
                               "la fin de ligne qui suit « %} » est supprimée au rendu : ce paragraphe se joint au "
                               "suivant ; ajoutez une seconde ligne vide après lui"))
        for fault in dict.fromkeys(typography_issues(line)):
            out.append(Problem(ERREUR, "typographie", _where(fragment, number),
                               f"{fault} (« clausier library check --corriger » le fait pour vous)"))
    return out


def fix_typography_line(line: str) -> str:
    if re.fullmatch(r"\s*\|?[\s|:-]*", line) or "://" in line:
        return line
    parts, start = [], 0
    for match in JINJA_TAG.finditer(line):
        parts.append(_fix_text(line[start:match.start()]))
        parts.append(match.group(0))
        start = match.end()
    parts.append(_fix_text(line[start:]))
    return "".join(parts)


def _fix_text(text: str) -> str:
    text = re.sub(r"(?<=[^\s\u00a0\u202f?!;:(\[]) ?([;?!])", NNBSP + r"\1", text)
    text = re.sub(r" ([;?!])", NNBSP + r"\1", text)
    text = re.sub(r"(?<=[^\s\u00a0\u202f\d?!;:(\[]) ?:(?=\s|$)", NBSP + ":", text)
    text = re.sub(r" :(?=\s|$)", NBSP + ":", text)
    text = re.sub(r"« ?(?![\u00a0\u202f])", "«" + NBSP, text)
    text = re.sub(r"(?<![\u00a0\u202f]) ?»", NBSP + "»", text)
    return text


def fix_typography_in(root: Path) -> list[Problem]:
    """Rewrite fragment bodies with French spaces; the front matter is left as written."""
    out = []
    for path in sorted((Path(root) / "fragments").glob("*/*.txt")):
        try:  # bytes, not text mode: the file keeps its own line endings and hash when nothing changes
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # reported by the check itself
        end = text.find("\n---\n", 4)
        if not text.startswith("---\n") or end < 0:
            continue
        head, body = text[:end + 5], text[end + 5:]
        fixed = "\n".join(fix_typography_line(line) for line in body.split("\n"))
        if fixed != body:
            path.write_bytes((head + fixed).encode("utf-8"))
            count = sum(1 for a, b in zip(body.split("\n"), fixed.split("\n")) if a != b)
            out.append(Problem(INFO, "typographie", str(path), f"typographie corrigée sur {count} ligne(s)"))
    return out


def _declared_articles(fragment: Fragment) -> set[str]:
    found = set()
    for base in fragment.bases_legales:
        if isinstance(base, dict):
            found |= {f"{m.group(1)}{m.group(2)}" for m in CITATION.finditer(str(base.get("reference", "")))}
            found |= {m.group(0) for m in re.finditer(r"\b[LRD]\d{3,4}(?:-\d+)+\b", str(base.get("reference", "")))}
    return found


def _check_citations(fragment: Fragment) -> list[Problem]:
    """An article cited in the text must be among the fragment's declared legal bases."""
    declared = _declared_articles(fragment)
    out = []
    for number, line in enumerate(fragment.body.split("\n"), start=1):
        for _, text in _text_segments(line):
            for match in CITATION.finditer(text):
                article = f"{match.group(1)}{match.group(2)}"
                if article not in declared:
                    out.append(Problem(ERREUR, "reference", _where(fragment, number),
                                       f"article {match.group(0)} cité sans être déclaré dans « bases_legales »"))
    return out


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
                       "note-de-synthese", "grille-de-suivi", "CCAP")


def _check_annex_names(library: Library) -> list[Problem]:
    """Two documents with one name would overwrite each other in the market's folder."""
    out, seen = [], {}
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
    from drafting.facilitators.release import release_versions

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
    from drafting.facilitators.release import pending_changes, released_lock, version_key

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
    from drafting.compose.pieces import compose
    from drafting.decide.policy import build_plan
    from drafting.intake.reader import load_questionnaire

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
                compose(q, build_plan(q, library), library)
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


def _check_references(library: Library) -> list[Problem]:
    """The registry, the types, the parameters and the CCAG table: every string a piece or the note may print."""
    out = []
    where = str(library.root / "references.yaml")
    for key, entry in library.references.items():
        if not isinstance(entry, dict) or not entry.get("libelle") or not entry.get("source"):
            out.append(Problem(ERREUR, "reference", where, f"référence « {key} » : « libelle » et « source » sont obligatoires"))
            continue
        if not isinstance(entry["source"], str):
            out.append(Problem(ERREUR, "reference", where, f"référence « {key} » : une seule adresse par référence"))
        if not entry.get("verifie_le"):
            out.append(Problem(INFO, "reference", where, f"référence « {key} » citée sans contrôle de sa rédaction en "
                                                         "vigueur (« verifie_le » absent) : à relire sur Légifrance"))
        out += _markers_in(where, f"références.{key}", entry)
    out += _markers_in(str(library.root / "types.yaml"), "types", library.types)
    out += _markers_in(str(library.root / "secteurs.yaml"), "secteurs",
                       {sid: vars(sector) for sid, sector in library.sectors.items()})
    out += _markers_in(str(library.root / "publics.yaml"), "publics", [*library.publics, *library.modalites])
    out += _markers_in(str(library.root / "actions.yaml"), "actions", library.actions)
    out += _check_type_bases(library)
    for name, parameter in library.parameters.items():
        where = str(library.root / "parametres.yaml")
        out += _markers_in(where, name, {"description": parameter.description, "source": parameter.source,
                                         "valeurs": [v for _, v in parameter.values]})
        if parameter.nature and parameter.nature not in PARAMETER_NATURES:
            out.append(Problem(ERREUR, "parametre", where, f"« {name} » : nature « {parameter.nature} » inconnue "
                                                           f"({', '.join(PARAMETER_NATURES)})"))
        elif not parameter.nature:
            out.append(Problem(AVERTISSEMENT, "parametre", where, f"« {name} » : dites sa nature ({', '.join(PARAMETER_NATURES)}), "
                                                                  "pour qu'une convention ne passe pas pour du droit"))
        if parameter.nature == "loi" and not parameter.verifie_le:
            out.append(Problem(ERREUR, "parametre", where, f"« {name} » : fait juridique sans date de contrôle "
                                                           "(« verifie_le ») : relisez-le sur sa source"))
    out += _check_ccag(library)
    return out


PARAMETER_NATURES = ("loi", "convention", "pratique", "politique")


def _markers_in(where: str, label: str, value: object) -> list[Problem]:
    """Markers anywhere in a data structure whose strings can be printed."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _markers_in(where, f"{label}.{k}", v)]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _markers_in(where, f"{label}[{i}]", v)]
    if isinstance(value, str):
        return [Problem(ERREUR, "marqueur", where, f"{label} : {message}") for _, message in maintainer_markers(value)]
    return []


def _check_type_bases(library: Library) -> list[Problem]:
    """The note cites the types' legal bases from the registry: each must be one of its keys."""
    out = []
    where = str(library.root / "types.yaml")
    bases = [(t, b) for t, spec in library.types.items() for b in spec.get("bases_legales", [])]
    bases += [("condition_sociale_obligatoire", b) for b in library.condition_sociale_bases]
    for type_, base in bases:
        key = base if isinstance(base, str) else base.get("reference") if isinstance(base, dict) else None
        if key not in library.references:
            out.append(Problem(ERREUR, "reference", where, f"{type_} : base légale « {key} » absente du registre "
                                                           "references.yaml (citez-la par sa clé)"))
    return out


def _check_ccag(library: Library) -> list[Problem]:
    """Numbers the library could not read in the CCAG itself: said to the facilitators, never hidden."""
    out = []
    where = str(library.root / "ccag.yaml")
    for code, spec in library.ccag.items():
        out += _markers_in(where, f"ccag.{code}", spec)
        for key, article in spec["articles"].items():
            if article["etat"] in ("deduit", "inconnu"):
                what = "déduit de la structure des CCAG" if article["etat"] == "deduit" else "inconnu : les pièces citent l'objet de l'article, sans numéro"
                out.append(Problem(AVERTISSEMENT, "ccag", where, f"{spec['abrege']}, {key} : numéro {what} ; à confirmer "
                                                                 "sur le texte consolidé de l'arrêté du 30 mars 2021"))
    out += _markers_in(where, "objets", library.ccag_objets)
    return out


def summary(problems: Iterable[Problem]) -> dict[str, int]:
    counts = {ERREUR: 0, AVERTISSEMENT: 0, INFO: 0}
    for problem in problems:
        counts[problem.severity] += 1
    return counts


__all__ = ["Problem", "check_library", "force_type", "summary", "typography_issues", "fix_typography_line"]
