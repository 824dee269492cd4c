"""Releases of the clause library: lock file, immutable copies, changelog.

A published DCE must never change behind anyone's back. So a release copies each
published fragment version and each data file, once, into ``versions/`` (never
overwritten), and writes a lock holding their hashes; ``--library-version``
rebuilds the library from those copies. The working folder stays free for
facilitators to edit, and ``pending_changes`` says what is not yet released.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any, Optional

import yaml

from drafting.errors import LibraryError
from drafting.facilitators.check import check_library
from drafting.library import (
    FRAGMENT_ID,
    LOCK_FILE,
    SEMVER,
    VERSIONS_DIR,
    Change,
    Library,
    current_lock,
    data_store_path,
    default_root,
    fragment_store_path,
    load_library,
    pending_changes,
    release_versions,
    version_key,
)

RELEASE_VERSION = r"\d{4}\.\d+\.\d+"



def next_version(current: str, today: dt.date) -> str:
    """Year.minor.patch: a new year starts at .1.0, otherwise the minor number goes up."""
    parts = current.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and int(parts[0]) == today.year:
        return f"{parts[0]}.{int(parts[1]) + 1}.0"
    return f"{today.year}.1.0"


def release(root: Path, message: str, version: Optional[str] = None, today: Optional[dt.date] = None) -> tuple[str, list[Change]]:
    """Record the working folder as a new release; refused if ``library check`` finds errors."""

    today = today or dt.date.today()
    library = load_library(root)
    problems = [p for p in check_library(root) if p.severity == "erreur"]
    if problems:
        raise LibraryError(f"publication refusée : « clausier library check » signale {len(problems)} erreur(s) ; "
                           "corrigez-les d'abord")
    changes = pending_changes(library)
    if not changes:
        raise LibraryError(f"rien à publier : la bibliothèque est identique à sa version {library.version}")
    previous = release_versions(root)
    new = version or next_version(previous[-1] if previous else library.version, today)
    if not SEMVER.fullmatch(new) and not _is_release_version(new):
        raise LibraryError(f"version « {new} » invalide : écrivez AAAA.N.N, par exemple {today.year}.2.0")
    if previous and version_key(new) <= version_key(previous[-1]):
        raise LibraryError(f"version {new} refusée : elle doit être postérieure à la dernière publiée ({previous[-1]})")
    release_text = _release_file(root, new, today, message, changes)
    try:
        _publish(root, library, new, release_text)
    except OSError as exc:
        raise LibraryError(f"publication interrompue ({exc.strerror or exc}) : la bibliothèque reste à la version "
                           f"{library.version} ; corrigez la cause puis relancez « clausier library release »") from None
    return new, changes


def _is_release_version(text: str) -> bool:
    return re.fullmatch(RELEASE_VERSION, text) is not None


def _release_file(root: Path, version: str, today: dt.date, message: str, changes: list[Change]) -> bytes:
    """The new bibliotheque.yaml: version, date and a changelog entry listing the changes."""
    text = (root / "bibliotheque.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    entry = {"version": version, "date": today.isoformat(), "resume": message,
             "modifications": [str(c) for c in changes]}
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    data["version"] = version
    data["date"] = today
    data["changelog"] = [entry, *(data.get("changelog") or [])]
    return (header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)).encode("utf-8")



def _publish(root: Path, library: Library, version: str, release_text: bytes) -> dict[str, Any]:
    """Copies first, then the release's lock, then bibliotheque.yaml and the root lock.

    Every step is an atomic file write, in an order where a crash leaves at worst
    unused copies, or a release lock that the next run writes again: never a
    bibliotheque.yaml announcing a version whose copies are missing.
    """
    lock = current_lock(library)
    lock["version"] = version
    lock["donnees"]["bibliotheque.yaml"] = hashlib.sha256(release_text).hexdigest()
    for fid, entry in lock["fragments"].items():
        raw = Path(library.fragments[fid].path).read_bytes()
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise LibraryError(f"{fid} a été modifié pendant la publication : relancez « clausier library release »")
        _store(raw, root / fragment_store_path(fid, entry["version"]), entry["sha256"],
               f"la version {entry['version']} de {fid} est déjà publiée avec un autre texte : "
               "donnez une nouvelle version au fragment modifié")
    for name, digest in lock["donnees"].items():
        raw = release_text if name == "bibliotheque.yaml" else (root / name).read_bytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise LibraryError(f"{name} a été modifié pendant la publication : relancez « clausier library release »")
        _store(raw, data_store_path(root, name, digest), digest, f"copie de {name} incohérente")
    text = _lock_text(lock)
    _atomic_write(root / VERSIONS_DIR / f"{version}.lock", text)
    _atomic_write(root / "bibliotheque.yaml", release_text)
    _atomic_write(root / LOCK_FILE, text)
    return lock


def _store(raw: bytes, target: Path, digest: str, conflict: str) -> None:
    if target.exists():
        if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            raise LibraryError(conflict)
        return
    _atomic_write(target, raw)


def _lock_text(lock: dict[str, Any]) -> bytes:
    header = ("# Verrou de la bibliothèque : empreinte SHA-256 de chaque fragment publié et de chaque fichier\n"
              "# de données de cette version. Écrit par « clausier library release » ; ne pas modifier.\n")
    return (header + yaml.safe_dump(lock, allow_unicode=True, sort_keys=True, width=120)).encode("utf-8")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def init_library(target: Path, source: Optional[Path] = None) -> Path:
    """A facilitator's own copy of a library, released versions included."""

    origin = Path(source or default_root())
    if target.exists() and any(target.iterdir()):
        raise LibraryError(f"{target} existe et n'est pas vide : choisissez un dossier nouveau ou vide")
    ignore = shutil.ignore_patterns("__pycache__", "__init__.py", "*.pyc", ".*.tmp")
    shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
    return target


def _check_names(fragment_id: str, version: Optional[str] = None) -> None:
    """Both name files under versions/: nothing else may reach the disk."""
    if not FRAGMENT_ID.fullmatch(fragment_id):
        raise LibraryError(f"identifiant de fragment « {fragment_id} » invalide : écrivez « type/pièce », "
                           "par exemple insertion/ccap (liste : clausier library list)")
    if version is not None and not SEMVER.fullmatch(version):
        raise LibraryError(f"version de fragment « {version} » invalide : écrivez par exemple 1.2.0")


def fragment_versions(root: Path, fragment_id: str) -> list[str]:
    """Every released version of one fragment, oldest first."""
    _check_names(fragment_id)
    folder = root / VERSIONS_DIR / "fragments" / fragment_id
    return sorted((p.stem for p in folder.glob("*.txt")), key=version_key) if folder.is_dir() else []


def fragment_text(root: Path, fragment_id: str, version: Optional[str]) -> tuple[str, str]:
    """(label, text) of a released version, or of the working file when ``version`` is None."""
    _check_names(fragment_id, version)
    if version is None:
        fragment = load_library(root).fragment(fragment_id)
        return f"{fragment_id} (dossier de travail, version {fragment.version})", Path(fragment.path).read_text(encoding="utf-8")
    path = root / fragment_store_path(fragment_id, version)
    if not path.is_file():
        known = ", ".join(fragment_versions(root, fragment_id)) or "aucune"
        raise LibraryError(f"{fragment_id} : version {version} non publiée (versions publiées : {known})")
    return f"{fragment_id} {version}", path.read_text(encoding="utf-8")


def fragment_diff(root: Path, fragment_id: str, versions: tuple[str, ...]) -> str:
    """A readable unified diff: V1 to V2, V1 to the working file, or last release to the working file."""
    if len(versions) > 2:
        raise LibraryError("donnez au plus deux versions : library diff ID [V1 [V2]]")
    if not versions:
        released = fragment_versions(root, fragment_id)
        if not released:
            raise LibraryError(f"{fragment_id} n'a aucune version publiée : rien à comparer")
        versions = (released[-1],)
    old_label, old = fragment_text(root, fragment_id, versions[0])
    new_label, new = fragment_text(root, fragment_id, versions[1] if len(versions) == 2 else None)
    if old == new:
        return f"{old_label} et {new_label} sont identiques.\n"
    lines = [line.rstrip("\n") for line in difflib.unified_diff(old.splitlines(), new.splitlines(),
                                                              fromfile=old_label, tofile=new_label, n=1, lineterm="")]
    return "\n".join(_words_in_long_lines(lines)) + "\n"


def _words_in_long_lines(lines: list[str]) -> list[str]:
    """A paragraph is one long line: a changed one is shown word by word, [-removed-]{+added+}."""
    out, index = [], 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if (line.startswith("-") and not line.startswith("---") and following.startswith("+")
                and not following.startswith("+++") and max(len(line), len(following)) > 100):
            out.append("~" + _word_diff(line[1:], following[1:]))
            index += 2
            continue
        out.append(line)
        index += 1
    return out


def _word_diff(old: str, new: str) -> str:
    a, b = old.split(" "), new.split(" ")
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(" ".join(a[i1:i2]))
        if op in ("delete", "replace"):
            parts.append("[-" + " ".join(a[i1:i2]) + "-]")
        if op in ("insert", "replace"):
            parts.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(parts)
