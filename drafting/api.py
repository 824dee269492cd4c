"""The engine's one door: every face of clausier (``cli.py``, the web application) calls this module.

Faces never import the engine's packages: what they may rely on is here, with stable names,
so the engine can be reorganised behind it. State that outlives one call (libraries already
read, each with its compiled templates) lives in an ``Engine`` object with bounded caches; a web
server keeps one ``Engine`` per process, the command line uses the default one. Nothing of a
buyer's files (questionnaire, CCAP model) is kept once a call returns.

Everything returns values in memory; only the ``write_…`` functions touch the disk, atomically.

This is the one module whose imports of the engine are deferred into the functions, and it is on
purpose, measured: importing every package costs about 0,6 s against 0,15 s for this module alone,
and a command pays only for what it uses (an unchanged ``batch`` never imports the drafting
engine, ``questionnaire schema`` never imports Jinja). The engine's packages themselves import at
the top of their modules; ``lint-imports`` checks that their arrows run one way. The model classes
a face may name (``Questionnaire``, ``LoadedQuestionnaire``, ``Plan``, ``TYPE_LABELS``) resolve on
first use through the module's ``__getattr__``, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Union

from drafting import __version__
from drafting.common.manifest import MANIFEST
from drafting.errors import (
    EXIT_BUG,
    EXIT_CODES,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_LIBRARY,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_PARTIAL,
    EXIT_TOOL,
    ClausierError,
    GridError,
    InputError,
    Issue,
    LibraryError,
    ModelError,
    OutputError,
    PartialResult,
    PdfUnavailable,
    ProgrammeError,
    QuestionnaireError,
    TemplateRenderError,
)
from drafting.library import CONSIDERATION_TYPES, Library, default_root
from drafting.library.load import LibraryCache, load_library

if TYPE_CHECKING:  # annotations only: importing them would load pydantic and the decision engine
    from drafting.compose.pieces import Piece
    from drafting.decide.plan import Plan
    from drafting.intake.model import LoadedQuestionnaire, Questionnaire

__all__ = [
    "Engine", "RenderedMarket", "Options", "Library", "Issue", "EXIT_CODES", "EXIT_OK", "EXIT_BUG", "EXIT_INPUT",
    "EXIT_LIBRARY", "EXIT_OUTPUT", "EXIT_TOOL", "EXIT_PARTIAL", "EXIT_INTERRUPTED",
    "ClausierError", "InputError", "QuestionnaireError", "LibraryError", "OutputError", "TemplateRenderError",
    "GridError", "ModelError", "ProgrammeError", "PdfUnavailable", "PartialResult",
    "CONSIDERATION_TYPES", "engine", "load_library", "read_questionnaire", "plan", "render_market", "write_market",
    "consolidate", "review", "__version__",
]

Source = Union[Path, str, bytes]

# Names a face may use, resolved on first use (see the module docstring): name -> (module, attribute).
_DEFERRED = {
    "Questionnaire": ("drafting.intake.model", "Questionnaire"),
    "LoadedQuestionnaire": ("drafting.intake.model", "LoadedQuestionnaire"),
    "Plan": ("drafting.decide.plan", "Plan"),
    "TYPE_LABELS": ("drafting.decide.plan", "TYPE_LABELS"),
}


def __getattr__(name: str) -> Any:
    if name in _DEFERRED:
        module, attribute = _DEFERRED[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    plan: "Plan"

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

    ``library_dir`` None means the library bundled with clausier (or ``$CLAUSIER_LIBRARY``). The
    libraries read are kept in a bounded cache, each with its compiled templates; nothing of a
    buyer's files (questionnaire, CCAP model) is kept once a call returns.
    """

    library_dir: Optional[Path] = None
    libraries: LibraryCache = field(default_factory=lambda: LibraryCache(8), repr=False)

    # ------------------------------------------------------------------ library
    def library(self, version: Optional[str] = None, folder: Optional[Path] = None) -> Library:
        """The working library folder, or one of its published versions (rebuilt byte for byte)."""
        return self.libraries.get(folder or self.library_dir, version)

    def library_root(self, folder: Optional[Path] = None) -> Path:
        return Path(folder or self.library_dir or default_root())

    def library_versions(self, folder: Optional[Path] = None) -> list[str]:
        """Published versions of the library, oldest first."""
        from drafting.library import release_versions, version_key

        return sorted(release_versions(self.library_root(folder)), key=version_key)

    # ------------------------------------------------------------------ intake
    def read_questionnaire(self, source: Source, library: Library, name: Optional[str] = None) -> "LoadedQuestionnaire":
        """A questionnaire from a path (YAML, JSON, Excel form; ``-`` for standard input) or from bytes.

        With bytes, ``name`` says what they are (its extension chooses the reader: ``.xlsx``
        for the Excel form) and names the source in messages. Raises QuestionnaireError with
        every issue of the file.
        """
        from drafting.intake.reader import load_questionnaire, parse_bytes

        if isinstance(source, bytes):
            return parse_bytes(source, name or "questionnaire.yaml", library)
        return load_questionnaire(Path(source), library)

    def check_answers(self, data: dict[str, Any], library: Library) -> tuple[Optional["Questionnaire"], list[Issue]]:
        """A questionnaire being answered (a dict), checked with the file loader's own rules and messages.

        Each issue's ``path`` is the questionnaire path of its value (``lots[0].montant_estime_ht``),
        so a form can show it beside the field of that name.
        """
        from drafting.intake.validation import validate_data

        return validate_data(data, {}, library)

    def loaded_from_data(self, data: dict[str, Any], library: Library, name: str = "questionnaire.yaml") -> "LoadedQuestionnaire":
        """A questionnaire built in memory (an interview), with the hash of its YAML text as its identity."""
        from drafting.intake.reader import parse_questionnaire

        return parse_questionnaire(questionnaire_yaml(data).encode("utf-8"), name, library)

    # ------------------------------------------------------------------ decide
    def plan(self, questionnaire: Union["LoadedQuestionnaire", "Questionnaire"], library: Library) -> "Plan":
        """The decisions, with the list of what the buyer must still complete in the pieces they lead to."""
        from drafting.compose.pieces import compose
        from drafting.decide.policy import build_plan
        from drafting.intake.model import LoadedQuestionnaire

        model = questionnaire.model if isinstance(questionnaire, LoadedQuestionnaire) else questionnaire
        result = build_plan(model, library)
        result.a_completer = compose(result, library).a_completer
        return result

    # ------------------------------------------------------------------ compose
    def pieces(self, loaded: "LoadedQuestionnaire", library: Library, premier_article: int = 1) -> list["Piece"]:
        """The composed pieces (CCAP, RC, AE annex, annex sheets, decision note) as blocks, before any writer.

        The same composition the Word files are written from: a face can show it as HTML.
        """
        from drafting.compose.note import build_note
        from drafting.compose.pieces import compose
        from drafting.decide.policy import build_plan

        result = build_plan(loaded.model, library)
        composition = compose(result, library, premier_article)
        result.a_completer = composition.a_completer
        return [*composition.pieces, build_note(result, library, composition.derogations)]

    # ------------------------------------------------------------------ write
    def render_market(self, loaded: "LoadedQuestionnaire", library: Library, options: Options = Options()) -> RenderedMarket:
        """Every file of one market in memory: Word pieces, grid, PDF copies if asked, manifest."""
        from drafting.dce import market

        files, result = market.render_market(
            loaded, library, market.Options(options.premier_article, options.ccap_modele, options.pdf))
        return RenderedMarket(result.reference, files, result)

    def write_market(self, out_dir: Path, rendered: RenderedMarket) -> Path:
        """``out_dir/<reference>/``, swapped in whole: a reader never sees a half-written market."""
        from drafting.common.files import wait_for_removals
        from drafting.common.files import write_market as write

        target = write(out_dir, rendered.reference, rendered.files)
        wait_for_removals()
        return target

    def dce_zip(self, rendered: RenderedMarket) -> bytes:
        """The whole DCE as one deterministic zip (same files, same bytes): every file under ``<reference>/``."""
        from drafting.ooxml.package import zip_parts

        return zip_parts((f"{rendered.reference}/{name}", data) for name, data in sorted(rendered.files.items()))

    def pdf_available(self) -> bool:
        from drafting.ooxml.pdf import find_soffice

        return find_soffice() is not None

    def pdf_copies(self, rendered: RenderedMarket, library: Library) -> dict[str, bytes]:
        """A reproducible PDF of each Word piece (LibreOffice); PdfUnavailable when it is absent."""
        from drafting.ooxml.pdf import convert, require_soffice

        soffice = require_soffice()
        return convert({n: d for n, d in rendered.files.items() if n.endswith(".docx")}, library.date, soffice)

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
        from drafting.monitoring.reports import report_data

        return report_data(result)


_DEFAULT: list[Engine] = []


def engine() -> Engine:
    """The process's default engine (bundled library or ``$CLAUSIER_LIBRARY``)."""
    if not _DEFAULT:
        _DEFAULT.append(Engine())
    return _DEFAULT[0]


def library(folder: Optional[Path] = None, version: Optional[str] = None) -> Library:
    return engine().library(version, folder)


def read_questionnaire(source: Source, library: Library, name: Optional[str] = None) -> "LoadedQuestionnaire":
    return engine().read_questionnaire(source, library, name)


def plan(questionnaire: Union["LoadedQuestionnaire", "Questionnaire"], library: Library) -> "Plan":
    return engine().plan(questionnaire, library)


def render_market(loaded: "LoadedQuestionnaire", library: Library, options: Options = Options()) -> RenderedMarket:
    return engine().render_market(loaded, library, options)


def write_market(out_dir: Path, rendered: RenderedMarket) -> Path:
    return engine().write_market(out_dir, rendered)


def consolidate(grids: Iterable[Path], marches: Optional[Path] = None) -> Any:
    return engine().consolidate(grids, marches)


def review(programme: Path, library: Library, acheteur_type: str = "collectivite") -> Any:
    return engine().review(programme, library, acheteur_type)


def today() -> dt.date:
    return dt.date.today()


# ------------------------------------------------------------------ plans as text

def plan_data(result: "Plan") -> dict[str, Any]:
    """The plan as the JSON contract of ``clausier plan --format json`` (a dict)."""
    return result.to_json()


def plan_json_text(result: "Plan") -> str:
    from drafting.decide.plan_text import plan_json

    return plan_json(result)


def plan_text(result: "Plan") -> str:
    from drafting.decide.plan_text import plan_text as text

    return text(result)


def sector_lines(library: Library) -> list[str]:
    """The library's sectors with their defaults, one line each (``clausier secteurs``)."""
    from drafting.common import formatting as fr

    lines = []
    for sector in library.sectors.values():
        hours = "heures d'insertion adaptées" if sector.adapte_heures else "heures peu adaptées"
        line = (f"{sector.id:<28} {sector.libelle} — main-d'œuvre {fr.pourcent(sector.part_main_oeuvre)}, "
                f"{fr.euros(sector.cout_horaire)}/h, {hours}")
        lines.append(line.replace(fr.NBSP, " ").replace(fr.NNBSP, " "))
    return lines


# ------------------------------------------------------------------ files

def write_file(path: Path, data: bytes, protect: Iterable[Path] = (), noun: str = "fichier") -> Path:
    """One file written whole or not at all; ``protect`` lists inputs it must not replace."""
    from drafting.common.files import write_atomic

    return write_atomic(path, data, protect, noun)


# ------------------------------------------------------------------ questionnaires for people

def questionnaire_yaml(data: dict[str, Any]) -> str:
    """A questionnaire (dict) as the commented YAML a buyer can keep, edit and feed to ``clausier``."""
    from drafting.intake.interview import to_yaml

    return to_yaml(data, "questionnaire.schema.json")


def interview(library: Library) -> dict[str, Any]:
    """The questionnaire asked in the terminal (``questionnaire nouveau``), checked answer by answer."""
    from drafting.intake.interview import run

    return run(library)


def ask_yes_no(question: str, default: bool) -> bool:
    from drafting.intake.interview import oui_non

    return oui_non(question, default)


def questionnaire_form(library: Library) -> bytes:
    """The blank Excel questionnaire form (``questionnaire modele``)."""
    from drafting.ooxml.form import write_form

    return write_form(library)


def questionnaire_schema() -> dict[str, Any]:
    """The questionnaire's JSON Schema, as ``clausier questionnaire schema`` prints it."""
    from drafting.intake.schema import questionnaire_schema as schema

    return schema()


def questionnaire_has_key(path: tuple[Any, ...]) -> bool:
    """Whether the questionnaire model has this key path (list indexes skipped): a form asks only what it reads."""
    from drafting.intake.model import model_at

    return model_at(tuple(path))[0]


def questionnaire_schema_text() -> str:
    from drafting.intake.schema import schema_text

    return schema_text()


# ------------------------------------------------------------------ words for the faces
# The web application's forms and pages use the same French words as the terminal interview and
# the documents.

def choice_labels() -> dict[str, str]:
    """French labels of the questionnaire's choices (buyer types, natures, procedures, forms, CCAG, themes…)."""
    from drafting.intake.labels import PROMPTS

    return dict(PROMPTS)


def origin_labels() -> dict[str, str]:
    """Where a figure of the plan came from (``calcul.origines`` of the plan JSON: lot, marche, secteur…), in French."""
    from drafting.decide.hours import ORIGINES

    return dict(ORIGINES)


def statut_labels() -> dict[str, str]:
    """The three statuses of a consideration (retenue, a_etudier, ecartee) as a buyer reads them."""
    from drafting.decide.plan import STATUT_LABELS

    return dict(STATUT_LABELS)


def type_labels() -> dict[str, str]:
    """The seven considerations' names, in the contract's order."""
    from drafting.decide.plan import TYPE_LABELS as labels

    return dict(labels)


def piece_blocks() -> dict[str, type]:
    """The block types a composed piece is made of (Heading, Paragraph, BulletItem, Table, Run), to show it as HTML."""
    from drafting.compose.markup import BulletItem, Heading, Paragraph, Run, Table

    return {"Heading": Heading, "Paragraph": Paragraph, "BulletItem": BulletItem, "Table": Table, "Run": Run}


# ------------------------------------------------------------------ portfolios

def batch_statuses() -> tuple[str, str, str, str]:
    """(produced, unchanged, failed, ignored): the outcomes ``batch`` reports, in French."""
    from drafting.portfolio.batch import ECHEC, IGNORE, INCHANGE, PRODUIT

    return PRODUIT, INCHANGE, ECHEC, IGNORE


def run_batch(folder: Path, out_dir: Path, *, jobs: int = 1, shard: str = "1/1", force: bool = False,
              only_impacted: bool = False, since: Optional[str] = None, premier_article: int = 1,
              library_dir: Optional[str] = None, library_version: Optional[str] = None,
              report: Callable[[Any, int, int], None] = lambda o, i, n: None) -> Any:
    """Every questionnaire of ``folder`` generated into ``out_dir``, unchanged markets left as they are."""
    from drafting.portfolio.batch import Settings, Shard, discover
    from drafting.portfolio.batch import run_batch as run
    from drafting.portfolio.impact import impacted

    paths = discover(folder, out_dir, Shard.parse(shard))
    settings = Settings(out_dir, library_dir, library_version, force, premier_article)
    only = None
    if only_impacted:
        lib = load_library(Path(library_dir) if library_dir else None, library_version)
        only = {i.reference for i in impacted(out_dir, lib, since)} if out_dir.is_dir() else set()
    return run(paths, settings, jobs, report, only)


def impacted(out_dir: Path, library: Library, since: Optional[str] = None) -> list[Any]:
    """Generated markets that a library change reaches, with the fragments and data that changed."""
    from drafting.portfolio.impact import impacted as run

    return run(out_dir, library, since)


def review_programme(programme: Path, library: Library, acheteur_type: str = "collectivite") -> tuple[Any, bytes, str]:
    """(review, its workbook, its summary in French) for a purchasing programme."""
    from drafting.portfolio.revue_reports import build_review_xlsx, summary_text

    result = review(programme, library, acheteur_type)
    return result, build_review_xlsx(result, library), summary_text(result)


def programme_template(library: Library) -> bytes:
    """The blank programme workbook a buyer fills for ``revue`` (``revue --modele``)."""
    from drafting.portfolio.revue_reports import build_template_xlsx

    return build_template_xlsx(library)


# ------------------------------------------------------------------ monitoring

def consolidation_text(result: Any) -> str:
    """A consolidation for people, as ``suivi consolider`` prints it."""
    from drafting.monitoring.reports import report_text

    return report_text(result)


def consolidation_json(result: Any) -> str:
    """A consolidation in the JSON contract ``clausier-consolidation/1`` (``suivi consolider --format json``)."""
    from drafting.monitoring.reports import report_json

    return report_json(result)


def consolidation_workbook(result: Any) -> bytes:
    from drafting.monitoring.reports import build_report_xlsx

    return build_report_xlsx(result)


# ------------------------------------------------------------------ the library desk

def library_init(target: Path, source: Optional[Path] = None) -> Path:
    from drafting.facilitators.release import init_library

    return init_library(target, source)


def pending_changes(library: Library) -> list[Any]:
    from drafting.library import pending_changes as changes

    return changes(library)


def release_versions(root: Path) -> list[str]:
    from drafting.library import release_versions as versions

    return versions(root)


def fragment_text(root: Path, fragment_id: str, version: Optional[str] = None) -> tuple[str, str, list[str]]:
    """(label, text, published versions) of one fragment."""
    from drafting.facilitators.release import fragment_text as text
    from drafting.facilitators.release import fragment_versions

    label, body = text(root, fragment_id, version)
    return label, body, fragment_versions(root, fragment_id)


def check_library(root: Path, fix_typography: bool = False) -> tuple[list[Any], dict[str, int]]:
    """(problems, counts by severity) of a library folder; ``library check``."""
    from drafting.facilitators.check import check_library as check
    from drafting.facilitators.problems import summary

    problems = check(root, fix_typography)
    return problems, summary(problems)


def fragment_diff(root: Path, fragment_id: str, versions: tuple[str, ...] = ()) -> str:
    from drafting.facilitators.release import fragment_diff as diff

    return diff(root, fragment_id, versions)


def release_library(root: Path, message: str, version: Optional[str] = None) -> tuple[str, list[Any]]:
    from drafting.facilitators.release import release

    return release(root, message, version)


def preview_fragment(loaded: "LoadedQuestionnaire", library: Library, fragment_id: str) -> tuple[str, bytes]:
    """(file name, Word bytes) of one fragment rendered on a questionnaire (``library preview``)."""
    from drafting.facilitators.preview import preview_fragment as preview

    return preview(loaded.model, library, fragment_id)


def write_preview(out_dir: Path, name: str, data: bytes) -> Path:
    from drafting.facilitators.preview import write_preview as write

    return write(out_dir, name, data)


# ------------------------------------------------------------------ French figures for the faces
# The web's pages show amounts, rates, hours and dates exactly as the documents write them, and
# read an amount typed by a buyer with the questionnaire's own rule.

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
    from drafting.common import formatting as fr

    return fr.nombre(value, decimals)


def fr_euros(value: Any, ht: bool = False) -> str:
    """1500000 -> « 1 500 000,00 € » (« … € HT » with ``ht``), as the pieces write amounts."""
    from drafting.common import formatting as fr

    return fr.euros(value, ht)


def fr_heures(value: Any) -> str:
    """964 -> « 964 heures »."""
    from drafting.common import formatting as fr

    return fr.heures(value)


def fr_pourcent(fraction: Any) -> str:
    """0.05 -> « 5 % »."""
    from drafting.common import formatting as fr

    return fr.pourcent(fraction)


def fr_date(value: dt.date) -> str:
    """2026-12-15 -> « 15 décembre 2026 » (« 1er » on the first of the month)."""
    from drafting.common import formatting as fr

    return fr.date_fr(value)


# ------------------------------------------------------------------ the facilitator's desk (web)
# The facilitator's desk of the web application (a portfolio of generated markets, the monthly grids the
# enterprises return, the yearly bilan) reads generated markets and returned grids, and writes its reports,
# through these functions.

def grid_identity(path: Path) -> Optional[dict[str, Any]]:
    """Which market a returned grid belongs to, from its hidden « Clausier » sheet alone (milliseconds, where
    consolidating reads every sheet): ``reference``, ``format``, ``objet``, ``acheteur``, ``facilitateur``,
    ``bibliotheque``, ``duree_totale_mois``; None when the file is not a readable clausier grid."""
    from drafting.monitoring.reading import grid_identity as identity

    return identity(Path(path))


def market_record(files: dict[str, bytes]) -> dict[str, Any]:
    """What a portfolio records of one generated market, from its files (a ``generate`` or ``batch`` folder, a DCE
    zip), its manifest checked first (InputError in French otherwise); see ``portfolio.record``."""
    from drafting.portfolio.record import market_record as record

    return record(files)


def report_blocks() -> dict[str, type]:
    """The blocks a report is written with: those of a piece (Heading, Paragraph, BulletItem, Table, Run) and Image
    (PNG bytes, width and height in centimetres, alternative text)."""
    from drafting.compose.markup import BulletItem, Heading, Image, Paragraph, Run, Table

    return {"Heading": Heading, "Paragraph": Paragraph, "BulletItem": BulletItem, "Table": Table, "Run": Run,
            "Image": Image}


def report_workbook(buffer: Any, title: str, created: dt.datetime) -> Any:
    """The engine's xlsxwriter workbook for a report: in memory, text always text (never a formula), ``created``
    its only date (same data, same bytes); the caller adds its sheets and closes it."""
    from drafting.ooxml.reports import report_workbook as workbook

    return workbook(buffer, title, created)


def word_document(blocks: list[Any], title: str, subtitle: str, header_left: str, header_right: str,
                  stamp: dt.date, note: str = "Document établi avec clausier.", toc: bool = False) -> bytes:
    """A Word report written by the engine's own Word writer (the pieces' styles, header, « Page X / Y » footer,
    French typography), pictures included; ``stamp`` is its only date, so the same blocks give the same bytes."""
    from drafting.ooxml.docx import build_report_docx

    return build_report_docx(title, subtitle, blocks, header_left, header_right, note, stamp, toc)


def grid_lists() -> dict[str, list[str]]:
    """The drop-down lists of the monitoring grid (its stable words): ``contrats``, ``modalites``, ``actions``, ``axes``."""
    from drafting.monitoring.grid_format import ACTIONS, AXES, CONTRATS, MODALITES

    return {"contrats": list(CONTRATS), "modalites": list(MODALITES), "actions": list(ACTIONS), "axes": list(AXES)}


def other_contract_label() -> str:
    """How a consolidation counts a contract type typed outside the grid's list."""
    from drafting.monitoring.figures import OTHER_CONTRACT

    return OTHER_CONTRACT


def preview_fragment_blocks(loaded: "LoadedQuestionnaire", library: Library, fragment_id: str) -> tuple[str, str, list[Any]]:
    """(title, subtitle, blocks) of one fragment rendered on a questionnaire: the blocks ``library preview`` writes to
    Word, for a page to show them."""
    from drafting.facilitators.preview import preview_blocks

    return preview_blocks(loaded.model, library, fragment_id)
