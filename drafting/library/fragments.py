"""Clause fragments: their front matter and body, what they include, and which ones a market uses."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from drafting.errors import LibraryError
from drafting.library.model import (
    CONSIDERATION_TYPES,
    CRITERION_FRAGMENT,
    CRITERION_TYPE,
    FRAGMENT_ID,
    PIECES,
    SEMVER,
    STATUTS,
    YAML_LOADER,
    Fragment,
    Library,
    as_date,
)


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
        meta = yaml.load(text[4:end], Loader=YAML_LOADER) or {}
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
        date_effet=as_date(meta.get("date_effet", "2000-01-01"), f"{path}: date_effet"),
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


_INCLUDE = re.compile(r"""\{%[-+]?\s*include\s*["']([^"']+)["']""")


_COMMENT = re.compile(r"\{#.*?#\}", re.S)


_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}.*?\{%[-+]?\s*endraw\s*[-+]?%\}", re.S)


def direct_includes(sha256: str, body: str) -> tuple[str, ...]:
    """Names a fragment includes, scanned once per text.

    Literal names only, outside comments and raw blocks: « library check » refuses
    any include this scan would not see, so the manifest and the impact of a change
    always know every fragment a market was drafted from.
    """
    return _scan_includes(body)


@lru_cache(maxsize=4096)
def _scan_includes(body: str) -> tuple[str, ...]:
    visible = _RAW.sub("", _COMMENT.sub("", body))
    return tuple(dict.fromkeys(_INCLUDE.findall(visible)))


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


# The pieces whose fragments are drafted for each retained type (the note and the annex sheets aside).
DRAFTED_PIECES = ("ccap", "rc", "ae")


def drafted_fragments(library: Library, types: Iterable[str], piece: str) -> list[tuple[str, list[Fragment]]]:
    """(type, fragments) drafted into one piece, in order: the one rule of which fragments a market uses.

    ``types`` are the market's retained types, in the contract's order, and ``critere_insertion``
    when the buyer asked for the award criterion, which the RC drafts after them. Composing the
    pieces and telling whether a rerun would change a market both follow this rule.
    """
    retained = set(types)
    out = [(type_, library.fragments_for(type_, piece)) for type_ in CONSIDERATION_TYPES if type_ in retained]
    if piece == "rc" and CRITERION_TYPE in retained and CRITERION_FRAGMENT in library.fragments:
        out.append((CRITERION_TYPE, [library.fragments[CRITERION_FRAGMENT]]))
    return out


