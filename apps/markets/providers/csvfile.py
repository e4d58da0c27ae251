"""Daily bars from a CSV export. The layout (a header row, any column order, names in any case):

    symbol,date,open,high,low,close,adj close,volume
    AAPL,2026-11-20,228.10,230.40,227.50,229.87,229.87,51234567

- `symbol` may be left out when the command names it (--symbol): one symbol's export, as Yahoo Finance
  (Date,Open,High,Low,Close,Adj Close,Volume) and Stooq (Date,Open,High,Low,Close,Volume) give it;
- `adj close` (also adj_close, adjclose) is the close adjusted for later splits and dividends; without
  it the close is taken as adjusted (say so only for a series with no split or dividend since);
- `volume` may be left out (0).

A row that cannot be read is reported with its line number and the reason; the others are imported."""

import csv
from collections.abc import Iterator
from datetime import date

from apps.markets.providers import Bar

REQUIRED = ("date", "open", "high", "low", "close")
ALIASES = {"adj close": "adj_close", "adjclose": "adj_close", "adj_close": "adj_close", "ticker": "symbol"}


class CsvLayoutError(ValueError):
    pass


def read(lines, symbol: str | None = None) -> Iterator[tuple[int, Bar | None, str]]:
    """(line number, bar or None, reason) for each data row."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvLayoutError("the file is empty") from None
    names = [ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise CsvLayoutError(f"the header lacks {', '.join(missing)} (found: {', '.join(header)})")
    if "symbol" not in names and not symbol:
        raise CsvLayoutError("no symbol column: name the symbol with --symbol")
    for number, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        values = dict(zip(names, (cell.strip() for cell in row), strict=False))
        try:
            name = (values.get("symbol") or symbol or "").upper()
            if not name or len(name) > 12:
                raise ValueError(f"bad symbol {name!r}")
            close = float(values["close"])
            yield number, Bar(
                symbol=name, session=date.fromisoformat(values["date"][:10]), open=float(values["open"]),
                high=float(values["high"]), low=float(values["low"]), close=close,
                adj_close=float(values["adj_close"]) if values.get("adj_close") else close,
                volume=int(float(values["volume"])) if values.get("volume") else 0), ""
        except (KeyError, ValueError) as exc:
            yield number, None, f"{type(exc).__name__}: {exc}"
