"""Word craft of the pieces: table of contents, built-in headings, column widths, amounts in
letters, annexes, and the buyer's own CCAP as a model (--ccap-modele)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from cli import main
from tests.support import EXAMPLES
from tests.support.word import buyer_ccap

REF = "2026-TRV-014"


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("word")
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out),
                                       "--premier-article", "7"])
    assert result.exit_code == 0, result.output
    return out / REF


def document_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("word/document.xml").decode("utf-8")


def all_text(document: docx.document.Document) -> str:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_ccap_opens_on_a_table_of_contents_of_its_articles(school):
    path = school / f"{REF}_CCAP_clauses-sociales.docx"
    xml = document_xml(path)
    assert 'w:instrText xml:space="preserve"> TOC \\o "1-2" \\h \\z \\u </w:instrText>' in xml
    document = docx.Document(str(path))
    toc = [p.text for p in document.paragraphs if p.style.name.lower() in ("toc 1", "toc 2")]
    headings = [p.text for p in document.paragraphs if p.style.name.lower() in ("heading 1", "heading 2")]
    assert toc == headings and toc[0].startswith("Article 7 –") and "7.1 Objet et fondement juridique" in toc
    with zipfile.ZipFile(path) as archive:
        assert b'<w:updateFields w:val="true"/>' in archive.read("word/settings.xml")


def test_articles_use_built_in_heading_styles_for_the_navigation_pane(school):
    document = docx.Document(str(school / f"{REF}_CCAP_clauses-sociales.docx"))
    levels = {p.style.name.lower() for p in document.paragraphs if p.text.startswith(("Article", "7."))}
    assert levels <= {"heading 1", "heading 2", "toc 1", "toc 2"}
    assert document.styles["Heading 1"].element.pPr.xpath("./w:outlineLvl")[0].get(docx.oxml.ns.qn("w:val")) == "0"


def test_table_columns_follow_their_content(school):
    document = docx.Document(str(school / f"{REF}_CCAP_clauses-sociales.docx"))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "Lot")
    widths = [int(c.get(docx.oxml.ns.qn("w:w"))) for c in table._tbl.tblGrid.findall(docx.oxml.ns.qn("w:gridCol"))]
    assert widths[0] < widths[1] and sum(widths) == 9072
    total = table.rows[-1].cells
    assert total[0].text == "Total" and all(c.text.strip() for c in total)


def test_commitment_form_gives_amounts_and_hours_in_letters(school):
    text = all_text(docx.Document(str(school / f"{REF}_AE_annexe-engagements-sociaux.docx")))
    assert "1\u202f500\u202f000,00\u00a0€ (un million cinq cent mille euros)" in text
    assert "(neuf cent soixante-quatre heures)" in text
    assert "trente-cinq euros" in text  # the penalty per hour: at least the works hourly cost
    assert "[[" not in text and "{{" not in text


def test_annexes_for_candidates_are_written_with_the_reference_in_their_name(school):
    names = sorted(p.name for p in school.glob("*.docx"))
    assert f"{REF}_annexe-publics-eligibles.docx" in names and f"{REF}_annexe-facilitateur.docx" in names
    publics = all_text(docx.Document(str(school / f"{REF}_annexe-publics-eligibles.docx")))
    assert "demandeurs d'emploi de longue durée" in publics.replace("’", "'")
    contact = all_text(docx.Document(str(school / f"{REF}_annexe-facilitateur.docx")))
    assert "Camille Martin" in contact or "c.martin@" in contact


def test_dates_and_amounts_keep_french_no_break_spaces(school):
    note = all_text(docx.Document(str(school / f"{REF}_note-de-synthese.docx")))
    assert "15\u00a0décembre 2026" in note
    ccap = all_text(docx.Document(str(school / f"{REF}_CCAP_clauses-sociales.docx")))
    assert " :" not in ccap and " ;" not in ccap and "« " not in ccap


def test_articles_are_written_into_the_buyers_ccap(tmp_path):
    model = buyer_ccap(tmp_path / "ccap-acheteur.docx")
    out = tmp_path / "sortie"
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out),
                                       "--ccap-modele", str(model), "--premier-article", "2"])
    assert result.exit_code == 0, result.output
    written = out / REF / f"{REF}_CCAP.docx"
    document = docx.Document(str(written))
    texts = [p.text for p in document.paragraphs]
    assert "[[CLAUSES SOCIALES]]" not in texts
    assert texts[0] == "Article 1 – Objet"
    start = texts.index("Article 2 – Clause sociale d’insertion")
    assert texts.index("Article 9 – Dérogations au CCAG") > start
    assert document.paragraphs[start].style.name.lower() == "heading 1"
    assert document.sections[0].header.paragraphs[0].text == "CCAP — Ville modèle"
    with zipfile.ZipFile(model) as before, zipfile.ZipFile(written) as after:
        for name in before.namelist():
            if name not in ("word/document.xml", "word/styles.xml", "word/settings.xml"):
                assert before.read(name) == after.read(name), name


@pytest.mark.parametrize("make, message", [
    (lambda p: buyer_ccap(p, placeholders=()), "introuvable"),
    (lambda p: (p.write_bytes(b"pas un document"), p)[1], "n'est pas un document Word"),
    (lambda p: buyer_ccap(p, placeholders=("[[CLAUSES SOCIALES]]", "[[CLAUSES SOCIALES]]")), "figure 2 fois"),
])
def test_unusable_buyer_ccap_is_refused_and_nothing_is_written(tmp_path, make, message):
    model = make(tmp_path / "modele.docx")
    out = tmp_path / "sortie"
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out),
                                       "--ccap-modele", str(model)])
    assert result.exit_code == 2 and message in result.output
    assert not out.exists() or not any(out.iterdir())


def test_pdf_without_libreoffice_says_so_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUSIER_SOFFICE", str(tmp_path / "absent" / "soffice"))
    out = tmp_path / "sortie"
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out), "--pdf"])
    assert result.exit_code == 5 and "LibreOffice" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_pieces_are_identical_from_one_run_to_the_next(tmp_path):
    runs = []
    for name in ("a", "b"):
        result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path / name)])
        assert result.exit_code == 0
        runs.append({p.name: p.read_bytes() for p in (tmp_path / name / REF).iterdir()})
    assert runs[0] == runs[1]


def test_section_break_on_the_placeholder_is_kept_and_inline_text_is_refused(tmp_path):
    import copy

    from docx.enum.section import WD_ORIENT

    document = docx.Document()
    document.add_heading("Article 1 – Objet", 1)
    placeholder = document.add_paragraph("[[CLAUSES SOCIALES]]")
    section = copy.deepcopy(document.sections[0]._sectPr)
    placeholder._p.get_or_add_pPr().append(section)  # Word keeps a section break in its last paragraph
    document.sections[-1].orientation = WD_ORIENT.LANDSCAPE
    document.add_paragraph("Annexe en paysage.")
    model = tmp_path / "sections.docx"
    document.save(str(model))
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(out),
                                       "--ccap-modele", str(model)])
    assert result.exit_code == 0, result.output
    written = docx.Document(str(out / REF / f"{REF}_CCAP.docx"))
    assert len(written.sections) == 2 and written.sections[-1].orientation == WD_ORIENT.LANDSCAPE
    texts = [p.text for p in written.paragraphs]
    # --premier-article not given: the social articles follow the buyer's one article
    assert "Article 2 – Clause sociale d’insertion" in texts and "Article 1 – Clause sociale d’insertion" not in texts
    with zipfile.ZipFile(out / REF / f"{REF}_CCAP.docx") as archive:
        assert b'<w:updateFields w:val="true"/>' in archive.read("word/settings.xml")

    inline = tmp_path / "inline.docx"
    doc = docx.Document()
    doc.add_paragraph("Clauses ci-après : [[CLAUSES SOCIALES]] (voir l'annexe 3)")
    doc.save(str(inline))
    refused = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path / "p"),
                                        "--ccap-modele", str(inline)])
    assert refused.exit_code == 2 and "doit être seul" in refused.output and "voir l'annexe 3" in refused.output


def test_a_docx_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bombe.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for index in range(3):
            archive.writestr(f"word/media/zero{index}.bin", b"\0" * 45_000_000)
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path / "o"),
                                       "--ccap-modele", str(bomb)])
    assert result.exit_code == 2 and "démesuré" in result.output
