"""Reading a purchasing programme: a table of planned markets, in CSV or Excel, behind the archive guard.

The programme is untrusted input: Excel files are read with openpyxl in read-only mode
(``data_only=True``: the cached values of formulas, nothing is ever computed or executed; a
formula saved without its value is reported as such), a zip bomb is refused by the engine's one
archive guard before openpyxl inflates it, and at most ``MAX_MARCHES`` rows are read. A CSV that
is not UTF-8 is read as Windows-1252 (what French Excel writes for « CSV ») with a warning. The
header line may sit below a title; columns have aliases (``ALIASES``); a cell that cannot be
reviewed (a formula without its value, an infinite number) rejects its row, not the table.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from drafting.common import archive
from drafting.common.cells import col_name
from drafting.errors import ProgrammeError

MAX_MARCHES = 5000                       # rows of markets read; beyond, a message and exit code 6


MAX_MARCHES_TEXTE = f"{MAX_MARCHES:,}".replace(",", " ")


MAX_COLS = 60                            # columns looked at: a wide hostile sheet costs nothing


MAX_CSV_BYTES = 20 * 1024 * 1024


HEADER_SCAN = 10                         # rows searched for the header line (a title may sit above it)


HEADER_LOOK_FURTHER = 200                # rows looked at beyond, only to say where a misplaced header is


SHEET = "Programme"


LISTS_SHEET, INSTRUCTIONS_SHEET = "Listes", "Instructions"


COLUMNS = ("reference", "objet", "nature", "secteur", "montant", "duree_mois", "date", "forme", "lots")


REQUIRED = ("reference", "objet", "nature", "secteur", "montant")


COLUMN_HELP = {
    "reference": ("oui", "référence du marché (lettres, chiffres, « . », « _ », « - »)", "2027-TRV-001"),
    "objet": ("oui", "objet du marché", "Réhabilitation de l'école Jean-Zay"),
    "nature": ("oui", "travaux, fournitures ou services", "travaux"),
    "secteur": ("oui", "secteur de la bibliothèque (liste déroulante ; « clausier secteurs »)", "btp_second_oeuvre"),
    "montant": ("oui", "montant estimé en € HT sur toute la durée, reconductions comprises ; "
                       "pour un accord-cadre, le montant maximum", "1 200 000"),
    "duree_mois": ("non", "durée totale en mois", "18"),
    "date": ("non", "date de notification prévue, AAAA-MM-JJ (JJ/MM/AAAA accepté)", "2027-03-15"),
    "forme": ("non", "ordinaire (par défaut), accord_cadre_bons_de_commande ou accord_cadre_marches_subsequents",
              "ordinaire"),
    "lots": ("non", "nombre de lots (1 par défaut) ; le montant est réparti à parts égales", "3"),
}


ALIASES = {"ref": "reference", "montant_ht": "montant", "montant_estime_ht": "montant", "duree": "duree_mois",
           "date_notification": "date", "date_notification_prevue": "date", "nombre_de_lots": "lots",
           "nb_lots": "lots", "secteur_id": "secteur"}


NATURES = ("travaux", "fournitures", "services")


FORMES = ("ordinaire", "accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents")


ACCORDS_CADRES = FORMES[1:]


@dataclass
class Table:
    feuille: Optional[str]       # None for a CSV
    columns: dict[str, int]      # column id -> 0-based index
    rows: list[tuple[int, tuple[Any, ...]]]  # (1-based row number, values)
    tronque_ligne: Optional[int] = None      # first row not read when the cap was hit
    largeur: Optional[int] = None            # CSV: fields of the header line; a row with more is shifted
    separateur: Optional[str] = None         # CSV: the delimiter found
    avertissements: list[Anomalie] = field(default_factory=list)  # about the whole file (encoding…)

    def cell(self, column: str, row: int) -> str:
        return f"{self.prefix}{col_name(self.columns[column])}{row}"

    def row_ref(self, row: int) -> str:
        return f"{self.prefix}{row}:{row}" if self.feuille is not None else f"ligne {row}"

    @property
    def prefix(self) -> str:
        if self.feuille is None:
            return ""
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", self.feuille):
            return f"{self.feuille}!"
        return "'" + self.feuille.replace("'", "''") + "'!"


def read_table(path: Path) -> Table:
    """The programme's header and data rows, or ProgrammeError saying why in French."""
    source = str(path)
    if not path.exists():
        raise ProgrammeError(source, "fichier introuvable : vérifiez le chemin")
    if path.is_dir():
        raise ProgrammeError(source, "c'est un dossier : indiquez un fichier .xlsx ou .csv")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, source)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, source)
    if suffix == ".xls":
        raise ProgrammeError(source, "ancien format Excel .xls non lu : enregistrez le classeur au format .xlsx, ou en CSV")
    raise ProgrammeError(source, f"format « {path.suffix or 'sans extension'} » non reconnu : le programme est un "
                                 "classeur Excel .xlsx ou un fichier .csv (modèle : clausier revue --modele programme.xlsx)")


def _read_csv(path: Path, source: str) -> Table:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProgrammeError(source, f"fichier illisible ({exc.strerror})") from None
    if len(raw) > MAX_CSV_BYTES:
        raise ProgrammeError(source, f"fichier trop volumineux ({len(raw)} octets, {MAX_CSV_BYTES} au plus)")
    if raw.startswith(b"PK\x03\x04"):
        raise ProgrammeError(source, "ce fichier est un classeur Excel (archive zip) et non un CSV : renommez-le en .xlsx")
    notes: list[Anomalie] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _windows_1252(raw, source)
        notes.append(Anomalie(path.name, "", "CSV lu en Windows-1252 (il n'est pas en UTF-8) : vérifiez les accents "
                                             "dans la revue ; dans Excel, enregistrez-le plutôt au format « CSV UTF-8 "
                                             "(délimité par des virgules) »"))
    if "\x00" in text:
        raise ProgrammeError(source, "ce fichier n'est pas un texte CSV (caractères binaires)")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise ProgrammeError(source, "le fichier est vide : partez du modèle (clausier revue --modele programme.xlsx)")
    delimiter = _sniff(text, first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, tuple[Any, ...]]] = []
    try:
        for n, r in enumerate(reader, 1):
            rows.append((n, tuple(r)))
    except csv.Error as exc:
        raise ProgrammeError(source, _csv_error(exc, reader.line_num)) from None
    table = _table(source, None, iter(rows))
    table.separateur = delimiter
    table.avertissements = notes
    return table


def _windows_1252(raw: bytes, source: str) -> str:
    """What French Excel writes for « CSV (séparateur : point-virgule) »; UTF-16 and the rest are refused."""
    refuse = ProgrammeError(source, "le CSV n'est pas encodé en UTF-8 : dans Excel, enregistrez-le au format "
                                    "« CSV UTF-8 (délimité par des virgules) »")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:  # UTF-16: cp1252 would read nonsense
        raise refuse
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise refuse from None


def _csv_error(exc: csv.Error, line: int) -> str:
    """The csv module's English message, said in French with the line it stopped at."""
    text = str(exc)
    where = f"ligne {line}" if line else "début du fichier"
    if "field larger than field limit" in text:
        limit = f"{csv.field_size_limit():,}".replace(",", " ")
        return (f"CSV mal formé, {where} : un champ de plus de {limit} caractères (guillemet « \" » ouvert et jamais "
                "refermé ?)")
    if "end of data" in text:
        return f"CSV mal formé, {where} : guillemet « \" » ouvert et jamais refermé"
    return f"CSV mal formé, {where} : guillemets ou séparateurs incohérents ; enregistrez-le de nouveau depuis Excel"


def _sniff(text: str, first: str) -> str:
    """« ; » (French Excel) or « , »: the sniffer on a sample, checked against the header line."""
    try:
        found = csv.Sniffer().sniff(text[:8192], delimiters=";,\t").delimiter
    except csv.Error:
        found = None
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    if found and counts.get(found):
        return found
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ";"


def _check_archive(path: Path, source: str) -> None:
    try:
        names, why = archive.inspect(path)
    except archive.NotAZip:
        raise ProgrammeError(source, "ce n'est pas un classeur Excel .xlsx (le fichier n'est pas une archive zip : ancien "
                                     "format .xls renommé, classeur protégé par mot de passe ou fichier tronqué ?)") from None
    except OSError as exc:
        raise ProgrammeError(source, f"fichier illisible ({exc.strerror or exc})") from None
    if names and not archive.is_xlsx(names):
        raise ProgrammeError(source, "archive zip qui n'est pas un classeur Excel .xlsx")
    if why:
        raise ProgrammeError(source, why)


class Unreadable:
    """A cell whose value cannot be reviewed, with what to tell the buyer; its row is rejected."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return self.message


NO_VALUE = Unreadable("formule sans valeur calculée : ouvrez le programme dans Excel ou LibreOffice, enregistrez-le, "
                       "puis relancez (ou saisissez la valeur elle-même)")


TOO_BIG = Unreadable("nombre infini ou démesuré, impossible dans Excel : saisissez la valeur")


def _cell_value(value: Any, kind: Any) -> Any:
    """The cached value, or why it cannot be used: no value computed, or a number no model check can take."""
    if value is None and getattr(kind, "data_type", None) == "f":
        return NO_VALUE
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            if not math.isfinite(value) or abs(value) > 9.99e307:
                return TOO_BIG
        except OverflowError:   # a 400-digit integer in a forged file
            return TOO_BIG
    return value


def _read_xlsx(path: Path, source: str) -> Table:
    """The « Programme » sheet, or the first visible one, read twice in step: cached values, then which cells are formulas.

    ``data_only=True`` gives None for a formula saved without its value, which would read as
    « champ obligatoire absent »; the second reading tells such a cell apart (NO_VALUE).
    """
    _check_archive(path, source)
    import openpyxl  # lazy: ≈ 100 ms of import, paid only for a programme in Excel

    books = []
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for data_only in (True, False):
                    books.append(openpyxl.load_workbook(path, read_only=True, data_only=data_only, keep_links=False,
                                                        keep_vba=False))
        except Exception as exc:  # openpyxl raises many kinds on damaged files; none may escape
            raise ProgrammeError(source, f"classeur Excel endommagé ou illisible ({type(exc).__name__})") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values, formulas = books
            name = _sheet_name(values, source)
            ws, wf = values[name], formulas[name]
            ws.reset_dimensions()  # some writers leave a wrong <dimension>: read what is there
            wf.reset_dimensions()
            cached = ws.iter_rows(min_row=1, max_col=MAX_COLS, values_only=True)
            cells = wf.iter_rows(min_row=1, max_col=MAX_COLS)
            rows = ((n, tuple(_cell_value(v, c) for v, c in zip(row, kinds, strict=False)))
                    for n, (row, kinds) in enumerate(zip(cached, cells, strict=False), 1))
            return _table(source, name, rows)
    except ProgrammeError:
        raise
    except Exception as exc:
        raise ProgrammeError(source, f"classeur Excel endommagé ou illisible ({type(exc).__name__})") from None
    finally:
        for wb in books:
            wb.close()


def _sheet_name(wb: Any, source: str) -> str:
    """« Programme » if there is one, else the first sheet the buyer can see (a hidden one holds lists, not markets)."""
    if not wb.sheetnames:
        raise ProgrammeError(source, "le classeur ne contient aucune feuille")
    if SHEET in wb.sheetnames:
        name = SHEET
    else:
        visible = [n for n in wb.sheetnames
                   if getattr(wb[n], "sheet_state", "visible") == "visible" and hasattr(wb[n], "iter_rows")]
        name = (visible or wb.sheetnames)[0]
    if not hasattr(wb[name], "iter_rows"):
        raise ProgrammeError(source, f"la feuille « {name} » n'est pas un tableau (feuille de graphique ?)")
    return name


def column_key(header: Any) -> str:
    """« Montant (€ HT) » -> montant ; « Durée mois » -> duree_mois ; « Référence » -> reference."""
    if not isinstance(header, str):
        return ""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    text = text.split("(")[0]
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return ALIASES.get(key, key)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_header(values: tuple[Any, ...]) -> bool:
    return sum(column_key(v) in COLUMNS for v in values) >= 3


def _table(source: str, sheet: Optional[str], rows: Iterator[tuple[int, tuple[Any, ...]]]) -> Table:
    header: Optional[tuple[int, tuple[Any, ...]]] = None
    first: Optional[tuple[int, tuple[Any, ...]]] = None
    for number, values in rows:
        if not all(blank(v) for v in values):
            first = first or (number, values)
            if _is_header(values):
                header = (number, values)
                break
        if number >= HEADER_SCAN:
            break
    where = f"feuille « {sheet} », " if sheet else ""
    if header is None:
        # Said plainly rather than « colonnes absentes »: the headers are there, only too low.
        for number, values in rows:
            if number > HEADER_SCAN + HEADER_LOOK_FURTHER:
                break
            if _is_header(values):
                raise ProgrammeError(source, f"{where}en-têtes trouvés ligne {number} : ils doivent figurer dans les "
                                             f"{HEADER_SCAN} premières lignes ; supprimez les lignes vides ou de titre "
                                             "au-dessus")
    if first is None:
        raise ProgrammeError(source, f"{where}aucune donnée : le programme est vide (modèle : clausier revue --modele "
                                     "programme.xlsx)")
    header = header or first
    columns: dict[str, int] = {}
    for index, value in enumerate(header[1]):
        key = column_key(value)
        if key in COLUMNS:
            if key in columns:
                raise ProgrammeError(source, f"{where}colonne « {key} » en double (colonnes {columns[key] + 1} et "
                                             f"{index + 1}) : gardez-en une seule")
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        noun = "colonne obligatoire absente" if len(missing) == 1 else "colonnes obligatoires absentes"
        raise ProgrammeError(source, f"{where}{noun} : {', '.join(missing)} (en-têtes lus ligne {header[0]} ; "
                                     f"en-têtes attendus : {', '.join(COLUMNS)})")
    data: list[tuple[int, tuple[Any, ...]]] = []
    table = Table(sheet, columns, data)
    if sheet is None:  # a CSV row longer than its header was split where it should not have been
        table.largeur = max((i + 1 for i, v in enumerate(header[1]) if not blank(v)), default=0)
    for number, values in rows:
        if all(blank(v) for v in values):
            continue
        if len(data) >= MAX_MARCHES:
            table.tronque_ligne = number
            break
        data.append((number, values))
    return table


@dataclass(frozen=True)
class Anomalie:
    cellule: str
    colonne: str
    message: str
    reference: str = ""

    def render(self) -> str:
        where = f"{self.cellule} ({self.colonne})" if self.colonne else self.cellule
        return f"{where} : {self.message}"
