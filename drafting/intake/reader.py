"""Reading a questionnaire (YAML, JSON or the Excel form) into the validated model.

Every problem of a file is collected and reported at once, each with its path
(``lots[1].montant_estime_ht``) and, for YAML, its line: a buyer fixes the whole
file in one pass instead of discovering errors one run at a time.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from drafting.errors import Issue, QuestionnaireError
from drafting.intake.decode import MAX_BYTES, STDIN, STDIN_NAME, decode
from drafting.intake.form import read_form
from drafting.intake.model import LoadedQuestionnaire
from drafting.intake.validation import validate_data
from drafting.library import Library


def load_questionnaire(path: Path, library: Library) -> LoadedQuestionnaire:
    """Read, parse and validate one file (``-``: standard input); raise QuestionnaireError with every issue."""
    if str(path) == STDIN:
        return parse_questionnaire(sys.stdin.buffer.read(MAX_BYTES + 1), STDIN_NAME, library)
    source = str(path)
    if source.lower().endswith((".xlsx", ".xlsm")):
        return read_form(read_input(path), source, library)
    return parse_questionnaire(read_input(path), source, library)


def read_input(path: Path) -> bytes:
    """A questionnaire file's bytes, or the reason it cannot be read, in French."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise QuestionnaireError(str(path), [Issue("", "fichier introuvable : vérifiez le chemin")]) from None
    except IsADirectoryError:
        raise QuestionnaireError(str(path), [Issue("", "c'est un dossier : indiquez un fichier de questionnaire")]) from None
    except OSError as exc:
        raise QuestionnaireError(str(path), [Issue("", f"fichier illisible ({exc.strerror})")]) from None


def parse_bytes(raw: bytes, source: str, library: Library) -> LoadedQuestionnaire:
    """A questionnaire already in memory (an upload, a request body): the Excel form by its name, else YAML or JSON."""
    if source.lower().endswith((".xlsx", ".xlsm")):
        return read_form(raw, source, library)
    return parse_questionnaire(raw, source, library)


def parse_questionnaire(raw: bytes, source: str, library: Library) -> LoadedQuestionnaire:
    digest = hashlib.sha256(raw).hexdigest()
    data, lines = decode(raw, source)
    model, issues = validate_data(data, lines, library)
    if issues or model is None:
        raise QuestionnaireError(source, issues)
    return LoadedQuestionnaire(model, source, digest)



