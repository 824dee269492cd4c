"""The buyer's own CCAP (ooxml.ccap_model.BuyerCcap): read once, counted, written into, refused when unfit."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from drafting import api
from drafting.common.archive import LIMITS
from drafting.errors import ModelError
from drafting.ooxml.ccap_model import BuyerCcap
from tests.support import EXAMPLES
from tests.support.word import buyer_ccap


@pytest.fixture
def ccap_pieces(library):
    loaded = api.read_questionnaire(EXAMPLES / "example-ecole.yaml", library)
    return api.engine().pieces(loaded, library, premier_article=2)


def test_articles_before_the_placeholder_are_counted(tmp_path):
    model = BuyerCcap(buyer_ccap(tmp_path / "m.docx").read_bytes(), "m.docx")
    assert model.articles_before_placeholder() == 1
    assert not model.holds_derogations()
    both = BuyerCcap(buyer_ccap(tmp_path / "d.docx", ("[[CLAUSES SOCIALES]]", "[[DÉROGATIONS AU CCAG]]")).read_bytes(), "d")
    assert both.holds_derogations()


def test_articles_and_derogations_are_written_in_place_and_the_rest_kept(tmp_path, ccap_pieces):
    path = buyer_ccap(tmp_path / "d.docx", ("[[CLAUSES SOCIALES]]", "[[DÉROGATIONS AU CCAG]]"))
    model = BuyerCcap(path.read_bytes(), "d.docx")
    ccap = next(p for p in ccap_pieces if p.kind == "ccap")
    out = docx.Document(io.BytesIO(model.insert_articles(ccap, "Les clauses sociales dérogent à l'article 20.1.")))
    texts = [p.text for p in out.paragraphs]
    assert texts[0] == "Article 1 – Objet" and texts[-1] == "Article 9 – Dérogations au CCAG"
    assert texts[-2] == "Les clauses sociales dérogent à l’article 20.1."  # typography: the apostrophe
    assert not any("[[" in t for t in texts)
    assert any(p.style.name == "Heading 1" and "Article 2" in p.text for p in out.paragraphs)
    assert out.sections[0].header.paragraphs[0].text == "CCAP — Ville modèle"
    assert model.insert_articles(ccap, "x") == model.insert_articles(ccap, "x")  # deterministic


def test_a_document_without_the_placeholder_is_refused_by_its_name(tmp_path, ccap_pieces):
    path = buyer_ccap(tmp_path / "sans.docx", ())
    model = BuyerCcap(path.read_bytes(), "sans.docx")
    with pytest.raises(ModelError, match=r"sans\.docx.*\[\[CLAUSES SOCIALES\]\]"):
        model.insert_articles(next(p for p in ccap_pieces if p.kind == "ccap"))


@pytest.mark.parametrize("data,message", [
    (b"pas un document", "ce n'est pas un document Word .docx lisible"),
    (b"PK\x05\x06" + bytes(18), "document Word sans word/document.xml"),
])
def test_what_is_not_a_word_document_is_refused(data, message):
    with pytest.raises(ModelError, match=message):
        BuyerCcap(data, "x.docx")


def test_a_bomb_is_refused_by_the_engine_s_one_archive_guard():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/zeros.bin", bytes(LIMITS.ratio_floor * 2))
    with pytest.raises(ModelError, match="compressé plus de 100 fois"):
        BuyerCcap(buffer.getvalue(), "bombe.docx")
