"""Monthly returns: grids the enterprises send back, consolidated by the engine and kept as dated returns.

One deposit is one or many files for one month. Each file is matched to a market of the portfolio by the
reference in its hidden sheet (``api.grid_identity``); the grid clausier generated for that market, kept in the
file store with its manifest, is laid out as ``suivi consolider --marches`` expects, so the commitments counted
are the generated ones and every difference in the returned grid is reported at its cell. Then the engine's
consolidation runs on all files at once, with its guards: one grid per market is counted, a damaged or foreign
file is refused with the reason, problems are listed per cell.

An accepted grid becomes the market's return for that month, with the consolidation's figures exactly as
``suivi consolider --format json`` writes them; a month sent again replaces the earlier return (kept, marked
replaced, the change recorded in the audit trail); the same file sent twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from django.db import transaction
from django.utils import timezone

from drafting import api

from .. import acces, blobs, moteur
from .models import MarcheSuivi, Retour

SAFE_NAME = re.compile(r"[^\w.\- ()]+")
ACCEPTE, REMPLACE, INCHANGE, ECARTE, REFUSE = "accepte", "remplace", "inchange", "ecarte", "refuse"
ETATS = {ACCEPTE: "retour enregistré", REMPLACE: "retour du mois remplacé", INCHANGE: "déjà reçu, rien de changé",
         ECARTE: "grille écartée", REFUSE: "fichier refusé"}


@dataclass
class Issue:
    """What became of one file of a deposit."""

    fichier: str
    etat: str
    message: str
    suivi: Optional[MarcheSuivi] = None
    retour: Optional[Retour] = None
    remplace: Optional[Retour] = None
    avertissements: list[str] = field(default_factory=list)

    @property
    def libelle(self) -> str:
        return ETATS[self.etat]


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_label(day: dt.date) -> str:
    """« mars 2027 »."""
    from .tableau import month_long

    return month_long(day)


def insertion_totals(figures: dict[str, Any]) -> tuple[float, Optional[float]]:
    """(hours done, hours committed) of the insertion clause over every lot, from a consolidation's market entry."""
    lines = [line for line in figures.get("lignes", []) if line.get("type") == "insertion"]
    done = sum(line.get("realise") or 0 for line in lines)
    due = [line["engagement"] for line in lines if line.get("engagement") is not None]
    return float(done), (float(sum(due)) if due else None)


def _safe(name: str) -> str:
    base = SAFE_NAME.sub("_", Path(name or "grille.xlsx").name).strip() or "grille.xlsx"
    return base[:120]


def deposit(uploads: list[tuple[str, bytes]], mois: dt.date, user, portee: acces.Portee,
            organisation_id: Optional[int] = None) -> list[Issue]:
    """Consolidate the returned grids of one month and record them; one bad file never stops the others."""
    mois = first_of_month(mois)
    issues: list[Issue] = []
    with tempfile.TemporaryDirectory(prefix="clausier-retours-") as tmp:
        root = Path(tmp)
        shown: dict[str, str] = {}       # temporary path -> the name the facilitator gave
        data_of: dict[str, bytes] = {}
        candidates: list[Path] = []
        markets: dict[str, MarcheSuivi] = {}
        identities: dict[str, dict[str, Any]] = {}
        visible = portee.filtre(MarcheSuivi.objects.select_related("organisation"))
        if organisation_id is not None:
            visible = visible.filter(organisation_id=organisation_id)
        for index, (name, data) in enumerate(uploads):
            folder = root / "grilles" / f"{index:05d}"
            folder.mkdir(parents=True)
            path = folder / _safe(name)
            path.write_bytes(data)
            shown[str(path)] = name
            data_of[str(path)] = data
            identity = api.grid_identity(path)
            identities[str(path)] = identity or {}
            if identity is not None:
                found = [m for m in visible.filter(reference=identity["reference"])]
                if not found:
                    issues.append(Issue(name, REFUSE, f"marché {identity['reference']} absent du suivi"
                                        + (" de cet acheteur" if organisation_id else "")
                                        + " : ajoutez d'abord ce marché (génération dans l'application, ou import de son "
                                          "dossier de marché généré)"))
                    continue
                if len(found) > 1:
                    names = ", ".join(sorted(m.organisation.nom for m in found))
                    issues.append(Issue(name, REFUSE, f"la référence {identity['reference']} existe chez plusieurs "
                                        f"acheteurs ({names}) : choisissez l'acheteur dans le formulaire"))
                    continue
                markets[str(path)] = found[0]
            candidates.append(path)  # an unreadable file too: the consolidation says why
        generated = _generated_folder(root / "marches", {m.reference: m for m in markets.values()})
        result = moteur.ENGINE.consolidate(candidates, generated)
        data = moteur.ENGINE.consolidation_data(result)

        def said(text: str) -> str:
            for path, name in shown.items():
                text = text.replace(path, f"« {name} »")
            return text.replace(str(root / "marches"), "les grilles générées du suivi")

        for failure in data["fichiers_non_lus"]:
            issues.append(Issue(shown.get(failure["fichier"], failure["fichier"]), REFUSE, said(failure["erreur"])))
        for aside in data["grilles_ecartees"]:
            issues.append(Issue(shown.get(aside["fichier"], aside["fichier"]), ECARTE, said(aside["raison"]),
                                markets.get(aside["fichier"])))
        for entry in data["marches"]:
            path = entry["fichier"]
            suivi = markets.get(path)
            if suivi is None:  # read by the engine, yet its hidden sheet could not be peeked at: refuse, say so
                issues.append(Issue(shown[path], REFUSE, "grille lue mais marché non identifié : renvoyez la grille "
                                                         "fournie avec le DCE"))
                continue
            issues.append(_record(suivi, mois, shown[path], data_of[path], int(identities[path].get("format") or 2),
                                  entry, user, said))
    order = {ACCEPTE: 0, REMPLACE: 0, INCHANGE: 1, ECARTE: 2, REFUSE: 3}
    return sorted(issues, key=lambda i: (order[i.etat], i.fichier))


def _generated_folder(folder: Path, markets: dict[str, MarcheSuivi]) -> Path:
    """``<reference>/manifest.json`` and the generated grid of each market concerned: what ``--marches`` reads."""
    folder.mkdir()
    for reference, suivi in markets.items():
        target = folder / reference
        target.mkdir()
        (target / "manifest.json").write_bytes(blobs.get(suivi.manifeste_sha256))
        (target / suivi.grille_nom).write_bytes(blobs.get(suivi.grille_sha256))
    return folder


def _record(suivi: MarcheSuivi, mois: dt.date, name: str, raw: bytes, grid_format: int, entry: dict[str, Any], user,
            said) -> Issue:
    figures = {k: v for k, v in entry.items() if k != "problemes"}
    figures["fichier"] = name
    problems = [{"cellule": p["cellule"], "message": said(p["message"])} for p in entry["problemes"]]
    digest = hashlib.sha256(raw).hexdigest()
    kept = grid_format >= 2  # a grid of format 1 carries an eligibility category: its file is not kept
    done, due = insertion_totals(figures)
    warnings = []
    if suivi.debut_execution and mois < first_of_month(suivi.debut_execution):
        warnings.append(f"{month_label(mois)} précède le début d'exécution ({api.fr_date(suivi.debut_execution)}) : "
                        "vérifiez le mois choisi")
    with transaction.atomic():
        current = Retour.objects.select_for_update().filter(marche=suivi, mois=mois, actif=True).first()
        if current is not None and kept and current.fichier_sha256 == digest:
            return Issue(name, INCHANGE, f"{suivi.reference}, {month_label(mois)} : ce fichier est déjà le retour du mois",
                         suivi, current)
        before = (Retour.objects.filter(marche=suivi, actif=True, mois__lt=mois).order_by("-mois").first())
        if before is not None and done + 1e-9 < before.heures_realisees:
            warnings.append(f"heures réalisées en baisse depuis {month_label(before.mois)} "
                            f"({api.fr_nombre(before.heures_realisees)} → {api.fr_nombre(done)}) : est-ce bien la grille "
                            f"de {month_label(mois)} ?")
        if current is not None:
            current.actif = False
            current.save(update_fields=["actif"])
        retour = Retour.objects.create(
            marche=suivi, mois=mois, depose_par=user, fichier_nom=name[:200],
            fichier_sha256=blobs.put(raw) if kept else "", fichier_octets=len(raw), format=grid_format,
            figures=figures, problemes=problems, heures_realisees=done, heures_engagees=due,
            actions_realisees=int(figures["indicateurs"].get("actions_realisees") or 0),
            beneficiaires=int(figures["indicateurs"].get("beneficiaires") or 0),
            penalites=float(sum(line.get("penalites") or 0 for line in figures["lignes"])),
            nb_problemes=len(problems), remplace=current)
        detail: dict[str, Any] = {"mois": mois.isoformat(), "fichier": name, "sha256": digest if kept else "",
                                  "heures_realisees": done, "problemes": len(problems)}
        if current is not None:
            detail["remplace"] = {"depose_le": current.depose_le.isoformat(), "sha256": current.fichier_sha256,
                                  "heures_realisees": current.heures_realisees, "problemes": current.nb_problemes}
        acces.journal(None, "retour_remplace" if current else "retour_depose", suivi=suivi, user=user, **detail)
    if not kept:
        warnings.append("grille au format 1 (elle porte une colonne « catégorie d'éligibilité ») : chiffres enregistrés, "
                        "fichier non conservé ; demandez au titulaire d'utiliser la grille actuelle")
    what = f"{suivi.reference}, {month_label(mois)} : {api.fr_nombre(done)} heures réalisées"
    if due:
        what += f" sur {api.fr_nombre(due)} engagées"
    count = len(problems)
    what += (", aucun problème signalé" if not count else
             f", {count} problème{'s' if count > 1 else ''} signalé{'s' if count > 1 else ''}")
    if current is not None:
        what += (f" ; remplace le retour déposé le {api.fr_date(timezone.localtime(current.depose_le).date())} "
                 f"({api.fr_nombre(current.heures_realisees)} heures)")
    return Issue(name, REMPLACE if current else ACCEPTE, what, suivi, retour, current, warnings)


def withdraw(retour: Retour, user) -> None:
    """A return deposited for the wrong month or market: no longer counted (kept, and recorded)."""
    with transaction.atomic():
        retour.actif = False
        retour.retire_le = timezone.now()
        retour.save(update_fields=["actif", "retire_le"])
        acces.journal(None, "retour_retire", suivi=retour.marche, user=user, mois=retour.mois.isoformat(),
                      fichier=retour.fichier_nom, sha256=retour.fichier_sha256)
