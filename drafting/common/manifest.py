"""Reading the manifest a generated market carries: one reader for batch, impact, consolidation and the faces.

The manifest (``<reference>/manifest.json``) is written by ``drafting.dce.market``; whoever reads it
here gets a dict, or None when it is missing, unreadable or not shaped as ours — never an exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

MANIFEST = "manifest.json"


def read_manifest(folder: Path) -> Optional[dict[str, Any]]:
    """The manifest of the market written in ``folder``, or None."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def market_manifests(out_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, manifest) of every market written in ``out_dir``, in name order; folders being written are skipped."""
    found = []
    for path in sorted(out_dir.glob(f"*/{MANIFEST}")):
        if path.parent.name.startswith("."):  # a market being written, or an index
            continue
        data = read_manifest(path.parent)
        if data is not None:
            found.append((path.parent, data))
    return found


def recorded_file_hash(manifest: dict[str, Any], name: str) -> Optional[str]:
    """The SHA-256 the manifest records for one of the market's files."""
    files = manifest.get("fichiers")
    if not isinstance(files, list):
        return None
    return next((f.get("sha256") for f in files if isinstance(f, dict) and f.get("nom") == name), None)
