"""The whole chain for one market: plan -> pieces -> files + manifest, all or nothing.

Everything is built in memory first; files are then written into a temporary
folder beside the target and renamed into place, so an error or an interruption
never leaves a half-written market for a buyer to pick up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from drafting import __version__
from drafting.common.build import engine_fingerprint
from drafting.common.manifest import MANIFEST
from drafting.compose.note import build_note
from drafting.compose.pieces import Composition, compose
from drafting.dce.provenance import library_record
from drafting.decide.plan import Plan
from drafting.decide.policy import build_plan
from drafting.errors import ModelError
from drafting.intake.model import LoadedQuestionnaire
from drafting.library import Library
from drafting.monitoring.commitments import GridInfo
from drafting.monitoring.grid import build_xlsx
from drafting.monitoring.grid_format import grid_name
from drafting.ooxml.docx import build_docx

if TYPE_CHECKING:
    from drafting.ooxml.ccap_model import BuyerCcap


@dataclass(frozen=True)
class Options:
    """What the buyer asked beyond the standard pieces."""

    premier_article: Optional[int] = None  # None: 1, or after the buyer's own articles with ccap_modele
    ccap_modele: Optional[tuple[str, bytes]] = None  # (file name, bytes) of the buyer's own CCAP
    pdf: bool = False

    def resolved(self, buyer_ccap: Optional["BuyerCcap"]) -> "Options":
        """The first article number made explicit, so the manifest records what was used."""
        if self.premier_article is not None:
            return self
        first = buyer_ccap.articles_before_placeholder() + 1 if buyer_ccap is not None else 1
        return Options(first, self.ccap_modele, self.pdf)


def _buyer_ccap(options: Options) -> Optional["BuyerCcap"]:
    """The buyer's CCAP read once for this rendering, or None."""
    if options.ccap_modele is None:
        return None
    from drafting.ooxml.ccap_model import BuyerCcap  # lazy: lxml (≈ 20 ms of import), only for a buyer's CCAP

    name, data = options.ccap_modele
    return BuyerCcap(data, name)


def render_market(loaded: LoadedQuestionnaire, library: Library, options: Options = Options()) -> tuple[dict[str, bytes], Plan]:
    """Every output file of one market, as bytes, including the manifest."""
    soffice = None
    if options.pdf:
        from drafting.ooxml.pdf import require_soffice  # lazy: the LibreOffice bridge, only with --pdf

        soffice = require_soffice()  # before any work: say it first, write nothing
    buyer_ccap = _buyer_ccap(options)
    options = options.resolved(buyer_ccap)
    plan = build_plan(loaded.model, library)
    composition = compose(plan, library, options.premier_article or 1)
    plan.a_completer = composition.a_completer
    if buyer_ccap is not None and composition.derogations:
        if buyer_ccap.holds_derogations():  # written there: nothing left to paste
            plan.a_completer = [item for item in plan.a_completer if composition.derogations not in item.libelle]
    stamp = library.date
    files: dict[str, bytes] = {}
    for piece in [*composition.pieces, build_note(plan, library, composition.derogations)]:
        files[piece.filename] = build_docx(piece, plan.acheteur, plan.reference, library.version, stamp, toc=piece.toc)
    if buyer_ccap is not None:
        files.update(_into_buyer_ccap(plan.reference, composition, buyer_ccap))
    files[grid_name(plan.reference)] = build_xlsx(plan, GridInfo.of(plan), stamp)
    if soffice is not None:
        from drafting.ooxml.pdf import convert  # lazy: the LibreOffice bridge, only with --pdf

        files.update(convert({n: d for n, d in files.items() if n.endswith(".docx")}, stamp, soffice))
    files[MANIFEST] = manifest(loaded, library, composition.fragments, files, plan.parametres["date_reference"], options,
                               tuple(plan.terms["types_rediges"]))
    return files, plan


def _into_buyer_ccap(reference: str, composition: Composition, buyer_ccap: "BuyerCcap") -> dict[str, bytes]:
    ccap = next((p for p in composition.pieces if p.kind == "ccap"), None)
    if ccap is None:
        raise ModelError(buyer_ccap.source, "aucune clause sociale n'est retenue : il n'y a pas d'article à insérer")
    return {f"{reference}_CCAP.docx": buyer_ccap.insert_articles(ccap, composition.derogations)}


def options_record(options: Options) -> dict[str, object]:
    return {"premier_article": options.premier_article, "pdf": options.pdf,
            "ccap_modele": hashlib.sha256(options.ccap_modele[1]).hexdigest() if options.ccap_modele else None}


def manifest(loaded: LoadedQuestionnaire, library: Library, fragments, files: dict[str, bytes], when,
             options: Options = Options(), types_retenus: tuple[str, ...] = ()) -> bytes:
    """What was used and what was written: enough to tell later whether a rerun would change anything."""
    ccap_modele = options.ccap_modele
    seen = {}
    for fragment in fragments:
        seen[fragment.id] = {"id": fragment.id, "version": fragment.version, "sha256": fragment.sha256}
    data = {
        "clausier": __version__,
        "moteur": engine_fingerprint(),
        "bibliotheque": library_record(library),
        "questionnaire": {"fichier": Path(loaded.source).name, "sha256": loaded.sha256},
        **({"ccap_modele": {"fichier": Path(ccap_modele[0]).name, "sha256": hashlib.sha256(ccap_modele[1]).hexdigest()}}
           if ccap_modele else {}),
        "options": options_record(options),
        "types_retenus": list(types_retenus),
        "date_reference_parametres": str(when),
        "fragments": [seen[k] for k in sorted(seen)],
        "fichiers": [{"nom": name, "octets": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                     for name, data in sorted(files.items())],
    }
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


