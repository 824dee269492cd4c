"""Reading a library folder, or one of its releases byte for byte, into a ``Library``.

Only shapes are checked here, and said in French when wrong; nothing here encodes a legal
figure: values are resolved by date (openfisca-style) in ``model``.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import yaml

from drafting.errors import LibraryError
from drafting.library.fragments import parse_fragment_bytes
from drafting.library.model import CCAG_ETATS, LIBRARY_ENV, RELEASE, YAML_LOADER, Fragment, Library, Parameter, Sector, as_date
from drafting.library.store import DATA_FILES, Source


def default_root() -> Path:
    """The library to use: $CLAUSIER_LIBRARY when set, else the bundled package data."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env)
    return Path(str(resources.files("clause_library")))


def resolve(root: Path | None = None, version: Optional[str] = None) -> Path:
    """The library folder to read, refused in French when it is not one (or the version is malformed)."""
    if version is not None and not RELEASE.fullmatch(version):
        raise LibraryError(f"version « {version} » invalide : une version publiée s'écrit par exemple 2026.2.0")
    resolved = Path(root or default_root()).resolve()
    if not (resolved / "bibliotheque.yaml").is_file():
        raise LibraryError(f"{resolved} n'est pas une bibliothèque de clauses (bibliotheque.yaml absent) ; "
                           "créez-en une avec « clausier library init DOSSIER »")
    return resolved


def load_library(root: Path | None = None, version: Optional[str] = None) -> Library:
    """The working library, or with ``version`` one of its releases, byte for byte (read afresh each call)."""
    return _read(resolve(root, version), version)


def _signature(root: Path) -> str:
    """A digest of the working files' contents: an edited library is read again, an unchanged one is not.

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


class LibraryCache:
    """Libraries already read, by folder, release and content: an edited folder is read again.

    Bounded: a long-lived process (the web server) keeps at most ``size`` libraries, each with
    its compiled templates, and forgets the least recently used.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, Optional[str], str], Library] = OrderedDict()

    def get(self, root: Path | None = None, version: Optional[str] = None) -> Library:
        resolved = resolve(root, version)
        key = (str(resolved), version, _signature(resolved) if version is None else "")
        library = self._items.get(key)
        if library is None:
            library = self._items[key] = _read(resolved, version)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        self._items.move_to_end(key)
        return library


def _read(root: Path, version: Optional[str]) -> Library:
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
        date=as_date(_require(release, "date", "bibliotheque.yaml"), "date"),
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
        data = yaml.load(raw.decode("utf-8"), Loader=YAML_LOADER)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LibraryError(f"{name} illisible : {exc}") from None
    if not isinstance(data, dict):
        raise LibraryError(f"{name} : un dictionnaire YAML est attendu")
    return data



def _require(data: dict[str, Any], key: str, path: Any) -> Any:
    if key not in data:
        raise LibraryError(f"{path} : clé « {key} » manquante")
    return data[key]



def _load_parameters(data: dict[str, Any], path: str = "parametres.yaml") -> dict[str, Parameter]:
    params = {}
    for name, spec in data.items():
        if not isinstance(spec, dict) or "valeurs" not in spec or "source" not in spec:
            raise LibraryError(f"{path} : le paramètre « {name} » doit avoir « valeurs » et « source »")
        if not isinstance(spec["valeurs"], dict) or not spec["valeurs"]:
            raise LibraryError(f"{path} : « {name}.valeurs » doit associer au moins une date à une valeur "
                               "(par exemple 2026-01-01: 30)")
        values = tuple(sorted((as_date(d, f"{name}.valeurs"), v) for d, v in spec["valeurs"].items()))
        checked = spec.get("verifie_le")
        params[name] = Parameter(name, spec.get("description", ""), spec.get("unite", ""), values, spec["source"],
                                 str(spec.get("nature", "")),
                                 as_date(checked, f"{name}.verifie_le") if checked is not None else None)
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
    fragments: dict[str, Fragment] = {}
    for rel, raw in files:
        frag = parse_fragment_bytes(raw, str(root / rel), root)
        if frag.id in fragments:
            raise LibraryError(f"{frag.path} : identifiant « {frag.id} » déjà utilisé par {fragments[frag.id].path}")
        fragments[frag.id] = frag
    return fragments
