"""The library's releases on disk: locks, immutable copies, and what changed since the last one.

A published text never changes under a DCE already out: every release keeps a lock with the
hash of each fragment and data file, and a copy of each, under ``versions/``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from drafting.errors import LibraryError
from drafting.library.model import FRAGMENT_ID, SEMVER, YAML_LOADER, Library

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
    data = read_yaml(path)
    fragments, donnees = data.get("fragments"), data.get("donnees")
    if (not isinstance(fragments, dict) or not isinstance(donnees, dict)
            or not all(isinstance(e, dict) and isinstance(e.get("version"), str) and isinstance(e.get("sha256"), str)
                       and SEMVER.fullmatch(e["version"]) and FRAGMENT_ID.fullmatch(str(fid))
                       for fid, e in fragments.items())
            or not all(isinstance(d, str) and name in DATA_FILES for name, d in donnees.items())):
        raise LibraryError(f"{path} : fichier de verrou mal formé ; il est écrit par « clausier library release » "
                           "et ne se modifie pas à la main")
    return data


def current_lock(library: Library) -> dict[str, Any]:
    """The lock the working folder would have if it were released now."""
    return {
        "version": library.version,
        "fragments": {
            f.id: {"version": f.version, "sha256": f.sha256}
            for f in sorted(library.fragments.values(), key=lambda f: f.id) if f.statut == "publie"
        },
        "donnees": dict(sorted(library.data_hashes.items())),
    }


def released_lock(root: Path) -> Optional[dict[str, Any]]:
    path = root / LOCK_FILE
    return read_lock(path) if path.is_file() else None


def release_versions(root: Path) -> list[str]:
    """Released versions, oldest first."""
    folder = root / VERSIONS_DIR
    names = [p.name[:-len(".lock")] for p in folder.glob("*.lock")] if folder.is_dir() else []
    return sorted(names, key=version_key)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


@dataclass(frozen=True)
class Change:
    """One difference between the working folder and the last release."""

    kind: str  # ajout | modification | retrait | donnees
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} : {self.name} ({self.detail})" if self.detail else f"{self.kind} : {self.name}"


def pending_changes(library: Library) -> list[Change]:
    """What differs from the last release (empty when the folder is exactly released)."""
    lock = released_lock(library.root)
    now = current_lock(library)
    if lock is None:
        return [Change("ajout", "bibliothèque", "aucune version publiée")]
    changes = []
    for fid, entry in now["fragments"].items():
        old = lock["fragments"].get(fid)
        if old is None:
            changes.append(Change("ajout", fid, f"version {entry['version']}"))
        elif old["sha256"] != entry["sha256"]:
            detail = (f"{old['version']} → {entry['version']}" if old["version"] != entry["version"]
                      else f"version {entry['version']} modifiée sans nouvelle version")
            changes.append(Change("modification", fid, detail))
    for fid, old in lock["fragments"].items():
        if fid not in now["fragments"]:
            changes.append(Change("retrait", fid, f"version {old['version']}"))
    for name in sorted(set(now["donnees"]) | set(lock["donnees"])):
        if name != "bibliotheque.yaml" and now["donnees"].get(name) != lock["donnees"].get(name):
            changes.append(Change("donnees", name, ""))
    return changes


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise LibraryError(f"{path} illisible : {exc}") from None
    if not isinstance(data, dict):
        raise LibraryError(f"{path} : un dictionnaire YAML est attendu")
    return data
