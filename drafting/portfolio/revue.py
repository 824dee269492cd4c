"""Revue de marchés: which planned markets of a purchasing programme suit a social consideration.

The guide asks buyers to review their programme first, then choose clause by clause.
A programme is a table, one row per planned market (``COLUMNS``), in CSV or Excel.
Each row becomes a questionnaire — the market split in lots of equal amount, all in
the row's sector; for a framework the amount is the maximum — validated with the
same rules and French messages as a questionnaire file, then decided by the same
``build_plan``. A bad row is reported with its cell and the other rows still count.

The programme is untrusted input: Excel files are read with openpyxl in read-only
mode (``data_only=True``: the cached values of formulas, nothing is ever computed or
executed; a formula saved without its value is reported as such), a zip bomb is
refused before openpyxl inflates it (the same caps as the monitoring grids), and at
most ``MAX_MARCHES`` rows are read. A CSV that is not UTF-8 is read as Windows-1252
(what French Excel writes for « CSV ») with a warning. The review workbook is written
with xlsxwriter, text always with ``write_string`` (a value starting with « = » stays
text), with a fixed creation date so the same inputs give the same bytes, and atomically.

Not in the review: the facilitator, unknown at this stage, so the warning
``facilitateur_absent`` is left out; the territory minimum of hours and every other
parameter come from the library.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from drafting.errors import InputError
from drafting.common.files import write_atomic
from drafting.library.core import Library
from drafting.monitoring.consolidate import zip_bomb
from drafting.decide.plan import A_ETUDIER, RETENUE, TYPE_LABELS, Plan

# PNAD 2022-2025 (plan national pour des achats durables): 30 % of the contracts notified each
# year with at least one social consideration. Not a dated parameter of the clause library
# (parametres.yaml has none for it); kept here with its source until the library carries it.
PNAD_CIBLE = 0.30
PNAD_SOURCE = "PNAD 2022-2025 : 30 % des contrats notifiés comprenant au moins une considération sociale"

MAX_MARCHES = 5000                       # rows of markets read; beyond, a message and exit code 1
MAX_MARCHES_TEXTE = f"{MAX_MARCHES:,}".replace(",", " ")
MAX_COLS = 60                            # columns looked at: a wide hostile sheet costs nothing
MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_LOTS = 500                           # as the questionnaire model
HEADER_SCAN = 10                         # rows searched for the header line (a title may sit above it)
HEADER_LOOK_FURTHER = 200                # rows looked at beyond, only to say where a misplaced header is
SHEET = "Programme"
LISTS_SHEET, INSTRUCTIONS_SHEET = "Listes", "Instructions"
ACHETEUR_NOM = "Revue de marchés"        # the questionnaire needs a buyer's name; it appears nowhere

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
EXAMPLE_2 = {"reference": "2027-SRV-004", "objet": "Nettoyage des bâtiments communaux", "nature": "services",
             "secteur": "nettoyage", "montant": "640 000", "duree_mois": "48", "date": "2027-06-01",
             "forme": "accord_cadre_bons_de_commande", "lots": "1"}
ALIASES = {"ref": "reference", "montant_ht": "montant", "montant_estime_ht": "montant", "duree": "duree_mois",
           "date_notification": "date", "date_notification_prevue": "date", "nombre_de_lots": "lots",
           "nb_lots": "lots", "secteur_id": "secteur"}
NATURES = ("travaux", "fournitures", "services")
FORMES = ("ordinaire", "accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents")
ACCORDS_CADRES = FORMES[1:]
FIELD_COLUMN = {"marche.reference": "reference", "marche.objet": "objet", "marche.nature": "nature",
                "marche.forme": "forme", "marche.date_notification_prevue": "date", "marche.duree_mois": "duree_mois"}
LOT_FIELD_COLUMN = {"secteur": "secteur", "montant_estime_ht": "montant", "montant_maximum_ht": "montant",
                    "montant_minimum_ht": "montant"}
SHORT_WARNINGS = {
    "insertion_non_adaptee": "heures estimées sous le minimum d'un parcours d'insertion",
    "complementarite": "clause de diversification sans clause d'insertion",
    "lien_objet": "pas de main-d'œuvre sur site : pas de lien avec l'objet pour des heures",
    "condition_sociale_obligatoire": "au-dessus du seuil européen sans condition d'exécution sociale : "
                                     "à retenir ou exception à motiver",
    "accord_cadre_sans_minimum": "accord-cadre sans minimum : heures au montant maximum, commandes possibles "
                                 "sous le seuil d'un parcours",
    "plan_de_progres_inadapte": "plan de progrès inadapté à ce marché",
    "reservation_volume": "volume élevé pour une réservation",
}
LEFT_OUT = ("facilitateur_absent",)  # unknown at the review stage: not a finding about the market


class ProgrammeError(InputError):
    """The programme file itself cannot be read (exit code 2, nothing written)."""

    def __init__(self, source: str, why: str) -> None:
        super().__init__(f"{source} : {why}")


@dataclass(frozen=True)
class Anomalie:
    cellule: str
    colonne: str
    message: str
    reference: str = ""

    def render(self) -> str:
        where = f"{self.cellule} ({self.colonne})" if self.colonne else self.cellule
        return f"{where} : {self.message}"


@dataclass(frozen=True)
class MarcheRevu:
    ligne: int
    reference: str
    objet: str
    nature: str
    secteur: str
    secteur_libelle: str
    forme: str
    montant: float
    lots: int
    date: Optional[dt.date]
    duree_mois: Optional[int]
    retenues: tuple[str, ...]
    a_etudier: tuple[str, ...]
    heures: int
    avertissements: tuple[tuple[str, str], ...]
    decp: tuple[str, ...]

    @property
    def avec_consideration(self) -> bool:
        return bool(self.retenues)


@dataclass
class Revue:
    source: str
    feuille: Optional[str]
    library_version: str
    acheteur_type: str
    marches: list[MarcheRevu] = field(default_factory=list)
    anomalies: list[Anomalie] = field(default_factory=list)
    lignes_rejetees: int = 0
    tronque: bool = False

    @property
    def avec_consideration(self) -> int:
        return sum(1 for m in self.marches if m.avec_consideration)

    @property
    def part(self) -> Optional[float]:
        return self.avec_consideration / len(self.marches) if self.marches else None

    @property
    def a_etudier_seulement(self) -> int:
        return sum(1 for m in self.marches if not m.retenues and m.a_etudier)

    @property
    def heures(self) -> int:
        return sum(m.heures for m in self.marches)

    @property
    def manque(self) -> int:
        """Markets still to give a social consideration to reach the PNAD target."""
        return max(0, math.ceil(round(PNAD_CIBLE * len(self.marches), 9)) - self.avec_consideration)

    def par_secteur(self, library: Library) -> list[dict[str, Any]]:
        order = {sid: i for i, sid in enumerate(library.sectors)}
        rows: dict[str, dict[str, Any]] = {}
        for m in self.marches:
            row = rows.setdefault(m.secteur, {"secteur": m.secteur, "libelle": m.secteur_libelle, "marches": 0,
                                              "avec": 0, "heures": 0, "montant": 0.0})
            row["marches"] += 1
            row["avec"] += int(m.avec_consideration)
            row["heures"] += m.heures
            row["montant"] += m.montant
        return sorted(rows.values(), key=lambda r: order.get(r["secteur"], len(order)))

    @property
    def complete(self) -> bool:
        return not self.lignes_rejetees and not self.tronque


# --------------------------------------------------------------------------- reading the table

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
        from openpyxl.utils import get_column_letter

        return f"{self.prefix}{get_column_letter(self.columns[column] + 1)}{row}"

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
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            why = zip_bomb(archive)  # a programme of 5 000 rows is a few Mo: the grids' caps fit it
    except zipfile.BadZipFile:
        raise ProgrammeError(source, "ce n'est pas un classeur Excel .xlsx (le fichier n'est pas une archive zip : ancien "
                                     "format .xls renommé, classeur protégé par mot de passe ou fichier tronqué ?)") from None
    except OSError as exc:
        raise ProgrammeError(source, f"fichier illisible ({exc.strerror or exc})") from None
    except Exception as exc:
        raise ProgrammeError(source, f"archive zip endommagée ({type(exc).__name__})") from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise ProgrammeError(source, "archive zip qui n'est pas un classeur Excel .xlsx")
    if why:
        raise ProgrammeError(source, why)


class _Unreadable:
    """A cell whose value cannot be reviewed, with what to tell the buyer; its row is rejected."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return self.message


NO_VALUE = _Unreadable("formule sans valeur calculée : ouvrez le programme dans Excel ou LibreOffice, enregistrez-le, "
                       "puis relancez (ou saisissez la valeur elle-même)")
TOO_BIG = _Unreadable("nombre infini ou démesuré, impossible dans Excel : saisissez la valeur")


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
    import openpyxl

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
            rows = ((n, tuple(_cell_value(v, c) for v, c in zip(row, kinds)))
                    for n, (row, kinds) in enumerate(zip(cached, cells), 1))
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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_header(values: tuple[Any, ...]) -> bool:
    return sum(column_key(v) in COLUMNS for v in values) >= 3


def _table(source: str, sheet: Optional[str], rows: Iterator[tuple[int, tuple[Any, ...]]]) -> Table:
    header: Optional[tuple[int, tuple[Any, ...]]] = None
    first: Optional[tuple[int, tuple[Any, ...]]] = None
    for number, values in rows:
        if not all(_blank(v) for v in values):
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
        table.largeur = max((i + 1 for i, v in enumerate(header[1]) if not _blank(v)), default=0)
    for number, values in rows:
        if all(_blank(v) for v in values):
            continue
        if len(data) >= MAX_MARCHES:
            table.tronque_ligne = number
            break
        data.append((number, values))
    return table


# --------------------------------------------------------------------------- one row -> one questionnaire

def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return value.strip() or None
    return value


def _word(value: Any) -> Any:
    """An identifier typed freely: « Travaux », « Espaces verts » -> travaux, espaces_verts."""
    text = _text(value)
    if not isinstance(text, str):
        return text
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s\-]+", "_", plain.strip()) or text


def _integer(value: Any) -> Any:
    """A whole number as typed: 3, 3.0, or text « 3 », « 3.0 », « 3,0 » (a CSV or a text cell)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    match = re.fullmatch(r"\s*(\d{1,6})(?:[.,]0*)?\s*", value) if isinstance(value, str) else None
    if match:
        return int(match[1])
    if isinstance(value, str):
        return value.strip() or None
    return value


_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        match = _FRENCH_DATE.fullmatch(text)
        if match:
            try:
                return dt.date(int(match[3]), int(match[2]), int(match[1]))
            except ValueError:
                return text
        return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]00:00(:00)?", text) else (text or None)
    return value


def _amount(value: Any) -> Any:
    """The amount as typed; « -5 » or « -1 500,00 » becomes a negative number, refused by the model as such."""
    if isinstance(value, str):
        text = value.strip()
        negative = re.fullmatch(r"[-\u2212]\s*(\d.*)", text)
        if negative:
            from drafting.intake.model import parse_amount

            try:
                parsed = -float(parse_amount(negative[1]))
            except Exception:  # unreadable: the model says so, quoting the text
                return text
            return int(parsed) if parsed.is_integer() else parsed
        return text or None
    return value


def _lot_amounts(total: float, count: int) -> list[float]:
    """``count`` equal shares whose float sum is ``total`` exactly, so thresholds see the row's amount."""
    share = total / count
    amounts = [share] * count
    if count > 1:
        head = sum(amounts[:-1])
        last = total - head
        for _ in range(8):
            if head + last == total:
                break
            last = math.nextafter(last, math.inf if head + last < total else -math.inf)
        amounts[-1] = last
    return amounts


@dataclass
class _Row:
    number: int
    values: dict[str, Any]

    @classmethod
    def of(cls, table: Table, number: int, values: tuple[Any, ...]) -> "_Row":
        return cls(number, {c: values[i] if i < len(values) else None for c, i in table.columns.items()})


def _questionnaire(row: _Row, acheteur_type: str, lots: int, amounts: list[Any], sector_ids: dict[str, str]) -> dict:
    v = row.values
    forme = _word(v.get("forme")) or "ordinaire"
    key = "montant_maximum_ht" if forme in ACCORDS_CADRES else "montant_estime_ht"
    secteur = _word(v.get("secteur"))
    secteur = sector_ids.get(secteur, secteur) if isinstance(secteur, str) else secteur
    given = {"reference": _text(v.get("reference")), "objet": _text(v.get("objet")), "nature": _word(v.get("nature")),
             "forme": forme, "date_notification_prevue": _date(v.get("date")), "duree_mois": _integer(v.get("duree_mois"))}
    marche = {k: value for k, value in given.items() if not _blank(value)}  # absent, so « champ obligatoire absent »
    lot_list = []
    for number, amount in enumerate(amounts, 1):
        lot: dict[str, Any] = {"numero": number, "intitule": f"Lot {number}"}
        if not _blank(secteur):
            lot["secteur"] = secteur
        if not _blank(amount):
            lot[key] = amount
        lot_list.append(lot)
    return {"version": 1, "acheteur": {"nom": ACHETEUR_NOM, "type": acheteur_type}, "marche": marche, "lots": lot_list}


def _column_of(path: str) -> Optional[str]:
    if path in FIELD_COLUMN:
        return FIELD_COLUMN[path]
    match = re.fullmatch(r"lots\[\d+\]\.(\w+)", path)
    if match:
        return LOT_FIELD_COLUMN.get(match[1])
    if path == "lots":
        return "lots"
    return None


_BOUND = re.compile(r"((?:supérieure|inférieure)(?: ou égale)? à )(\d{4,})(?:\.0+)?(?![\d.,])")


def _readable(message: str) -> str:
    """A bound of the model (« inférieure ou égale à 100000000000 ») written as a French buyer reads it."""
    return _BOUND.sub(lambda m: m[1] + f"{int(m[2]):,}".replace(",", " "), message)


def _anomalies(table: Table, row: _Row, issues: list[Any], reference: str) -> list[Anomalie]:
    out: list[Anomalie] = []
    for issue in issues:
        column = _column_of(issue.path)
        message = _readable(issue.message)
        if column == "montant" and "supérieure ou égale à 0" in message:
            message = f"montant négatif : {message}"
        if column and column in table.columns:
            out.append(Anomalie(table.cell(column, row.number), column, message, reference))
        else:
            detail = f"{issue.path} : {message}" if issue.path and not column else message
            out.append(Anomalie(table.row_ref(row.number), column or "", detail, reference))
    out.sort(key=lambda a: table.columns.get(a.colonne, -1))  # left to right, as the buyer reads the row
    return list(dict.fromkeys(out))


def _lots_count(value: Any) -> tuple[int, Optional[str]]:
    if _blank(value):
        return 1, None
    count = _integer(value)
    if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_LOTS:
        return count, None
    shown = str(value).strip()[:40]
    return 1, f"nombre de lots invalide « {shown} » : un nombre entier de 1 à {MAX_LOTS} est attendu"


def review_row(table: Table, row: _Row, library: Library, acheteur_type: str,
               sector_ids: dict[str, str]) -> tuple[Optional[MarcheRevu], list[Anomalie]]:
    """One market reviewed, or the anomalies of its row (cell + French message)."""
    from drafting.decide.policy import build_plan
    from drafting.intake.reader import validate_data

    reference = row.values.get("reference")
    reference = "" if isinstance(reference, _Unreadable) else str(_text(reference) or "")[:100]
    unread = sorted((c for c, v in row.values.items() if isinstance(v, _Unreadable)), key=lambda c: table.columns[c])
    if unread:  # e.g. a value never computed: saying « absent » would send the buyer looking for nothing
        return None, [Anomalie(table.cell(column, row.number), column, row.values[column].message, reference)
                      for column in unread]
    lots, lots_problem = _lots_count(row.values.get("lots"))
    found: list[Anomalie] = []
    if lots_problem:
        found.append(Anomalie(table.cell("lots", row.number), "lots", lots_problem, reference))
    # First pass on one lot carrying the amount as typed: messages quote what the buyer wrote.
    raw = _amount(row.values.get("montant"))
    model, issues = validate_data(_questionnaire(row, acheteur_type, 1, [raw], sector_ids), {}, library)
    found += _anomalies(table, row, issues, reference)
    if found or model is None:
        return None, found or [Anomalie(table.row_ref(row.number), "", "ligne illisible", reference)]
    lot = model.lots[0]
    total = float(lot.montant_maximum_ht if model.marche.est_accord_cadre else lot.montant_estime_ht or 0)
    if lots > 1:  # the same market split in equal lots: every rule already passed on the whole amount
        data = _questionnaire(row, acheteur_type, lots, _lot_amounts(total, lots), sector_ids)
        model, issues = validate_data(data, {}, library)
        if issues or model is None:
            return None, _anomalies(table, row, issues, reference)
    plan = build_plan(model, library)
    return _summary(row, model, plan, library, lots, total), []


def _summary(row: _Row, q: Any, plan: Plan, library: Library, lots: int, total: float) -> MarcheRevu:
    from drafting.library.core import CONSIDERATION_TYPES

    retained = [t for t in CONSIDERATION_TYPES if any(lot.retained(t) for lot in plan.lots)]
    studied = [t for t in CONSIDERATION_TYPES if t not in retained
               and any(lot.decision(t).statut == A_ETUDIER for lot in plan.lots)]
    hours = 0
    for lot in plan.lots:
        decision = lot.decision("insertion")
        if decision.statut == RETENUE:
            hours += decision.heures if decision.heures is not None else (decision.heures_maximum or 0)
    warnings_: dict[str, str] = {}
    for warning in [w for lot in plan.lots for w in lot.avertissements] + plan.avertissements:
        if warning.code not in LEFT_OUT:
            warnings_.setdefault(warning.code, SHORT_WARNINGS.get(warning.code) or _short(warning.message))
    sector = library.sectors[q.lots[0].secteur]
    return MarcheRevu(
        ligne=row.number, reference=q.marche.reference, objet=q.marche.objet, nature=q.marche.nature,
        secteur=sector.id, secteur_libelle=sector.libelle, forme=q.marche.forme, montant=total, lots=lots,
        date=q.marche.date_notification_prevue, duree_mois=q.marche.duree_mois, retenues=tuple(retained),
        a_etudier=tuple(studied), heures=hours, avertissements=tuple(warnings_.items()), decp=tuple(plan.decp))


def _short(message: str) -> str:
    """A warning without its « Lot n° 1 (…) : » prefix, cut at its first sentence."""
    text = re.sub(r"^Lot n° \d+ \([^)]*\) : ", "", message)
    text = re.split(r" : |\. |; ", text, maxsplit=1)[0]
    return text[:150]


def _sector_ids(library: Library) -> dict[str, str]:
    """Sector labels typed instead of ids (« Espaces verts ») map to the id."""
    return {_word(s.libelle): s.id for s in library.sectors.values() if _word(s.libelle) not in library.sectors}


def review(path: Path, library: Library, acheteur_type: str = "collectivite") -> Revue:
    """Read and review the whole programme; ProgrammeError if the file itself is unreadable."""
    table = read_table(path)
    if not table.rows:
        raise ProgrammeError(str(path), f"{'feuille « ' + table.feuille + ' » : ' if table.feuille else ''}aucun marché "
                                        "sous la ligne des en-têtes : remplissez une ligne par marché prévu")
    result = Revue(str(path), table.feuille, library.version, acheteur_type)
    sector_ids = _sector_ids(library)
    seen: dict[str, int] = {}
    result.anomalies += table.avertissements
    for number, values in table.rows:
        row = _Row.of(table, number, values)
        shifted = _extra_fields(table, number, values)
        if shifted:
            result.anomalies.append(shifted)
            result.lignes_rejetees += 1
            continue
        market, problems = review_row(table, row, library, acheteur_type, sector_ids)
        if market is not None and market.reference in seen:
            problems = [Anomalie(table.cell("reference", number), "reference",
                                 f"référence « {market.reference} » déjà utilisée ligne {seen[market.reference]} : "
                                 "chaque marché a sa propre référence", market.reference)]
            market = None
        if market is None:
            result.anomalies += problems
            result.lignes_rejetees += 1
            continue
        seen[market.reference] = number
        result.marches.append(market)
    if table.tronque_ligne is not None:
        result.tronque = True
        result.anomalies.append(Anomalie(table.row_ref(table.tronque_ligne), "",
                                         f"programme limité à {MAX_MARCHES_TEXTE} marchés : cette ligne et les suivantes ne sont "
                                         "pas lues ; découpez le programme en plusieurs fichiers"))
    return result


def _extra_fields(table: Table, number: int, values: tuple[Any, ...]) -> Optional[Anomalie]:
    """A CSV row with more filled fields than the header: its values are shifted, so it is not reviewed.

    The usual cause is a decimal comma (1500000,50) in a comma-separated file, or a text holding the
    separator without quotes.
    """
    if table.largeur is None or not any(not _blank(v) for v in values[table.largeur:]):
        return None
    count = max(i + 1 for i, v in enumerate(values) if not _blank(v))
    if table.separateur == ",":
        hint = ("une virgule décimale (1500000,50) dans un CSV séparé par des virgules ? Mettez le nombre entre "
                "guillemets (\"1 500 000,50\") ou enregistrez le CSV avec le séparateur « ; »")
    else:
        hint = (f"un texte contenant le séparateur « {table.separateur} » sans guillemets ? Mettez-le entre guillemets "
                "ou enregistrez de nouveau le CSV depuis Excel")
    reference = _text(values[table.columns["reference"]]) if table.columns.get("reference", 99) < len(values) else None
    return Anomalie(table.row_ref(number), "", f"{count} valeurs pour {table.largeur} en-têtes : {hint} ; ligne non "
                                               "étudiée", str(reference or "")[:100])


# --------------------------------------------------------------------------- writing

def _workbook(buffer: io.BytesIO, title: str, stamp: dt.date):
    from drafting.ooxml.xlsx import report_workbook

    return report_workbook(buffer, title, dt.datetime.combine(stamp, dt.time()))


def _formats(wb: Any) -> dict[str, Any]:
    return {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "subtitle": wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3864"}),
        "header": wb.add_format({"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"}),
        "text": wb.add_format({"text_wrap": True, "valign": "top"}),
        "cell": wb.add_format({"valign": "top", "text_wrap": True, "border": 1}),
        "bold": wb.add_format({"bold": True}),
        "int": wb.add_format({"num_format": "#,##0", "valign": "top", "border": 1}),
        "money": wb.add_format({"num_format": "#,##0.00", "valign": "top", "border": 1}),
        "pct": wb.add_format({"num_format": "0.0 %", "valign": "top", "border": 1}),
        "date": wb.add_format({"num_format": "dd/mm/yyyy", "valign": "top", "border": 1}),
        "example": wb.add_format({"italic": True, "font_color": "#595959", "border": 1}),
        "in_text": wb.add_format({"num_format": "@"}),
        "in_money": wb.add_format({"num_format": "#,##0.00"}),
        "in_date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "in_int": wb.add_format({"num_format": "0"}),
    }


def _put(ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Every value by its type: text is always text, never a formula, a number or a link."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "oui" if value else "non", fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()) if not isinstance(value, dt.datetime) else value,
                          fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _table_sheet(ws: Any, fmt: dict, first_row: int, headers: list[tuple[str, int]], rows: list[list[Any]],
                 formats: dict[int, str]) -> None:
    for col, (name, width) in enumerate(headers):
        ws.write_string(first_row, col, name, fmt["header"])
        ws.set_column(col, col, width)
    for r, values in enumerate(rows, first_row + 1):
        for c, value in enumerate(values):
            _put(ws, r, c, value, fmt[formats.get(c, "cell")])


REVIEW_HEADERS = [("Ligne", 7), ("Référence", 16), ("Objet", 36), ("Nature", 12), ("Secteur", 20),
                  ("Libellé du secteur", 28), ("Forme", 22), ("Montant HT (€)", 15), ("Lots", 6),
                  ("Notification prévue", 13), ("Durée (mois)", 9), ("Considérations retenues", 44),
                  ("Considérations à étudier", 44), ("Heures d'insertion", 11), ("Avertissements", 60),
                  ("DECP (considerationsSociales)", 22)]


def build_review_xlsx(result: Revue, library: Library) -> bytes:
    buffer = io.BytesIO()
    wb = _workbook(buffer, "Revue de marchés", library.date)
    fmt = _formats(wb)
    _synthesis_sheet(wb, fmt, result, library)
    ws = wb.add_worksheet("Revue")
    rows = [[m.ligne, m.reference, m.objet, m.nature, m.secteur, m.secteur_libelle, m.forme, m.montant, m.lots, m.date,
             m.duree_mois, "\n".join(TYPE_LABELS[t] for t in m.retenues) or "aucune",
             "\n".join(TYPE_LABELS[t] for t in m.a_etudier),
             m.heures, "\n".join(f"{code} : {text}" for code, text in m.avertissements), ", ".join(m.decp)]
            for m in result.marches]
    _table_sheet(ws, fmt, 0, REVIEW_HEADERS, rows, {0: "int", 7: "money", 8: "int", 9: "date", 10: "int", 13: "int"})
    ws.freeze_panes(1, 2)
    ws.set_row(0, 30)
    if rows:
        ws.autofilter(0, 0, len(rows), len(REVIEW_HEADERS) - 1)
    ws = wb.add_worksheet("Anomalies")
    problems = [[a.cellule, a.colonne, a.reference, a.message] for a in result.anomalies]
    _table_sheet(ws, fmt, 0, [("Cellule", 16), ("Colonne", 12), ("Référence", 16), ("Anomalie", 100)], problems, {})
    if not problems:
        ws.write_string(1, 0, "Aucune anomalie : toutes les lignes ont été lues.")
    ws.freeze_panes(1, 0)
    wb.close()
    return buffer.getvalue()


def _synthesis_sheet(wb: Any, fmt: dict, result: Revue, library: Library) -> None:
    ws = wb.add_worksheet("Synthèse")
    ws.set_column(0, 0, 58)
    ws.set_column(1, 6, 16)
    ws.write_string(0, 0, "Revue de marchés — synthèse", fmt["title"])
    part = result.part
    scope = _scope(result)
    if part is None:
        verdict = "aucun marché lu"
    elif result.manque == 0:
        verdict = f"objectif atteint{scope}"
    else:
        verdict = (f"objectif non atteint{scope} : {result.manque} marché(s) de plus à doter d'une considération sociale "
                   f"({result.a_etudier_seulement} marché(s) ont une considération à étudier)")
    lines: list[tuple[str, Any, str]] = [
        ("Programme", Path(result.source).name, "cell"),
        ("Feuille lue", result.feuille or "(CSV)", "cell"),
        ("Bibliothèque de clauses", result.library_version, "cell"),
        ("Type d'acheteur", result.acheteur_type, "cell"),
        ("Marchés lus", len(result.marches), "int"),
        ("Lignes rejetées (voir la feuille « Anomalies »)", result.lignes_rejetees, "int"),
        ("Marchés avec au moins une considération sociale retenue", result.avec_consideration, "int"),
        ("Part des marchés avec une considération sociale", part, "pct"),
        ("Objectif du PNAD", PNAD_CIBLE, "pct"),
        ("Résultat", verdict, "cell"),
        ("Marchés sans considération retenue mais avec une considération à étudier", result.a_etudier_seulement, "int"),
        ("Heures d'insertion des clauses retenues", result.heures, "int"),
        ("Montant total HT des marchés lus (€)", sum(m.montant for m in result.marches), "money"),
    ]
    for r, (label, value, kind) in enumerate(lines, 2):
        ws.write_string(r, 0, label, fmt["cell"])
        _put(ws, r, 1, "—" if value is None else value, fmt[kind if value is not None else "cell"])
    r = 2 + len(lines)
    ws.write_string(r, 0, f"Source de l'objectif : {PNAD_SOURCE}. Pour un accord-cadre, le montant est le maximum et "
                          "les heures sont calculées au maximum.", fmt["text"])
    r += 2
    ws.write_string(r, 0, "Par secteur", fmt["subtitle"])
    sectors = result.par_secteur(library)
    rows = [[s["libelle"] + f" ({s['secteur']})", s["marches"], s["avec"], s["avec"] / s["marches"], s["heures"],
             s["montant"]] for s in sectors]
    headers = [("Secteur", 58), ("Marchés", 12), ("Avec une considération retenue", 16), ("Part", 10),
               ("Heures d'insertion", 14), ("Montant HT (€)", 16)]
    for col, (name, _) in enumerate(headers):
        ws.write_string(r + 1, col, name, fmt["header"])
    for i, values in enumerate(rows, r + 2):
        for c, value in enumerate(values):
            _put(ws, i, c, value, fmt[{1: "int", 2: "int", 3: "pct", 4: "int", 5: "money"}.get(c, "cell")])
    ws.activate()


def _scope(result: Revue) -> str:
    """Rows rejected or not read are not in the share: the verdict says it holds for the markets read only."""
    if result.complete:
        return ""
    left_out = []
    if result.lignes_rejetees:
        left_out.append(f"{result.lignes_rejetees} ligne(s) rejetée(s)")
    if result.tronque:
        left_out.append(f"lignes au-delà de {MAX_MARCHES_TEXTE} marchés")
    return f" sur les marchés lus (hors {' et '.join(left_out)})"


def build_template_xlsx(library: Library) -> bytes:
    """The blank programme: headers, drop-downs, validated numbers and dates, French instructions."""
    from drafting.ooxml.xlsx import col_name

    buffer = io.BytesIO()
    wb = _workbook(buffer, "Programme d'achats — revue de marchés", library.date)
    fmt = _formats(wb)
    ws = wb.add_worksheet(SHEET)
    widths = {"reference": 16, "objet": 40, "nature": 13, "secteur": 26, "montant": 16, "duree_mois": 11, "date": 13,
              "forme": 32, "lots": 7}
    column_format = {"reference": "in_text", "objet": "in_text", "montant": "in_money", "date": "in_date",
                     "duree_mois": "in_int", "lots": "in_int"}
    for col, name in enumerate(COLUMNS):
        ws.write_string(0, col, name, fmt["header"])
        ws.set_column(col, col, widths[name], fmt[column_format[name]] if name in column_format else None)
    ws.freeze_panes(1, 0)
    last = MAX_MARCHES
    lists = {"secteur": list(library.sectors), "nature": list(NATURES), "forme": list(FORMES)}
    for name, values in lists.items():
        col = COLUMNS.index(name)
        letter = col_name(list(lists).index(name))
        ws.data_validation(1, col, last, col, {
            "validate": "list", "source": f"={LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}",
            "error_title": "Valeur non prévue", "error_message": f"Choisissez une valeur de la liste ({name})."})

    def check(name: str, options: dict[str, Any]) -> None:
        col = COLUMNS.index(name)
        ws.data_validation(1, col, last, col, options)

    check("reference", {"validate": "length", "criteria": "between", "minimum": 1, "maximum": 64,
                        "error_title": "Référence", "error_message": "64 caractères au plus : lettres, chiffres, . _ -"})
    check("montant", {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "Montant",
                      "error_message": "Un montant en euros HT, positif, sur toute la durée du marché."})
    check("duree_mois", {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 600,
                         "error_title": "Durée", "error_message": "Une durée en mois, nombre entier de 1 à 600."})
    check("date", {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                   "maximum": dt.date(2100, 12, 31), "error_title": "Date",
                   "error_message": "La date de notification prévue, par exemple 2027-03-15."})
    check("lots", {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": MAX_LOTS,
                   "error_title": "Lots", "error_message": f"Le nombre de lots, entier de 1 à {MAX_LOTS}."})
    ws.activate()
    _instructions_sheet(wb, fmt, library)
    ws = wb.add_worksheet(LISTS_SHEET)
    for col, (name, values) in enumerate(lists.items()):
        ws.write_string(0, col, name, fmt["header"])
        for row, value in enumerate(values, 1):
            ws.write_string(row, col, value)
    ws.write_string(0, len(lists), "libellé du secteur", fmt["header"])
    for row, sector in enumerate(library.sectors.values(), 1):
        ws.write_string(row, len(lists), sector.libelle)
    ws.hide()
    ws.protect()
    wb.close()
    return buffer.getvalue()


def _instructions_sheet(wb: Any, fmt: dict, library: Library) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 90)
    ws.write_string(0, 0, "Programme d'achats — revue de marchés", fmt["title"])
    paragraphs = [
        "Remplissez la feuille « Programme » : une ligne par marché prévu, à partir de la ligne 2, sans modifier les "
        "en-têtes. Puis lancez : clausier revue programme.xlsx --out revue.xlsx",
        "clausier étudie chaque marché comme un questionnaire (lots de montant égal, tous du secteur indiqué) et écrit "
        "les considérations sociales recommandées, les heures d'insertion, les avertissements et la valeur DECP, avec "
        f"une synthèse par rapport à l'objectif du PNAD ({int(PNAD_CIBLE * 100)} % des marchés avec au moins une "
        "considération sociale). Une ligne erronée est signalée avec sa cellule ; les autres sont quand même étudiées.",
        "Le programme peut aussi être un fichier CSV (séparateur « ; » ou « , », encodé en UTF-8) avec les mêmes "
        "en-têtes ; les montants peuvent s'écrire à la française : 1 500 000,50.",
    ]
    row = 2
    for text in paragraphs:
        ws.set_row(row, 48)
        ws.merge_range(row, 0, row, 2, "", fmt["text"])
        ws.write_string(row, 0, text, fmt["text"])
        row += 1
    row += 1
    ws.write_string(row, 0, "Colonnes", fmt["subtitle"])
    row += 1
    for col, name in enumerate(("colonne", "obligatoire", "contenu")):
        ws.write_string(row, col, name, fmt["header"])
    for name in COLUMNS:
        row += 1
        required, what, _ = COLUMN_HELP[name]
        for col, value in enumerate((name, required, what)):
            ws.write_string(row, col, value, fmt["cell"])
    row += 2
    ws.write_string(row, 0, "Exemple (à ne pas recopier dans la feuille « Programme »)", fmt["subtitle"])
    row += 1
    for offset, name in enumerate(COLUMNS):
        ws.write_string(row + offset, 0, name, fmt["header"])
        ws.write_string(row + offset, 1, COLUMN_HELP[name][2], fmt["example"])
        ws.write_string(row + offset, 2, EXAMPLE_2[name], fmt["example"])
    row += len(COLUMNS) + 1
    ws.write_string(row, 0, "Secteurs de la bibliothèque", fmt["subtitle"])
    ws.write_string(row, 2, f"bibliothèque {library.version}", fmt["text"])
    for sector in library.sectors.values():
        row += 1
        ws.write_string(row, 0, sector.id, fmt["cell"])
        ws.write_string(row, 1, sector.nature, fmt["cell"])
        ws.write_string(row, 2, sector.libelle, fmt["cell"])


def write_review(out: Path, data: bytes, protect: tuple[Path, ...] = ()) -> None:
    """The review or the blank programme, complete or absent, never over the programme read."""
    write_atomic(out, data, protect, "classeur")


def summary_text(result: Revue) -> str:
    """The short report printed after a review."""
    from drafting.common import formatting as fr

    n = len(result.marches)
    lines = [f"{n} marché(s) étudié(s)" + (f", {result.lignes_rejetees} ligne(s) rejetée(s)" if result.lignes_rejetees else "")
             + (" (programme tronqué)" if result.tronque else "") + "."]
    if n:
        share = fr.pourcent(round(result.part or 0, 3))
        state = ("atteint" if result.manque == 0 else f"non atteint, {result.manque} marché(s) de plus") + _scope(result)
        lines.append(f"{result.avec_consideration} avec au moins une considération sociale retenue ({share}) ; "
                     f"objectif du PNAD {fr.pourcent(PNAD_CIBLE)} : {state}.")
        lines.append(f"{fr.heures(result.heures)} d'insertion dans les clauses retenues.")
    return "\n".join(lines).replace(fr.NBSP, " ").replace(fr.NNBSP, " ") + "\n"

