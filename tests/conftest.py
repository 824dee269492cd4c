"""Shared fixtures: the bundled library, a CLI runner, a questionnaire written to a file (helpers: tests.support)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner

from drafting.library import load_library
from tests.support import questionnaire


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write_q(tmp_path: Path) -> Callable[..., Path]:
    def write(data: Any = None, name: str = "q.yaml", text: str | None = None) -> Path:
        path = tmp_path / name
        if text is None:
            text = yaml.safe_dump(data if data is not None else questionnaire(), allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path
    return write
