"""The clause library as data: release version, dated parameters, sectors, fragments.

The library is data that facilitators maintain, so nothing here encodes a legal
figure: this module only reads, checks the shape, and resolves dated values
(openfisca-style: a value holds from its date until the next one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import LibraryError

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
STATUTS = ("brouillon", "publie", "retire")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Parameter:
    """A dated legal or conventional figure, with where it comes from."""

    name: str
    description: str
    unit: str
    values: tuple[tuple[dt.date, Any], ...]
    source: str

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
    condition_sociale_bases: tuple[dict[str, str], ...] = ()

    @property
    def earliest_date(self) -> dt.date:
        """First date at which every parameter has a value."""
        return max(p.values[0][0] for p in self.parameters.values())

    def param(self, name: str, when: dt.date) -> Any:
        try:
            return self.parameters[name].at(when)
        except KeyError:
            raise LibraryError(f"paramètre « {name} » absent de {self.root / 'parametres.yaml'}") from None

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


def default_root() -> Path:
    """The library to use: $CLAUSIER_LIBRARY when set, else the bundled package data."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env)
    return Path(str(resources.files("clause_library")))


def load_library(root: Path | None = None) -> Library:
    return _load_cached(str(Path(root or default_root()).resolve()))


@lru_cache(maxsize=8)
def _load_cached(root_str: str) -> Library:
    root = Path(root_str)
    if not (root / "bibliotheque.yaml").is_file():
        raise LibraryError(f"{root} n'est pas une bibliothèque de clauses (bibliotheque.yaml absent)")
    release = _read_yaml(root / "bibliotheque.yaml")
    publics = _read_yaml(root / "publics.yaml")
    types = _read_yaml(root / "types.yaml")
    return Library(
        root=root,
        version=str(_require(release, "version", root / "bibliotheque.yaml")),
        date=_as_date(_require(release, "date", root / "bibliotheque.yaml"), "date"),
        parameters=_load_parameters(root / "parametres.yaml"),
        sectors=_load_sectors(root / "secteurs.yaml"),
        publics=tuple(p["libelle"] for p in publics.get("publics", [])),
        modalites=tuple(m["libelle"] for m in publics.get("modalites", [])),
        fragments=_load_fragments(root / "fragments"),
        types=dict(types.get("types", {})),
        condition_sociale_bases=tuple(types.get("condition_sociale_obligatoire", ())),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise LibraryError(f"{path} illisible : {exc}") from None
    if not isinstance(data, dict):
        raise LibraryError(f"{path} : un dictionnaire YAML est attendu")
    return data


def _require(data: dict[str, Any], key: str, path: Path) -> Any:
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


def _load_parameters(path: Path) -> dict[str, Parameter]:
    params = {}
    for name, spec in _read_yaml(path).items():
        if not isinstance(spec, dict) or "valeurs" not in spec or "source" not in spec:
            raise LibraryError(f"{path} : le paramètre « {name} » doit avoir « valeurs » et « source »")
        values = tuple(sorted((_as_date(d, f"{name}.valeurs"), v) for d, v in spec["valeurs"].items()))
        params[name] = Parameter(name, spec.get("description", ""), spec.get("unite", ""), values, spec["source"])
    return params


def _load_sectors(path: Path) -> dict[str, Sector]:
    sectors = {}
    for sid, spec in _read_yaml(path).get("secteurs", {}).items():
        try:
            sectors[sid] = Sector(id=sid, **spec)
        except TypeError as exc:
            raise LibraryError(f"{path} : secteur « {sid} » mal formé ({exc})") from None
    return sectors


def _load_fragments(folder: Path) -> dict[str, Fragment]:
    fragments = {}
    for path in sorted(folder.glob("*/*.txt")):
        frag = parse_fragment(path)
        if frag.id in fragments:
            raise LibraryError(f"{path} : identifiant « {frag.id} » déjà utilisé par {fragments[frag.id].path}")
        fragments[frag.id] = frag
    return fragments


def parse_fragment(path: Path) -> Fragment:
    """Split front matter from body; keep the body's first line for error messages."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    if not text.startswith("---\n"):
        raise LibraryError(f"{path} : un fragment commence par un en-tête YAML entre deux lignes « --- »")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise LibraryError(f"{path} : en-tête YAML non refermé par « --- »")
    try:
        meta = yaml.load(text[4:end], Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise LibraryError(f"{path} : en-tête YAML illisible : {exc}") from None
    missing = [k for k in ("id", "type", "piece", "ordre", "version", "statut") if k not in meta]
    if missing:
        raise LibraryError(f"{path} : métadonnées manquantes : {', '.join(missing)}")
    if meta["type"] not in CONSIDERATION_TYPES and meta["type"] != "commun":
        raise LibraryError(f"{path} : type « {meta['type']} » inconnu")
    if meta["piece"] not in PIECES:
        raise LibraryError(f"{path} : pièce « {meta['piece']} » inconnue ({', '.join(PIECES)})")
    if meta["statut"] not in STATUTS:
        raise LibraryError(f"{path} : statut « {meta['statut']} » inconnu ({', '.join(STATUTS)})")
    return Fragment(
        id=str(meta["id"]),
        type=meta["type"],
        piece=meta["piece"],
        ordre=int(meta["ordre"]),
        version=str(meta["version"]),
        statut=meta["statut"],
        date_effet=_as_date(meta.get("date_effet", "2000-01-01"), f"{path}: date_effet"),
        bases_legales=tuple(meta.get("bases_legales") or ()),
        variables=tuple(meta.get("variables") or ()),
        changelog=str(meta.get("changelog", "")),
        body=text[end + 5:],
        body_first_line=text[:end + 5].count("\n") + 1,
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
    )
