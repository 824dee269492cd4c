"""Real office software: LibreOffice headless opens what clausier writes (CI installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cli import main
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.office,
              pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) absent")]


def convert(path: Path, out: Path, target: str) -> Path:
    profile = out / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                    "--convert-to", target, "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    produced = out / (path.stem + "." + target.split(":")[0])
    assert produced.exists() and produced.stat().st_size > 0
    return produced


def test_ccap_converts_to_pdf_with_its_figures(runner, tmp_path):
    result = runner.invoke(main, ["generate", str(EXAMPLES / "example-ecole.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 0
    ccap = tmp_path / "2026-TRV-014" / "2026-TRV-014_CCAP_clauses-sociales.docx"
    pdf = convert(ccap, tmp_path, "pdf")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "964" in text and "Article 1" in text and "Page 1 / " in text
