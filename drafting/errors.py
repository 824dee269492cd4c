"""Exception tree of clausier, each class carrying the exit code the CLI uses.

Modelled on click's own exceptions: the CLI catches ``ClausierError`` once and
prints its French message, so no traceback ever reaches a buyer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file, located as precisely as we can."""

    path: str
    message: str
    line: int | str | None = None  # a line of a YAML file, or a cell of a workbook (« Lots!E4 »)

    def render(self) -> str:
        if isinstance(self.line, str):
            where = f"{self.line} : "
        else:
            where = f"ligne {self.line} : " if self.line else ""
        target = f"{self.path} : " if self.path else ""
        return f"{where}{target}{self.message}"


class ClausierError(Exception):
    """Base class: a failure explained to the user, never a crash."""

    exit_code = 1
    http_status = 500  # what the web face answers (see the exit-code table in the README)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def render(self) -> str:
        return f"Erreur : {self.message}"


class InputError(ClausierError):
    """Bad input the user can fix (exit code 2, like click's usage errors; HTTP 422)."""

    exit_code = 2
    http_status = 422


class QuestionnaireError(InputError):
    """Every problem of one questionnaire file, reported together."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        count = len(issues)
        noun = "erreur" if count == 1 else "erreurs"
        super().__init__(f"{source} : {count} {noun} dans le questionnaire")

    def render(self) -> str:
        lines = [f"Questionnaire invalide ({self.message}) :"]
        lines += [f"  - {issue.render()}" for issue in self.issues]
        lines.append("Corrigez ces points puis relancez la commande ; aucun fichier n'a été écrit.")
        return "\n".join(lines)


class LibraryError(ClausierError):
    """The clause library is inconsistent: a facilitator must fix it (exit code 3)."""

    exit_code = 3


class TemplateRenderError(LibraryError):
    """A fragment failed to render: named by id and line so it can be found."""

    def __init__(self, fragment_id: str, line: int | None, detail: str) -> None:
        where = f", ligne {line}" if line else ""
        super().__init__(f"fragment {fragment_id}{where} : {detail}")
        self.fragment_id = fragment_id
        self.line = line
        self.detail = detail


class OutputError(ClausierError):
    """Writing the output failed (disk, permissions); nothing partial is left."""

    exit_code = 1
