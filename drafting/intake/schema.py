"""The questionnaire's JSON Schema, generated from the model (never written by hand).

Editors (VS Code with the YAML extension, IntelliJ…) read it through the
``# yaml-language-server: $schema=…`` line of a questionnaire and then complete
keys and flag typos as the buyer types. Class docstrings are for developers, so
they are dropped; the keys keep French titles taken from their names.
"""

from __future__ import annotations

import json
from typing import Any

from drafting.intake.model import QUESTIONNAIRE_VERSION, Questionnaire

SCHEMA_ID = "urn:clausier:questionnaire:1"
SCHEMA_FILE = "questionnaire.schema.json"


def questionnaire_schema() -> dict[str, Any]:
    schema = Questionnaire.model_json_schema(mode="validation")
    for definition in schema.get("$defs", {}).values():
        definition.pop("description", None)
        _french_titles(definition)
    _french_titles(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"Questionnaire clausier, version {QUESTIONNAIRE_VERSION}",
        "description": "Description d'un marché public pour la rédaction de ses clauses sociales (clausier).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def _french_titles(node: dict[str, Any]) -> None:
    """pydantic titles are the key names capitalised (« Montant Estime Ht »): keep the key itself."""
    for key, prop in node.get("properties", {}).items():
        if isinstance(prop, dict):
            prop["title"] = key


def schema_text() -> str:
    return json.dumps(questionnaire_schema(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
