"""Regenerate symbols.csv from pytickersymbols (US index constituents). Not used at run time:

    pip install pytickersymbols==1.17.10 && python apps/articles/data/build_symbols.py

Columns: symbol, name, exchange, tier (large/small), aliases (|-separated company names).
"""

import csv
import re
from pathlib import Path

from pytickersymbols import PyTickerSymbols

TIERS = {"S&P 500": "large", "NASDAQ 100": "large", "DOW JONES": "large", "S&P 100": "large", "S&P 600": "small"}
SUFFIXES = re.compile(
    r"[,\s]+(Inc\.?|Incorporated|Corporation|Corp\.?|Co\.?|Company|Ltd\.?|plc|PLC|N\.V\.|S\.A\.|Holdings?|"
    r"Group|Limited|L\.P\.|& Co\.?|Technologies|Brands|Enterprises|Industries|International)$"
)
EXTRA_ALIASES = {
    "GOOGL": ["Google"], "META": ["Facebook"], "BRK.B": ["Berkshire"], "JPM": ["JPMorgan"],
    "KO": ["Coca-Cola"], "PEP": ["PepsiCo"], "WMT": ["Walmart"], "DIS": ["Disney"], "TSLA": ["Tesla"],
    "AMZN": ["Amazon"], "NVDA": ["Nvidia", "NVIDIA"], "MSFT": ["Microsoft"], "AAPL": ["Apple"],
}


def aliases(name: str) -> list[str]:
    found, current = [name], name
    while True:
        shorter = SUFFIXES.sub("", current).strip()
        if shorter == current or len(shorter) < 4:
            break
        found.append(shorter)
        current = shorter
    return found


def main():
    tickers = PyTickerSymbols()
    rows = {}
    for index, tier in TIERS.items():
        for stock in tickers.get_stocks_by_index(index):
            symbol = stock["symbol"]
            exchanges = [s["google"].split(":")[0] for s in stock.get("symbols", []) if ":" in s.get("google", "")]
            exchange = next((e for e in exchanges if e in ("NASDAQ", "NYSE")), "")
            row = rows.setdefault(symbol, {"symbol": symbol, "name": stock["name"], "exchange": exchange,
                                           "tier": tier, "aliases": set()})
            if tier == "large":
                row["tier"] = "large"
            row["aliases"].update(aliases(stock["name"]))
            row["aliases"].update(EXTRA_ALIASES.get(symbol, []))
    out = Path(__file__).with_name("symbols.csv")
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["symbol", "name", "exchange", "tier", "aliases"])
        for symbol in sorted(rows):
            row = rows[symbol]
            writer.writerow([symbol, row["name"], row["exchange"], row["tier"], "|".join(sorted(row["aliases"]))])
    print(f"wrote {len(rows)} symbols to {out}")


if __name__ == "__main__":
    main()
