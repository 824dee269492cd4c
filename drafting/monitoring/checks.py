"""Checks of the cells an enterprise types: each bad cell becomes a problem at its address.

A bad cell never stops the reading: it is reported (« Suivi heures!L12 : … ») and the rest of
the row or the sheet still counts, as the grid's own helper columns count it. Messages quote
numbers only, never what was typed as text, which could be a name or a date of birth.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator, Optional, Sequence

from drafting.common.cells import col_name
from drafting.errors import GridError
from drafting.monitoring.figures import Problem, finite, is_number, say_number
from drafting.monitoring.grid_format import (
    ACTION_COLUMNS,
    ACTIONS_SHEET,
    DATE_MAX,
    DATE_MIN,
    HOURS_COLUMNS,
    HOURS_MAX,
    HOURS_SHEET,
    INPUT_ROWS,
    PLAN_COLUMNS,
    PLAN_SHEET,
)

MAX_PROBLEMS = 1000                       # per file: beyond, a count (a broken export would flood the report)


MAX_PARTICIPANTS = 10_000                 # per action: more is a typing error, and keeps every sum finite


EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}


ROME = re.compile(r"^[A-Z]\d{4}$")


IGNORED = object()  # a cell whose value must not count (formula, error value)


class Problems(list):
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


def text_float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return "formule modifiée"


def plain_value(cell: Any) -> Any:
    """A cell of a sheet we wrote: its value, None for an error or a formula (never evaluated)."""
    if cell is None or cell.data_type in ("e", "f"):
        return None if cell is None or cell.data_type == "e" else "formule"
    return cell.value


def address(col: int, row: int) -> str:
    """Column ``col`` (0-based) of row ``row`` (1-based), as Excel names the cell."""
    return f"{col_name(col)}{row}"


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


def shown(value: Any) -> str:
    """A number typed in a cell, for a message (« 12,5 »), else nothing: text typed freely could be a name,
    a date a date of birth."""
    return f" {say_number(value)}" if is_number(value) else ""


class Reader:
    """Cell values as the helper columns see them, with a problem for each one that cannot count."""

    def __init__(self, problems: Problems, epoch: Any) -> None:
        self.problems = problems
        self.epoch = epoch
        self.recorded = 0   # non-empty rows of the input zones, to tell two versions of a grid apart

    def rows(self, wb: Any, sheet: str, width: int, headers: Optional[list[str]] = None) -> Iterator[tuple[int, tuple]]:
        """Rows 2 to the end of the input zone, values cleaned; rows beyond it are counted, reported, skipped."""
        ws = open_sheet(wb, sheet)
        expected = headers or HEADERS_FOR[sheet]
        beyond, header = 0, False
        for index, row in enumerate(ws.iter_rows(min_row=1, max_col=width), start=1):
            if index == 1:
                header = True
                found = [c.value for c in row]
                for col, name in enumerate(expected):
                    if cell_at(found, col) != name:
                        raise GridError(f"colonnes de l'onglet « {sheet} » modifiées (attendu « {name} » en "
                                        f"{address(col, 1)}) : repartez de la grille fournie avec le DCE")
                continue
            if index > MAX_ROWS + 1:
                self.problems.add(sheet, "", f"plus de {say_number(MAX_ROWS)} lignes : seules les {say_number(MAX_ROWS)} premières "
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
            self.problems.add(sheet, address(col, row), f"formule saisie dans une cellule de saisie ({_formula(value)}) : "
                                                     "ignorée, saisissez une valeur")
            return IGNORED
        if cell.data_type == "e":
            code = value if value in EXCEL_ERRORS else "inconnue"
            self.problems.add(sheet, address(col, row), f"valeur d'erreur {code} : ignorée")
            return IGNORED
        if is_number(value) and not finite(value):
            # Excel cannot store one: a forged file; it would make every sum and the JSON report invalid.
            self.problems.add(sheet, address(col, row), "nombre infini, indéfini ou démesuré (impossible dans Excel) : "
                                                     "ignoré")
            return IGNORED
        if isinstance(value, str) and not value.strip(" "):
            return None
        return value

    def number(self, value: Any) -> Optional[float]:
        """What ISNUMBER sees: numbers, dates and times (Excel stores them as numbers), never text or booleans.

        A time is a fraction of a day (7:30 is 0,3125, 35:00 is 1,458…), as the grid's formulas count it.
        """
        if is_number(value):
            return float(value)
        if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            from openpyxl.utils.datetime import to_excel  # lazy: openpyxl (≈ 100 ms), loaded by reading anyway

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
        if is_number(value):
            from openpyxl.utils.datetime import from_excel  # lazy: openpyxl (≈ 100 ms), loaded by reading anyway

            try:
                converted = from_excel(value, self.epoch) if self.epoch else from_excel(value)
            except (ValueError, OverflowError, TypeError):
                return None
            return converted.date() if isinstance(converted, dt.datetime) else None
        return None


def text_of(value: Any) -> Optional[str]:
    """A free-text cell as the helper columns test it (LEN(TRIM(x))>0): None when empty or ignored."""
    if value is None or value is IGNORED:
        return None
    text = str(value)
    return text if text.strip(" ") else None


def _excel_trim(text: str) -> str:
    """Excel's TRIM: outer spaces removed, inner runs of spaces made single (spaces only, not tabs)."""
    return re.sub(" +", " ", text.strip(" "))


NAME_LIKE = re.compile(r"[^\W\d_]+(?:[ '’-]+[^\W\d_]+)*")


def identifier(reader: Reader, value: Any, sheet: str, ref: str) -> Optional[str]:
    """The key the helper column R computes: trimmed text, or a whole number; case folded like Excel's « = »."""
    if value is None or value is IGNORED:
        return None
    number = reader.number(value)
    if isinstance(value, (dt.datetime, dt.date)):
        reader.problems.add(sheet, ref, "date saisie comme identifiant : saisissez le code convenu avec le facilitateur")
    if number is not None:
        if number != int(number):
            reader.problems.add(sheet, ref, f"identifiant{shown(value)} non entier : ligne non comptée")
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


def lot_of(reader: Reader, value: Any, lots: set[int], sheet: str, ref: str, clause: str) -> Optional[int]:
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
        reader.problems.add(sheet, ref, f"lot {say_number(number)} sans {clause} : ligne non comptée")
        return None
    return int(number)


def hours_value(reader: Reader, value: Any, sheet: str, ref: str, what: str) -> float:
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
                                        f"{say_number(hours)} ; comptées {say_number(number, 4)} comme dans la "
                                        "Synthèse du classeur")
    if number < 0:
        reader.problems.add(sheet, ref, f"nombre d'heures négatif ({say_number(number)}) : non compté")
        return 0.0
    if number > HOURS_MAX:
        reader.problems.add(sheet, ref, f"plus de {HOURS_MAX} heures dans le mois ({say_number(number)}) : non compté")
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


def _nothing_to_check(reader: Reader, value: Any, sheet: str, ref: str, what: str, required: bool,
                      feminine: bool = True) -> bool:
    """An ignored cell, or an empty one (a problem when the column is required)."""
    if value is IGNORED:
        return True
    if value is None:
        if required:
            reader.problems.add(sheet, ref, f"{what} {'manquante' if feminine else 'manquant'}")
        return True
    return False


def in_list(reader: Reader, value: Any, allowed: set[str], sheet: str, ref: str, what: str,
             required: bool = False, feminine: bool = False) -> Optional[str]:
    if _nothing_to_check(reader, value, sheet, ref, what, required, feminine):
        return None
    text = str(value).strip()
    if text not in allowed:
        reader.problems.add(sheet, ref, f"{what} : valeur hors liste (choisissez-la dans la liste déroulante)")
    return text


def date_check(reader: Reader, value: Any, sheet: str, ref: str, what: str, required: bool = False) -> Optional[dt.date]:
    if _nothing_to_check(reader, value, sheet, ref, what, required):
        return None
    day = reader.date(value)
    if day is None or not DATE_MIN <= day <= DATE_MAX:
        # Never quoted: a date out of range is often a date of birth typed in the wrong column.
        reader.problems.add(sheet, ref, f"{what} invalide : saisissez une date JJ/MM/AAAA entre {DATE_MIN.year} et "
                                        f"{DATE_MAX.year}")
        return None
    return day


def yes_no(value: Any) -> Optional[str]:
    if value is None or value is IGNORED:
        return None
    text = str(value).strip().upper()
    return {"O": "O", "OUI": "O", "N": "N", "NON": "N"}.get(text, "?")


HEADERS_FOR = {HOURS_SHEET: [name for name, _ in HOURS_COLUMNS], ACTIONS_SHEET: [c[0] for c in ACTION_COLUMNS],
               PLAN_SHEET: [c[0] for c in PLAN_COLUMNS]}


def cell_at(row: Sequence[Any], col: int) -> Any:
    return row[col] if col < len(row) else None


def open_sheet(wb: Any, name: str) -> Any:
    """A sheet ready to be read whatever its <dimension> says: a forged « A1:S1 » would hide every row."""
    ws = wb[name]
    ws.reset_dimensions()
    return ws


MAX_ROWS = 100_000                        # rows read per sheet: a hostile file cannot make us loop for ever
