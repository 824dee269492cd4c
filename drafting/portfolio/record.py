"""What a portfolio records of one generated market, read from its files alone.

A market generated elsewhere (``generate``, ``batch``, a DCE zip) enters a facilitator's portfolio
only when its manifest vouches for every file (each SHA-256 checked); its commitments are then
read back from its generated grid exactly as a consolidation reads them, and the plan de progrès'
axes from its CCAP, so the portfolio and the monthly figures can never disagree.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import zipfile
from html import unescape
from pathlib import Path
from typing import Any

from drafting.common.manifest import MANIFEST
from drafting.errors import InputError
from drafting.monitoring.consolidate import consolidate
from drafting.monitoring.grid_format import GRID_STEM, grid_name
from drafting.monitoring.reading import grid_identity


def _ccap_axes(docx: bytes) -> list[str]:
    """« Axe 1 : emploi et insertion… », as the generated CCAP titles the plan de progrès' axes."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            xml = archive.read("word/document.xml").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError):
        return []
    heading = re.compile(r"^(?:[\d.]+\s+)?(Axe \d+)\s*:\s*(.+)$")
    axes = []
    for paragraph in xml.split("</w:p>"):
        if 'w:val="Heading' not in paragraph:
            continue
        text = unescape("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", paragraph))).replace("\u202f", " ")
        match = heading.match(text.replace("\u00a0", " ").strip())
        if match:
            axes.append(f"{match.group(1)} : {match.group(2).strip()}")
    return list(dict.fromkeys(axes))


def market_record(files: dict[str, bytes]) -> dict[str, Any]:
    """What a portfolio records of one generated market, from its files (a ``generate`` or ``batch`` folder, a DCE zip).

    The manifest is checked first: every file it lists must be there with the SHA-256 it recorded, the grid
    included (InputError in French otherwise). The commitments are then read back from the generated grid exactly
    as the consolidation reads them, and the plan de progrès' axes from the CCAP. Returns a dict: ``reference``,
    ``objet``, ``acheteur``, ``facilitateur``, ``bibliotheque``, ``duree_totale_mois``, ``questionnaire``
    ({fichier, sha256}), ``date_reference`` (the date the parameters were read at), ``types_retenus``, ``grille`` (its
    file name), ``engagements`` (lot, intitule, type, unite, engagement, penalite_unitaire) and ``axes``.
    """
    raw = files.get(MANIFEST)
    if raw is None:
        raise InputError(f"{MANIFEST} absent : ce n'est pas un marché produit par clausier (generate, batch ou l'application web)")
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    listed = manifest.get("fichiers") if isinstance(manifest, dict) else None
    if not isinstance(listed, list) or not listed:
        raise InputError(f"{MANIFEST} illisible ou sans liste de fichiers : marché non reconnu")
    for entry in listed:
        name, digest = (entry.get("nom"), entry.get("sha256")) if isinstance(entry, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(digest, str):
            raise InputError(f"{MANIFEST} : entrée de fichier illisible")
        data = files.get(name)
        if data is None:
            raise InputError(f"{name} manque alors que le manifeste le cite : marché incomplet")
        if hashlib.sha256(data).hexdigest() != digest:
            raise InputError(f"{name} a été modifié depuis sa génération (empreinte différente de celle du manifeste)")
    grids = [e["nom"] for e in listed if e["nom"].endswith(f"_{GRID_STEM}.xlsx")]
    if len(grids) != 1:
        raise InputError("grille de suivi absente du manifeste : marché sans suivi")
    grid = grids[0]
    with tempfile.TemporaryDirectory(prefix="clausier-marche-") as folder:
        path = Path(folder) / "grille.xlsx"
        path.write_bytes(files[grid])
        identity = grid_identity(path)
        result = consolidate([path])
    if identity is None or not result.markets:
        why = result.failures[0][1] if result.failures else "illisible"
        raise InputError(f"{grid} : {why}")
    report = result.markets[0]
    if grid != grid_name(report.reference):
        raise InputError(f"{grid} : la grille porte la référence {report.reference}, pas celle de son nom")
    ccap = next((n for n in files if n.endswith("_CCAP_clauses-sociales.docx")), None)
    questionnaire = manifest.get("questionnaire") if isinstance(manifest.get("questionnaire"), dict) else {}
    return {
        "reference": report.reference, "objet": report.objet, "acheteur": report.acheteur,
        "facilitateur": report.facilitateur, "bibliotheque": report.bibliotheque,
        "duree_totale_mois": identity["duree_totale_mois"],
        "questionnaire": {"fichier": str(questionnaire.get("fichier") or ""), "sha256": str(questionnaire.get("sha256") or "")},
        "date_reference": str(manifest.get("date_reference_parametres") or ""),
        "types_retenus": [t for t in manifest.get("types_retenus", []) if isinstance(t, str)],
        "grille": grid,
        "engagements": [{"lot": line.lot, "intitule": line.intitule, "type": line.type, "unite": line.unite,
                         "engagement": line.engagement, "penalite_unitaire": line.penalite_unitaire}
                        for line in report.lines],
        "axes": _ccap_axes(files[ccap]) if ccap and "plan_de_progres" in manifest.get("types_retenus", []) else [],
    }
