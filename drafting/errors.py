"""Every exception of clausier, each with its exit code and its HTTP status: one table for every face.

Modelled on click's own exceptions: a face catches ``ClausierError`` once and shows its French
message, so no traceback ever reaches a buyer. The command line exits with ``exit_code``; the
web application answers with ``http_status``. The README's exit-code table is this module.
"""

from __future__ import annotations

from dataclasses import dataclass

# The exit codes of `clausier`, and what each one promises about what was written.
EXIT_OK = 0
EXIT_BUG = 1          # an unexpected error of clausier itself (its message asks for a report)
EXIT_INPUT = 2        # bad input (questionnaire, file, option): nothing written
EXIT_LIBRARY = 3      # the clause library is inconsistent (library check found errors included): nothing written
EXIT_OUTPUT = 4       # writing failed (disk full, permissions): nothing written, nothing half-written
EXIT_TOOL = 5         # an external tool is missing (LibreOffice for --pdf): nothing written
EXIT_PARTIAL = 6      # the result is written, but some inputs could not be read (listed in it)
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "tout s'est bien passé",
    EXIT_BUG: "erreur interne de clausier (à signaler, avec CLAUSIER_DEBUG=1)",
    EXIT_INPUT: "entrée invalide (questionnaire, fichier, option) : rien n'a été écrit",
    EXIT_LIBRARY: "bibliothèque de clauses incohérente, « library check » compris : rien n'a été écrit",
    EXIT_OUTPUT: "écriture impossible (disque, droits) : rien n'a été écrit",
    EXIT_TOOL: "outil externe absent (LibreOffice pour --pdf) : rien n'a été écrit",
    EXIT_PARTIAL: "résultat écrit, mais des entrées n'ont pas pu être lues ou produites (elles sont listées)",
    EXIT_INTERRUPTED: "interrompu (Ctrl-C) : aucun fichier partiel n'a été laissé",
}


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

    def to_json(self) -> dict[str, object]:
        return {"chemin": self.path, "message": self.message, "ligne": self.line}


class ClausierError(Exception):
    """Base class: a failure explained to the user, never a crash."""

    exit_code = EXIT_BUG
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def render(self) -> str:
        return f"Erreur : {self.message}"

    def issue_list(self) -> list[Issue]:
        """The problems to show beside their fields (a web form, a JSON answer); one when unlocated."""
        return [Issue("", self.message)]


class InputError(ClausierError):
    """Bad input the user can fix (exit code 2, like click's usage errors; HTTP 422)."""

    exit_code = EXIT_INPUT
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

    def issue_list(self) -> list[Issue]:
        return list(self.issues)


class ModelError(InputError):
    """The buyer's CCAP cannot host the articles: nothing written."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"modèle de CCAP {source} : {message}")


class ProgrammeError(InputError):
    """A purchasing programme file that cannot be read at all: nothing written."""

    def __init__(self, source: str, why: str) -> None:
        super().__init__(f"{source} : {why}")


class GridError(InputError):
    """A returned grid that cannot be consolidated at all; the message says why, in French.

    Consolidation reports it beside the grids it could read (a partial result, exit code 6).
    """


class LibraryError(ClausierError):
    """The clause library is inconsistent: a facilitator must fix it (exit code 3)."""

    exit_code = EXIT_LIBRARY
    http_status = 500


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

    exit_code = EXIT_OUTPUT
    http_status = 500


class PdfUnavailable(ClausierError):
    """--pdf asked on a machine without LibreOffice: said before anything is written."""

    exit_code = EXIT_TOOL
    http_status = 503


class PartialResult(ClausierError):
    """The command wrote its result but some inputs failed; raised after the result is out."""

    exit_code = EXIT_PARTIAL
    http_status = 207

    def render(self) -> str:
        return self.message
