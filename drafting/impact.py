"""Which generated markets a library change reaches, read from their manifests.

After a release, facilitators need to know which published DCEs now differ from
the library (to decide whether to amend them) and to regenerate just those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .errors import InputError
from .library import VERSIONS_DIR, Library, read_lock


@dataclass(frozen=True)
class Impact:
    reference: str
    folder: Path
    fragments: tuple[str, ...]  # fragment ids whose text changed
    donnees: tuple[str, ...]  # data files (parameters, sectors…) that changed


def manifests(out_dir: Path) -> list[tuple[Path, dict]]:
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} n'est pas un dossier de marchés générés")
    found = []
    for path in sorted(out_dir.glob("*/manifest.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append((path.parent, data))
    return found


def impacted(out_dir: Path, library: Library, since: Optional[str] = None) -> list[Impact]:
    """Markets whose fragments or data changed: since release ``since``, or since they were generated."""
    now_fragments = {f.id: f.sha256 for f in library.fragments.values() if f.statut == "publie"}
    now_data = {k: v for k, v in library.data_hashes.items() if k != "bibliotheque.yaml"}
    changed_since: Optional[set[str]] = None
    data_since: Optional[set[str]] = None
    if since is not None:
        lock = read_lock(library.root / VERSIONS_DIR / f"{since}.lock")
        changed_since = {fid for fid, entry in lock["fragments"].items() if now_fragments.get(fid) != entry["sha256"]}
        data_since = {name for name, digest in lock["donnees"].items()
                      if name != "bibliotheque.yaml" and now_data.get(name) != digest}
    out = []
    for folder, manifest in manifests(out_dir):
        used = {f.get("id"): f.get("sha256") for f in manifest.get("fragments", []) if isinstance(f, dict)}
        recorded_data = (manifest.get("bibliotheque") or {}).get("donnees") or {}
        if changed_since is not None:
            fragments = sorted(fid for fid in used if fid in changed_since)
            data = sorted(data_since or ())
        else:
            fragments = sorted(fid for fid, sha in used.items() if now_fragments.get(fid) != sha)
            data = sorted(name for name, sha in now_data.items() if recorded_data.get(name) not in (None, sha))
        if fragments or data:
            out.append(Impact(folder.name, folder, tuple(fragments), tuple(data)))
    return out
