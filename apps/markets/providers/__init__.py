"""Where daily bars come from. Every provider answers daily_bars(symbol, start, end) with Bar rows for
sessions; apps/markets/services.py checks and stores them, whichever provider it was.

- csvfile: a CSV export (`manage.py import_prices FILE.csv`);
- tiingo: Tiingo's end-of-day API (NT_PRICES_PROVIDER=tiingo, NT_TIINGO_TOKEN).
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class Bar:
    symbol: str
    session: date
    open: float
    high: float
    low: float
    close: float
    adj_close: float
    volume: int


class PriceError(Exception):
    """A provider's failure, with a kind (unknown_symbol, auth, rate_limited, http, bad_answer, config)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


class PriceProvider(Protocol):
    name: str

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]: ...


def configured() -> PriceProvider | None:
    """The HTTP provider NT_PRICES_PROVIDER names, or None when none is configured."""
    from django.conf import settings

    if settings.PRICES_PROVIDER == "tiingo":
        from apps.markets.providers.tiingo import Tiingo

        return Tiingo()
    return None
