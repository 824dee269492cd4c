"""Markets entering the portfolio: generated through the web, or imported from a folder of generated markets.

Either way the record is built from the market's files by the engine (``api.market_record``: manifest checked,
commitments read back from the generated grid as the consolidation reads them, plan de progrès' axes from the
CCAP); the questionnaire, when known, adds each lot's sector and amount and the planned notification date.
A market generated again (a new generation, or the same folder imported again) updates its record: new
commitments, the facilitator's own corrections (execution dates, assigned facilitator) kept.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Optional

from django.db import transaction

from drafting import api

from .. import acces, blobs, moteur
from ..marches.models import Generation, Marche, Organisation
from .models import Engagement, LotSuivi, MarcheSuivi

log = logging.getLogger("clausier.web")
QUESTIONNAIRE_TYPES = (".yaml", ".yml", ".json", ".xlsx")
MAX_MARKET_FILES = 64


class ImportRefused(api.InputError):
    """A market folder that cannot enter the portfolio, said in French."""


def _questionnaire_details(raw: bytes, name: str) -> dict[str, Any]:
    """Lots (sector, amount), nature and planned notification date, from the questionnaire the market came from."""
    model = moteur.ENGINE.read_questionnaire(raw, moteur.library(), name).model
    lots = {}
    for lot in model.lots:
        amount = lot.montant_estime_ht if lot.montant_estime_ht is not None else lot.montant_maximum_ht
        lots[lot.numero] = {"intitule": lot.intitule, "secteur": lot.secteur,
                            "montant_ht": float(amount) if amount is not None else None}
    return {"lots": lots, "nature": model.marche.nature, "debut": model.marche.date_notification_prevue}


@transaction.atomic
def record(files: dict[str, bytes], organisation: Organisation, user, *, origine: str,
           questionnaire: Optional[tuple[bytes, str]] = None, marche: Optional[Marche] = None,
           generation: Optional[Generation] = None) -> tuple[MarcheSuivi, bool]:
    """The portfolio record of one generated market (created, or updated when the reference is known); (record, created)."""
    facts = api.market_record(files)
    details: dict[str, Any] = {}
    if questionnaire is not None:
        blobs.put(questionnaire[0])  # kept: the library desk previews fragments on the portfolio's markets
        try:
            details = _questionnaire_details(*questionnaire)
        except api.ClausierError:
            details = {}  # a questionnaire that no longer reads with today's library: the grid's figures suffice
    manifest_sha = blobs.put(files["manifest.json"])
    grid_sha = blobs.put(files[facts["grille"]])
    suivi = MarcheSuivi.objects.select_for_update().filter(organisation=organisation, reference=facts["reference"]).first()
    created = suivi is None
    if created:
        suivi = MarcheSuivi(organisation=organisation, reference=facts["reference"])
    suivi.origine = origine
    suivi.marche = marche or suivi.marche
    suivi.generation = generation or (None if origine == MarcheSuivi.DOSSIER else suivi.generation)
    suivi.objet = facts["objet"][:500]
    suivi.acheteur_nom = facts["acheteur"][:300]
    suivi.facilitateur_nom = facts["facilitateur"][:300]
    suivi.bibliotheque = facts["bibliotheque"][:40]
    suivi.manifeste_sha256, suivi.grille_sha256, suivi.grille_nom = manifest_sha, grid_sha, facts["grille"]
    suivi.questionnaire_sha256 = facts["questionnaire"]["sha256"]
    suivi.types_retenus = facts["types_retenus"]
    suivi.axes = facts["axes"]
    suivi.nature = details.get("nature") or suivi.nature
    if suivi.duree_mois is None:
        suivi.duree_mois = facts["duree_totale_mois"]
    if suivi.debut_execution is None and details.get("debut"):
        suivi.debut_execution = details["debut"]
    suivi.save()
    lots: dict[int, dict[str, Any]] = {}
    for item in facts["engagements"]:
        lots.setdefault(item["lot"], {"intitule": item["intitule"], "secteur": "", "montant_ht": None})
    for numero, lot in details.get("lots", {}).items():
        lots[numero] = lot
    known = {lot.numero: lot for lot in suivi.lots.all()}
    for numero, values in sorted(lots.items()):
        lot = known.pop(numero, None) or LotSuivi(marche=suivi, numero=numero)
        lot.intitule = values["intitule"][:300]
        lot.secteur = values["secteur"] or lot.secteur
        lot.montant_ht = values["montant_ht"] if values["montant_ht"] is not None else lot.montant_ht
        lot.save()
    LotSuivi.objects.filter(pk__in=[lot.pk for lot in known.values()]).delete()
    suivi.engagements.all().delete()
    Engagement.objects.bulk_create([Engagement(marche=suivi, lot=item["lot"], type=item["type"], unite=item["unite"][:20],
                                               engagement=item["engagement"], penalite_unitaire=item["penalite_unitaire"])
                                    for item in facts["engagements"]])
    acces.journal(None, "suivi_ajout" if created else "suivi_mise_a_jour", suivi=suivi, user=user,
                  origine=origine, manifeste=manifest_sha, bibliotheque=suivi.bibliotheque,
                  **({} if user is not None else {"par": "ligne de commande (clausier portefeuille)"}))
    return suivi, created


def from_generation(generation: Generation, files: dict[str, bytes], questionnaire: tuple[bytes, str], user) -> Optional[MarcheSuivi]:
    """A DCE generated through the web enters its buyer's portfolio. Never stops the generation: a failure is an
    incident in the server's log, the DCE is there all the same."""
    try:
        suivi, _ = record(files, generation.marche.organisation, user, origine=MarcheSuivi.WEB, questionnaire=questionnaire,
                          marche=generation.marche, generation=generation)
        return suivi
    except Exception:
        log.exception("marché %s non ajouté au suivi", generation.reference)
        return None


# ----------------------------------------------------------------------------- imports from generated folders


@dataclass
class Outcome:
    source: str           # the folder or archive it came from
    reference: str
    suivi: Optional[MarcheSuivi]
    created: bool
    message: str          # French: what happened, or why not


def folders_in_zip(data: bytes, name: str) -> list[tuple[str, dict[str, bytes]]]:
    """Market folders of an archive: a DCE zip (``<reference>/…``) or a zip of a whole ``batch`` output
    (``sortie/<reference>/…``); each folder holding a manifest is one market. The archive guard of the engine
    applies (size, compression ratio) before anything is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportRefused(f"{name} : ce n'est pas une archive .zip") from None
    with archive:
        total = sum(i.file_size for i in archive.infolist())
        if total > 200 * 1024 * 1024 or any(i.file_size > 100 * max(i.compress_size, 1) for i in archive.infolist()):
            raise ImportRefused(f"{name} : archive démesurée (plus de 200 Mo décompressés, ou compression anormale)")
        folders: dict[str, dict[str, bytes]] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            path = PurePosixPath(info.filename)
            if ".." in path.parts or path.is_absolute() or len(path.parts) < 2:
                continue
            folder = str(path.parent)
            entries = folders.setdefault(folder, {})
            if len(entries) < MAX_MARKET_FILES:
                entries[path.name] = archive.read(info)
    found = [(f"{name} : {folder}", files) for folder, files in sorted(folders.items()) if "manifest.json" in files]
    if not found:
        raise ImportRefused(f"{name} : aucun dossier de marché (manifest.json) dans l'archive")
    return found


def folders_on_disk(root: Path) -> list[tuple[str, dict[str, bytes]]]:
    """Market folders of a ``generate``/``batch`` output folder (``root/<reference>/manifest.json``), or ``root``
    itself when it is one market's folder."""
    candidates = [root] if (root / "manifest.json").is_file() else sorted(
        p.parent for p in root.glob("*/manifest.json") if not p.parent.name.startswith("."))
    out = []
    for folder in candidates:
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())[:MAX_MARKET_FILES] if p.is_file()}
        out.append((str(folder), files))
    return out


def questionnaires_by_hash(items: Iterable[tuple[str, bytes]]) -> dict[str, tuple[bytes, str]]:
    import hashlib

    return {hashlib.sha256(raw).hexdigest(): (raw, name) for name, raw in items
            if name.lower().endswith(QUESTIONNAIRE_TYPES)}


def import_folders(folders: list[tuple[str, dict[str, bytes]]], organisation: Organisation, user,
                   questionnaires: Optional[dict[str, tuple[bytes, str]]] = None) -> list[Outcome]:
    """Each market folder checked by its manifest and recorded; one bad folder never stops the others."""
    out = []
    for source, files in folders:
        reference = ""
        try:
            manifest_raw = files.get("manifest.json", b"")
            wanted = _questionnaire_hash(manifest_raw)
            suivi, created = record(files, organisation, user, origine=MarcheSuivi.DOSSIER,
                                    questionnaire=(questionnaires or {}).get(wanted) if wanted else None)
            reference = suivi.reference
            what = "ajouté au suivi" if created else "déjà suivi : fiche mise à jour"
            lots = suivi.lots.count()
            out.append(Outcome(source, reference, suivi, created,
                               f"{what} ({lots} lot{'s' if lots > 1 else ''}, bibliothèque {suivi.bibliotheque})"))
        except api.ClausierError as exc:
            out.append(Outcome(source, reference, None, False, exc.message))
    return out


def _questionnaire_hash(manifest_raw: bytes) -> str:
    import json

    try:
        data = json.loads(manifest_raw)
    except ValueError:
        return ""
    questionnaire = data.get("questionnaire") if isinstance(data, dict) else None
    return str(questionnaire.get("sha256") or "") if isinstance(questionnaire, dict) else ""
