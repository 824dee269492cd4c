"""The decision note (compose.note), read as blocks before any writer: what the buyer reads first."""

from __future__ import annotations

from drafting import api
from drafting.compose.markup import Heading, Paragraph, Run
from drafting.compose.note import build_note
from drafting.compose.pieces import compose
from drafting.decide.policy import build_plan
from drafting.facilitators.check_references import maintainer_markers
from drafting.intake.validation import validate_data
from tests.support import EXAMPLES, questionnaire
from tests.support.blocks import piece_text


def note_of(data: dict, library) -> tuple:
    model, issues = validate_data(data, {}, library)
    assert model is not None, issues
    plan = build_plan(model, library)
    composition = compose(plan, library)
    plan.a_completer = composition.a_completer
    return plan, build_note(plan, library, composition.derogations)


def test_first_page_lists_what_is_left_to_complete_before_publication(library):
    plan, note = note_of(questionnaire(), library)
    first = piece_text(note.preamble)
    assert first.startswith(f"À compléter avant publication ({len(plan.a_completer)}) : ")
    for item in plan.a_completer:
        assert piece_text([Paragraph([Run(item.libelle)])]) in first
    assert note.toc and note.filename == "2026-T-001_note-de-synthese.docx"


def test_the_market_facts_come_from_the_plan_and_its_dates(library):
    _, note = note_of(questionnaire(**{"marche.date_lancement": "2026-10-01"}), library)
    text = piece_text(note.blocks)
    assert "Droit applicable à la procédure : celui du 1er octobre 2026" in text
    assert "Facilitateur : PLIE de Test, Alex Martin." in text
    assert "Bibliothèque de clauses : version" in text


def test_every_lot_has_its_decisions_and_reasons_and_the_legal_bases_are_cited(library):
    plan, note = note_of(questionnaire(), library)
    headings = [b for b in note.blocks if isinstance(b, Heading)]
    titles = [piece_text([h]) for h in headings]
    assert "Décisions et raisons, lot par lot" in titles
    text = piece_text(note.blocks)
    insertion = next(d for d in plan.lots[0].decisions if d.type == "insertion")
    assert piece_text([Paragraph([Run(insertion.raisons[0])])]) in text
    assert "L2112-2" in text  # the insertion clause's basis, with its article


def test_the_derogations_sentence_is_given_to_paste_in_the_ccap_last_article(library):
    _, note = note_of(questionnaire(), library)
    text = piece_text(note.blocks)
    assert "Dérogations au CCAG à récapituler" in text
    assert "CCAG-Travaux" in text and "20.1" in text


def test_the_note_never_prints_a_maintainer_s_marker(library):
    loaded = api.read_questionnaire(EXAMPLES / "example-ecole.yaml", library)
    note = api.engine().pieces(loaded, library)[-1]
    assert note.kind == "note"
    text = piece_text(note.preamble + note.blocks)
    assert maintainer_markers(text) == []
