"""The block markup and the sandboxed rendering of fragments."""

from __future__ import annotations

from pathlib import Path

import pytest

from drafting.compose.markup import BulletItem, Heading, Paragraph, Table, escape, parse_blocks, parse_inline, plain
from drafting.compose.render import render_fragment
from drafting.errors import TemplateRenderError
from drafting.library import parse_fragment


def test_blocks():
    blocks = parse_blocks("# Titre\n\nUne ligne\nqui continue.\n\n- un\n- deux\n| A | B |\n|---|---|\n| 1 | 2 |\n## Sous-titre\n")
    assert [type(b) for b in blocks] == [Heading, Paragraph, BulletItem, BulletItem, Table, Heading]
    assert plain(blocks[1].runs) == "Une ligne qui continue."
    assert [[plain(c) for c in row] for row in blocks[4].rows] == [["A", "B"], ["1", "2"]]
    assert blocks[5].level == 2


def test_inline_bold_and_placeholder():
    runs = parse_inline("Un **gras** et [[À compléter : nom]] fin")
    assert [(r.text, r.bold, r.placeholder) for r in runs] == [
        ("Un ", False, False), ("gras", True, False), (" et ", False, False),
        ("À compléter : nom", False, True), (" fin", False, False)]


def test_escaped_values_stay_text():
    value = escape("# pas un titre | **pas gras** [[pas un trou]]\nni un bloc")
    blocks = parse_blocks(value)
    assert len(blocks) == 1 and isinstance(blocks[0], Paragraph)
    assert plain(blocks[0].runs) == "# pas un titre | **pas gras** [[pas un trou]] ni un bloc"
    assert all(not r.bold and not r.placeholder for r in blocks[0].runs)


def write_fragment(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "frag.txt"
    path.write_text("---\nid: test/ccap\ntype: insertion\npiece: ccap\nordre: 1\nversion: 1.0.0\nstatut: publie\n---\n"
                    + body, encoding="utf-8")
    return path


def test_sandbox_refuses_dunder_access_with_fragment_id_and_line(tmp_path):
    fragment = parse_fragment(write_fragment(tmp_path, "# Titre\n\n{{ marche.__class__.__mro__ }}\n"))
    with pytest.raises(TemplateRenderError) as caught:
        render_fragment(fragment, {"marche": {"objet": "x"}})
    message = caught.value.render()
    assert "test/ccap" in message and "ligne 11" in message


def test_undefined_variable_is_an_error_with_line(tmp_path):
    fragment = parse_fragment(write_fragment(tmp_path, "Ligne un\n{{ inconnue }}\n"))
    with pytest.raises(TemplateRenderError) as caught:
        render_fragment(fragment, {})
    assert "variable indéfinie" in caught.value.render() and "ligne 10" in caught.value.render()


def test_numbers_and_none_are_formatted(tmp_path):
    fragment = parse_fragment(write_fragment(tmp_path, "{{ a }} / {{ b | euros }} / {{ c }}\n"))
    text = render_fragment(fragment, {"a": 1500000, "b": 30, "c": None})
    assert text.startswith("1\u202f500\u202f000 / 30,00\u00a0€ / [[À compléter")


@pytest.mark.parametrize("text", ["simple", "a]]b", "x **gras** y", "[[À compléter : nom]] fin", r"a \| b", ""])
def test_plain_line_fast_path_gives_the_same_runs_as_the_parser(text):
    from drafting.compose.markup import parse_inline

    forced = parse_inline(text + "****")  # two bold toggles change nothing but force the full parser
    assert [(r.text, r.bold, r.placeholder) for r in parse_inline(text)] == \
        [(r.text, r.bold, r.placeholder) for r in forced]


def test_cached_parsing_hands_out_fresh_blocks():
    """Pieces are parsed once per process; composing numbers headings, which must not leak into the cache."""
    text = "# Titre\n\nUn **paragraphe**.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- puce"
    first = parse_blocks(text)
    first[0].number = "Article 9 –"
    first[2].rows.append([])
    again = parse_blocks(text)
    assert again[0].number == "" and len(again[2].rows) == 2
    assert [type(b).__name__ for b in again] == ["Heading", "Paragraph", "Table", "BulletItem"]

