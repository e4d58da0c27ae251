"""Ticker resolution against the shipped symbol table (data/symbols.csv, US index constituents).

Cashtags ($AAPL) and exchange prefixes ((NASDAQ: AAPL)) are trusted; company names and aliases match
case-sensitively on word boundaries; a bare upper-case symbol counts only when it is not an ordinary
word ("A", "IT", "ALL", "NOW" never match without a cashtag or exchange prefix).
"""

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "symbols.csv"
TIER_LIQUIDITY = {"large": 5.0, "small": 2.5}
EXCHANGES = r"NASDAQ|Nasdaq|NasdaqGS|NasdaqGM|NYSE|NYSE American|NYSE Arca|AMEX|OTC|OTCQX|OTCQB|TSX|LSE"
CASHTAG = re.compile(r"(?<![\w$])\$([A-Z]{1,5}(?:\.[A-Z])?)\b")
EXCHANGE_PREFIX = re.compile(rf"\b(?:{EXCHANGES})\s*:\s*([A-Z]{{1,5}}(?:\.[A-Z])?)\b")
# A word as names start: letters, digits, "&" and "-" ("AT&T", "Coca-Cola"); punctuation ends it.
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&-]*")
CAPITALISED = re.compile(r"(?<![A-Za-z0-9&_-])[A-Z0-9][A-Za-z0-9&-]*")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
BARE = re.compile(r"(?<![\w$.])([A-Z]{2,5})(?![\w.])")
# Upper-case tokens that are words, acronyms or units far more often than tickers.
ORDINARY = frozenset(
    """A I AN AND ARE AS AT BE BUT BY CAN DO FOR GO HAS HE IF IN IS IT ITS ME MY NEW NO NOT NOW OF OK ON
    ONE OR OUT SO THE TO UP US WE ALL ANY BIG KEY LOW OLD OWN SEE TWO WAY WHO WHY YOU CEO CFO COO CTO IPO
    ETF SEC FDA EPS GDP CPI FED USA USD EUR AI EV EVS IT TV PC UK EU Q1 Q2 Q3 Q4 FY LLC INC CO LTD PLC
    NYSE AMEX OTC LIVE REAL SAFE FAST BEST HOME FUN HAS WELL ARE GOOD CASH MAIN ROCK TECH PLAY LOVE CARE
    NEWS BIO MAN ICE HUM AIR JOB OPEN TRUE NICE SITE BOX GAS OIL ALLY BALL DASH EDIT RUN PUMP ELF""".split()
)


@dataclass(frozen=True)
class Symbol:
    symbol: str
    name: str
    exchange: str
    tier: str

    @property
    def liquidity(self) -> float:
        return TIER_LIQUIDITY.get(self.tier, 0.0)


@dataclass(frozen=True)
class TickerMatch:
    symbol: str
    confidence: float
    how: str  # cashtag | exchange | name | alias | symbol

    def as_dict(self) -> dict:
        return {"symbol": self.symbol, "confidence": self.confidence, "how": self.how}


class SymbolTable:
    def __init__(self, rows: list[dict]):
        self.symbols = {row["symbol"]: Symbol(row["symbol"], row["name"], row["exchange"], row["tier"]) for row in rows}
        names: dict[str, tuple[str, str]] = {}
        for row in rows:
            for alias in filter(None, row["aliases"].split("|")):
                how = "name" if alias == row["name"] else "alias"
                # A shared alias (two classes of one company) resolves to the first symbol only.
                names.setdefault(alias, (row["symbol"], how))
        self.names = names
        # Names by their first word, longest first: a text is scanned once, word by word.
        self.by_first_word: dict[str, list[str]] = {}
        for alias in sorted(names, key=len, reverse=True):
            first = WORD.match(alias)
            if first:
                self.by_first_word.setdefault(first.group(0), []).append(alias)

    def get(self, symbol: str) -> Symbol | None:
        return self.symbols.get(symbol)

    def resolve(self, text: str) -> list[TickerMatch]:
        """Tickers mentioned in `text`, most confident first, one match per symbol."""
        found: dict[str, TickerMatch] = {}

        def add(symbol: str, confidence: float, how: str) -> None:
            if symbol not in found or found[symbol].confidence < confidence:
                found[symbol] = TickerMatch(symbol, confidence, how)

        for symbol in EXCHANGE_PREFIX.findall(text):
            add(symbol, 0.98 if symbol in self.symbols else 0.8, "exchange")
        for symbol in CASHTAG.findall(text):
            add(symbol, 0.95 if symbol in self.symbols else 0.6, "cashtag")
        for name in self._names_in(text):
            symbol, how = self.names[name]
            add(symbol, 0.9 if how == "name" else (0.8 if " " in name else 0.7), how)
        if not _shouting(text):
            for token in BARE.findall(text):
                if token in self.symbols and token not in ORDINARY and len(token) >= 3:
                    add(token, 0.6, "symbol")
        return sorted(found.values(), key=lambda m: (-m.confidence, m.symbol))


    def _names_in(self, text: str):
        """Company names and aliases at word boundaries, case-sensitive, longest match at each word."""
        for word in CAPITALISED.finditer(text):
            start = word.start()
            for alias in self.by_first_word.get(word.group(0), ()):
                end = start + len(alias)
                if text.startswith(alias, start) and (end == len(text) or not (text[end].isalnum() or text[end] == "_")):
                    yield alias
                    break


def _shouting(text: str) -> bool:
    """An all-caps headline makes every word look like a ticker (the first 300 characters tell)."""
    head = text[:300]
    upper, lower = len(_UPPER.findall(head)), len(_LOWER.findall(head))
    return upper + lower > 20 and upper / (upper + lower) > 0.6


@cache
def symbol_table() -> SymbolTable:
    with DATA.open(newline="") as handle:
        return SymbolTable(list(csv.DictReader(handle)))


def resolve(text: str) -> list[TickerMatch]:
    return symbol_table().resolve(text)
