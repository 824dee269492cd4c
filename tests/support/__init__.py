"""Helpers shared by the tests: paths, and questionnaires written for a test.

Shared helpers live here (and in the modules beside this one), never in a test module: a test
module imports from ``tests.support``, not from another test module.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

BASE: dict[str, Any] = {
    "version": 1,
    "acheteur": {"nom": "Ville de Test", "type": "collectivite"},
    "facilitateur": {"structure": "PLIE de Test", "contact": "Alex Martin", "courriel": "a.martin@example.org",
                     "telephone": "04 00 00 00 00"},
    "marche": {"reference": "2026-T-001", "objet": "Travaux de test", "nature": "travaux", "forme": "ordinaire",
               "date_notification_prevue": "2026-12-15", "duree_mois": 24},
    "territoire": {"heures_minimum": 70},
    "lots": [{"numero": 1, "intitule": "Gros œuvre", "secteur": "btp_gros_oeuvre", "montant_estime_ht": 1000000}],
}


def questionnaire(**changes: Any) -> dict[str, Any]:
    """A valid questionnaire, with dotted-path changes: questionnaire(**{"marche.nature": "services"})."""
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
        last = parts[-1]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return data

DELETE = object()
