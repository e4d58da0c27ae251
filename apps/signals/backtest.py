"""The backtest report: how signals did, from their outcomes (apps/signals/outcomes.py).

For one horizon and period (signals entered from `since` to `until`), overall and broken down by label,
catalyst, stance, source and score decile: the count, the hit rate (direction right, among bullish and
bearish signals) with a 95 % Wilson interval, the mean and median excess return, and the information
coefficient (Spearman's rank correlation of score against excess return). Every figure comes with its
sample size; under MIN_SAMPLE signals a group says its sample is too small instead of a rate."""

import math
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time

from apps.articles.models import Platform
from apps.signals.models import Label, OutcomeStatus, SignalOutcome

MIN_SAMPLE = 30
Z95 = 1.959963984540054
BREAKDOWNS = ("label", "catalyst", "stance", "source", "score_decile")


@dataclass
class Group:
    key: str
    count: int  # outcomes in the group
    directional: int  # of which bullish or bearish (the hit rate's sample)
    hits: int | None = None
    hit_rate: float | None = None
    hit_rate_low: float | None = None
    hit_rate_high: float | None = None
    mean_excess: float | None = None
    median_excess: float | None = None
    ic: float | None = None
    note: str = ""


@dataclass
class Report:
    horizon: int
    since: datetime | None
    until: datetime | None
    overall: Group
    breakdowns: dict[str, list[Group]] = field(default_factory=dict)
    missing: int = 0  # outcomes recorded without figures (halts, gaps): not in the sample
    # per label: by entry day, the running sum of that day's mean excess return (an equal-weight book
    # of the label's signals), with the day's count
    cumulative: dict[str, list[dict]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        data["until"] = self.until.isoformat() if self.until else None
        data["min_sample"] = MIN_SAMPLE
        return data


def start_of_day(day: date | None) -> datetime | None:
    """00:00 UTC of that day (the report's periods are whole UTC days), None for None."""
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def backtest(*, horizon: int, since: datetime | None = None, until: datetime | None = None) -> Report:
    if horizon not in SignalOutcome.HORIZONS:
        raise ValueError(f"horizon must be one of {', '.join(map(str, SignalOutcome.HORIZONS))} sessions")
    outcomes = SignalOutcome.objects.filter(horizon=horizon)
    if since:
        outcomes = outcomes.filter(entry_t__gte=since)
    if until:
        outcomes = outcomes.filter(entry_t__lt=until)
    missing = outcomes.filter(status=OutcomeStatus.MISSING).count()
    rows = list(outcomes.filter(status=OutcomeStatus.OK).values(
        "entry_t", "excess_ret", "direction_right", "signal__score", "signal__label", "signal__stance",
        "signal__article__analysis__catalyst_type", "signal__article__source__name", "signal__article__platform",
    ).iterator(chunk_size=5000))
    for row in rows:
        row["label"] = row["signal__label"]
        row["stance"] = row["signal__stance"] or "none"
        # A Form 4 filing's signal has no analysis: its catalyst is the insider trade itself.
        row["catalyst"] = row["signal__article__analysis__catalyst_type"] or (
            "INSIDER" if row["signal__article__platform"] == Platform.SEC else "none")
        row["source"] = row["signal__article__source__name"] or "none"
    for row, decile in zip(rows, _deciles([row["signal__score"] for row in rows]), strict=True):
        row["score_decile"] = f"D{decile}"
    report = Report(horizon=horizon, since=since, until=until, overall=_group("all", rows), missing=missing)
    for name in BREAKDOWNS:
        keys = sorted({row[name] for row in rows}, key=_order)
        report.breakdowns[name] = [_group(key, [row for row in rows if row[name] == key]) for key in keys]
    report.cumulative = _cumulative(rows)
    return report


def _cumulative(rows: list[dict]) -> dict[str, list[dict]]:
    days: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        days[row["label"]][row["entry_t"].date()].append(row["excess_ret"])
    result = {}
    for label in sorted(days, key=lambda label: (Label.values.index(label) if label in Label.values else 99, label)):
        total, points = 0.0, []
        for day in sorted(days[label]):
            total += statistics.fmean(days[label][day])
            points.append({"day": day.isoformat(), "cumulative_excess": total, "count": len(days[label][day])})
        result[label] = points
    return result


def _order(key: str):
    return (0, int(key[1:])) if key[:1] == "D" and key[1:].isdigit() else (1, key)


def _group(key: str, rows: list[dict]) -> Group:
    directional = [row["direction_right"] for row in rows if row["direction_right"] is not None]
    group = Group(key=key, count=len(rows), directional=len(directional))
    if len(rows) < MIN_SAMPLE:
        group.note = f"sample too small: {len(rows)} signal(s), at least {MIN_SAMPLE} needed"
        return group
    excess = [row["excess_ret"] for row in rows]
    group.mean_excess, group.median_excess = statistics.fmean(excess), statistics.median(excess)
    group.ic = spearman([row["signal__score"] for row in rows], excess)
    if len(directional) < MIN_SAMPLE:
        group.note = f"hit rate: sample too small: {len(directional)} directional signal(s)"
    else:
        group.hits = sum(directional)
        group.hit_rate = group.hits / len(directional)
        group.hit_rate_low, group.hit_rate_high = wilson(group.hits, len(directional))
    return group


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default)."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation; None when either side does not vary."""
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    if not sxx or not syy:
        return None
    return sxy / math.sqrt(sxx * syy)


def _deciles(scores: list[float]) -> list[int]:
    """Each score's decile (1 = lowest tenth) within the sample, by rank."""
    if not scores:
        return []
    positions = ranks(scores)
    return [min(10, int((position - 1) * 10 // len(scores)) + 1) for position in positions]
