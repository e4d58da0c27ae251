"""Every write of the markets app: storing checked bars, fetching them from the configured provider."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.markets import calendar
from apps.markets.models import Interval, PriceBar
from apps.markets.providers import Bar, PriceError, PriceProvider, configured

logger = structlog.get_logger(__name__)


@dataclass
class StoreResult:
    created: int = 0
    updated: int = 0
    rejected: list[str] = field(default_factory=list)  # "<symbol> <day>: <reason>"

    def add(self, other: "StoreResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.rejected += other.rejected


def _problem(bar: Bar, close: datetime | None, now: datetime) -> str:
    if close is None:
        return f"{bar.session} is not a session of {settings.MARKET_CALENDAR} (weekend or holiday)"
    if close > now:
        return f"the session of {bar.session} has not closed yet"
    if min(bar.open, bar.high, bar.low, bar.close, bar.adj_close) <= 0:
        return "a price is zero or negative"
    if not bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high:
        return f"low {bar.low} / high {bar.high} do not hold open {bar.open} and close {bar.close}"
    if bar.volume < 0:
        return "negative volume"
    return ""


def bars_store(bars: Iterable[Bar], *, source: str) -> StoreResult:
    """Check and store daily bars: a new (symbol, session) is created, a known one updated (a provider's
    correction, or new adjustments after a split). A bar that fails a check is left out and named."""
    result, rows, bars, now = StoreResult(), {}, list(bars), timezone.now()
    if not bars:
        return result
    # The calendar read once for the whole span: each bar's session and close are then a dict lookup.
    closes = calendar.closes(min(bar.session for bar in bars), max(bar.session for bar in bars))
    for bar in bars:
        problem = _problem(bar, closes.get(bar.session), now)
        if problem:
            result.rejected.append(f"{bar.symbol} {bar.session}: {problem}")
            continue
        rows[(bar.symbol, bar.session)] = PriceBar(
            symbol=bar.symbol, interval=Interval.DAY, t=closes[bar.session], open=bar.open,
            high=bar.high, low=bar.low, close=bar.close, adj_close=bar.adj_close, volume=bar.volume, source=source[:40])
    if not rows:
        return result
    symbols = {bar.symbol for bar in rows.values()}
    known = set(PriceBar.objects.filter(symbol__in=symbols, interval=Interval.DAY, t__in=[b.t for b in rows.values()])
                .values_list("symbol", "t"))
    with transaction.atomic():
        PriceBar.objects.bulk_create(
            list(rows.values()), batch_size=500, update_conflicts=True, unique_fields=["symbol", "interval", "t"],
            update_fields=["open", "high", "low", "close", "adj_close", "volume", "source", "updated_at"])
    result.updated = sum((bar.symbol, bar.t) in known for bar in rows.values())
    result.created = len(rows) - result.updated
    return result


@dataclass
class FetchResult:
    stored: StoreResult = field(default_factory=StoreResult)
    failed: dict[str, str] = field(default_factory=dict)  # symbol -> "kind: message"
    empty: list[str] = field(default_factory=list)  # symbols with no bar in the range (halted, delisted, new)


def prices_fetch(*, symbols: Iterable[str], start: date, end: date, provider: PriceProvider | None = None) -> FetchResult:
    """Fetch and store each symbol's daily bars from start to end. One symbol's failure is recorded and
    the others go on."""
    provider = provider or configured()
    if provider is None:
        raise PriceError("config", "no price provider is configured (NT_PRICES_PROVIDER)")
    result = FetchResult()
    for symbol in sorted(set(symbols)):
        try:
            bars = provider.daily_bars(symbol, start, end)
        except PriceError as exc:
            result.failed[symbol] = f"{exc.kind}: {exc.message}"
            logger.warning("prices_fetch_failed", symbol=symbol, kind=exc.kind, error=exc.message)
            continue
        if not bars:
            result.empty.append(symbol)
            continue
        result.stored.add(bars_store(bars, source=provider.name))
    logger.info("prices_fetched", created=result.stored.created,
                updated=result.stored.updated, rejected=len(result.stored.rejected), failed=len(result.failed))
    return result
