"""Reading one returned grid: the archive, the hidden « Clausier » sheet, the commitments.

A grid comes back from an enterprise, so it is untrusted input. It is read with openpyxl in
read-only mode and ``data_only=False``: formulas are never evaluated and cached values are never
trusted; every figure is recomputed from the input cells, with the same rules as the hidden
helper columns the grid's « Synthèse » sums (see ``monitoring.grid``), so both always agree.

The commitments and penalty rates come from the very hidden « Clausier » sheet, which the
enterprise could still alter: they are cross-checked against the visible « Synthèse » and
« Engagements », and, with ``--marches``, replaced by those of the grid clausier generated (its
hash checked against the market's manifest). Nothing typed freely in a grid (names, free text)
is quoted in a report.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from drafting.common import archive
from drafting.common import formatting as fr
from drafting.common.manifest import MANIFEST, read_manifest, recorded_file_hash
from drafting.decide.plan import TYPE_LABELS
from drafting.errors import GridError
from drafting.intake.model import REFERENCE_PATTERN
from drafting.monitoring.checks import Problems, Reader, address, cell_at, open_sheet, plain_value, text_float
from drafting.monitoring.figures import Indicators, Line, MarketReport, finite, is_number, say_euros, say_number
from drafting.monitoring.grid_format import (
    ACTIONS,
    ACTIONS_SHEET,
    AXES,
    CONTRATS,
    FORMAT_VERSION,
    HOURS_SHEET,
    LISTS_SHEET,
    META_FIELDS,
    META_MARKER,
    META_SHEET,
    MODALITES,
    PLAN_SHEET,
    SECTION_HEADERS,
    SUMMARY_SHEET,
    grid_name,
)
from drafting.monitoring.sheets import Actions, Hours, Plans, read_actions, read_hours, read_plans

META_MAX = 1e9                            # commitments, rates, lots of the hidden sheet: beyond is not a market


SHEETS_FOR = {"insertion": HOURS_SHEET, "action_sociale": ACTIONS_SHEET, "plan_de_progres": PLAN_SHEET}


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
    import openpyxl  # lazy: ≈ 100 ms of import, paid only by the commands that read grids

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
        names, why = archive.inspect(path)
    except archive.NotAZip:
        raise GridError("ce n'est pas un classeur Excel .xlsx (le fichier n'est pas une archive zip : ancien format .xls, "
                        "classeur protégé par mot de passe, autre type de fichier ou fichier tronqué ?)") from None
    except OSError as exc:
        raise GridError(f"lecture impossible ({exc.strerror or exc})") from None
    if names and not archive.is_xlsx(names):
        raise GridError("archive zip qui n'est pas un classeur Excel .xlsx")
    if why:
        raise GridError(f"{why} : ce n'est pas une grille de suivi")


@dataclass
class Meta:
    values: dict[str, Any]
    items: list[dict[str, Any]]   # each with "_row", its 1-based row in the hidden sheet
    version: int = FORMAT_VERSION


def _read_workbook(wb: Any, path: Path, marches: Optional[Path] = None) -> MarketReport:
    meta = _metadata(wb)
    problems = Problems()
    items, disputed = _commitments(wb, meta, marches, problems)
    types = {item["type"] for item in items}
    for kind, sheet in SHEETS_FOR.items():
        if kind in types and sheet not in wb.sheetnames:
            raise GridError(f"onglet « {sheet} » absent : la grille a été modifiée ; demandez au titulaire de repartir "
                            "de la grille fournie avec le DCE")
    lists = _lists(wb, problems)
    epoch = getattr(wb, "epoch", None)
    reader = Reader(problems, epoch)
    lots_of = {kind: {item["lot"] for item in items if item["type"] == kind} for kind in SHEETS_FOR}
    hours = read_hours(wb, reader, lots_of["insertion"], lists, meta.version) if "insertion" in types else None
    actions = read_actions(wb, reader, lots_of["action_sociale"], lists) if "action_sociale" in types else None
    plans = read_plans(wb, reader, lots_of["plan_de_progres"], lists) if "plan_de_progres" in types else None
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


def _meta_rows(wb: Any) -> Iterator[tuple]:
    ws = open_sheet(wb, META_SHEET)
    for index, row in enumerate(ws.iter_rows(min_row=1, max_row=2000, max_col=len(META_FIELDS)), start=1):
        cells = []
        for col, cell in enumerate(row):
            if cell.data_type == "f":
                raise GridError(f"onglet masqué « {META_SHEET} » altéré (formule en {address(col, index)}) : "
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
    if len(first) < 2 or first[0] != META_MARKER or not finite(first[1]):
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
        items.append({**_meta_item(dict(zip(header, row, strict=False))), "_row": number})
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
        if (not finite(value) or not 0 <= value <= META_MAX
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


META_COLUMNS = {name: META_FIELDS.index(name) for name in ("engagement", "penalite_unitaire")}


WHAT = {"engagement": "engagement", "penalite_unitaire": "pénalité par unité non réalisée"}


SECTION_OF = {(h[1] if isinstance(h[1], str) else h[1][0]): kind for kind, (_, h) in SECTION_HEADERS.items()}


LABEL_TYPES = {label: kind for kind, label in TYPE_LABELS.items()}


RATE_FORMULA = re.compile(r"^=?IF\(ISNUMBER\(\$?F\$?\d+\),\$?F\$?\d+\*([0-9.Ee+-]+),\"\"\)$")


TOLERANCE = 1e-6


def _commitments(wb: Any, meta: Meta, marches: Optional[Path],
                 problems: Problems) -> tuple[list[dict[str, Any]], set[tuple[int, str]]]:
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
            found += [(f"{META_SHEET}!{address(META_COLUMNS[key], mine['_row'])}", (key, mine[key]))
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

    if not REFERENCE_PATTERN.fullmatch(reference):  # it names a folder: nothing may escape --marches
        return None, "référence du marché non admise comme nom de dossier : grille générée non cherchée"
    folder = marches / reference
    name = grid_name(reference)
    grid = folder / name
    if not (folder / MANIFEST).is_file():
        return None, f"marché {reference} absent du dossier {marches} (pas de {reference}/{MANIFEST})"
    manifest = read_manifest(folder)
    if manifest is None:
        return None, f"manifeste {folder / MANIFEST} illisible"
    recorded = recorded_file_hash(manifest, name)
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
        return is_number(shown)
    if not finite(shown):
        return True
    return abs(shown - expected) > TOLERANCE * max(1.0, abs(expected))


def _figure(key: str, value: Any) -> str:
    """A committed figure in a message; text is never quoted (it could be anything)."""
    if not is_number(value):
        return "non chiffré(e)"
    return say_euros(value) if key == "penalite_unitaire" else say_number(value)


def _visible(wb: Any, problems: Problems, measured: bool) -> dict[tuple[int, str], list[tuple[str, str, Any]]]:
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
        for n, row in enumerate(open_sheet(wb, "Engagements").iter_rows(min_row=2, max_row=2000, max_col=9), start=2):
            lot, label = cell_at(row, 0), cell_at(row, 2)
            if lot is None or not finite(lot.value) or label is None or label.value not in LABEL_TYPES:
                continue
            pair = (int(lot.value), LABEL_TYPES[label.value])
            for key, col in (("engagement", 3), ("penalite_unitaire", 8)):
                cell = cell_at(row, col)
                note(pair, key, f"Engagements!{address(col, n)}", plain_value(cell))
    if SUMMARY_SHEET in wb.sheetnames:
        kind = None
        for n, row in enumerate(open_sheet(wb, SUMMARY_SHEET).iter_rows(min_row=1, max_row=2000, max_col=8), start=1):
            first, second = (plain_value(cell_at(row, c)) for c in (0, 1))
            if first == "Lot" and second in SECTION_OF:
                kind = SECTION_OF[second]
                continue
            if kind is None or not finite(first) or first != int(first):
                kind = None if first == "Total" else kind
                continue
            pair = (int(first), kind)
            note(pair, "engagement", f"{SUMMARY_SHEET}!{address(1, n)}", second)
            rate = cell_at(row, 7)
            if rate is not None and rate.data_type == "f":
                match = RATE_FORMULA.match(str(getattr(rate.value, "text", rate.value)).replace(" ", ""))
                value: Any = text_float(match[1]) if match else "formule modifiée"
            else:
                value = plain_value(rate)
            note(pair, "penalite_unitaire", f"{SUMMARY_SHEET}!{address(7, n)}", value)
    return out


def _lists(wb: Any, problems: Problems) -> dict[str, set[str]]:
    """Drop-down values as the grid offered them; the built-in ones when the sheet is gone."""
    lists = {"modalites": set(MODALITES), "contrats": set(CONTRATS),
             "actions": set(ACTIONS), "axes": set(AXES)}
    if LISTS_SHEET not in wb.sheetnames:
        problems.add(LISTS_SHEET, "", "onglet masqué des listes absent : valeurs contrôlées avec les listes par défaut")
        return lists
    columns: list[list[str]] = []
    for index, row in enumerate(open_sheet(wb, LISTS_SHEET).iter_rows(min_row=1, max_row=500, max_col=20, values_only=True)):
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


def _line(item: dict[str, Any], hours: Optional[Hours], actions: Optional[Actions], plans: Optional[Plans],
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
            note = f"engagement selon les commandes ({say_number(item['heures_par_100k'] or 0)} h par 100 000 € HT commandés)"
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


def grid_identity(path: Path) -> Optional[dict[str, Any]]:
    """Which market a returned grid belongs to, from its hidden « Clausier » sheet alone (the archive guard first,
    then a few rows: milliseconds, where consolidating reads every sheet): ``reference``, ``format`` (1 for the grids
    that still carry an eligibility category), ``objet``, ``acheteur``, ``facilitateur``, ``bibliotheque``,
    ``duree_totale_mois``. None when the file is not a readable clausier grid: ``consolidate`` then says why."""
    try:
        with _open(Path(path)) as wb:
            meta = _metadata(wb)
    except Exception:  # GridError or a damaged file: not ours to explain here
        return None
    duration = meta.values.get("duree_totale_mois")
    return {"reference": meta.values["reference"], "format": meta.version, "objet": meta.values["objet"],
            "acheteur": meta.values["acheteur"], "facilitateur": meta.values["facilitateur"],
            "bibliotheque": meta.values["bibliotheque"],
            "duree_totale_mois": int(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool)
            and 0 < duration < 1200 else None}
