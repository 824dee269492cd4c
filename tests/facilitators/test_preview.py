"""``library preview`` (facilitators.preview): one fragment rendered on a questionnaire, in Word."""

from __future__ import annotations

import io

import docx
import pytest

from drafting import api
from drafting.errors import LibraryError, OutputError
from drafting.facilitators.preview import preview_fragment, write_preview
from drafting.intake.validation import validate_data
from tests.support import EXAMPLES, questionnaire


def model(data: dict, library):
    result, issues = validate_data(data, {}, library)
    assert result is not None, issues
    return result


def text_of(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells).replace("\u00a0", " ").replace("\u202f", " ")


def test_a_fragment_is_rendered_numbered_on_the_questionnaire(library):
    name, data = preview_fragment(model(questionnaire(), library), library, "insertion/ccap")
    version = library.fragment("insertion/ccap").version
    assert name == f"apercu_insertion_ccap_{version}.docx"
    text = text_of(data)
    assert f"Aperçu du fragment insertion/ccap, version {version}" in text
    assert "643 heures" in text  # the hours of this questionnaire, computed as for the DCE


def test_a_type_the_questionnaire_set_aside_is_forced_for_the_preview(library):
    data = questionnaire(considerations={"action_sociale": "non"})
    _, document = preview_fragment(model(data, library), library, "action_sociale/ccap")
    assert "action" in text_of(document).lower()


def test_an_unknown_fragment_is_a_library_error_in_french(library):
    with pytest.raises(LibraryError, match="fragment"):
        preview_fragment(model(questionnaire(), library), library, "insertion/inexistant")


def test_the_preview_is_written_whole_where_asked(tmp_path, library):
    loaded = api.read_questionnaire(EXAMPLES / "example-ecole.yaml", library)
    name, data = api.preview_fragment(loaded, library, "commun/procedure_contradictoire")
    written = write_preview(tmp_path / "apercu" / "sous-dossier", name, data)
    assert written.read_bytes() == data
    (tmp_path / "fichier").write_text("x")
    with pytest.raises(OutputError, match="impossible de créer le dossier"):
        write_preview(tmp_path / "fichier" / "apercu", name, data)
