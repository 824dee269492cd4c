"""The whole chain for one market: plan -> pieces -> files + manifest, all or nothing.

Everything is built in memory first; files are then written into a temporary
folder beside the target and renamed into place, so an error or an interruption
never leaves a half-written market for a buyer to pick up.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from drafting import __version__
from drafting.compose.pieces import Composition, compose
from drafting.decide.policy import build_plan, reference_date
from drafting.ooxml.docx import build_docx
from drafting.errors import OutputError
from drafting.common.files import remove_later
from drafting.common.formatting import mois
from drafting.library.core import CRITERION_TYPE, Library
from drafting.compose.note import build_note
from drafting.decide.plan import Plan
from drafting.dce.provenance import engine_fingerprint, library_record
from drafting.intake.reader import LoadedQuestionnaire
from drafting.monitoring.grid import GridInfo, build_xlsx

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Options:
    """What the buyer asked beyond the standard pieces."""

    premier_article: Optional[int] = None  # None: 1, or after the buyer's own articles with ccap_modele
    ccap_modele: Optional[tuple[str, bytes]] = None  # (file name, bytes) of the buyer's own CCAP
    pdf: bool = False

    def resolved(self) -> "Options":
        """The first article number made explicit, so the manifest records what was used."""
        if self.premier_article is not None:
            return self
        first = 1
        if self.ccap_modele is not None:
            from drafting.ooxml.ccap_model import articles_before_placeholder

            first = articles_before_placeholder(self.ccap_modele[1], self.ccap_modele[0]) + 1
        return Options(first, self.ccap_modele, self.pdf)


def render_market(loaded: LoadedQuestionnaire, library: Library, options: Options = Options()) -> tuple[dict[str, bytes], Plan]:
    """Every output file of one market, as bytes, including the manifest."""
    soffice = None
    if options.pdf:  # imported only then: it brings subprocess, a cost for every market of a batch
        from drafting.ooxml.pdf import require_soffice

        soffice = require_soffice()  # before any work: say it first, write nothing
    options = options.resolved()
    q = loaded.model
    plan = build_plan(q, library)
    composition = compose(q, plan, library, options.premier_article)
    plan.a_completer = composition.a_completer
    if options.ccap_modele is not None and composition.derogations:
        from drafting.ooxml.ccap_model import holds_derogations

        if holds_derogations(options.ccap_modele[1], options.ccap_modele[0]):  # written there: nothing left to paste
            plan.a_completer = [item for item in plan.a_completer if composition.derogations not in item.libelle]
    stamp = library.date
    files: dict[str, bytes] = {}
    for piece in [*composition.pieces, build_note(q, plan, library, composition.derogations)]:
        files[piece.filename] = build_docx(piece, q.acheteur.nom, q.marche.reference, library.version, stamp,
                                           toc=piece.toc)
    if options.ccap_modele is not None:
        files.update(_into_buyer_ccap(q.marche.reference, composition, options.ccap_modele))
    info = GridInfo(
        reference=q.marche.reference, objet=q.marche.objet, acheteur=q.acheteur.nom,
        facilitateur=(f"{q.facilitateur.structure}" + (f" — {q.facilitateur.contact}" if q.facilitateur.contact else "")
                      + (f" — {q.facilitateur.courriel}" if q.facilitateur.courriel else "")) if q.facilitateur
        else "à compléter (aucun facilitateur indiqué dans le questionnaire)",
        penalite_horaire=composition.penalite_horaire,
        duree=mois(q.marche.duree_totale_mois) if q.marche.duree_totale_mois else "voir CCAP",
        actions=tuple(str(a.get("libelle", key)) for key, a in library.actions.items()),
        **GridInfo.terms(q, plan, library),
    )
    files[f"{q.marche.reference}_grille-de-suivi.xlsx"] = build_xlsx(plan, info, stamp)
    if soffice is not None:
        from drafting.ooxml.pdf import convert

        files.update(convert({n: d for n, d in files.items() if n.endswith(".docx")}, stamp, soffice))
    drafted = plan.retained_types + ((CRITERION_TYPE,) if q.criteres.insertion is not None else ())
    files[MANIFEST] = manifest(loaded, library, composition.fragments, files, reference_date(q, library), options,
                               drafted)
    return files, plan


def _into_buyer_ccap(reference: str, composition: Composition, model: tuple[str, bytes]) -> dict[str, bytes]:
    from drafting.ooxml.ccap_model import ModelError, insert_articles

    name, data = model
    ccap = next((p for p in composition.pieces if p.kind == "ccap"), None)
    if ccap is None:
        raise ModelError(name, "aucune clause sociale n'est retenue : il n'y a pas d'article à insérer")
    return {f"{reference}_CCAP.docx": insert_articles(data, name, ccap, composition.derogations)}


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
        "date_reference_parametres": when.isoformat(),
        "fragments": [seen[k] for k in sorted(seen)],
        "fichiers": [{"nom": name, "octets": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                     for name, data in sorted(files.items())],
    }
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def write_market(out_dir: Path, reference: str, files: dict[str, bytes]) -> Path:
    """Write into a temporary folder, then swap it in place of the previous output."""
    target = out_dir / reference
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{reference}.", suffix=".tmp", dir=out_dir))
    except OSError as exc:
        raise OutputError(f"impossible de créer le dossier de sortie {out_dir} ({exc.strerror})") from None
    try:
        for name, data in files.items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(staging, 0o755)
        _swap(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"écriture impossible dans {out_dir} ({exc.strerror}) : aucun fichier n'a été modifié") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _swap(staging: Path, target: Path) -> None:
    """Old folder aside, new one in, old one deleted: at every instant one complete market exists
    (under its name, or aside in « .<ref>.*.old » where recover_retired finds it)."""
    if not target.exists():
        os.replace(staging, target)
        return
    if not target.is_dir():
        raise OSError(20, f"{target} existe et n'est pas un dossier")
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    try:
        os.replace(target, retired / target.name)
    except BaseException:
        shutil.rmtree(retired, ignore_errors=True)  # still empty: nothing moved
        raise
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired / target.name, target)
        shutil.rmtree(retired, ignore_errors=True)
        raise
    remove_later(retired)  # the new market is in place: the old one goes while the next is drafted


def recover_retired(out_dir: Path, older_than: float = 600.0) -> list[str]:
    """After a crash between the two renames of _swap: put each market found only aside back in place.

    Only leftovers older than ``older_than`` seconds are touched: a shard running beside
    this one may be in the middle of its own swap.
    """
    import time

    restored = []
    limit = time.time() - older_than
    stale = [p for p in sorted(out_dir.glob(".*.old")) + sorted(out_dir.glob(".*.tmp"))
             if p.is_dir() and p.stat().st_mtime < limit]
    for retired in (p for p in stale if p.suffix == ".old"):
        for market in retired.iterdir():
            target = out_dir / market.name
            if not target.exists() and (market / MANIFEST).is_file():
                os.replace(market, target)
                restored.append(market.name)
        shutil.rmtree(retired, ignore_errors=True)
    for staging in (p for p in stale if p.suffix == ".tmp"):
        shutil.rmtree(staging, ignore_errors=True)  # never complete: never swapped in
    return restored
