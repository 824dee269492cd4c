"""The clause library as data: release version, dated parameters, sectors, fragments.

The library is data that facilitators maintain, so nothing here encodes a legal
figure: this module only reads, checks the shape, and resolves dated values
(openfisca-style: a value holds from its date until the next one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from drafting.errors import LibraryError

LIBRARY_ENV = "CLAUSIER_LIBRARY"
CONSIDERATION_TYPES: tuple[str, ...] = (
    "insertion",
    "action_sociale",
    "marche_reserve",
    "insertion_qualification",
    "illettrisme",
    "egalite_diversite",
    "plan_de_progres",
)
PIECES = ("ccap", "rc", "ae", "note", "annexe")
# The award criterion on insertion performance is drafted, in the RC, when the buyer asks for it; the
# manifest records it beside the retained types so that impact and batch see the fragment it uses.
CRITERION_TYPE, CRITERION_FRAGMENT = "critere_insertion", "commun/critere_insertion"
STATUTS = ("brouillon", "publie", "retire")

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
RELEASE = re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,4}")
FRAGMENT_ID = re.compile(r"[a-z][a-z0-9_]*/[a-z][a-z0-9_]*")  # « <type>/<pièce> »: it names files under versions/

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Parameter:
    """A dated legal or conventional figure, with where it comes from."""

    name: str
    description: str
    unit: str
    values: tuple[tuple[dt.date, Any], ...]
    source: str
    nature: str = ""  # loi | convention | pratique | politique (see parametres.yaml)
    verifie_le: Optional[dt.date] = None  # for legal facts: when the library checked them against their source

    def at(self, when: dt.date) -> Any:
        """Value in force at ``when``: the last one whose date is not after it."""
        current = None
        for start, value in self.values:
            if start <= when:
                current = value
        if current is None:
            first = self.values[0][0].isoformat()
            raise LibraryError(
                f"paramètre « {self.name} » : aucune valeur en vigueur au {when.isoformat()} "
                f"(première valeur au {first})"
            )
        return current


@dataclass(frozen=True)
class Sector:
    """One row of the sector table: what the guide's suitability rules look at."""

    id: str
    libelle: str
    nature: str
    main_oeuvre_sur_site: bool
    adapte_heures: bool
    offre_inclusive: str
    metiers_peu_qualifies: bool
    metiers_genres: bool
    part_main_oeuvre: float
    cout_horaire: float
    source: str


@dataclass(frozen=True)
class Fragment:
    """A clause fragment: metadata plus the Jinja body, hashed as stored on disk."""

    id: str
    type: str
    piece: str
    ordre: int
    version: str
    statut: str
    date_effet: dt.date
    bases_legales: tuple[dict[str, str], ...]
    variables: tuple[str, ...]
    changelog: str
    body: str
    body_first_line: int
    sha256: str
    path: str
    titre: str = ""  # annexes: the document's title
    fichier: str = ""  # annexes: file name stem, after the market reference
    pour_types: tuple[str, ...] = ()  # annexes: written when one of these types is retained


@dataclass(frozen=True)
class Library:
    """A loaded library release; immutable so it can be cached and shared."""

    root: Path
    version: str
    date: dt.date
    parameters: dict[str, Parameter]
    sectors: dict[str, Sector]
    publics: tuple[str, ...]
    modalites: tuple[str, ...]
    fragments: dict[str, Fragment] = field(default_factory=dict)
    types: dict[str, dict[str, Any]] = field(default_factory=dict)
    condition_sociale_bases: tuple[Any, ...] = ()  # registry keys (older releases: {reference, source} mappings)
    critere_bases: tuple[Any, ...] = ()
    rappels: tuple[dict[str, Any], ...] = ()  # reminders of the note outside social clauses, each with its date
    references: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    release: Optional[str] = None  # the release version asked for, None for the working folder
    data_hashes: dict[str, str] = field(default_factory=dict)
    changelog: tuple[dict[str, Any], ...] = ()
    ccag: dict[str, dict[str, Any]] = field(default_factory=dict)  # ccag.yaml: per CCAG, its articles
    ccag_objets: dict[str, str] = field(default_factory=dict)  # what each article key is about

    @property
    def earliest_date(self) -> dt.date:
        """First date at which every parameter has a value."""
        return max(p.values[0][0] for p in self.parameters.values())

    def param(self, name: str, when: dt.date) -> Any:
        try:
            return self.parameters[name].at(when)
        except KeyError:
            where = f"de la version publiée {self.release}" if self.release else f"de {self.root / 'parametres.yaml'}"
            raise LibraryError(f"paramètre « {name} » absent {where}") from None

    def fragment(self, fragment_id: str) -> Fragment:
        try:
            return self.fragments[fragment_id]
        except KeyError:
            raise LibraryError(f"fragment « {fragment_id} » absent de la bibliothèque {self.root}") from None

    def fragments_for(self, type_: str, piece: str) -> list[Fragment]:
        """Published fragments of one type for one piece, in their declared order."""
        found = [
            f for f in self.fragments.values()
            if f.type == type_ and f.piece == piece and f.statut == "publie"
        ]
        return sorted(found, key=lambda f: (f.ordre, f.id))

    def annexes_for(self, types: Iterable[str]) -> list[Fragment]:
        """Published annex sheets for a market with these retained types (none listed: every market)."""
        retained = set(types)
        found = [f for f in self.fragments.values()
                 if f.piece == "annexe" and f.statut == "publie" and (not f.pour_types or retained & set(f.pour_types))]
        return sorted(found, key=lambda f: (f.ordre, f.id))


def default_root() -> Path:
    """The library to use: $CLAUSIER_LIBRARY when set, else the bundled package data."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env)
    return Path(str(resources.files("clause_library")))


DATA_FILES = ("bibliotheque.yaml", "parametres.yaml", "secteurs.yaml", "publics.yaml", "types.yaml",
              "references.yaml", "actions.yaml", "ccag.yaml")
LOCK_FILE = "bibliotheque.lock"
VERSIONS_DIR = "versions"


class Source:
    """Where a library's files come from: the working folder, or a released version.

    A release is rebuilt from the immutable copies kept under ``versions/`` and
    checked against the hashes of its lock, so a DCE of last year is regenerated
    from exactly the text it was first generated from.
    """

    def __init__(self, root: Path, release: Optional[str] = None):
        self.root = root
        self.release = release
        self.lock = read_lock(root / VERSIONS_DIR / f"{release}.lock") if release else None

    def data(self, name: str) -> Optional[bytes]:
        if self.lock is None:
            path = self.root / name
            return path.read_bytes() if path.is_file() else None
        digest = self.lock["donnees"].get(name)
        if digest is None:
            return None
        return self._verified(data_store_path(self.root, name, digest), digest)

    def fragment_files(self) -> list[tuple[str, bytes]]:
        """(path relative to the root, bytes) of every fragment of this source."""
        if self.lock is None:
            folder = self.root / "fragments"
            return [(str(p.relative_to(self.root)), p.read_bytes()) for p in sorted(folder.glob("*/*.txt"))]
        out = []
        for fragment_id, entry in sorted(self.lock["fragments"].items()):
            rel = fragment_store_path(fragment_id, entry["version"])
            out.append((rel, self._verified(self.root / rel, entry["sha256"])))
        return out

    def _verified(self, path: Path, digest: str) -> bytes:
        try:
            raw = path.read_bytes()
        except OSError:
            raise LibraryError(f"version {self.release} de la bibliothèque incomplète : {path} manquant") from None
        if hashlib.sha256(raw).hexdigest() != digest:
            raise LibraryError(f"version {self.release} de la bibliothèque altérée : {path} ne correspond plus à "
                               f"l'empreinte de {VERSIONS_DIR}/{self.release}.lock")
        return raw


def fragment_store_path(fragment_id: str, version: str) -> str:
    return f"{VERSIONS_DIR}/fragments/{fragment_id}/{version}.txt"


def data_store_path(root: Path, name: str, digest: str) -> Path:
    stem, _, ext = name.rpartition(".")
    return root / VERSIONS_DIR / "donnees" / f"{stem}-{digest[:16]}.{ext}"


def read_lock(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise LibraryError(f"version inconnue : {path} absent (voir « clausier library list --versions »)")
    data = _read_yaml(path)
    fragments, donnees = data.get("fragments"), data.get("donnees")
    if (not isinstance(fragments, dict) or not isinstance(donnees, dict)
            or not all(isinstance(e, dict) and isinstance(e.get("version"), str) and isinstance(e.get("sha256"), str)
                       and SEMVER.fullmatch(e["version"]) and FRAGMENT_ID.fullmatch(str(fid))
                       for fid, e in fragments.items())
            or not all(isinstance(d, str) and name in DATA_FILES for name, d in donnees.items())):
        raise LibraryError(f"{path} : fichier de verrou mal formé ; il est écrit par « clausier library release » "
                           "et ne se modifie pas à la main")
    return data


def load_library(root: Path | None = None, version: Optional[str] = None) -> Library:
    """The working library, or with ``version`` one of its releases, byte for byte."""
    if version is not None and not RELEASE.fullmatch(version):
        raise LibraryError(f"version « {version} » invalide : une version publiée s'écrit par exemple 2026.2.0")
    resolved = Path(root or default_root()).resolve()
    if not (resolved / "bibliotheque.yaml").is_file():
        raise LibraryError(f"{resolved} n'est pas une bibliothèque de clauses (bibliotheque.yaml absent) ; "
                           "créez-en une avec « clausier library init DOSSIER »")
    return _load_cached(str(resolved), version, _signature(resolved) if version is None else "")


def _signature(root: Path) -> str:
    """A digest of the working files' contents: an edited library is reloaded, an unchanged one is not.

    Contents rather than modification times, which copies and restored backups preserve.
    """
    digest = hashlib.sha256()
    for path in [*(root / n for n in DATA_FILES), *sorted((root / "fragments").glob("*/*.txt"))]:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        digest.update(f"{path.relative_to(root)}\0{len(raw)}\0".encode())
        digest.update(raw)
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _load_cached(root_str: str, version: Optional[str], _signature: str) -> Library:
    root = Path(root_str)
    source = Source(root, version)
    release = _yaml_bytes(source.data("bibliotheque.yaml"), "bibliotheque.yaml")
    publics = _yaml_bytes(source.data("publics.yaml"), "publics.yaml")
    types = _yaml_bytes(source.data("types.yaml"), "types.yaml")
    references = _yaml_bytes(source.data("references.yaml"), "references.yaml", optional=True)
    actions = _yaml_bytes(source.data("actions.yaml"), "actions.yaml", optional=True)
    ccag = _yaml_bytes(source.data("ccag.yaml"), "ccag.yaml", optional=True)  # absent before release 2026.4.0
    data_hashes = {name: hashlib.sha256(raw).hexdigest() for name in DATA_FILES
                   if (raw := source.data(name)) is not None}
    return Library(
        root=root,
        version=str(_require(release, "version", "bibliotheque.yaml")),
        date=_as_date(_require(release, "date", "bibliotheque.yaml"), "date"),
        parameters=_load_parameters(_yaml_bytes(source.data("parametres.yaml"), "parametres.yaml")),
        sectors=_load_sectors(_yaml_bytes(source.data("secteurs.yaml"), "secteurs.yaml")),
        publics=_labels(publics, "publics", "publics.yaml"),
        modalites=_labels(publics, "modalites", "publics.yaml"),
        fragments=_load_fragments(source.fragment_files(), root),
        types=_mapping_of_mappings(types, "types", "types.yaml"),
        condition_sociale_bases=_bases(types, "condition_sociale_obligatoire"),
        critere_bases=_bases(types, "critere_insertion"),
        rappels=tuple(_list_of_mappings(types, "rappels", "types.yaml", required=("date_effet", "texte"))),
        references=_mapping_of_mappings(references, "references", "references.yaml"),
        actions=_mapping_of_mappings(actions, "actions", "actions.yaml"),
        release=version,
        data_hashes=data_hashes,
        changelog=tuple(release.get("changelog") or ()),
        ccag=_load_ccag(ccag),
        ccag_objets={str(k): str(v) for k, v in (ccag.get("objets") or {}).items()},
    )


def _bases(data: dict[str, Any], key: str) -> tuple[Any, ...]:
    """Legal bases: registry keys, or the {reference, source} mappings of releases before 2026.4.0."""
    entries = data.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, str) or (isinstance(e, dict) and "reference" in e)
                                                for e in entries):
        raise LibraryError(f"types.yaml : « {key} » doit être une liste de clés du registre references.yaml")
    return tuple(entries)


CCAG_ETATS = ("texte_lu", "recoupe", "deduit", "inconnu")


def _load_ccag(data: dict[str, Any], path: str = "ccag.yaml") -> dict[str, dict[str, Any]]:
    """Each CCAG with its articles, each article with a number (or None) and how sure the library is of it."""
    out = _mapping_of_mappings(data, "ccag", path)
    for code, spec in out.items():
        if not {"abrege", "libelle", "articles"} <= set(spec):
            raise LibraryError(f"{path} : ccag.{code} doit avoir « abrege », « libelle » et « articles »")
        for key, article in _mapping_of_mappings(spec, "articles", f"{path} (ccag.{code})").items():
            if article.get("etat") not in CCAG_ETATS or "source" not in article:
                raise LibraryError(f"{path} : ccag.{code}.articles.{key} doit avoir une « source » et un « etat » parmi "
                                   + ", ".join(CCAG_ETATS))
            if (article.get("numero") is None) != (article["etat"] == "inconnu"):
                raise LibraryError(f"{path} : ccag.{code}.articles.{key} : un numéro est donné si et seulement si "
                                   "l'état n'est pas « inconnu »")
    return out


def _labels(data: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
    """Each entry a mapping with a « libelle »: said in French when it is not."""
    return tuple(str(entry["libelle"]) for entry in _list_of_mappings(data, key, name, required=("libelle",)))


def _list_of_mappings(data: dict[str, Any], key: str, name: str, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    entries = data.get(key) or []
    if not isinstance(entries, list):
        raise LibraryError(f"{name} : « {key} » doit être une liste")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or any(k not in entry for k in required):
            wanted = ", ".join(f"« {k} »" for k in required) or "des clés"
            raise LibraryError(f"{name} : {key}[{index}] doit être un dictionnaire avec {wanted}")
    return entries


def _mapping_of_mappings(data: dict[str, Any], key: str, name: str) -> dict[str, dict[str, Any]]:
    entries = data.get(key) or {}
    if not isinstance(entries, dict):
        raise LibraryError(f"{name} : « {key} » doit être un dictionnaire (identifiant : description)")
    for ident, entry in entries.items():
        if not isinstance(entry, dict):
            raise LibraryError(f"{name} : « {key}.{ident} » doit être un dictionnaire de clés")
    return dict(entries)


def _yaml_bytes(raw: Optional[bytes], name: str, optional: bool = False) -> dict[str, Any]:
    if raw is None:
        if optional:
            return {}
        raise LibraryError(f"{name} manquant dans la bibliothèque")
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LibraryError(f"{name} illisible : {exc}") from None
    if not isinstance(data, dict):
        raise LibraryError(f"{name} : un dictionnaire YAML est attendu")
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise LibraryError(f"{path} illisible : {exc}") from None
    if not isinstance(data, dict):
        raise LibraryError(f"{path} : un dictionnaire YAML est attendu")
    return data


def _require(data: dict[str, Any], key: str, path: Any) -> Any:
    if key not in data:
        raise LibraryError(f"{path} : clé « {key} » manquante")
    return data[key]


def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise LibraryError(f"{what} : date AAAA-MM-JJ attendue, reçu « {value} »") from None


def _load_parameters(data: dict[str, Any], path: str = "parametres.yaml") -> dict[str, Parameter]:
    params = {}
    for name, spec in data.items():
        if not isinstance(spec, dict) or "valeurs" not in spec or "source" not in spec:
            raise LibraryError(f"{path} : le paramètre « {name} » doit avoir « valeurs » et « source »")
        if not isinstance(spec["valeurs"], dict) or not spec["valeurs"]:
            raise LibraryError(f"{path} : « {name}.valeurs » doit associer au moins une date à une valeur "
                               "(par exemple 2026-01-01: 30)")
        values = tuple(sorted((_as_date(d, f"{name}.valeurs"), v) for d, v in spec["valeurs"].items()))
        checked = spec.get("verifie_le")
        params[name] = Parameter(name, spec.get("description", ""), spec.get("unite", ""), values, spec["source"],
                                 str(spec.get("nature", "")),
                                 _as_date(checked, f"{name}.verifie_le") if checked is not None else None)
    return params


def _load_sectors(data: dict[str, Any], path: str = "secteurs.yaml") -> dict[str, Sector]:
    sectors = {}
    for sid, spec in _mapping_of_mappings(data, "secteurs", path).items():
        try:
            sectors[sid] = Sector(id=sid, **spec)
        except TypeError as exc:
            raise LibraryError(f"{path} : secteur « {sid} » mal formé ({exc})") from None
    return sectors


def _load_fragments(files: list[tuple[str, bytes]], root: Path) -> dict[str, Fragment]:
    fragments = {}
    for rel, raw in files:
        frag = parse_fragment_bytes(raw, str(root / rel), root)
        if frag.id in fragments:
            raise LibraryError(f"{frag.path} : identifiant « {frag.id} » déjà utilisé par {fragments[frag.id].path}")
        fragments[frag.id] = frag
    return fragments


def parse_fragment(path: Path) -> Fragment:
    return parse_fragment_bytes(path.read_bytes(), str(path), path.parent)


def parse_fragment_bytes(raw: bytes, path: str, root: Path) -> Fragment:
    """Split front matter from body; keep the body's first line for error messages."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LibraryError(f"{path} : fichier non encodé en UTF-8 ; enregistrez-le en UTF-8") from None
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise LibraryError(f"{path} : un fragment commence par un en-tête YAML entre deux lignes « --- »")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise LibraryError(f"{path} : en-tête YAML non refermé par « --- »")
    try:
        meta = yaml.load(text[4:end], Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise LibraryError(f"{path} : en-tête YAML illisible : {exc}") from None
    if not isinstance(meta, dict):
        raise LibraryError(f"{path} : l'en-tête YAML doit être un dictionnaire de métadonnées")
    missing = [k for k in ("id", "type", "piece", "ordre", "version", "statut") if k not in meta]
    if missing:
        raise LibraryError(f"{path} : métadonnées manquantes : {', '.join(missing)}")
    if meta["type"] not in CONSIDERATION_TYPES and meta["type"] != "commun":
        raise LibraryError(f"{path} : type « {meta['type']} » inconnu")
    if meta["piece"] not in PIECES:
        raise LibraryError(f"{path} : pièce « {meta['piece']} » inconnue ({', '.join(PIECES)})")
    if meta["statut"] not in STATUTS:
        raise LibraryError(f"{path} : statut « {meta['statut']} » inconnu ({', '.join(STATUTS)})")
    if not FRAGMENT_ID.fullmatch(str(meta["id"])):
        raise LibraryError(f"{path} : identifiant « {meta['id']} » invalide : écrivez « type/pièce » en minuscules, "
                           "par exemple insertion/ccap")
    if not SEMVER.fullmatch(str(meta["version"])):
        raise LibraryError(f"{path} : version « {meta['version']} » : une version sémantique est attendue, "
                           "par exemple 1.2.0")
    if not isinstance(meta["ordre"], int) or isinstance(meta["ordre"], bool):
        raise LibraryError(f"{path} : « ordre » doit être un nombre entier, reçu « {meta['ordre']} »")
    return Fragment(
        id=str(meta["id"]),
        type=meta["type"],
        piece=meta["piece"],
        ordre=int(meta["ordre"]),
        version=str(meta["version"]),
        statut=meta["statut"],
        date_effet=_as_date(meta.get("date_effet", "2000-01-01"), f"{path}: date_effet"),
        bases_legales=tuple(_meta_list(meta, "bases_legales", path)),
        variables=tuple(str(v) for v in _meta_list(meta, "variables", path)),
        changelog=str(meta.get("changelog", "")),
        body=text[end + 5:],
        body_first_line=text[:end + 5].count("\n") + 1,
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
        titre=str(meta.get("titre", "")),
        fichier=str(meta.get("fichier", "")),
        pour_types=tuple(str(t) for t in _meta_list(meta, "pour_types", path)),
    )


def _meta_list(meta: dict[str, Any], key: str, path: str) -> list[Any]:
    value = meta.get(key) or []
    if not isinstance(value, list):
        raise LibraryError(f"{path} : « {key} » doit être une liste, par exemple [marche, lots]")
    return value


_INCLUDES: dict[str, tuple[str, ...]] = {}
_INCLUDE = re.compile(r"""\{%[-+]?\s*include\s*["']([^"']+)["']""")
_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}.*?\{%[-+]?\s*endraw\s*[-+]?%\}", re.S)


def direct_includes(sha256: str, body: str) -> tuple[str, ...]:
    """Names a fragment includes, scanned once per text.

    Literal names only, outside comments and raw blocks: « library check » refuses
    any include this scan would not see, so the manifest and the impact of a change
    always know every fragment a market was drafted from.
    """
    found = _INCLUDES.get(sha256)
    if found is None:
        visible = _RAW.sub("", _COMMENT.sub("", body))
        found = _INCLUDES[sha256] = tuple(dict.fromkeys(_INCLUDE.findall(visible)))
    return found


def included_ids(fragment: Fragment, fragments: dict[str, Fragment]) -> list[str]:
    """Fragments pulled in by ``{% include %}``, transitively, in first-use order."""
    seen: list[str] = []
    pending = [fragment]
    while pending:
        current = pending.pop(0)
        for name in direct_includes(current.sha256, current.body):
            if name not in seen and name != fragment.id:
                seen.append(name)
                if name in fragments:
                    pending.append(fragments[name])
    return seen
