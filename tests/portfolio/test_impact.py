"""What a library change reaches (portfolio.impact), read from a market's manifest alone."""

from __future__ import annotations

import pytest

from drafting import api
from drafting.errors import InputError
from drafting.library import load_library
from drafting.portfolio.impact import impact_of_manifest, impacted
from tests.support import EXAMPLES


@pytest.fixture
def own_library(tmp_path):
    target = tmp_path / "biblio"
    api.library_init(target)
    return target


def generated(tmp_path, library):
    rendered = api.render_market(api.read_questionnaire(EXAMPLES / "example-ecole.yaml", library), library)
    api.write_market(tmp_path / "sortie", rendered)
    return rendered.manifest


def test_an_unchanged_library_reaches_nothing(tmp_path, own_library):
    library = load_library(own_library)
    manifest = generated(tmp_path, library)
    assert impact_of_manifest(manifest, library) == ([], [])
    assert impacted(tmp_path / "sortie", library) == []


def test_an_edited_fragment_and_an_edited_data_file_are_named(tmp_path, own_library):
    manifest = generated(tmp_path, load_library(own_library))
    used = next(f["id"] for f in manifest["fragments"] if f["id"].startswith("insertion/"))
    path = own_library / "fragments" / f"{used}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    parameters = own_library / "parametres.yaml"
    parameters.write_text(parameters.read_text(encoding="utf-8") + "\n# relu\n", encoding="utf-8")
    edited = load_library(own_library)
    fragments, data = impact_of_manifest(manifest, edited)
    assert fragments == [used] and data == ["parametres.yaml"]
    [impact] = impacted(tmp_path / "sortie", edited)
    assert impact.reference == "2026-TRV-014" and impact.fragments == (used,)


def test_a_fragment_the_market_does_not_use_reaches_nothing(tmp_path, own_library):
    manifest = generated(tmp_path, load_library(own_library))
    used = {f["id"] for f in manifest["fragments"]}
    unused = next(p for p in sorted((own_library / "fragments").rglob("*.txt"))
                  if p.relative_to(own_library / "fragments").with_suffix("").as_posix() not in used
                  and p.parent.name not in manifest["types_retenus"] and p.parent.name != "commun")
    unused.write_text(unused.read_text(encoding="utf-8") + "\nAjout.\n", encoding="utf-8")
    assert impact_of_manifest(manifest, load_library(own_library)) == ([], [])


def test_a_folder_that_is_not_an_output_is_refused_in_french(tmp_path):
    with pytest.raises(InputError, match="n'est pas un dossier de marchés générés"):
        impacted(tmp_path / "absent", load_library())


def test_a_manifest_not_shaped_as_ours_reaches_nothing_rather_than_failing(own_library):
    odd = {"fragments": "n'importe quoi", "bibliotheque": 3, "types_retenus": {"a": 1}}
    assert impact_of_manifest(odd, load_library(own_library)) == ([], [])
