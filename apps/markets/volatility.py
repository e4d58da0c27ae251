"""What a symbol's recent daily bars say about it at a moment: its volatility (an EWMA forecast of the
next session's move) and its liquidity (median dollar volume). Only bars that had closed by then are
used (a bar's `t` is its close), so nothing here looks ahead.

The forecast is RiskMetrics' exponentially weighted moving average of squared daily log returns
(lambda 0.94): sigma_t+1^2 = lambda * sigma_t^2 + (1 - lambda) * r_t^2, seeded with the mean square
of the first returns. It is the 1-session, 1-sigma move; over h sessions it scales with sqrt(h)."""

import math
import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.markets.models import Interval, PriceBar

LAMBDA = 0.94
LOOKBACK = 60  # sessions read before a moment
LIQUIDITY_SESSIONS = 20  # sessions whose median dollar volume is the liquidity
MIN_RETURNS = 10  # fewer known returns: no forecast
_SEED = 10  # returns whose mean square seeds the recursion


@dataclass(frozen=True)
class Stats:
    sigma: float | None  # next session's 1-sigma move, as a fraction (0.02 = 2 %)
    dollar_volume: float | None  # median close x volume over the last LIQUIDITY_SESSIONS known sessions


def ewma_sigma(closes: Sequence[float], lam: float = LAMBDA) -> float | None:
    """The next session's 1-sigma move from these (adjusted, oldest first) closes; None with too few."""
    returns = [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False) if a > 0 and b > 0]
    if len(returns) < MIN_RETURNS:
        return None
    variance = sum(r * r for r in returns[:_SEED]) / _SEED
    for r in returns[_SEED:]:
        variance = lam * variance + (1 - lam) * r * r
    return math.sqrt(variance)


class History:
    """The daily bars of some symbols around some moments, read in one query, answering stats_at()."""

    def __init__(self, series: dict[str, tuple[list[datetime], list[float], list[float]]]):
        self._series = series

    @classmethod
    def load(cls, symbols: Iterable[str], since: datetime, until: datetime) -> "History":
        """Bars of `symbols` closing in (since - ~LOOKBACK sessions, until]."""
        series: dict[str, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
        start = since - timedelta(days=LOOKBACK * 7 // 5 + 14)  # LOOKBACK sessions, holidays included
        rows = (PriceBar.objects.filter(symbol__in=set(symbols), interval=Interval.DAY, t__gt=start, t__lte=until)
                .order_by("symbol", "t").values_list("symbol", "t", "adj_close", "close", "volume"))
        for symbol, t, adj_close, close, volume in rows.iterator(chunk_size=5000):
            times, adjusted, dollars = series[symbol]
            times.append(t)
            adjusted.append(adj_close)
            dollars.append(close * volume)
        return cls(dict(series))

    def stats_at(self, symbol: str, moment: datetime) -> Stats:
        """From the LOOKBACK bars of `symbol` that had closed at `moment` (t <= moment)."""
        times, adjusted, dollars = self._series.get(symbol, ((), (), ()))
        end = bisect_right(times, moment)
        start = max(0, end - LOOKBACK)
        recent = [d for d in dollars[max(start, end - LIQUIDITY_SESSIONS):end] if d > 0]
        return Stats(sigma=ewma_sigma(adjusted[start:end]),
                     dollar_volume=statistics.median(recent) if recent else None)
