"""The engine's shape, held by tests: one door (drafting.api), arrows one way, small modules,
one exit-code table, an engine fingerprint that sees every file, no buyer's file kept alive."""

from __future__ import annotations

import ast
import gc
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import drafting.common.build as build
from drafting import api, errors
from tests.support import EXAMPLES, ROOT
from tests.support.word import buyer_ccap

DRAFTING = ROOT / "drafting"
MAX_LINES = 530  # « about 500 »: the largest module is the grid writer, whose import list is long


def engine_modules() -> list[Path]:
    return sorted(p for p in DRAFTING.rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(path: Path) -> list[tuple[ast.AST, str, bool]]:
    """(node, module imported, inside a function?) for every import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner.update(id(sub) for sub in ast.walk(node) if isinstance(sub, (ast.Import, ast.ImportFrom)))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node, alias.name, id(node) in inner) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node, node.module, id(node) in inner))
    return out


def test_cli_calls_the_engine_only_through_its_api():
    engine = {name for _, name, _ in imports_of(ROOT / "cli.py") if name.split(".")[0] in ("drafting", "web")}
    assert engine == {"drafting"}
    source = (ROOT / "cli.py").read_text(encoding="utf-8")
    assert re.findall(r"from drafting import (\w+)", source) == ["api"]


def test_the_web_commands_cli_lists_are_the_web_face_s():
    """cli.py loads the web face's commands on demand, by name: its list must be theirs."""
    import cli
    from web.commandes import web_commands

    assert sorted(c.name for c in web_commands()) == sorted(cli.WEB_COMMANDS)
    assert "web.commandes" in (ROOT / "cli.py").read_text(encoding="utf-8")


def test_import_contracts_hold():
    """The layers of pyproject.toml (import-linter): each package imports only those below it."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_hides_inside_a_function_without_saying_why():
    """Deferred imports only for heavy or optional things, each with its reason (``# lazy: …``).

    drafting/api.py is the one exception, explained in its docstring: a command pays for what it uses.
    """
    untagged = []
    for path in engine_modules():
        if path.name == "api.py" and path.parent == DRAFTING:
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        for node, name, inner in imports_of(path):
            if inner and "# lazy:" not in lines[node.lineno - 1]:
                untagged.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert untagged == []


def test_no_engine_module_is_a_giant():
    """drafting/api.py aside: the door is a list of one-line delegations, one per thing a face may do."""
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").split("\n")) for p in engine_modules()
             if p != DRAFTING / "api.py"}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_the_engine_fingerprint_covers_every_file_of_every_sub_package(tmp_path, monkeypatch):
    listed = {name for name, _ in build._files(build.resources.files("drafting"), (".py",))}
    assert listed == {str(p.relative_to(DRAFTING)) for p in engine_modules()}
    for package in ("drafting", "annexes"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(build, "resources", SimpleNamespace(files=lambda package: tmp_path / package))
    build.engine_fingerprint.cache_clear()
    try:
        before = build.engine_fingerprint()
        one_per_folder = {p.parent: p for p in sorted((tmp_path / "drafting").rglob("*.py"))}
        for path in [*one_per_folder.values(), next((tmp_path / "annexes").rglob("*.xml"))]:
            original = path.read_bytes()
            path.write_bytes(original + b"\n")
            build.engine_fingerprint.cache_clear()
            assert build.engine_fingerprint() != before, path
            path.write_bytes(original)
        build.engine_fingerprint.cache_clear()
        assert build.engine_fingerprint() == before
    finally:
        build.engine_fingerprint.cache_clear()


def test_every_error_has_its_exit_code_and_http_status():
    assert errors.EXIT_CODES[errors.EXIT_INPUT].startswith("entrée invalide")
    expected = {
        errors.QuestionnaireError: (2, 422), errors.ModelError: (2, 422), errors.ProgrammeError: (2, 422),
        errors.GridError: (2, 422), errors.InputError: (2, 422), errors.LibraryError: (3, 500),
        errors.TemplateRenderError: (3, 500), errors.OutputError: (4, 500), errors.PdfUnavailable: (5, 503),
        errors.PartialResult: (6, 207), errors.ClausierError: (1, 500),
    }
    for cls, (code, status) in expected.items():
        assert (cls.exit_code, cls.http_status) == (code, status), cls.__name__
        assert code in errors.EXIT_CODES
    classes = {obj for obj in vars(errors).values() if isinstance(obj, type) and issubclass(obj, errors.ClausierError)}
    assert classes == set(expected), "a new error class needs its line in this table and in the README"


def test_the_readme_exit_code_table_is_the_engine_s():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+) \| ([^|]+?) \|$", readme, re.M))
    assert {int(code): text for code, text in rows.items()} == errors.EXIT_CODES


def test_input_errors_carry_their_issues_for_a_form():
    library = api.library()
    with pytest.raises(api.QuestionnaireError) as caught:
        api.read_questionnaire(b"version: 1\nmarche: {}\n", library, "q.yaml")
    assert caught.value.http_status == 422
    paths = {issue.path for issue in caught.value.issue_list()}
    assert "acheteur" in paths and "lots" in paths


def test_the_api_renders_in_memory_what_the_cli_writes(tmp_path, runner):
    from cli import main

    library = api.library()
    source = EXAMPLES / "example-ecole.yaml"
    rendered = api.render_market(api.read_questionnaire(source.read_bytes(), library, source.name), library)
    assert runner.invoke(main, ["generate", str(source), "--out", str(tmp_path)]).exit_code == 0
    written = {p.name: p.read_bytes() for p in (tmp_path / rendered.reference).iterdir()}
    assert written == rendered.files
    assert rendered.manifest["questionnaire"]["fichier"] == source.name
    assert api.write_market(tmp_path / "api", rendered) == (tmp_path / "api" / rendered.reference).resolve()


def test_the_engine_keeps_no_buyer_ccap_once_a_rendering_returns(tmp_path):
    """The buyer's CCAP (megabytes, confidential) is read once per rendering and dropped with it."""
    library = api.library()
    loaded = api.read_questionnaire(EXAMPLES / "example-ecole.yaml", library)
    data = buyer_ccap(tmp_path / "ccap.docx").read_bytes() + b""  # an object of our own, referenced only here
    rendered = api.render_market(loaded, library, api.Options(ccap_modele=("ccap.docx", data)))
    assert "2026-TRV-014_CCAP.docx" in rendered.files
    del rendered
    gc.collect()
    holders = [r for r in gc.get_referrers(data) if r is not sys._getframe() and r is not locals()]
    assert holders == []


def test_libraries_are_cached_with_a_bound():
    engine = api.Engine()
    engine.libraries.size = 2
    first = engine.library()
    assert engine.library() is first  # read once, compiled templates kept with it
    versions = engine.library_versions()[-2:]
    for version in versions:
        engine.library(version)
    assert len(engine.libraries._items) == 2
