"""Which generated markets a library change reaches, read from their manifests.

After a release, facilitators need to know which published DCEs now differ from
the library (to decide whether to amend them) and to regenerate just those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from drafting.common.manifest import market_manifests
from drafting.dce.provenance import fragments_used
from drafting.errors import InputError
from drafting.library import RELEASE, VERSIONS_DIR, Library, read_lock


@dataclass(frozen=True)
class Impact:
    reference: str
    folder: Path
    fragments: tuple[str, ...]  # fragment ids whose text changed
    donnees: tuple[str, ...]  # data files (parameters, sectors…) that changed


def manifests(out_dir: Path) -> list[tuple[Path, dict]]:
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} n'est pas un dossier de marchés générés")
    return market_manifests(out_dir)


def _recorded(manifest: dict) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Fragments, retained types and data hashes of a manifest; empty when it is not shaped as ours."""
    fragments = {f["id"]: f["sha256"] for f in manifest.get("fragments", [])
                 if isinstance(f, dict) and isinstance(f.get("id"), str) and isinstance(f.get("sha256"), str)}
    types = manifest.get("types_retenus")
    record = manifest.get("bibliotheque")
    data = record.get("donnees") if isinstance(record, dict) else None
    return (fragments, [t for t in types if isinstance(t, str)] if isinstance(types, list) else [],
            data if isinstance(data, dict) else {})


def impacted(out_dir: Path, library: Library, since: Optional[str] = None) -> list[Impact]:
    """Markets whose fragments or data changed: since release ``since``, or since they were generated.

    A fragment counts when the market used it, or would use it now (a new fragment
    for one of its retained types, or a new annex sheet meant for them).
    """
    if since is not None:
        impact_of_manifest({}, library, since)  # a bad or unknown version is refused before any market is read
    out = []
    for folder, manifest in manifests(out_dir):
        fragments, data = impact_of_manifest(manifest, library, since)
        if fragments or data:
            out.append(Impact(folder.name, folder, tuple(fragments), tuple(data)))
    return out


def impact_of_manifest(manifest: dict, library: Library, since: Optional[str] = None) -> tuple[list[str], list[str]]:
    """(fragment ids, data files) that differ for one market, read from its manifest alone."""

    now_data = {k: v for k, v in library.data_hashes.items() if k != "bibliotheque.yaml"}
    recorded, types, recorded_data = _recorded(manifest)
    now = fragments_used(library, types) if types else {}
    candidates = set(recorded) | set(now)
    if since is None:
        fragments = sorted(fid for fid in candidates if recorded.get(fid) != now.get(fid))
        data = sorted(name for name, sha in now_data.items() if recorded_data.get(name) not in (None, sha))
        return fragments, data
    if not RELEASE.fullmatch(since):
        raise InputError(f"--since « {since} » : une version publiée s'écrit par exemple 2026.2.0")
    lock = read_lock(library.root / VERSIONS_DIR / f"{since}.lock")
    then = {fid: entry["sha256"] for fid, entry in lock["fragments"].items()}
    then_data = {k: v for k, v in lock["donnees"].items() if k != "bibliotheque.yaml"}
    fragments = sorted(fid for fid in candidates if then.get(fid) != now.get(fid))
    data = sorted(name for name in set(now_data) | set(then_data) if now_data.get(name) != then_data.get(name))
    return fragments, data
