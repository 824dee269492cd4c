"""Charts drawn on the server with matplotlib: SVG for the pages, PNG for the Word bilan.

Deterministic (the same figures give the same bytes): the Agg backend, no date or software name in the
files, a fixed hash salt for the SVG's identifiers, DejaVu Sans (shipped with matplotlib). The object API
only (no pyplot): each chart is its own Figure, so the server's threads never share one. Every chart is
shown beside the table of its figures; the text alternative names what it shows.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Optional, Sequence

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams.update({
    "svg.hashsalt": "clausier", "svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 10,
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11, "legend.frameon": False,
    "axes.edgecolor": "#4a5160", "axes.labelcolor": "#1c1f24", "xtick.color": "#4a5160", "ytick.color": "#4a5160",
})

from matplotlib.figure import Figure  # noqa: E402  (after the backend and settings)
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from drafting import api  # noqa: E402

from .tableau import Point, carried, month_short  # noqa: E402

REALISE, ATTENDU, ENGAGEMENT, SECOND = "#1d4e89", "#b45309", "#4a5160", "#8fb3de"
NNBSP = "\u202f"


def _figures(value: float, _position: object = None) -> str:
    return api.fr_nombre(round(value), 0) if abs(value) >= 1 or value == 0 else api.fr_nombre(value, 1)


def svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return buffer.getvalue()


def png(fig: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()


def _axis_months(ax, months: list[dt.date]) -> None:
    if not months:
        return
    step = max(1, (len(months) + 11) // 12)
    ticks = list(range(0, len(months), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([month_short(months[i]) for i in ticks], rotation=45, ha="right")
    ax.set_xlim(-0.5, len(months) - 0.5)


def cumulative(points: list[Point], commitment: Optional[float], unit: str = "heures") -> Figure:
    """Hours done (the returns, carried month to month) against the expected line and the commitment."""
    fig = Figure(figsize=(7, 3.9))
    ax = fig.add_subplot()
    months = [p.mois for p in points]
    xs = list(range(len(months)))
    expected = [(x, p.attendu) for x, p in zip(xs, points) if p.attendu is not None]
    if expected:
        ax.plot([x for x, _ in expected], [y for _, y in expected], color=ATTENDU, linestyle="--", linewidth=1.8,
                label="Attendu")
    last = max((x for x, p in zip(xs, points) if p.retour and p.realise is not None), default=-1)
    curve = [(x, y) for x, (_, y) in zip(xs, carried(points)) if y is not None and x <= last]
    if curve:
        ax.plot([x for x, _ in curve], [y for _, y in curve], color=REALISE, linewidth=2.4, drawstyle="steps-post",
                label="Réalisé (retours)")
        returned = [(x, p.realise) for x, p in zip(xs, points) if p.retour and p.realise is not None]
        ax.plot([x for x, _ in returned], [y for _, y in returned], "o", color=REALISE, markersize=5)
    if commitment:
        ax.axhline(commitment, color=ENGAGEMENT, linestyle=":", linewidth=1.4,
                   label=f"Engagement : {api.fr_nombre(commitment)} h")
    ax.yaxis.set_major_formatter(FuncFormatter(_figures))
    ax.yaxis.set_major_locator(MaxNLocator(6, integer=True))
    ax.set_ylabel(f"{unit.capitalize()} cumulées")
    top = max([y for _, y in expected] + [y for _, y in curve] + [commitment or 0, 1])
    ax.set_ylim(0, top * 1.08)
    ax.grid(axis="y", color="#d5d8de", linewidth=0.8)
    ax.set_axisbelow(True)
    _axis_months(ax, months)
    if not (expected or curve):
        ax.text(0.5, 0.5, "Aucun retour ni date d'exécution", transform=ax.transAxes, ha="center", va="center",
                color=ENGAGEMENT)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3, fontsize=9, handlelength=2.5)
    return fig


def paired_bars(labels: Sequence[str], due: Sequence[Optional[float]], done: Sequence[float],
                unit: str = "heures") -> Figure:
    """Per category (a lot, a market): the commitment beside what was done."""
    height = max(2.2, 0.55 * len(labels) + 1.0)
    fig = Figure(figsize=(8, height))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))
    ax.barh([y + 0.2 for y in ys], [d or 0 for d in due], height=0.38, color=SECOND, label="Engagement")
    ax.barh([y - 0.2 for y in ys], list(done), height=0.38, color=REALISE, label="Réalisé")
    for y, value in zip(ys, done):
        ax.text(value, y - 0.2, f" {api.fr_nombre(round(value), 0)}", va="center", fontsize=9, color="#1c1f24",
                family="DejaVu Sans")
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(label) for label in labels])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(_figures))
    ax.set_xlabel(unit.capitalize())
    ax.grid(axis="x", color="#d5d8de", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2, fontsize=9)
    ax.set_xlim(0, max([d or 0 for d in due] + list(done) + [1]) * 1.12)
    return fig


def bars(items: Sequence[tuple[str, float]], unit: str) -> Figure:
    """Counts per category (contract types, publics), largest first as given."""
    height = max(2.0, 0.42 * len(items) + 0.9)
    fig = Figure(figsize=(8, height))
    ax = fig.add_subplot()
    ys = list(range(len(items)))
    values = [v for _, v in items]
    ax.barh(ys, values, height=0.6, color=REALISE)
    for y, value in zip(ys, values):
        ax.text(value, y, f" {api.fr_nombre(value, 0)}", va="center", fontsize=9, color="#1c1f24", family="DejaVu Sans")
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(label) for label, _ in items])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_figures))
    ax.set_xlabel(unit)
    ax.grid(axis="x", color="#d5d8de", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlim(0, max(values + [1]) * 1.12)
    if not items:
        ax.text(0.5, 0.5, "Aucune donnée", transform=ax.transAxes, ha="center", va="center", color=ENGAGEMENT)
    return fig


def _short(label: str, width: int = 38) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
