"""One guard for every zip archive the engine reads: filled grids, the Excel questionnaire form,
the programme workbook, the buyer's CCAP model.

All four come from outside (an enterprise, a buyer, a facilitator's spreadsheet), and the parsers
behind them (openpyxl, the engine's own Word reader) inflate what the zip directory announces. The
guard reads that directory only, before any parser touches a member, and refuses with the same
limits whatever the file: a limit that differs per reader is a door left open on the widest one.
It returns the reason in French; each reader wraps it in its own error (GridError,
QuestionnaireError, ProgrammeError, ModelError), which names the file and what to do.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

MIB = 2**20


@dataclass(frozen=True)
class Limits:
    """What an honest office document never exceeds.

    A filled grid is about 1 Mo once inflated, a 5 000-row programme a few Mo, a buyer's CCAP
    with its logos a few Mo too: 50 Mo inflated leaves a wide margin. openpyxl holds the shared
    strings whole in memory, hence their own cap. A member smaller than ``ratio_floor`` cannot be
    a bomb whatever its ratio (our grids compress about 12:1).
    """

    entries: int = 2000
    inflated: int = 50 * MIB
    shared_strings: int = 5 * MIB
    ratio: int = 100
    ratio_floor: int = 1 * MIB


LIMITS = Limits()

Source = Union[Path, bytes]


class NotAZip(Exception):
    """The file is not a zip archive at all (an old .xls, a password-protected workbook, a truncated file)."""


def refusal(archive: zipfile.ZipFile, limits: Limits = LIMITS) -> Optional[str]:
    """Why this archive would inflate beyond reason, in French, or None."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        return f"archive anormale : plus de {limits.entries} parties"
    if sum(info.file_size for info in infos) > limits.inflated:
        return f"contenu décompressé démesuré (plus de {limits.inflated // MIB} Mo une fois décompressé)"
    strings = _shared_strings_parts(archive, limits)
    for info in infos:
        if info.file_size > limits.shared_strings and (info.filename in strings
                                                       or info.filename.lower().endswith("sharedstrings.xml")):
            return f"textes du classeur trop volumineux (plus de {limits.shared_strings // MIB} Mo une fois décompressés)"
        if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
            return (f"élément « {info.filename[:60]} » compressé plus de {limits.ratio} fois : archive anormale "
                    "(bombe de décompression ?)")
    return None


def inspect(source: Source, limits: Limits = LIMITS) -> tuple[set[str], Optional[str]]:
    """The member names and the refusal (or None) of a file or of bytes.

    Raises NotAZip when it is no zip at all, OSError when the file cannot be read; any other
    damage of the directory is reported as a refusal, so no parser sees it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            names = {info.filename for info in archive.infolist()}
            return names, refusal(archive, limits)
    except zipfile.BadZipFile:
        raise NotAZip() from None
    except OSError:
        raise
    except Exception as exc:  # a directory that lies about itself: zipfile raises many kinds
        return set(), f"archive zip endommagée ({type(exc).__name__})"


def is_xlsx(names: set[str]) -> bool:
    """A SpreadsheetML package, as Excel and openpyxl recognise one."""
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _shared_strings_parts(archive: zipfile.ZipFile, limits: Limits) -> set[str]:
    """The shared strings, found as openpyxl finds them: by the content type, whatever their name."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return set()
    if info.file_size > limits.ratio_floor:
        return set()
    text = archive.read(info).decode("utf-8", "replace")
    parts = set()
    for override in re.findall(r"<Override\b[^>]*>", text):
        name = re.search(r'PartName="/?([^"]*)"', override)
        if name and "sharedStrings+xml" in override:
            parts.add(name[1])
    return parts
