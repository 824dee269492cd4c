"""The engine's one door: every face of clausier (``cli.py``, the web application) calls this module.

Faces never import the engine's inner modules: what they may rely on is here, with
stable names, so the engine can be reorganised behind it. State that outlives one
call (loaded libraries, compiled templates, the buyer's CCAP model being read) lives
in an ``Engine`` object with bounded caches, not in the caller; a web server keeps one
``Engine`` per process, the command line uses the default one.

Everything returns values in memory; only ``write_market`` and ``write_file`` touch
the disk, atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from drafting import __version__
from drafting.errors import (ClausierError, InputError, Issue, LibraryError, OutputError, QuestionnaireError,
                     TemplateRenderError)
from drafting.library.core import CONSIDERATION_TYPES, Library, default_root, load_library
from drafting.intake.model import Questionnaire
from drafting.decide.plan import TYPE_LABELS, Plan
from drafting.intake.reader import LoadedQuestionnaire, load_questionnaire, parse_questionnaire, validate_data

__all__ = [
    "Engine", "RenderedMarket", "Options", "Library", "LoadedQuestionnaire", "Questionnaire", "Plan", "Issue",
    "ClausierError", "InputError", "QuestionnaireError", "LibraryError", "OutputError", "TemplateRenderError",
    "CONSIDERATION_TYPES", "TYPE_LABELS", "engine", "load_library", "read_questionnaire", "plan",
    "render_market", "write_market", "consolidate", "review", "__version__",
]

Source = Union[Path, str, bytes]
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Options:
    """What a buyer may ask beyond the standard pieces (same meaning as ``clausier generate``'s options)."""

    premier_article: Optional[int] = None
    ccap_modele: Optional[tuple[str, bytes]] = None  # (file name, bytes) of the buyer's own CCAP
    pdf: bool = False


@dataclass(frozen=True)
class RenderedMarket:
    """One market drafted in memory: every output file (manifest included) and the plan it came from."""

    reference: str
    files: dict[str, bytes]
    plan: Plan

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.files[MANIFEST])

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.files[MANIFEST]).hexdigest()

    @property
    def warnings(self) -> list[Any]:
        return [w for lot in self.plan.lots for w in lot.avertissements] + list(self.plan.avertissements)


@dataclass
class Engine:
    """The engine for one process: where the default library is, and the caches it is allowed to keep.

    ``library_dir`` None means the library bundled with clausier (or ``$CLAUSIER_LIBRARY``).
    """

    library_dir: Optional[Path] = None
    _notes: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ library
    def library(self, version: Optional[str] = None, folder: Optional[Path] = None) -> Library:
        """The working library folder, or one of its published versions (rebuilt byte for byte)."""
        return load_library(folder or self.library_dir, version)

    def library_root(self, folder: Optional[Path] = None) -> Path:
        return Path(folder or self.library_dir or default_root())

    def library_versions(self, folder: Optional[Path] = None) -> list[str]:
        """Published versions of the library, oldest first."""
        from drafting.facilitators.release import release_versions, version_key

        return sorted(release_versions(self.library_root(folder)), key=version_key)

    # ------------------------------------------------------------------ intake
    def read_questionnaire(self, source: Source, library: Library, name: Optional[str] = None) -> LoadedQuestionnaire:
        """A questionnaire from a path (YAML, JSON, Excel form; ``-`` for standard input) or from bytes.

        With bytes, ``name`` says what they are (its extension chooses the reader: ``.xlsx``
        for the Excel form) and names the source in messages. Raises QuestionnaireError with
        every issue of the file.
        """
        if isinstance(source, bytes):
            label = name or "questionnaire.yaml"
            if label.lower().endswith((".xlsx", ".xlsm")):
                from drafting.intake.form import read_form_bytes

                return read_form_bytes(source, label, library)
            return parse_questionnaire(source, label, library)
        return load_questionnaire(Path(source), library)

    def check_answers(self, data: dict[str, Any], library: Library) -> tuple[Optional[Questionnaire], list[Issue]]:
        """A questionnaire being answered (a dict), checked with the file loader's own rules and messages.

        Each issue's ``path`` is the questionnaire path of its value (``lots[0].montant_estime_ht``),
        so a form can show it beside the field of that name.
        """
        return validate_data(data, {}, library)

    def loaded_from_data(self, data: dict[str, Any], library: Library, name: str = "questionnaire.yaml") -> LoadedQuestionnaire:
        """A questionnaire built in memory (an interview), with the hash of its YAML text as its identity."""
        return parse_questionnaire(questionnaire_yaml(data).encode("utf-8"), name, library)

    # ------------------------------------------------------------------ decide
    def plan(self, questionnaire: Union[LoadedQuestionnaire, Questionnaire], library: Library) -> Plan:
        """The decisions, with the list of what the buyer must still complete in the pieces they lead to."""
        from drafting.compose.pieces import compose
        from drafting.decide.policy import build_plan

        model = questionnaire.model if isinstance(questionnaire, LoadedQuestionnaire) else questionnaire
        result = build_plan(model, library)
        result.a_completer = compose(model, result, library).a_completer
        return result

    # ------------------------------------------------------------------ compose
    def pieces(self, loaded: LoadedQuestionnaire, library: Library, premier_article: int = 1) -> list[Any]:
        """The composed pieces (CCAP, RC, AE annex, annex sheets, decision note) as blocks, before any writer.

        The same composition the Word files are written from: a face can show it as HTML.
        """
        from drafting.compose.pieces import compose
        from drafting.decide.policy import build_plan
        from drafting.compose.note import build_note

        q = loaded.model
        result = build_plan(q, library)
        composition = compose(q, result, library, premier_article)
        result.a_completer = composition.a_completer
        return [*composition.pieces, build_note(q, result, library, composition.derogations)]

    # ------------------------------------------------------------------ write
    def render_market(self, loaded: LoadedQuestionnaire, library: Library, options: Options = Options()) -> RenderedMarket:
        """Every file of one market in memory: Word pieces, grid, PDF copies if asked, manifest."""
        from drafting.dce import market as generate

        files, result = generate.render_market(
            loaded, library, generate.Options(options.premier_article, options.ccap_modele, options.pdf))
        return RenderedMarket(result.reference, files, result)

    def write_market(self, out_dir: Path, market: RenderedMarket) -> Path:
        """``out_dir/<reference>/``, swapped in whole: a reader never sees a half-written market."""
        from drafting.common.files import wait_for_removals
        from drafting.dce.market import write_market as write

        target = write(out_dir, market.reference, market.files)
        wait_for_removals()
        return target

    def dce_zip(self, market: RenderedMarket) -> bytes:
        """The whole DCE as one deterministic zip (same files, same bytes): every file under ``<reference>/``."""
        from drafting.ooxml.package import zip_parts

        return zip_parts((f"{market.reference}/{name}", data) for name, data in sorted(market.files.items()))

    def pdf_available(self) -> bool:
        from drafting.ooxml.pdf import find_soffice

        return find_soffice() is not None

    def pdf_copies(self, market: RenderedMarket, library: Library) -> dict[str, bytes]:
        """A reproducible PDF of each Word piece (LibreOffice); PdfUnavailable when it is absent."""
        from drafting.ooxml.pdf import convert, require_soffice

        soffice = require_soffice()
        return convert({n: d for n, d in market.files.items() if n.endswith(".docx")}, library.date, soffice)

    # ------------------------------------------------------------------ portfolio
    def impact(self, manifest: dict[str, Any], library: Library, since: Optional[str] = None) -> tuple[list[str], list[str]]:
        """What a library (or the changes since release ``since``) would change in one generated market.

        Returns (fragment ids, data files); both empty when the market would not change.
        """
        from drafting.portfolio.impact import impact_of_manifest

        return impact_of_manifest(manifest, library, since)

    def review(self, programme: Path, library: Library, acheteur_type: str = "collectivite") -> Any:
        from drafting.portfolio.revue import review as run

        return run(programme, library, acheteur_type)

    # ------------------------------------------------------------------ monitoring
    def consolidate(self, grids: Iterable[Path], marches: Optional[Path] = None) -> Any:
        """Returned grids read with every guard; one bad file never stops the others."""
        from drafting.monitoring.consolidate import consolidate as run

        return run(list(grids), marches)

    def consolidation_data(self, result: Any) -> dict[str, Any]:
        """The figures of ``suivi consolider --format json``, as a dict."""
        from drafting.monitoring.consolidate import report_data

        return report_data(result)


def questionnaire_yaml(data: dict[str, Any]) -> str:
    """A questionnaire (dict) as the commented YAML a buyer can keep, edit and feed to ``clausier``."""
    from drafting.intake.interview import to_yaml

    return to_yaml(data, "questionnaire.schema.json")


def plan_data(result: Plan) -> dict[str, Any]:
    """The plan as the JSON contract of ``clausier plan --format json`` (a dict)."""
    return result.to_json()


def plan_json_text(result: Plan) -> str:
    from drafting.decide.plan_text import plan_json

    return plan_json(result)


def plan_text(result: Plan) -> str:
    from drafting.decide.plan_text import plan_text as text

    return text(result)


_DEFAULT: list[Engine] = []


def engine() -> Engine:
    """The process's default engine (bundled library or ``$CLAUSIER_LIBRARY``)."""
    if not _DEFAULT:
        _DEFAULT.append(Engine())
    return _DEFAULT[0]


def read_questionnaire(source: Source, library: Library, name: Optional[str] = None) -> LoadedQuestionnaire:
    return engine().read_questionnaire(source, library, name)


def plan(questionnaire: Union[LoadedQuestionnaire, Questionnaire], library: Library) -> Plan:
    return engine().plan(questionnaire, library)


def render_market(loaded: LoadedQuestionnaire, library: Library, options: Options = Options()) -> RenderedMarket:
    return engine().render_market(loaded, library, options)


def write_market(out_dir: Path, market: RenderedMarket) -> Path:
    return engine().write_market(out_dir, market)


def consolidate(grids: Iterable[Path], marches: Optional[Path] = None) -> Any:
    return engine().consolidate(grids, marches)


def review(programme: Path, library: Library, acheteur_type: str = "collectivite") -> Any:
    return engine().review(programme, library, acheteur_type)


def today() -> dt.date:
    return dt.date.today()


# ------------------------------------------------------------------ words and schema for the faces
# Appended for the web application (``clausier serve``): its forms and pages use the same French
# words as the terminal interview and the documents, and its JSON API documents the request body
# with the questionnaire's own schema.

def choice_labels() -> dict[str, str]:
    """French labels of the questionnaire's choices (buyer types, natures, procedures, forms, CCAG, themes…)."""
    from drafting.intake.interview import LABELS

    return dict(LABELS)


def origin_labels() -> dict[str, str]:
    """Where a figure of the plan came from (``calcul.origines`` of the plan JSON: lot, marche, secteur…), in French."""
    from drafting.decide.hours import ORIGINES

    return dict(ORIGINES)


def statut_labels() -> dict[str, str]:
    """The three statuses of a consideration (retenue, a_etudier, ecartee) as a buyer reads them."""
    from drafting.decide.plan import STATUT_LABELS

    return dict(STATUT_LABELS)


def questionnaire_schema() -> dict[str, Any]:
    """The questionnaire's JSON Schema, as ``clausier questionnaire schema`` prints it."""
    from drafting.intake.schema import questionnaire_schema as schema

    return schema()


# ------------------------------------------------------------------ French figures for the faces
# Appended for the web application: its pages show amounts, rates, hours and dates exactly as the
# documents write them, and read an amount typed by a buyer with the questionnaire's own rule.

def read_amount(text: str) -> float:
    """« 1 500 000,50 € HT » -> 1500000.5, read exactly as the questionnaire reads an amount (never guessed:
    « 1.500 » is refused); ValueError with the questionnaire's French message otherwise."""
    from pydantic_core import PydanticCustomError

    from drafting.intake.model import parse_amount

    try:
        value = parse_amount(text)
    except PydanticCustomError as exc:
        raise ValueError(str(exc)) from None
    return float(value)


def fr_nombre(value: Any, decimals: int = 2) -> str:
    """1500000 -> « 1 500 000 » (narrow no-break spaces), 0.5 -> « 0,5 »."""
    from drafting.common.formatting import nombre

    return nombre(value, decimals)


def fr_euros(value: Any, ht: bool = False) -> str:
    """1500000 -> « 1 500 000,00 € » (« … € HT » with ``ht``), as the pieces write amounts."""
    from drafting.common.formatting import euros

    return euros(value, ht)


def fr_heures(value: Any) -> str:
    """964 -> « 964 heures »."""
    from drafting.common.formatting import heures

    return heures(value)


def fr_pourcent(fraction: Any) -> str:
    """0.05 -> « 5 % »."""
    from drafting.common.formatting import pourcent

    return pourcent(fraction)


def fr_date(value: dt.date) -> str:
    """2026-12-15 -> « 15 décembre 2026 » (« 1er » on the first of the month)."""
    from drafting.common.formatting import date_fr

    return date_fr(value)
