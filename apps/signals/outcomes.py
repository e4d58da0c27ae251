"""What happened after each signal (SignalOutcome), from the daily bars of apps/markets.

For a signal at time t: the entry bar is the first session whose close is strictly after t (so a
signal at 15:59 New York enters on that day's close, one at 16:01 on the next session's); the exit bar
is `horizon` sessions later on the exchange calendar (holidays and half days are the calendar's).
Returns come from adjusted closes, so a split between entry and exit is no move. A session the
calendar has but the symbol (or the benchmark) has no bar for is a halt or a gap in the data: the
outcome is recorded as missing, saying which day, once bars after that day exist (or after a grace
period); it is never guessed from neighbouring bars."""

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps import flags
from apps.markets import calendar
from apps.markets.models import Interval, PriceBar
from apps.markets.volatility import History
from apps.signals.models import OutcomeStatus, Signal, SignalOutcome

logger = structlog.get_logger(__name__)

STANCE_SIGN = {"BULLISH": 1, "BEARISH": -1}
MISSING_GRACE = timedelta(days=5)  # bars may arrive late; after this a gap is a gap


@dataclass
class OutcomeResult:
    created: int = 0
    missing: int = 0
    waiting: int = 0  # (signal, horizon) pairs whose exit bar is not there yet
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Point:
    adj_close: float
    adj_low: float
    adj_high: float


def outcomes_compute(*, signals: list[Signal], now: datetime | None = None) -> OutcomeResult:
    """Create the outcome rows these signals lack and can have now. Idempotent: an existing row stays."""
    now = now or timezone.now()
    result = OutcomeResult()
    if not signals:
        return result
    done = set(SignalOutcome.objects.filter(signal__in=signals).values_list("signal_id", "horizon"))
    wanted = [s for s in signals if any((s.pk, h) not in done for h in SignalOutcome.HORIZONS)]
    if not wanted:
        return result
    first, last = min(s.t for s in wanted), max(s.t for s in wanted)
    # The longest horizon is 20 sessions: about four weeks, five with holidays; a week's margin on top.
    until = min(now, last + timedelta(days=42))
    closes = calendar.session_closes((first - timedelta(days=1)).date(), (until + timedelta(days=1)).date())
    closes = [close for close in closes if close <= now]  # a session that has not closed has no bar yet
    benchmark = settings.BENCHMARK_SYMBOL
    series = _series({s.symbol for s in wanted} | {benchmark}, first, until)
    # time_series_forecasting: the excess return in sigmas of the forecast known at the signal
    history = History.load({s.symbol for s in wanted}, first, last) if flags.is_enabled("time_series_forecasting") else None
    rows = []
    for signal in wanted:
        entry = bisect_right(closes, signal.t)  # the first close strictly after the signal
        sigma = history.stats_at(signal.symbol, signal.t).sigma if history is not None else None
        for horizon in SignalOutcome.HORIZONS:
            if (signal.pk, horizon) in done:
                continue
            exit_ = entry + horizon
            if exit_ >= len(closes):
                result.waiting += 1
                continue
            row = _outcome(signal, horizon, closes[entry:exit_ + 1], series[signal.symbol], series[benchmark],
                           benchmark, now)
            if row is None:
                result.waiting += 1
                continue
            if sigma and row.excess_ret is not None:
                row.excess_sigma = row.excess_ret / (sigma * math.sqrt(horizon))
            rows.append(row)
    with transaction.atomic():
        SignalOutcome.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    result.created = len(rows)
    result.missing = sum(row.status == OutcomeStatus.MISSING for row in rows)
    return result


def _series(symbols: set[str], since: datetime, until: datetime) -> dict[str, dict[datetime, _Point]]:
    series: dict[str, dict[datetime, _Point]] = defaultdict(dict)
    bars = (PriceBar.objects.filter(symbol__in=symbols, interval=Interval.DAY, t__gt=since, t__lte=until)
            .values_list("symbol", "t", "adj_close", "close", "low", "high"))
    for symbol, t, adj_close, close, low, high in bars.iterator(chunk_size=5000):
        factor = adj_close / close if close else 1.0
        series[symbol][t] = _Point(adj_close, low * factor, high * factor)
    return series


def _outcome(signal: Signal, horizon: int, window: list[datetime], bars: dict, benchmark_bars: dict,
             benchmark: str, now: datetime) -> SignalOutcome | None:
    """The row for one signal and horizon; None while a bar it needs may still come."""
    entry_t, exit_t = window[0], window[-1]
    base = SignalOutcome(signal=signal, horizon=horizon, entry_t=entry_t, exit_t=exit_t)
    for symbol, known in ((signal.symbol, bars), (benchmark, benchmark_bars)):
        gaps = [close for close in (entry_t, exit_t) if close not in known]
        if gaps:
            settled = now - exit_t > MISSING_GRACE or any(t > exit_t for t in known)
            if not settled:
                return None
            base.status = OutcomeStatus.MISSING
            base.note = f"no {symbol} bar for the session closing {gaps[0]:%Y-%m-%d %H:%M} UTC (halted, or no data)"
            return base
    entry, exit_ = bars[entry_t].adj_close, bars[exit_t].adj_close
    base.entry_price, base.exit_price = entry, exit_
    base.ret = exit_ / entry - 1
    base.benchmark_ret = benchmark_bars[exit_t].adj_close / benchmark_bars[entry_t].adj_close - 1
    base.excess_ret = base.ret - base.benchmark_ret
    sign = STANCE_SIGN.get(signal.stance)
    if sign is not None:
        base.direction_right = base.excess_ret * sign > 0
        path = [bars[close] for close in window[1:] if close in bars]
        if sign > 0:
            base.mae = min(0.0, min(point.adj_low for point in path) / entry - 1)
        else:
            base.mae = min(0.0, -(max(point.adj_high for point in path) / entry - 1))
    return base


def signals_needing_outcomes(*, since: datetime):
    """Signals since then with fewer outcome rows than horizons (the scheduled actor's work)."""
    from django.db.models import Count

    return (Signal.objects.filter(t__gte=since).annotate(known=Count("outcomes"))
            .filter(known__lt=len(SignalOutcome.HORIZONS)).order_by("id"))


def prices_for_recent_signals(*, now: datetime | None = None) -> None:
    """Fetch bars for the symbols of recent signals (and the benchmark); nothing without a provider."""
    from apps.markets import services as markets
    from apps.markets.providers import configured

    provider = configured()
    if provider is None:
        logger.info("prices_not_fetched", reason="no provider configured (NT_PRICES_PROVIDER)")
        return
    now = now or timezone.now()
    since = now - timedelta(days=settings.PRICES_LOOKBACK_DAYS)
    symbols = set(Signal.objects.filter(t__gte=since).values_list("symbol", flat=True).distinct())
    # From a week before the oldest signal: its entry needs the bars after it; the 20-session exit is covered
    # as days go by (each run fetches up to today).
    markets.prices_fetch(symbols=symbols | {settings.BENCHMARK_SYMBOL}, start=(since - timedelta(days=7)).date(),
                         end=now.date(), provider=provider)


def outcomes_for_recent_signals(*, now: datetime | None = None, batch: int = 2000) -> OutcomeResult:
    now = now or timezone.now()
    # 20 sessions are about 4 weeks: look back far enough that every pending horizon is still reached.
    since = now - timedelta(days=settings.PRICES_LOOKBACK_DAYS)
    total, last_id = OutcomeResult(), 0
    while True:
        chunk = list(signals_needing_outcomes(since=since).filter(id__gt=last_id)[:batch])
        if not chunk:
            break
        last_id = chunk[-1].pk
        result = outcomes_compute(signals=chunk, now=now)
        total.created += result.created
        total.missing += result.missing
        total.waiting += result.waiting
    logger.info("outcomes_computed", created=total.created, missing=total.missing, waiting=total.waiting)
    return total
