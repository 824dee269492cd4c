"""Real clients for the contract tests: LibreOffice headless and Microsoft's Open XML SDK validator."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) absent")


def validator() -> str | None:
    candidates = [os.environ.get("OOXML_VALIDATOR"), str(ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ooxml-validator"),
                  shutil.which("ooxml-validator")]
    return next((c for c in candidates if c and Path(c).exists()), None)


def soffice(args: list[str], profile: Path) -> None:
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "user").mkdir(exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", *args],
                   check=True, capture_output=True, timeout=240)
