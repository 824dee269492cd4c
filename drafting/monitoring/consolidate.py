"""Consolidation of filled monitoring grids: what the facilitator reports to buyers.

A grid comes back from an enterprise, so it is untrusted input. It is read with
openpyxl in read-only mode and ``data_only=False``: formulas are never evaluated
and cached values are never trusted; every figure is recomputed here from the
input cells, with the same rules as the hidden helper columns the grid's
« Synthèse » sums (see ``xlsx_writer``), so both always agree. A bad cell is
reported with its address and the rest still counts; a file that cannot be read
is reported in French and the other files are still consolidated.

The commitments and penalty rates come from the very hidden « Clausier » sheet,
which the enterprise could still alter: they are cross-checked against the visible
« Synthèse » and « Engagements », and, with ``--marches``, replaced by those of the
grid clausier generated (its hash checked against the market's manifest). Nothing
typed freely in a grid (names, free text) is quoted in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import re
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from drafting.common import formatting as fr
from drafting.common.files import write_atomic
from drafting.decide.plan import TYPE_LABELS
from drafting.monitoring.grid import (
    A_DATE, A_LOT, A_PARTICIPANTS, A_TYPE, ACTION_COLUMNS, ACTIONS, ACTIONS_SHEET, AXES, CONTRATS,
    DATE_MAX, DATE_MIN, FORMAT_VERSION, H_ATTESTATION, H_CONTRAT, H_DEBUT, H_EMPLOYEUR, H_FEMME, H_FIN, H_FORMATION,
    H_HEURES, H_ID, H_LOT, H_MODALITE, H_MOIS, H_QPV, H_ROME, H_VALIDATION, HOURS_COLUMNS, HOURS_HEADERS_V1,
    HOURS_LAYOUT_V1, HOURS_MAX, HOURS_SHEET, INPUT_ROWS, SOUS_TRAITANCE,
    LISTS_SHEET, META_FIELDS, META_MARKER, META_SHEET, MODALITES, P_ACTION, P_ANNEE, P_AXE, P_CIBLE, P_INDICATEUR,
    P_LOT, PLAN_COLUMNS, PLAN_SHEET, SECTION_HEADERS, SUMMARY_SHEET, YEAR_MAX,
)

MAX_ROWS = 100_000                        # rows read per sheet: a hostile file cannot make us loop for ever
# A filled grid is about 1 Mo once inflated (a 5 000-row programme a few Mo): these caps refuse a zip
# bomb before openpyxl inflates it, and keep the shared strings, which openpyxl holds in memory whole, small.
MAX_UNCOMPRESSED = 20 * 1024 * 1024
MAX_SHARED_STRINGS = 5 * 1024 * 1024
MAX_RATIO = 100                           # per member: our grids compress about 12:1
RATIO_FLOOR = 1024 * 1024                 # a member smaller than this cannot be a bomb, whatever its ratio
MAX_PROBLEMS = 1000                       # per file: beyond, a count (a broken export would flood the report)
MAX_PARTICIPANTS = 10_000                 # per action: more is a typing error, and keeps every sum finite
META_MAX = 1e9                            # commitments, rates, lots of the hidden sheet: beyond is not a market
REPORT_FORMAT = "clausier-consolidation/1"
REPORT_CREATED = dt.datetime(2020, 1, 1)  # fixed: the same grids give the same report bytes
OTHER_CONTRACT = "Autre (hors liste)"     # a contract type typed freely never becomes a column or a JSON key
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
SHEETS_FOR = {"insertion": HOURS_SHEET, "action_sociale": ACTIONS_SHEET, "plan_de_progres": PLAN_SHEET}
HEADERS_FOR = {HOURS_SHEET: [name for name, _ in HOURS_COLUMNS], ACTIONS_SHEET: [c[0] for c in ACTION_COLUMNS],
               PLAN_SHEET: [c[0] for c in PLAN_COLUMNS]}
ROME = re.compile(r"^[A-Z]\d{4}$")
IGNORED = object()  # a cell whose value must not count (formula, error value)


class GridError(Exception):
    """A file that cannot be consolidated at all; the message says why, in French."""


@dataclass
class Problem:
    cellule: str
    message: str

    def render(self) -> str:
        return f"{self.cellule} : {self.message}" if self.cellule else self.message


@dataclass
class Line:
    """One lot and one retained consideration: what was due, what was done, what it may cost."""

    lot: int
    intitule: str
    type: str
    unite: str
    engagement: Optional[float]
    realise: Optional[float]
    ecart: Optional[float]
    taux: Optional[float]
    penalite_unitaire: Optional[float]
    penalites: Optional[float]
    complement: Optional[float] = None    # training hours (insertion) or participants (actions)
    beneficiaires: Optional[int] = None
    synthese_ligne: Optional[int] = None
    observation: str = ""

    @property
    def libelle(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)


@dataclass
class Indicators:
    beneficiaires: int = 0
    femmes: int = 0
    residents_qpv: int = 0
    sexe_non_renseigne: int = 0
    qpv_non_renseigne: int = 0
    types_contrat: dict[str, int] = field(default_factory=dict)
    heures_travaillees: float = 0.0
    heures_formation: float = 0.0
    heures_structures_inclusives: float = 0.0  # worked through an SIAE, EA or ESAT sub-contractor or co-contractor
    actions_realisees: int = 0
    participants_actions: float = 0.0
    plans_produits: int = 0

    @property
    def part_femmes(self) -> Optional[float]:
        return self.femmes / self.beneficiaires if self.beneficiaires else None

    @property
    def part_qpv(self) -> Optional[float]:
        return self.residents_qpv / self.beneficiaires if self.beneficiaires else None


@dataclass
class MarketReport:
    fichier: str
    reference: str
    objet: str
    acheteur: str
    facilitateur: str
    bibliotheque: str
    lines: list[Line]
    indicators: Indicators
    problems: list[Problem]
    lignes_saisies: int = 0   # rows recorded in the input sheets: which of two versions of a grid is the later


@dataclass
class Consolidation:
    markets: list[MarketReport]
    failures: list[tuple[str, str]]  # (file, why it could not be read)
    set_aside: list[tuple[str, str, str]] = field(default_factory=list)  # (file, market, why it is not counted)

    @property
    def penalites(self) -> float:
        return sum(line.penalites or 0 for m in self.markets for line in m.lines)


def consolidate(paths: list[Path], marches: Optional[Path] = None) -> Consolidation:
    """Read every grid; one bad file never stops the others; one grid per market is counted.

    ``marches`` is the folder where ``clausier generate``/``batch`` wrote the markets: the commitments
    then come from the grid clausier generated, not from the one the enterprise sends back.
    """
    read: list[tuple[int, Path, MarketReport]] = []
    failures = []
    for index, path in enumerate(paths):
        try:
            read.append((index, path, read_grid(path, marches)))
        except GridError as exc:
            failures.append((str(path), str(exc)))
    kept, set_aside = _one_grid_per_market(read)
    return Consolidation(kept, failures, set_aside)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _one_grid_per_market(read: list[tuple[int, Path, MarketReport]]) -> tuple[list[MarketReport], list[tuple[str, str, str]]]:
    """Monthly versions of one grid would count the same hours twice: keep the fullest, set the others aside.

    The fullest is the one with the most recorded rows (an enterprise only adds rows month after
    month); on a tie, the last modified, then the last given on the command line.
    """
    best: dict[str, tuple[int, Path, MarketReport]] = {}
    for entry in read:
        market = entry[2]
        current = best.get(market.reference)
        if current is None or _rank(entry) >= _rank(current):
            best[market.reference] = entry
    kept, set_aside = [], []
    for index, path, market in read:
        winner = best[market.reference]
        if winner[0] == index:
            kept.append(market)
            continue
        other = winner[2]
        if _same_file(path, winner[1]):
            why = "même fichier donné deux fois : compté une seule fois"
        elif market.lignes_saisies != other.lignes_saisies:
            why = (f"même marché que {other.fichier}, retenue parce qu'elle compte plus de lignes saisies "
                   f"({other.lignes_saisies} contre {market.lignes_saisies})")
        else:
            why = (f"même marché que {other.fichier}, autant de lignes saisies ({market.lignes_saisies}) : "
                   "retenue la plus récente (ou, à date égale, la dernière donnée)")
        set_aside.append((market.fichier, market.reference,
                          f"grille écartée, non comptée : {why} ; une seule grille par marché est consolidée, "
                          "donnez la dernière version du titulaire"))
    return kept, set_aside


def _rank(entry: tuple[int, Path, MarketReport]) -> tuple[int, float, int]:
    index, path, market = entry
    return market.lignes_saisies, _mtime(path), index


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


# --- reading one file -------------------------------------------------------------------------------------------------

def read_grid(path: Path, marches: Optional[Path] = None) -> MarketReport:
    """One filled grid, or GridError with the reason in French."""
    with _open(path) as wb:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _read_workbook(wb, path, marches)
        except GridError:
            raise
        except Exception as exc:
            raise GridError(f"classeur Excel endommagé ou illisible ({_why(exc)})") from None


@contextmanager
def _open(path: Path) -> Iterator[Any]:
    """A workbook opened read-only once its archive passed the size checks; closed on the way out."""
    try:
        _check_archive(path)
    except OSError as exc:  # a name too long, a permission refused…
        raise GridError(f"lecture impossible ({exc.strerror or type(exc).__name__})") from None
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False, keep_vba=False)
    except Exception as exc:  # openpyxl raises many kinds on damaged files; none may escape
        raise GridError(f"classeur Excel endommagé ou illisible ({_why(exc)})") from None
    try:
        yield wb
    finally:
        wb.close()


def _why(exc: Exception) -> str:
    """The parser's error class only: its English detail would not help a facilitator."""
    return type(exc).__name__


def _check_archive(path: Path) -> None:
    """Say plainly what the file is when it is not an xlsx, before any parser touches it."""
    if not path.exists():
        raise GridError("fichier introuvable")
    if path.is_dir():
        raise GridError("c'est un dossier, pas un classeur Excel")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            why = zip_bomb(archive)
    except zipfile.BadZipFile:
        raise GridError("ce n'est pas un classeur Excel .xlsx (le fichier n'est pas une archive zip : ancien format .xls, "
                        "classeur protégé par mot de passe, autre type de fichier ou fichier tronqué ?)") from None
    except OSError as exc:
        raise GridError(f"lecture impossible ({exc.strerror or exc})") from None
    except Exception as exc:
        raise GridError(f"archive zip endommagée ({_why(exc)})") from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise GridError("archive zip qui n'est pas un classeur Excel .xlsx")
    if why:
        raise GridError(f"{why} : ce n'est pas une grille de suivi")


def zip_bomb(archive: zipfile.ZipFile) -> Optional[str]:
    """Why an xlsx archive would inflate beyond reason, in French, or None; read from the zip directory only.

    Shared with the programme review: the sizes a zip announces are what openpyxl will inflate. The
    shared strings, which openpyxl holds in memory whole, are found as openpyxl finds them: by the
    content type [Content_Types].xml gives them, whatever their name.
    """
    infos = archive.infolist()
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
        return f"classeur trop volumineux une fois décompressé (plus de {MAX_UNCOMPRESSED // 2**20} Mo)"
    strings = _shared_strings_parts(archive)
    for info in infos:
        if info.file_size > MAX_SHARED_STRINGS and (info.filename in strings
                                                    or info.filename.lower().endswith("sharedstrings.xml")):
            return f"textes du classeur trop volumineux (plus de {MAX_SHARED_STRINGS // 2**20} Mo une fois décompressés)"
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return (f"élément « {info.filename[:60]} » compressé plus de {MAX_RATIO} fois : archive anormale "
                    "(bombe de décompression ?)")
    return None


def _shared_strings_parts(archive: zipfile.ZipFile) -> set[str]:
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return set()
    if info.file_size > RATIO_FLOOR:
        return set()
    text = archive.read(info).decode("utf-8", "replace")
    parts = set()
    for override in re.findall(r"<Override\b[^>]*>", text):
        name = re.search(r'PartName="/?([^"]*)"', override)
        if name and "sharedStrings+xml" in override:
            parts.add(name[1])
    return parts


@dataclass
class Meta:
    values: dict[str, Any]
    items: list[dict[str, Any]]   # each with "_row", its 1-based row in the hidden sheet
    version: int = FORMAT_VERSION


def _read_workbook(wb: Any, path: Path, marches: Optional[Path] = None) -> MarketReport:
    meta = _metadata(wb)
    problems = _Problems()
    items, disputed = _commitments(wb, meta, marches, problems)
    types = {item["type"] for item in items}
    for kind, sheet in SHEETS_FOR.items():
        if kind in types and sheet not in wb.sheetnames:
            raise GridError(f"onglet « {sheet} » absent : la grille a été modifiée ; demandez au titulaire de repartir "
                            "de la grille fournie avec le DCE")
    lists = _lists(wb, problems)
    epoch = getattr(wb, "epoch", None)
    reader = _Reader(problems, epoch)
    lots_of = {kind: {item["lot"] for item in items if item["type"] == kind} for kind in SHEETS_FOR}
    hours = _read_hours(wb, reader, lots_of["insertion"], lists, meta.version) if "insertion" in types else None
    actions = _read_actions(wb, reader, lots_of["action_sociale"], lists) if "action_sociale" in types else None
    plans = _read_plans(wb, reader, lots_of["plan_de_progres"], lists) if "plan_de_progres" in types else None
    lines = [_line(item, hours, actions, plans, (item["lot"], item["type"]) in disputed) for item in items]
    indicators = hours.indicators(lists["contrats"]) if hours else Indicators()
    if actions:
        indicators.actions_realisees = sum(actions.done.values())
        indicators.participants_actions = sum(actions.participants.values())
    if plans:
        indicators.plans_produits = sum(len(years) for years in plans.years.values())
    v = meta.values
    return MarketReport(str(path), v["reference"], v.get("objet", ""), v.get("acheteur", ""), v.get("facilitateur", ""),
                        v.get("bibliotheque", ""), lines, indicators, problems.done(), reader.recorded)


class _Problems(list):
    """Problems of one file, capped so a broken export cannot flood the report."""

    dropped = 0

    def add(self, sheet: str, ref: str, message: str) -> None:
        self.at(f"{sheet}!{ref}" if ref else sheet, message)

    def at(self, cell: str, message: str) -> None:
        """A problem at a full address (« Synthèse!B2 »), or about the whole file when ``cell`` is empty."""
        if len(self) >= MAX_PROBLEMS:
            self.dropped += 1
            return
        self.append(Problem(cell, message))

    def done(self) -> list[Problem]:
        if self.dropped:
            self.append(Problem("", f"… et {self.dropped} autre(s) problème(s) non détaillé(s)"))
        return list(self)


def _cell(row: tuple, col: int) -> Any:
    return row[col] if col < len(row) else None


def _sheet(wb: Any, name: str) -> Any:
    """A sheet ready to be read whatever its <dimension> says: a forged « A1:S1 » would hide every row."""
    ws = wb[name]
    ws.reset_dimensions()
    return ws


def _meta_rows(wb: Any) -> Iterator[tuple]:
    ws = _sheet(wb, META_SHEET)
    for index, row in enumerate(ws.iter_rows(min_row=1, max_row=2000, max_col=len(META_FIELDS)), start=1):
        cells = []
        for col, cell in enumerate(row):
            if cell.data_type == "f":
                raise GridError(f"onglet masqué « {META_SHEET} » altéré (formule en {_ref(col, index)}) : "
                                "repartez de la grille fournie avec le DCE")
            cells.append(None if cell.data_type == "e" else cell.value)
        yield tuple(cells)


def _metadata(wb: Any) -> Meta:
    """The hidden sheet: recognise a grid of ours and what it commits to, or say why not."""
    if META_SHEET not in wb.sheetnames:
        raise GridError(f"ce classeur n'est pas une grille de suivi clausier (onglet masqué « {META_SHEET} » absent ; "
                        "une grille produite avant la consolidation doit être régénérée avec « clausier generate »)")
    rows = enumerate(_meta_rows(wb), start=1)
    _, first = next(rows, (0, ()))
    if len(first) < 2 or first[0] != META_MARKER or not _finite(first[1]):
        raise GridError(f"ce classeur n'est pas une grille de suivi clausier (onglet « {META_SHEET} » sans la marque "
                        f"« {META_MARKER} »)")
    version = int(first[1])
    if version > FORMAT_VERSION:
        raise GridError(f"grille au format {version}, plus récent que celui que ce clausier sait lire ({FORMAT_VERSION}) : "
                        "mettez clausier à jour")
    values: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    header: Optional[list[str]] = None
    for number, row in rows:
        if header is None:
            if row and row[0] == "lot":
                header = [str(c) if c is not None else "" for c in row]
            elif row and isinstance(row[0], str):
                values[row[0]] = row[1] if len(row) > 1 else None
            continue
        if not any(c is not None for c in row):
            break
        items.append({**_meta_item(dict(zip(header, row))), "_row": number})
    if not isinstance(values.get("reference"), (str, int)) or not str(values["reference"]).strip():
        raise GridError(f"onglet masqué « {META_SHEET} » altéré : référence du marché absente")
    values["reference"] = str(values["reference"])
    for key in ("objet", "acheteur", "facilitateur", "bibliotheque"):
        values[key] = "" if values.get(key) is None else str(values[key])
    if header is None or not items:
        raise GridError(f"onglet masqué « {META_SHEET} » altéré : aucun engagement lisible")
    return Meta(values, items, version)


def _meta_item(raw: dict[str, Any]) -> dict[str, Any]:
    def number(name: str, whole: bool = False) -> Optional[float]:
        value = raw.get(name)
        if value is None:
            return None
        if (not _finite(value) or not 0 <= value <= META_MAX
                or (whole and value != int(value))):
            raise GridError(f"onglet masqué « {META_SHEET} » altéré : valeur « {name} » invalide")
        return int(value) if whole else float(value)

    kind = raw.get("type")
    if kind not in TYPE_LABELS:
        raise GridError(f"onglet masqué « {META_SHEET} » altéré : considération inconnue")
    lot = number("lot", whole=True)
    if not lot:
        raise GridError(f"onglet masqué « {META_SHEET} » altéré : numéro de lot invalide")
    return {"lot": lot, "intitule": "" if raw.get("intitule") is None else str(raw["intitule"]), "type": kind,
            "engagement": number("engagement"), "unite": str(raw.get("unite") or ""),
            "penalite_unitaire": number("penalite_unitaire"), "heures_par_100k": number("heures_par_100k"),
            "par_an": number("par_an"), "synthese_ligne": number("synthese_ligne", whole=True)}


# --- which commitments to trust ---------------------------------------------------------------------------------

META_COLUMNS = {name: META_FIELDS.index(name) for name in ("engagement", "penalite_unitaire")}
WHAT = {"engagement": "engagement", "penalite_unitaire": "pénalité par unité non réalisée"}
SECTION_OF = {(h[1] if isinstance(h[1], str) else h[1][0]): kind for kind, (_, h) in SECTION_HEADERS.items()}
LABEL_TYPES = {label: kind for kind, label in TYPE_LABELS.items()}
RATE_FORMULA = re.compile(r"^=?IF\(ISNUMBER\(\$?F\$?\d+\),\$?F\$?\d+\*([0-9.Ee+-]+),\"\"\)$")
TOLERANCE = 1e-6


def _commitments(wb: Any, meta: Meta, marches: Optional[Path],
                 problems: _Problems) -> tuple[list[dict[str, Any]], set[tuple[int, str]]]:
    """The commitments to count and the (lot, type) pairs whose figures are disputed.

    Without ``marches``, those of the hidden sheet, each checked against what « Synthèse » and
    « Engagements » show: a difference means someone altered the grid, so the figure is flagged.
    With ``marches``, those of the grid clausier generated, and any difference in the returned grid,
    hidden or visible, is « engagement modifié dans la grille renvoyée ».
    """
    disputed: set[tuple[int, str]] = set()
    shown = _visible(wb, problems, any(item["type"] in SHEETS_FOR for item in meta.items))
    trusted: Optional[list[dict[str, Any]]] = None
    if marches is not None:
        trusted, why = _generated_items(marches, meta.values["reference"])
        if trusted is None:
            problems.at("", f"{why} : engagements lus dans la grille renvoyée, contrôlés seulement avec ses "
                                 "onglets visibles")
    if trusted is None:
        for item in meta.items:
            for key, cell, value in shown.get((item["lot"], item["type"]), []):
                if _differs(value, item[key]):
                    disputed.add((item["lot"], item["type"]))
                    problems.at(cell, f"{WHAT[key]} {_figure(key, value)} ici, {_figure(key, item[key])} dans "
                                           f"l'onglet masqué « {META_SHEET} » : grille modifiée ; le rapport retient "
                                           f"{_figure(key, item[key])}, vérifiez-le avec la grille générée "
                                           "(option --marches)")
        return meta.items, disputed
    returned = {(item["lot"], item["type"]): item for item in meta.items}
    for item in trusted:
        pair = (item["lot"], item["type"])
        mine = returned.get(pair)
        found: list[tuple[str, Any]] = []
        if mine is None:
            found.append((f"{META_SHEET}!", _MISSING))
        else:
            found += [(f"{META_SHEET}!{_ref(META_COLUMNS[key], mine['_row'])}", (key, mine[key]))
                      for key in META_COLUMNS]
        found += [(cell, (key, value)) for key, cell, value in shown.get(pair, [])]
        for cell, entry in found:
            if entry is _MISSING:
                disputed.add(pair)
                problems.at(META_SHEET, f"engagement modifié dans la grille renvoyée : lot {pair[0]}, "
                                        f"{TYPE_LABELS[pair[1]]}, absent ; le rapport retient la grille générée")
                continue
            key, value = entry
            if _differs(value, item[key]):
                disputed.add(pair)
                problems.at(cell, f"engagement modifié dans la grille renvoyée : {WHAT[key]} {_figure(key, value)} "
                                       f"au lieu de {_figure(key, item[key])} dans la grille générée ; le rapport retient "
                                       f"{_figure(key, item[key])}")
    known = {(item["lot"], item["type"]) for item in trusted}
    for pair, item in returned.items():
        if pair not in known:
            problems.at(f"{META_SHEET}!A{item['_row']}", f"engagement modifié dans la grille renvoyée : lot {pair[0]}, "
                                                       f"{TYPE_LABELS[pair[1]]}, absent de la grille générée : ignoré")
    return trusted, disputed


_MISSING = object()


def _generated_items(marches: Path, reference: str) -> tuple[Optional[list[dict[str, Any]]], str]:
    """The commitments of the grid clausier generated for ``reference``, or None and why not, in French.

    The grid is used only if its SHA-256 is the one the market's manifest recorded when it was written:
    a generated grid edited afterwards is no reference.
    """
    from drafting.intake.model import REFERENCE_PATTERN

    if not REFERENCE_PATTERN.fullmatch(reference):  # it names a folder: nothing may escape --marches
        return None, "référence du marché non admise comme nom de dossier : grille générée non cherchée"
    folder = marches / reference
    name = f"{reference}_grille-de-suivi.xlsx"
    grid = folder / name
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        recorded = next((f.get("sha256") for f in manifest.get("fichiers", [])
                         if isinstance(f, dict) and f.get("nom") == name), None)
    except FileNotFoundError:
        return None, f"marché {reference} absent du dossier {marches} (pas de {reference}/manifest.json)"
    except (OSError, ValueError, AttributeError, TypeError):
        return None, f"manifeste {folder / 'manifest.json'} illisible"
    if recorded is None:
        return None, f"le manifeste de {folder} ne cite pas {name}"
    try:
        data = grid.read_bytes()
    except OSError:
        return None, f"grille générée {grid} introuvable"
    if hashlib.sha256(data).hexdigest() != recorded:
        return None, f"grille générée {grid} modifiée depuis sa génération (empreinte différente de celle du manifeste)"
    try:
        with _open(grid) as wb:
            return _metadata(wb).items, ""
    except GridError as exc:
        return None, f"grille générée {grid} illisible ({exc})"
    except Exception as exc:  # our own file, hash checked: only a bug or a disk error lands here
        return None, f"grille générée {grid} illisible ({_why(exc)})"


def _differs(shown: Any, expected: Optional[float]) -> bool:
    """A figure shown against the one committed to; text stands for « not a figure » (voir CCAP…)."""
    if expected is None:
        return _is_number(shown)
    if not _finite(shown):
        return True
    return abs(shown - expected) > TOLERANCE * max(1.0, abs(expected))


def _figure(key: str, value: Any) -> str:
    """A committed figure in a message; text is never quoted (it could be anything)."""
    if not _is_number(value):
        return "non chiffré(e)"
    return _eur(value) if key == "penalite_unitaire" else _n(value)


def _visible(wb: Any, problems: _Problems, measured: bool) -> dict[tuple[int, str], list[tuple[str, str, Any]]]:
    """What « Engagements » and « Synthèse » show per (lot, type): [(key, cell, value), …].

    « Engagements » is checked first, then « Synthèse », whose penalty per unit sits inside the
    formula of column H (=IF(ISNUMBER(F…),F…*rate,"")); a formula rewritten otherwise is a difference.
    A grid whose clauses are all qualitative (``measured`` false) has no « Synthèse ».
    """
    out: dict[tuple[int, str], list[tuple[str, str, Any]]] = {}

    def note(pair: tuple[int, str], key: str, cell: str, value: Any) -> None:
        out.setdefault(pair, []).append((key, cell, value))

    for sheet in ("Engagements", SUMMARY_SHEET) if measured else ("Engagements",):
        if sheet not in wb.sheetnames:
            problems.add(sheet, "", f"onglet « {sheet} » absent : engagements non contrôlés avec lui")
    if "Engagements" in wb.sheetnames:
        for n, row in enumerate(_sheet(wb, "Engagements").iter_rows(min_row=2, max_row=2000, max_col=9), start=2):
            lot, label = _cell(row, 0), _cell(row, 2)
            if lot is None or not _finite(lot.value) or label is None or label.value not in LABEL_TYPES:
                continue
            pair = (int(lot.value), LABEL_TYPES[label.value])
            for key, col in (("engagement", 3), ("penalite_unitaire", 8)):
                cell = _cell(row, col)
                note(pair, key, f"Engagements!{_ref(col, n)}", _plain_value(cell))
    if SUMMARY_SHEET in wb.sheetnames:
        kind = None
        for n, row in enumerate(_sheet(wb, SUMMARY_SHEET).iter_rows(min_row=1, max_row=2000, max_col=8), start=1):
            first, second = (_plain_value(_cell(row, c)) for c in (0, 1))
            if first == "Lot" and second in SECTION_OF:
                kind = SECTION_OF[second]
                continue
            if kind is None or not _finite(first) or first != int(first):
                kind = None if first == "Total" else kind
                continue
            pair = (int(first), kind)
            note(pair, "engagement", f"{SUMMARY_SHEET}!{_ref(1, n)}", second)
            rate = _cell(row, 7)
            if rate is not None and rate.data_type == "f":
                match = RATE_FORMULA.match(str(getattr(rate.value, "text", rate.value)).replace(" ", ""))
                value: Any = _float(match[1]) if match else "formule modifiée"
            else:
                value = _plain_value(rate)
            note(pair, "penalite_unitaire", f"{SUMMARY_SHEET}!{_ref(7, n)}", value)
    return out


def _float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return "formule modifiée"


def _plain_value(cell: Any) -> Any:
    """A cell of a sheet we wrote: its value, None for an error or a formula (never evaluated)."""
    if cell is None or cell.data_type in ("e", "f"):
        return None if cell is None or cell.data_type == "e" else "formule"
    return cell.value


def _lists(wb: Any, problems: _Problems) -> dict[str, set[str]]:
    """Drop-down values as the grid offered them; the built-in ones when the sheet is gone."""
    lists = {"modalites": set(MODALITES), "contrats": set(CONTRATS),
             "actions": set(ACTIONS), "axes": set(AXES)}
    if LISTS_SHEET not in wb.sheetnames:
        problems.add(LISTS_SHEET, "", "onglet masqué des listes absent : valeurs contrôlées avec les listes par défaut")
        return lists
    columns: list[list[str]] = []
    for index, row in enumerate(_sheet(wb, LISTS_SHEET).iter_rows(min_row=1, max_row=500, max_col=20, values_only=True)):
        if index == 0:
            columns = [[str(v)] if v is not None else [""] for v in row]
            continue
        for col, value in enumerate(row[:len(columns)]):
            if value is not None:
                columns[col].append(str(value))
    for values in columns:
        if values and values[0] in lists and len(values) > 1:
            lists[values[0]] = set(values[1:])
    return lists


def _ref(col: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col + 1)}{row}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A number Excel could hold (up to 9,99E+307): not inf or NaN, not a 400-digit integer float() cannot take."""
    try:
        return _is_number(value) and math.isfinite(value) and abs(value) <= 9.99e307
    except OverflowError:
        return False


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _formula(value: Any) -> str:
    """A formula typed in an input cell, for a message: its text (an array formula's too), string literals masked.

    The cell address already says where it is; a literal between quotes could be a name, so it is not repeated.
    """
    text = getattr(value, "text", value)
    if not isinstance(text, str):
        return "formule"
    text = re.sub(r'"(?:[^"]|"")*"', '"…"', text)
    return _short(text if text.startswith("=") else "=" + text)


def _shown(value: Any) -> str:
    """A number typed in a cell, for a message (« 12,5 »), else nothing: text typed freely could be a name,
    a date a date of birth."""
    return f" {_n(value)}" if _is_number(value) else ""


class _Reader:
    """Cell values as the helper columns see them, with a problem for each one that cannot count."""

    def __init__(self, problems: _Problems, epoch: Any) -> None:
        self.problems = problems
        self.epoch = epoch
        self.recorded = 0   # non-empty rows of the input zones, to tell two versions of a grid apart

    def rows(self, wb: Any, sheet: str, width: int, headers: Optional[list[str]] = None) -> Iterator[tuple[int, tuple]]:
        """Rows 2 to the end of the input zone, values cleaned; rows beyond it are counted, reported, skipped."""
        ws = _sheet(wb, sheet)
        expected = headers or HEADERS_FOR[sheet]
        beyond, header = 0, False
        for index, row in enumerate(ws.iter_rows(min_row=1, max_col=width), start=1):
            if index == 1:
                header = True
                found = [c.value for c in row]
                for col, name in enumerate(expected):
                    if _cell(found, col) != name:
                        raise GridError(f"colonnes de l'onglet « {sheet} » modifiées (attendu « {name} » en "
                                        f"{_ref(col, 1)}) : repartez de la grille fournie avec le DCE")
                continue
            if index > MAX_ROWS + 1:
                self.problems.add(sheet, "", f"plus de {_n(MAX_ROWS)} lignes : seules les {_n(MAX_ROWS)} premières "
                                             "ont été lues")
                break
            if all(c.value is None for c in row):
                continue
            if index > INPUT_ROWS + 1:
                beyond += 1
                continue
            self.recorded += 1
            yield index, tuple(self.value(sheet, c, col, index) for col, c in enumerate(row))
        if not header:
            raise GridError(f"onglet « {sheet} » vide : la grille a été modifiée ; repartez de la grille fournie avec le DCE")
        if beyond:
            self.problems.add(sheet, "", f"{beyond} ligne(s) saisie(s) au-delà de la ligne {INPUT_ROWS + 1}, hors de la zone "
                                         "de saisie : non comptées (la Synthèse du classeur ne les compte pas non plus)")

    def value(self, sheet: str, cell: Any, col: int, row: int) -> Any:
        """The value as the helper columns test it: only a real formula is one (text « =… » is text, as ISFORMULA says)."""
        value = cell.value
        if value is None:
            return None
        if cell.data_type == "f":
            self.problems.add(sheet, _ref(col, row), f"formule saisie dans une cellule de saisie ({_formula(value)}) : "
                                                     "ignorée, saisissez une valeur")
            return IGNORED
        if cell.data_type == "e":
            code = value if value in EXCEL_ERRORS else "inconnue"
            self.problems.add(sheet, _ref(col, row), f"valeur d'erreur {code} : ignorée")
            return IGNORED
        if _is_number(value) and not _finite(value):
            # Excel cannot store one: a forged file; it would make every sum and the JSON report invalid.
            self.problems.add(sheet, _ref(col, row), "nombre infini, indéfini ou démesuré (impossible dans Excel) : "
                                                     "ignoré")
            return IGNORED
        if isinstance(value, str) and not value.strip(" "):
            return None
        return value

    def number(self, value: Any) -> Optional[float]:
        """What ISNUMBER sees: numbers, dates and times (Excel stores them as numbers), never text or booleans.

        A time is a fraction of a day (7:30 is 0,3125, 35:00 is 1,458…), as the grid's formulas count it.
        """
        if _is_number(value):
            return float(value)
        if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            from openpyxl.utils.datetime import to_excel

            try:
                return float(to_excel(value, self.epoch) if self.epoch and not isinstance(value, (dt.time, dt.timedelta))
                             else to_excel(value))
            except (ValueError, OverflowError, TypeError, AttributeError):
                return None
        return None

    def date(self, value: Any) -> Optional[dt.date]:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if _is_number(value):
            from openpyxl.utils.datetime import from_excel

            try:
                converted = from_excel(value, self.epoch) if self.epoch else from_excel(value)
            except (ValueError, OverflowError, TypeError):
                return None
            return converted.date() if isinstance(converted, dt.datetime) else None
        return None


def _text(value: Any) -> Optional[str]:
    """A free-text cell as the helper columns test it (LEN(TRIM(x))>0): None when empty or ignored."""
    if value is None or value is IGNORED:
        return None
    text = str(value)
    return text if text.strip(" ") else None


def _excel_trim(text: str) -> str:
    """Excel's TRIM: outer spaces removed, inner runs of spaces made single (spaces only, not tabs)."""
    return re.sub(" +", " ", text.strip(" "))


# --- « Suivi heures » ---------------------------------------------------------------------------------------------

@dataclass
class _Person:
    femme: set[str] = field(default_factory=set)
    qpv: set[str] = field(default_factory=set)
    contrats: set[str] = field(default_factory=set)


@dataclass
class _Hours:
    worked: dict[int, float] = field(default_factory=dict)
    training: dict[int, float] = field(default_factory=dict)
    people: dict[int, set[str]] = field(default_factory=dict)
    persons: dict[str, _Person] = field(default_factory=dict)
    attested: dict[int, float] = field(default_factory=dict)  # hours of the sub-contracting or co-contracting modality

    def indicators(self, contrats: set[str]) -> Indicators:
        """Per-person figures; a contract type outside the drop-down is « Autre (hors liste) », never its text.

        Only the built-in types keep their name: a free text (a name, a note) must not become a column of
        the buyer's report or a key of its JSON.
        """
        named = contrats & set(CONTRATS)
        out = Indicators(beneficiaires=len(self.persons), heures_travaillees=sum(self.worked.values()),
                         heures_formation=sum(self.training.values()),
                         heures_structures_inclusives=sum(self.attested.values()))
        for person in self.persons.values():
            out.femmes += "O" in person.femme
            out.sexe_non_renseigne += not person.femme
            out.residents_qpv += "O" in person.qpv
            out.qpv_non_renseigne += not person.qpv
            for contrat in {c if c in named else OTHER_CONTRACT for c in person.contrats}:
                out.types_contrat[contrat] = out.types_contrat.get(contrat, 0) + 1
        out.types_contrat = dict(sorted(out.types_contrat.items()))
        return out


NAME_LIKE = re.compile(r"[^\W\d_]+(?:[ '’-]+[^\W\d_]+)*")


def _identifier(reader: _Reader, value: Any, sheet: str, ref: str) -> Optional[str]:
    """The key the helper column R computes: trimmed text, or a whole number; case folded like Excel's « = »."""
    if value is None or value is IGNORED:
        return None
    number = reader.number(value)
    if isinstance(value, (dt.datetime, dt.date)):
        reader.problems.add(sheet, ref, "date saisie comme identifiant : saisissez le code convenu avec le facilitateur")
    if number is not None:
        if number != int(number):
            reader.problems.add(sheet, ref, f"identifiant{_shown(value)} non entier : ligne non comptée")
            return None
        return str(int(number)).lower()
    if not isinstance(value, str):
        reader.problems.add(sheet, ref, "identifiant illisible : ligne non comptée")
        return None
    key = _excel_trim(value)
    if key.startswith("="):  # the helper column leaves it out too (LEFT(TRIM(A),1)="=")
        reader.problems.add(sheet, ref, "identifiant commençant par « = » : ligne non comptée")
        return None
    if len(key) > 30:
        reader.problems.add(sheet, ref, "identifiant de plus de 30 caractères : vérifiez qu'il ne s'agit pas d'un nom")
    elif " " in key and NAME_LIKE.fullmatch(key):
        reader.problems.add(sheet, ref, "identifiant qui ressemble à un prénom et un nom (lettres et espace, sans "
                                        "chiffre) : utilisez le code pseudonymisé convenu avec le facilitateur "
                                        "(ex. ENT-001), jamais le nom d'une personne")
    return key.lower()


def _lot(reader: _Reader, value: Any, lots: set[int], sheet: str, ref: str, clause: str) -> Optional[int]:
    """The lot key (helper column S): a number typed or chosen in the list, never text or a formula."""
    if value is IGNORED:
        return None
    if value is None:
        reader.problems.add(sheet, ref, "lot manquant : ligne non comptée")
        return None
    number = reader.number(value)
    if number is None:
        reader.problems.add(sheet, ref, "lot saisi comme du texte : choisissez-le dans la liste ; ligne non comptée")
        return None
    if number not in lots:
        reader.problems.add(sheet, ref, f"lot {_n(number)} sans {clause} : ligne non comptée")
        return None
    return int(number)


def _hours_value(reader: _Reader, value: Any, sheet: str, ref: str, what: str) -> float:
    if value is None or value is IGNORED:
        return 0.0
    number = reader.number(value)
    if number is None:
        reader.problems.add(sheet, ref, f"{what} : pas un nombre, non compté")
        return 0.0
    if _as_time(value, number):
        # Excel and LibreOffice count 7:30 as 0,3125 (a fraction of a day): so do we, and say how to type it.
        hours = number * 24
        reader.problems.add(sheet, ref, f"heures saisies au format horaire ({_clock(hours)}) : saisissez "
                                        f"{_n(hours)} ; comptées {_n(number, 4)} comme dans la "
                                        "Synthèse du classeur")
    if number < 0:
        reader.problems.add(sheet, ref, f"nombre d'heures négatif ({_n(number)}) : non compté")
        return 0.0
    if number > HOURS_MAX:
        reader.problems.add(sheet, ref, f"plus de {HOURS_MAX} heures dans le mois ({_n(number)}) : non compté")
        return 0.0
    return number


def _as_time(value: Any, number: float) -> bool:
    """A duration typed « 7:30 » or « 35:00 »: a time, a timedelta, or a date of January 1900 (h:mm past 24 h)."""
    if isinstance(value, (dt.time, dt.timedelta)):
        return True
    return isinstance(value, dt.datetime) and 0 <= number < 32


def _clock(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _nothing_to_check(reader: _Reader, value: Any, sheet: str, ref: str, what: str, required: bool,
                      feminine: bool = True) -> bool:
    """An ignored cell, or an empty one (a problem when the column is required)."""
    if value is IGNORED:
        return True
    if value is None:
        if required:
            reader.problems.add(sheet, ref, f"{what} {'manquante' if feminine else 'manquant'}")
        return True
    return False


def _in_list(reader: _Reader, value: Any, allowed: set[str], sheet: str, ref: str, what: str,
             required: bool = False, feminine: bool = False) -> Optional[str]:
    if _nothing_to_check(reader, value, sheet, ref, what, required, feminine):
        return None
    text = str(value).strip()
    if text not in allowed:
        reader.problems.add(sheet, ref, f"{what} : valeur hors liste (choisissez-la dans la liste déroulante)")
    return text


def _date_check(reader: _Reader, value: Any, sheet: str, ref: str, what: str, required: bool = False) -> Optional[dt.date]:
    if _nothing_to_check(reader, value, sheet, ref, what, required):
        return None
    day = reader.date(value)
    if day is None or not DATE_MIN <= day <= DATE_MAX:
        # Never quoted: a date out of range is often a date of birth typed in the wrong column.
        reader.problems.add(sheet, ref, f"{what} invalide : saisissez une date JJ/MM/AAAA entre {DATE_MIN.year} et "
                                        f"{DATE_MAX.year}")
        return None
    return day


def _yes_no(value: Any) -> Optional[str]:
    if value is None or value is IGNORED:
        return None
    text = str(value).strip().upper()
    return {"O": "O", "OUI": "O", "N": "N", "NON": "N"}.get(text, "?")


def _hours_layout(version: int) -> tuple[list[str], tuple[Optional[int], ...]]:
    """Headers of « Suivi heures » and where each of today's columns sits, for a grid's format."""
    if version < 2:
        return HOURS_HEADERS_V1, HOURS_LAYOUT_V1
    return [name for name, _ in HOURS_COLUMNS], tuple(range(len(HOURS_COLUMNS)))


def _read_hours(wb: Any, reader: _Reader, lots: set[int], lists: dict[str, set[str]], version: int = FORMAT_VERSION) -> _Hours:
    sheet, out = HOURS_SHEET, _Hours()
    seen_months: dict[tuple, int] = {}
    headers, layout = _hours_layout(version)
    for n, physical in reader.rows(wb, sheet, len(headers), headers):
        # today's column order, whatever the format; a column the format lacks reads as empty
        row = tuple(None if col is None else _cell(physical, col) for col in layout)
        ref = lambda col: _ref(layout[col] if layout[col] is not None else col, n)  # noqa: E731
        key = _identifier(reader, row[H_ID], sheet, ref(H_ID))
        lot = _lot(reader, row[H_LOT], lots, sheet, ref(H_LOT), "clause d'insertion")
        if key is None and row[H_ID] is None:
            reader.problems.add(sheet, ref(H_ID), "identifiant pseudonymisé manquant : ligne non comptée")
        if key is None or lot is None:
            continue
        worked = _hours_value(reader, row[H_HEURES], sheet, ref(H_HEURES), "heures travaillées")
        training = _hours_value(reader, row[H_FORMATION], sheet, ref(H_FORMATION), "heures de formation")
        if row[H_HEURES] is None and row[H_FORMATION] is None:
            reader.problems.add(sheet, ref(H_HEURES), "aucune heure saisie sur la ligne")
        out.worked[lot] = out.worked.get(lot, 0.0) + worked
        out.training[lot] = out.training.get(lot, 0.0) + training
        out.people.setdefault(lot, set()).add(key)
        person = out.persons.setdefault(key, _Person())
        _date_check(reader, row[H_VALIDATION], sheet, ref(H_VALIDATION), "date de validation par le facilitateur", True)
        modalite = _in_list(reader, row[H_MODALITE], lists["modalites"], sheet, ref(H_MODALITE), "modalité", feminine=True)
        if modalite == SOUS_TRAITANCE:
            out.attested[lot] = out.attested.get(lot, 0.0) + worked
            if version >= 2 and _date_check(reader, row[H_ATTESTATION], sheet, ref(H_ATTESTATION),
                                            "date de l'attestation de la structure") is None:
                reader.problems.add(sheet, ref(H_ATTESTATION), "heures réalisées en sous-traitance ou cotraitance sans "
                                                               "date d'attestation de la structure : comptées, à justifier")
            if _text(row[H_EMPLOYEUR]) is None:
                reader.problems.add(sheet, ref(H_EMPLOYEUR), "structure sous-traitante ou cotraitante non nommée "
                                                             "(employeur juridique)")
        contrat = _in_list(reader, row[H_CONTRAT], lists["contrats"], sheet, ref(H_CONTRAT), "type de contrat")
        if contrat:
            person.contrats.add(contrat)
        start = _date_check(reader, row[H_DEBUT], sheet, ref(H_DEBUT), "date de début du contrat")
        end = _date_check(reader, row[H_FIN], sheet, ref(H_FIN), "date de fin du contrat")
        if start and end and end < start:
            reader.problems.add(sheet, ref(H_FIN), "fin du contrat antérieure à son début")
        rome = row[H_ROME]
        if rome not in (None, IGNORED) and not ROME.match(str(rome).strip().upper()):
            reader.problems.add(sheet, ref(H_ROME), "code ROME invalide (une lettre et quatre chiffres, ex. F1703)")
        month = _date_check(reader, row[H_MOIS], sheet, ref(H_MOIS), "mois", True)
        if month:
            slot = (key, lot, month.year, month.month)
            if slot in seen_months:
                reader.problems.add(sheet, ref(H_MOIS), f"même personne, même lot et même mois que la ligne "
                                                        f"{seen_months[slot]} : vérifiez qu'il ne s'agit pas d'un doublon")
            seen_months.setdefault(slot, n)
        for col, target in ((H_FEMME, person.femme), (H_QPV, person.qpv)):
            answer = _yes_no(row[col])
            if answer == "?":
                reader.problems.add(sheet, ref(col), "réponse non reconnue : répondez O ou N")
            elif answer:
                target.add(answer)
    return out


# --- « Actions sociales » et « Plan de progrès » ------------------------------------------------------------------

@dataclass
class _Actions:
    done: dict[int, int] = field(default_factory=dict)
    participants: dict[int, float] = field(default_factory=dict)


def _read_actions(wb: Any, reader: _Reader, lots: set[int], lists: dict[str, set[str]]) -> _Actions:
    sheet, out = ACTIONS_SHEET, _Actions()
    for n, row in reader.rows(wb, sheet, len(ACTION_COLUMNS)):
        ref = lambda col: _ref(col, n)  # noqa: E731
        lot = _lot(reader, row[A_LOT], lots, sheet, ref(A_LOT), "clause d'action sociale")
        day = _date_check(reader, row[A_DATE], sheet, ref(A_DATE), "date de l'action", True)
        people = row[A_PARTICIPANTS]
        count = reader.number(people) if people is not IGNORED else None
        if people is None:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "nombre de participants manquant : action non comptée")
        elif people is not IGNORED and count is None:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "pas un nombre de participants : action non comptée")
        elif count is not None and count < 1:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "aucun participant : action non comptée")
        elif count is not None and count > MAX_PARTICIPANTS:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), f"plus de {_n(MAX_PARTICIPANTS)} participants "
                                                            f"({_n(count)}) : erreur de saisie ? action non comptée")
            count = None
        elif count is not None and count != int(count):
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "nombre de participants non entier")
        _in_list(reader, row[A_TYPE], lists["actions"], sheet, ref(A_TYPE), "type d'action", True)
        if lot is None or day is None or count is None or count < 1:
            continue
        out.done[lot] = out.done.get(lot, 0) + 1
        out.participants[lot] = out.participants.get(lot, 0.0) + count
    return out


@dataclass
class _Plans:
    years: dict[int, set[int]] = field(default_factory=dict)


def _read_plans(wb: Any, reader: _Reader, lots: set[int], lists: dict[str, set[str]]) -> _Plans:
    sheet, out = PLAN_SHEET, _Plans()
    for n, row in reader.rows(wb, sheet, len(PLAN_COLUMNS)):
        ref = lambda col: _ref(col, n)  # noqa: E731
        lot = _lot(reader, row[P_LOT], lots, sheet, ref(P_LOT), "plan de progrès")
        year_value = row[P_ANNEE]
        year = reader.number(year_value) if year_value not in (None, IGNORED) else None
        if year_value is None:
            reader.problems.add(sheet, ref(P_ANNEE), "année d'exécution manquante : ligne non comptée")
        elif year_value is not IGNORED and (year is None or not 1 <= year <= YEAR_MAX or year != int(year)):
            reader.problems.add(sheet, ref(P_ANNEE), f"année d'exécution{_shown(year_value)} invalide (1, 2, 3…) : ligne non comptée")
            year = None
        missing = [name for col, name in ((P_ACTION, "l'action"), (P_INDICATEUR, "l'indicateur"), (P_CIBLE, "la cible"))
                   if _text(row[col]) is None]
        if missing:
            names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} et {missing[-1]}"
            verb = "manque" if len(missing) == 1 else "manquent"
            reader.problems.add(sheet, ref(P_ACTION), f"ligne incomplète ({names} {verb}) : non comptée")
        _in_list(reader, row[P_AXE], lists["axes"], sheet, ref(P_AXE), "axe de progrès", True)
        if lot is None or year is None or missing:
            continue
        out.years.setdefault(lot, set()).add(int(year))
    return out


# --- figures per lot and consideration ----------------------------------------------------------------------------

def _line(item: dict[str, Any], hours: Optional[_Hours], actions: Optional[_Actions], plans: Optional[_Plans],
          disputed: bool = False) -> Line:
    """The same arithmetic as the « Synthèse » row: done, rate, gap, penalties; a disputed commitment says so."""
    lot, kind, due, rate = item["lot"], item["type"], item["engagement"], item["penalite_unitaire"]
    done: Optional[float] = None
    extra: Optional[float] = None
    people: Optional[int] = None
    note = ""
    if kind == "insertion" and hours is not None:
        extra = hours.training.get(lot, 0.0)
        done = hours.worked.get(lot, 0.0) + extra
        people = len(hours.people.get(lot, ()))
        if due is None:
            note = f"engagement selon les commandes ({_n(item['heures_par_100k'] or 0)} h par 100 000 € HT commandés)"
    elif kind == "action_sociale" and actions is not None:
        done = float(actions.done.get(lot, 0))
        extra = actions.participants.get(lot, 0.0)
        if due is None:
            note = "nombre d'actions dues : voir le CCAP (durée d'exécution non connue à la rédaction)"
    elif kind == "plan_de_progres" and plans is not None:
        done = float(len(plans.years.get(lot, ())))
        if due is None:
            note = "nombre de plans dus : voir le CCAP (durée d'exécution non connue à la rédaction)"
    else:
        note = "suivi qualitatif : voir les bilans prévus au CCAP"
    gap = max(0.0, due - done) if due is not None and done is not None else None
    rate_done = (done / due if due > 0 else 0.0) if due is not None and done is not None else None
    penalties = gap * rate if gap is not None and rate is not None else None
    if disputed:
        note = "; ".join(filter(None, ["engagement ou pénalité modifié dans la grille : voir les problèmes", note]))
    return Line(lot, item["intitule"], kind, item["unite"], due, done, gap, rate_done, rate, penalties, extra, people,
                item["synthese_ligne"], note.replace(fr.NNBSP, " ").replace(fr.NBSP, " "))


# --- outputs ------------------------------------------------------------------------------------------------------

def _plain(text: str) -> str:
    return text.replace(fr.NBSP, " ").replace(fr.NNBSP, " ")


def _n(value: Optional[float], decimals: int = 2) -> str:
    """A figure in French; never raises: the formatter refuses floats from about 1e27, Python prints them."""
    if value is None:
        return "—"
    try:
        if isinstance(value, float) and (not math.isfinite(value) or abs(value) >= 1e15):
            raise ValueError
        return _plain(fr.nombre(value, decimals))
    except Exception:
        return f"{value:.4g}".replace(".", ",") if _is_number(value) else str(value)


def _pct(value: Optional[float]) -> str:
    try:
        return "—" if value is None else _plain(fr.pourcent(round(value, 4)))
    except Exception:
        return _n(value * 100) + " %" if value is not None else "—"


def _eur(value: Optional[float]) -> str:
    if value is None:
        return "—"
    try:
        if not math.isfinite(value) or abs(value) >= 1e15:
            raise ValueError
        return _plain(fr.euros(value))
    except Exception:
        return _n(value) + " €"


UNIT_SHORT = {"heures": "h", "actions": "action(s)", "plans": "plan(s)"}


def report_text(result: Consolidation) -> str:
    read, failed, aside = len(result.markets), len(result.failures), len(result.set_aside)
    out = [f"Consolidation de {read + failed + aside} grille(s) de suivi : {read} lue(s), {failed} non lue(s)"
           + (f", {aside} écartée(s) (même marché)." if aside else ".")]
    for market in result.markets:
        out += ["", f"Marché {market.reference} — {market.objet} ({market.fichier})"]
        current = None
        for line in market.lines:
            if line.lot != current:
                out.append(f"  Lot {line.lot} — {line.intitule}")
                current = line.lot
            if line.realise is None:
                out.append(f"    {line.libelle} : {line.observation}")
                continue
            unit = UNIT_SHORT.get(line.unite, line.unite)
            due = f"{_n(line.engagement)} {unit}" if line.engagement is not None else "non chiffré"
            gap = f"{_n(line.ecart)} {unit}" if line.ecart is not None else "—"
            text = (f"    {line.libelle} : engagement {due}, réalisé {_n(line.realise)} {unit} "
                    f"({_pct(line.taux)}), écart {gap}, pénalités potentielles {_eur(line.penalites)}")
            if line.type == "insertion":
                text += f" ; {_n(line.complement)} h de formation, {line.beneficiaires} personne(s)"
            elif line.type == "action_sociale":
                text += f" ; {_n(line.complement)} participant(s)"
            out.append(text)
            if line.observation:
                out.append(f"      ({line.observation})")
        i = market.indicators
        contracts = ", ".join(f"{name} {count}" for name, count in i.types_contrat.items()) or "non renseignés"
        out.append(f"  Indicateurs : {i.beneficiaires} bénéficiaire(s) ; femmes {i.femmes} ({_pct(i.part_femmes)}) ; "
                   f"résidents QPV {i.residents_qpv} ({_pct(i.part_qpv)}) ; contrats : {contracts} ; "
                   f"{_n(i.heures_formation)} h de formation ; {_n(i.heures_structures_inclusives)} h réalisées par des "
                   "structures inclusives sous-traitantes ou cotraitantes")
        if market.problems:
            out.append(f"  Problèmes ({len(market.problems)}) :")
            out += [f"    {p.render()}" for p in market.problems]
    if result.markets:
        out += ["", f"Total des pénalités potentielles : {_eur(result.penalites)} (dues seulement en fin d'exécution, "
                    "après procédure contradictoire)."]
    if result.set_aside:
        out += ["", "Grilles écartées (non comptées) :"] + [f"  {name} : {why}" for name, _, why in result.set_aside]
    if result.failures:
        out += ["", "Fichiers non lus :"] + [f"  {name} : {why}" for name, why in result.failures]
    return "\n".join(out) + "\n"


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def report_data(result: Consolidation) -> dict[str, Any]:
    markets = []
    for m in result.markets:
        i = m.indicators
        markets.append({
            "fichier": m.fichier, "reference": m.reference, "objet": m.objet, "acheteur": m.acheteur,
            "facilitateur": m.facilitateur, "bibliotheque": m.bibliotheque,
            "lignes": [{"lot": line.lot, "intitule": line.intitule, "type": line.type, "consideration": line.libelle,
                        "unite": line.unite, "engagement": _whole(line.engagement), "realise": _whole(line.realise),
                        "ecart": _whole(line.ecart), "taux": line.taux, "penalite_unitaire": _whole(line.penalite_unitaire),
                        "penalites": _whole(line.penalites),
                        **({"heures_formation": _whole(line.complement), "beneficiaires": line.beneficiaires}
                           if line.type == "insertion" else {}),
                        **({"participants": _whole(line.complement)} if line.type == "action_sociale" else {}),
                        "ligne_synthese": line.synthese_ligne, "observation": line.observation} for line in m.lines],
            "indicateurs": {"beneficiaires": i.beneficiaires, "femmes": i.femmes, "part_femmes": i.part_femmes,
                            "residents_qpv": i.residents_qpv, "part_qpv": i.part_qpv,
                            "sexe_non_renseigne": i.sexe_non_renseigne, "qpv_non_renseigne": i.qpv_non_renseigne,
                            "types_contrat": i.types_contrat, "heures_travaillees": _whole(i.heures_travaillees),
                            "heures_formation": _whole(i.heures_formation),
                            "heures_structures_inclusives": _whole(i.heures_structures_inclusives),
                            "actions_realisees": i.actions_realisees,
                            "participants_actions": _whole(i.participants_actions), "plans_produits": i.plans_produits},
            "problemes": [{"cellule": p.cellule, "message": p.message} for p in m.problems],
        })
    return {"format": REPORT_FORMAT, "marches": markets,
            "fichiers_non_lus": [{"fichier": name, "erreur": why} for name, why in result.failures],
            "grilles_ecartees": [{"fichier": name, "reference": reference, "raison": why}
                                 for name, reference, why in result.set_aside],
            "penalites_potentielles": _whole(result.penalites)}


def report_json(result: Consolidation) -> str:
    """Strict JSON: a NaN or an infinity would be a bug (every cell is checked), never « Infinity » in the output."""
    return json.dumps(report_data(result), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def build_report_xlsx(result: Consolidation) -> bytes:
    """Three sheets for the buyer's file; every text goes through write_string, so none becomes a formula.

    The creation date is fixed, so the same grids give the same bytes (a report can be compared or archived).
    """
    from drafting.ooxml.xlsx import report_workbook

    buffer = io.BytesIO()
    wb = report_workbook(buffer, "Consolidation des grilles de suivi", REPORT_CREATED)
    header = wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"})
    number = wb.add_format({"num_format": "#,##0.##"})
    pct = wb.add_format({"num_format": "0%"})
    money = wb.add_format({"num_format": '#,##0.00 "€"'})

    def sheet(name: str, columns: list[tuple[str, int]], rows: list[list[Any]], formats: dict[int, Any]) -> None:
        ws = wb.add_worksheet(name)
        for col, (title, width) in enumerate(columns):
            ws.write_string(0, col, title, header)
            ws.set_column(col, col, width)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                if _is_number(value):
                    ws.write_number(r, col, value, formats.get(col, number))
                else:
                    ws.write_string(r, col, str(value))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)

    lines = [[m.fichier, m.reference, m.objet, m.acheteur, line.lot, line.intitule, line.libelle, line.unite,
              line.engagement, line.realise, line.ecart, line.taux, line.penalite_unitaire, line.penalites,
              line.observation] for m in result.markets for line in m.lines]
    sheet("Consolidation", [("Fichier", 30), ("Marché", 16), ("Objet", 40), ("Acheteur", 28), ("Lot", 6),
                            ("Intitulé", 28), ("Considération", 40), ("Unité", 10), ("Engagement", 12), ("Réalisé", 12),
                            ("Écart", 12), ("Taux de réalisation", 12), ("Pénalité par unité", 12),
                            ("Pénalités potentielles", 14), ("Observation", 50)],
          lines, {11: pct, 12: money, 13: money})
    contracts = sorted({name for m in result.markets for name in m.indicators.types_contrat})
    indicators = [[m.fichier, m.reference, m.indicators.beneficiaires, m.indicators.femmes, m.indicators.part_femmes,
                   m.indicators.residents_qpv, m.indicators.part_qpv, m.indicators.heures_travaillees,
                   m.indicators.heures_formation, m.indicators.heures_structures_inclusives,
                   m.indicators.actions_realisees, m.indicators.participants_actions,
                   m.indicators.plans_produits, *(m.indicators.types_contrat.get(c, 0) for c in contracts)]
                  for m in result.markets]
    sheet("Indicateurs", [("Fichier", 30), ("Marché", 16), ("Bénéficiaires", 12), ("Femmes", 10), ("Part des femmes", 10),
                          ("Résidents QPV", 10), ("Part des résidents QPV", 10), ("Heures travaillées", 12),
                          ("Heures de formation", 12), ("Heures par des structures inclusives (sous-traitance, "
                                                        "cotraitance)", 14),
                          ("Actions réalisées", 10), ("Participants aux actions", 12),
                          ("Plans d'actions produits", 12), *((f"Contrats : {c}", 12) for c in contracts)],
          indicators, {4: pct, 6: pct})
    problems = [[m.fichier, m.reference, p.cellule, p.message, "avertissement"] for m in result.markets for p in m.problems]
    problems += [[name, reference, "", why, "grille écartée"] for name, reference, why in result.set_aside]
    problems += [[name, "", "", why, "fichier non lu"] for name, why in result.failures]
    sheet("Problèmes", [("Fichier", 30), ("Marché", 16), ("Cellule", 20), ("Problème", 80), ("Gravité", 14)], problems, {})
    wb.close()
    return buffer.getvalue()


def write_report(out: Path, data: bytes, inputs: list[Path]) -> None:
    """The xlsx report, complete or absent, never over one of the grids it was read from."""
    write_atomic(out, data, inputs, "rapport")


