"""Shared fixtures: the bundled library, a CLI runner, and questionnaires written for a test."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner

from drafting.library import load_library

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


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


@pytest.fixture
def write_q(tmp_path: Path) -> Callable[..., Path]:
    def write(data: Any = None, name: str = "q.yaml", text: str | None = None) -> Path:
        path = tmp_path / name
        if text is None:
            text = yaml.safe_dump(data if data is not None else questionnaire(), allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path
    return write
