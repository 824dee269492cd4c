"""The plan as a person reads it (decide.plan_text) and as programs read it (its JSON contract)."""

from __future__ import annotations

import json

from drafting import api
from drafting.decide.plan_text import plan_json, plan_text
from drafting.decide.policy import build_plan
from drafting.intake.validation import validate_data
from tests.support import EXAMPLES, questionnaire


def plan_of(data: dict, library):
    model, issues = validate_data(data, {}, library)
    assert model is not None, issues
    return build_plan(model, library)


def test_text_has_the_market_each_lot_its_sections_and_the_decp(library):
    data = questionnaire()
    data["lots"].append({"numero": 2, "intitule": "Signalétique", "secteur": "btp_peinture", "montant_estime_ht": 30000})
    text = plan_text(plan_of(data, library))
    lines = text.splitlines()
    assert lines[0] == "Marché 2026-T-001 — Travaux de test"
    assert lines[1].startswith("Acheteur : Ville de Test · montant total 1 030 000,00 € HT · bibliothèque ")
    assert "Lot n° 1 — Gros œuvre (secteur : Gros œuvre, maçonnerie)" in lines
    assert "Lot n° 2 — Signalétique" in text
    assert {"  Retenu :", "  À étudier :", "  Écarté :"} <= set(lines)
    assert any(line.startswith("Données essentielles (DECP) — considerationsSociales : ") for line in lines)
    assert "\u00a0" not in text and "\u202f" not in text  # a terminal shows plain spaces
    assert max(len(line) for line in lines) <= 100


def test_text_ends_with_what_is_left_to_complete(library):
    loaded = api.read_questionnaire(EXAMPLES / "example-ecole.yaml", library)
    result = api.plan(loaded, library)
    text = api.plan_text(result)
    assert f"À compléter avant publication ({len(result.a_completer)}) :" in text
    assert text.endswith("\n")


def test_json_is_the_contract_and_says_the_same_as_the_text(library):
    result = plan_of(questionnaire(), library)
    data = json.loads(plan_json(result))
    text = plan_text(result)
    assert list(data) == ["marche", "bibliotheque", "parametres", "lots", "avertissements", "decp", "a_completer"]
    assert data["marche"]["reference"] in text
    lot = data["lots"][0]
    flat = text.replace("\n      ", " ").replace("\n        ", " ")
    for consideration in lot["considerations"]:
        assert consideration["statut"] in ("retenue", "a_etudier", "ecartee")
        first = consideration["raisons"][0].replace("\u00a0", " ").replace("\u202f", " ")
        assert " ".join(first.split()[:6]) in " ".join(flat.split())
    assert ", ".join(data["decp"]) in text
