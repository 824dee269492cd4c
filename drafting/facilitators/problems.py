"""What ``library check`` reports: one problem, its severity, where it is (file and line), what to do.

Kept apart so every family of checks (fragments, typography, references) reports the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from drafting.library import (
    Fragment,
)

ERREUR, AVERTISSEMENT, INFO = "erreur", "avertissement", "info"


@dataclass(frozen=True)
class Problem:
    severity: str
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} : {self.severity} [{self.code}] {self.message}"


def where(fragment: Fragment, body_line: Optional[int] = None) -> str:
    if body_line is None:
        return fragment.path
    return f"{fragment.path}:{fragment.body_first_line + body_line - 1}"


def summary(problems: Iterable[Problem]) -> dict[str, int]:
    counts = {ERREUR: 0, AVERTISSEMENT: 0, INFO: 0}
    for problem in problems:
        counts[problem.severity] += 1
    return counts
