"""The dashboard's figures: per market and for a portfolio, read from the returns' consolidated figures.

Every figure of a market is the consolidation's own (the stored JSON of ``suivi consolider``); a portfolio's
are their sums. Over time, each month's return is the cumulative state of the grid at that month (an
enterprise adds rows month after month), so the cumulative curve is the returns' own figures, month by month,
against the expected line: the commitment spread evenly over the execution period.

Rules (also in the README):

- a month's grid is due by the 10th of the following month (the grid's « Mode d'emploi »): a month of
  execution whose return is not in by then is *missing*;
- a market is *behind schedule* when, at the month of its last return, the hours done are under
  ``RETARD_SEUIL`` (80 %) of the expected line, from the third month of execution on.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import Engagement, MarcheSuivi, Retour

RETARD_SEUIL = 0.8
ORDER = {kind: n for n, kind in enumerate(["insertion", "action_sociale", "marche_reserve", "insertion_qualification",
                                             "illettrisme", "egalite_diversite", "plan_de_progres"])}
MOIS_DE_GRACE = 2       # no delay is flagged over the first two months of execution
JOUR_LIMITE = 10        # a month's grid is due by the 10th of the following month
PUBLIC_LABELS = [("femmes", "Femmes"), ("hommes", "Hommes"), ("sexe_non_renseigne", "Sexe non renseigné"),
                 ("residents_qpv", "Résidents d'un QPV"), ("hors_qpv", "Hors QPV"),
                 ("qpv_non_renseigne", "Résidence non renseignée")]
MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
        "décembre"]
MOIS_COURTS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]


def today() -> dt.date:
    """Today in Paris; ``CLAUSIER_AUJOURDHUI`` (AAAA-MM-JJ) fixes it, for tests and measurements."""
    fixed = getattr(settings, "CLAUSIER_AUJOURDHUI", "") or ""
    return dt.date.fromisoformat(fixed) if fixed else timezone.localdate()


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def month_range(start: dt.date, end: dt.date) -> list[dt.date]:
    start, end = first_of_month(start), first_of_month(end)
    return [add_months(start, n) for n in range(months_between(start, end) + 1)] if end >= start else []


def month_short(day: dt.date) -> str:
    return f"{MOIS_COURTS[day.month - 1]} {day.year}"


def month_long(day: dt.date) -> str:
    """« mars 2027 »."""
    return f"{MOIS[day.month - 1]} {day.year}"


def last_month_due(today: dt.date) -> dt.date:
    """The latest month whose grid is due today (the 10th of the following month has passed)."""
    back = 1 if today.day > JOUR_LIMITE else 2
    return add_months(first_of_month(today), -back)


def expected_at(commitment: Optional[float], start: Optional[dt.date], duration: Optional[int], month: dt.date) -> Optional[float]:
    """Hours expected by the end of ``month``: the commitment spread evenly over the execution's months."""
    if commitment is None or start is None or not duration:
        return None
    elapsed = months_between(first_of_month(start), first_of_month(month)) + 1
    return commitment * min(max(elapsed, 0), duration) / duration


def end_month(suivi: MarcheSuivi) -> Optional[dt.date]:
    if suivi.debut_execution is None or not suivi.duree_mois:
        return None
    return add_months(first_of_month(suivi.debut_execution), suivi.duree_mois - 1)


@dataclass
class Point:
    mois: dt.date
    attendu: Optional[float]
    realise: Optional[float]      # None: no return that month (the curve carries the last one)
    retour: bool = False
    statut: str = ""              # "retour", "manquant" (due and not received), "a_venir" (not due yet), ""

    @property
    def ecart(self) -> Optional[float]:
        return None if self.attendu is None or self.realise is None else self.realise - self.attendu


@dataclass
class MarketState:
    suivi: MarcheSuivi
    engagement: Optional[float]              # insertion hours committed, every lot (the generated grid)
    dernier: Optional[Retour]                # the latest return counted (within the year, if one is chosen)
    realise: float = 0.0                     # insertion hours done at that return
    realise_annee: Optional[float] = None    # done during the chosen year
    attendu: Optional[float] = None          # expected at the month of that return
    avancement: Optional[float] = None       # realise / attendu
    en_retard: bool = False
    manquants: list[dt.date] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    fin: Optional[dt.date] = None

    @property
    def figures(self) -> dict[str, Any]:
        return self.dernier.figures if self.dernier is not None else {}

    @property
    def taux(self) -> Optional[float]:
        return self.realise / self.engagement if self.engagement else None


def insertion_commitments(ids: Iterable[int]) -> dict[int, Optional[float]]:
    out: dict[int, Optional[float]] = {}
    for marche_id, value in Engagement.objects.filter(marche_id__in=list(ids), type="insertion").values_list(
            "marche_id", "engagement"):
        if value is not None:
            out[marche_id] = (out.get(marche_id) or 0.0) + value
        else:
            out.setdefault(marche_id, None)
    return out


def market_state(suivi: MarcheSuivi, returns: list[Retour], commitment: Optional[float], today: dt.date,
                 year: Optional[int] = None) -> MarketState:
    """A market's state from its active returns (oldest first), as of today or the end of ``year``."""
    limit = dt.date(year, 12, 1) if year else add_months(first_of_month(today), 12 * 50)
    counted = [r for r in returns if r.mois <= limit]
    state = MarketState(suivi, commitment, counted[-1] if counted else None, fin=end_month(suivi))
    start = first_of_month(suivi.debut_execution) if suivi.debut_execution else None
    if state.dernier is not None:
        state.realise = state.dernier.heures_realisees
        state.attendu = expected_at(commitment, start, suivi.duree_mois, state.dernier.mois)
        if state.attendu:
            state.avancement = state.realise / state.attendu
            elapsed = months_between(start, state.dernier.mois) + 1 if start else 0
            state.en_retard = state.avancement < RETARD_SEUIL and elapsed > MOIS_DE_GRACE
    if year:
        before = [r for r in counted if r.mois < dt.date(year, 1, 1)]
        state.realise_annee = state.realise - (before[-1].heures_realisees if before else 0.0)
    due_until = min(last_month_due(today), limit)
    if start is not None:
        last = min(due_until, state.fin) if state.fin else due_until
        first = max(start, dt.date(year, 1, 1)) if year else start
        have = {r.mois for r in returns}
        state.manquants = [m for m in month_range(first, last) if m not in have]
    by_month = {r.mois: r.heures_realisees for r in counted}
    first_point = min([m for m in [start, *by_month] if m is not None], default=None)
    last_point = max([m for m in [state.fin if start else None, *by_month] if m is not None], default=None)
    if year and first_point and last_point:
        first_point, last_point = max(first_point, dt.date(year, 1, 1)), min(last_point, dt.date(year, 12, 1))
    if first_point and last_point:
        missing = set(state.manquants)
        for month in month_range(first_point, last_point):
            status = ("retour" if month in by_month else "manquant" if month in missing
                      else "a_venir" if month > due_until else "")
            state.points.append(Point(month, expected_at(commitment, start, suivi.duree_mois, month),
                                      by_month.get(month), month in by_month, status))
    return state


def active_in(suivi: MarcheSuivi, returns: list[Retour], year: int) -> bool:
    """Executed during ``year``: its execution period overlaps it, or (dates unknown) a return falls in it."""
    if any(r.mois.year == year for r in returns):
        return True
    if suivi.debut_execution is None:
        return False
    end = end_month(suivi)
    return suivi.debut_execution.year <= year and (end is None or end.year >= year)


def carried(points: list[Point]) -> list[tuple[dt.date, Optional[float]]]:
    """The cumulative curve: each month, the last return's figure so far (None before the first)."""
    out, last = [], None
    for point in points:
        if point.realise is not None:
            last = point.realise
        out.append((point.mois, last))
    return out


# ----------------------------------------------------------------------------- a portfolio


@dataclass
class Filters:
    organisation: Optional[int] = None
    annee: Optional[int] = None
    secteur: str = ""

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.organisation:
            queryset = queryset.filter(organisation_id=self.organisation)
        if self.secteur:
            queryset = queryset.filter(lots__secteur=self.secteur).distinct()
        return queryset


@dataclass
class Portfolio:
    states: list[MarketState]
    points: list[Point]                           # the sum of the markets' curves, month by month
    totals: dict[str, Any]
    publics: list[tuple[str, int]]
    contrats: list[tuple[str, int]]
    lots: list[dict[str, Any]] = field(default_factory=list)
    sans_dates: int = 0

    @property
    def en_retard(self) -> list[MarketState]:
        return [s for s in self.states if s.en_retard]

    @property
    def avec_manquants(self) -> list[MarketState]:
        return [s for s in self.states if s.manquants]


@dataclass
class ReturnFigures:
    """What a portfolio needs of a monthly return: a few columns for every month, the consolidation's figures for the
    latest one only (reading thousands of returns as model instances was most of a dashboard's time)."""

    pk: int
    mois: dt.date
    heures_realisees: float
    nb_problemes: int
    penalites: float
    figures: dict[str, Any] = field(default_factory=dict)


def portfolio(markets: list[MarcheSuivi], today: dt.date, year: Optional[int] = None) -> Portfolio:
    ids = [m.pk for m in markets]
    commitments = insertion_commitments(ids)
    returns: dict[int, list[Any]] = defaultdict(list)
    rows = (Retour.objects.filter(marche_id__in=ids, actif=True).order_by("mois")
            .values_list("marche_id", "pk", "mois", "heures_realisees", "nb_problemes", "penalites"))
    for marche_id, *columns in rows:
        returns[marche_id].append(ReturnFigures(*columns))
    states = [market_state(m, returns.get(m.pk, []), commitments.get(m.pk), today, year) for m in markets
              if year is None or active_in(m, returns.get(m.pk, []), year)]
    latest_ids = [s.dernier.pk for s in states if s.dernier is not None]
    figures = dict(Retour.objects.filter(pk__in=latest_ids).values_list("pk", "figures"))
    for state in states:
        if state.dernier is not None:
            state.dernier.figures = figures.get(state.dernier.pk, {})
    return summarise(states, year)


def summarise(states: list[MarketState], year: Optional[int] = None) -> Portfolio:
    months = sorted({p.mois for s in states for p in s.points})
    curves = []
    for state in states:
        if state.points:
            values = carried(state.points)
            curves.append((dict(values), {p.mois: p.attendu for p in state.points}, state.points[-1].mois,
                           state.points[-1].attendu, values[-1][1]))
    known = max((s.dernier.mois for s in states if s.dernier is not None), default=None)
    total_points = []
    for month in months:
        expected = done = None
        for curve, expectations, last, last_expected, last_value in curves:
            if month > last:  # past its last month: its whole commitment expected, its last figure carried
                e, value = last_expected, last_value
            else:
                e, value = expectations.get(month), curve.get(month)
            if e is not None:
                expected = (expected or 0.0) + e
            if value is not None and known is not None and month <= known:  # never beyond the last return received
                done = (done or 0.0) + value
        total_points.append(Point(month, expected, done, done is not None))
    indicators: dict[str, float] = defaultdict(float)
    contracts: dict[str, int] = defaultdict(int)
    lines_total: dict[str, dict[str, float]] = {}
    for state in states:
        figures = state.figures
        for key, value in (figures.get("indicateurs") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                indicators[key] += value
        for name, count in ((figures.get("indicateurs") or {}).get("types_contrat") or {}).items():
            contracts[name] += count
        for line in figures.get("lignes", []):
            bucket = lines_total.setdefault(line["type"], {"engagement": 0.0, "realise": 0.0, "penalites": 0.0,
                                                            "unite": line.get("unite", "")})
            bucket["engagement"] += line.get("engagement") or 0
            bucket["realise"] += line.get("realise") or 0
            bucket["penalites"] += line.get("penalites") or 0
    people = int(indicators["beneficiaires"])
    publics = {
        "femmes": int(indicators["femmes"]), "sexe_non_renseigne": int(indicators["sexe_non_renseigne"]),
        "residents_qpv": int(indicators["residents_qpv"]), "qpv_non_renseigne": int(indicators["qpv_non_renseigne"])}
    publics["hommes"] = people - publics["femmes"] - publics["sexe_non_renseigne"]
    publics["hors_qpv"] = people - publics["residents_qpv"] - publics["qpv_non_renseigne"]
    engaged = [s.engagement for s in states if s.engagement is not None]
    totals = {
        "marches": len(states), "avec_retour": sum(1 for s in states if s.dernier is not None),
        "heures_engagees": sum(engaged) if engaged else None,
        "heures_realisees": sum(s.realise for s in states),
        "heures_realisees_annee": sum(s.realise_annee or 0 for s in states) if year else None,
        "beneficiaires": people,
        "part_femmes": publics["femmes"] / people if people else None,
        "part_qpv": publics["residents_qpv"] / people if people else None,
        "heures_formation": indicators["heures_formation"],
        "heures_structures_inclusives": indicators["heures_structures_inclusives"],
        "actions_realisees": int(indicators["actions_realisees"]),
        "participants_actions": indicators["participants_actions"],
        "plans_produits": int(indicators["plans_produits"]),
        "penalites": sum(b["penalites"] for b in lines_total.values()),
        "en_retard": sum(1 for s in states if s.en_retard),
        "retours_manquants": sum(len(s.manquants) for s in states),
    }
    engaged_hours = totals["heures_engagees"]
    totals["taux"] = totals["heures_realisees"] / engaged_hours if engaged_hours else None
    return Portfolio(states, total_points, totals, [(label, publics[key]) for key, label in PUBLIC_LABELS],
                     sorted(contracts.items(), key=lambda kv: (-kv[1], kv[0])),
                     [{"type": kind, **values} for kind, values in sorted(lines_total.items(), key=lambda kv: ORDER.get(kv[0], 99))],
                     sum(1 for s in states if s.suivi.debut_execution is None or not s.suivi.duree_mois))


# ----------------------------------------------------------------------------- the same figures for a page and its charts


class PortfolioCache:
    """A dashboard page and its charts ask for the same portfolio within a second: it is computed once. An entry is
    kept a minute at most, and only while the data it came from is unchanged (its version: the returns, markets and
    commitments as they stand), so a new return shows at once."""

    TTL = 60.0
    SIZE = 16

    def __init__(self) -> None:
        import threading

        self._items: dict[tuple, tuple[float, Portfolio]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, compute) -> Portfolio:
        import time

        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.TTL:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._items) >= self.SIZE:
                self._items.clear()
            self._items[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PORTFOLIOS = PortfolioCache()


def data_version() -> tuple:
    from django.db.models import Count, Max, Q

    returns = Retour.objects.aggregate(last=Max("pk"), active=Count("pk", filter=Q(actif=True)))
    markets = MarcheSuivi.objects.aggregate(last=Max("modifie_le"), count=Count("pk"))
    return (returns["last"], returns["active"], markets["last"], markets["count"],
            Engagement.objects.aggregate(last=Max("pk"))["last"])
