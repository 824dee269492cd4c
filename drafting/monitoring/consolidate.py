"""Consolidation of filled monitoring grids: what the facilitator reports to buyers.

The pipeline of this package, in data order: ``reading`` opens one returned grid behind the
archive guard and reads its commitments; ``sheets`` reads its three input sheets through the
cell ``checks``; ``figures`` holds what comes out (lines, indicators, problems); this module
keeps one grid per market over many files; ``reports`` writes the text, JSON and Excel reports.
One bad file never stops the others: it is reported in French and the rest is consolidated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from drafting.errors import GridError
from drafting.monitoring.figures import Consolidation, MarketReport
from drafting.monitoring.reading import read_grid


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


# --- which commitments to trust ---------------------------------------------------------------------------------


# --- « Suivi heures » ---------------------------------------------------------------------------------------------


# --- « Actions sociales » et « Plan de progrès » ------------------------------------------------------------------


# --- figures per lot and consideration ----------------------------------------------------------------------------


# --- outputs ------------------------------------------------------------------------------------------------------

