"""The rendered text of each consideration type, held in snapshot files reviewed on change.

A wording change in the library, or an engine change that alters it, shows up
here as a readable diff. After reviewing it, refresh the files with
``CLAUSIER_SNAPSHOTS=maj .venv/bin/python -m pytest tests/compose/test_snapshots.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drafting.compose.pieces import compose, piece_text
from drafting.decide.policy import build_plan
from drafting.intake.reader import load_questionnaire
from drafting.library import CONSIDERATION_TYPES, load_library

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
LIBRARY = load_library()
ESSAIS = sorted((LIBRARY.root / "essais").glob("*.yaml"))
EXAMPLES = sorted((ROOT / "examples").glob("*.y*ml")) + sorted((ROOT / "examples").glob("*.json"))


def only(q, type_: str):
    """The questionnaire with ``type_`` imposed on every lot and every other type set aside."""
    choices = {t: ("oui" if t == type_ else "non") for t in CONSIDERATION_TYPES}
    lots = [lot.model_copy(update={"considerations": lot.considerations.model_copy(update=choices)}) for lot in q.lots]
    return q.model_copy(update={"lots": lots})


def rendered(type_: str) -> str:
    out = []
    for path in ESSAIS:
        q = only(load_questionnaire(path, LIBRARY).model, type_)
        for piece in compose(build_plan(q, LIBRARY), LIBRARY).pieces:
            out.append(f"===== {path.name} — {piece.filename} =====\n{piece_text(piece)}\n")
    return "\n".join(out)


@pytest.mark.parametrize("type_", CONSIDERATION_TYPES)
def test_rendered_text_matches_snapshot(type_):
    text = rendered(type_)
    snapshot = SNAPSHOTS / f"{type_}.txt"
    if os.environ.get("CLAUSIER_SNAPSHOTS") == "maj" or not snapshot.exists():
        snapshot.write_text(text, encoding="utf-8")
        if os.environ.get("CLAUSIER_SNAPSHOTS") != "maj":
            pytest.fail(f"instantané {snapshot.name} créé : relisez-le puis relancez")
    assert text == snapshot.read_text(encoding="utf-8"), (
        f"le texte rendu du type {type_} a changé : relisez la différence, puis "
        "CLAUSIER_SNAPSHOTS=maj pour mettre l'instantané à jour")


@pytest.mark.parametrize("type_", CONSIDERATION_TYPES)
def test_each_type_has_all_its_pieces_and_no_missing_wording(type_):
    text = rendered(type_)
    for piece in ("CCAP", "RC", "AE"):
        assert f"_{piece}_" in text, f"{type_} : pas de {piece}"
    assert "ne fournit pas encore cette rédaction" not in text
    assert "Pénalités" in text


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("type_", CONSIDERATION_TYPES)
def test_every_fragment_renders_for_the_examples(example, type_):
    q = only(load_questionnaire(example, LIBRARY).model, type_)
    composition = compose(build_plan(q, LIBRARY), LIBRARY)
    used = {f.id for f in composition.fragments}
    assert {f"{type_}/ccap", f"{type_}/rc", f"{type_}/ae"} <= used
    for piece in composition.pieces:
        assert "{{" not in piece_text(piece) and "{%" not in piece_text(piece)
