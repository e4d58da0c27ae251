"""Ticker resolution against the shipped symbol table (data/symbols.csv, US index constituents, generated)
and the reviewed overrides (data/ticker_overrides.toml). Better to miss a ticker than to name the wrong
company:

- an exchange prefix names a US listing only for a US venue ("NYSE: TGT"); a foreign venue's symbol
  ("HEL: RAP1V", "OSL: TEL") is never mapped to the US listing with the same letters;
- a cashtag ($AAPL) is trusted for symbols in the table;
- a company name matches case-sensitively at word boundaries, as its alias' ambiguity class allows:
  distinctive names on their own, "corporate" ones (surnames, places, ordinary words: "Target",
  "Hayward") only with corporate context (a suffix such as Inc or Corp, a possessive or a following
  business noun such as "Target's sales" or "Target shares"), and "never" ones ("City", "American",
  "News") not at all;
- news agencies and publications ("ADP News", "STT", "Sanoma News") are masked before matching;
- a bare upper-case symbol is kept only as weak evidence, below the default threshold.

Every match keeps its evidence: the rule, the matched text and a confidence. Signals use only matches
at or above ScoringPolicy.ticker_min_confidence.
"""

import csv
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "symbols.csv"
OVERRIDES = Path(__file__).with_name("data") / "ticker_overrides.toml"
TIER_LIQUIDITY = {"large": 5.0, "small": 2.5}
DISTINCTIVE, CORPORATE, NEVER = "distinctive", "corporate", "never"
CASHTAG = re.compile(r"(?<![\w$])\$([A-Z]{1,5}(?:\.[A-Z])?)\b")
# A word as names start: letters, digits, "&" and "-" ("AT&T", "Coca-Cola"); punctuation ends it.
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&-]*")
CAPITALISED = re.compile(r"(?<![A-Za-z0-9&_-])(?:[A-Z0-9]|[a-z](?=[A-Z]))[A-Za-z0-9&-]*")  # ("eBay" too)
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
BARE = re.compile(r"(?<![\w$.:])([A-Z]{3,5})(?=\s+(?:shares|stock)\b)")
# Corporate context right after a name: a legal suffix, or (possessive) a business noun.
SUFFIX_AFTER = re.compile(
    r"\s*,?\s+(?:Inc|Corp|Corporation|Co|Company|plc|PLC|Ltd|Limited|Holdings?|Group|N\.V|S\.A|AG|SE|LLC|L\.P|"
    r"Industries|Technologies|Brands|Bancorp|Bancshares|Financial)\b\.?")
BUSINESS_AFTER = re.compile(
    r"(?:'s|’s)?\s+(?:net\s+|operating\s+|quarterly\s+|fiscal\s+|annual\s+|comparable\s+|same-store\s+)?"
    r"(?:shares?|stock|stocks|earnings|revenues?|sales|profits?|income|quarter|quarterly|results|guidance|"
    r"outlook|forecast|CEO|chief executive|CFO|board|shareholders|investors|dividend|buyback|stake|market value|"
    r"price target|rating|stores?|customers|executives|management|traffic|inventory|margins?|orders|backlog|"
    r"costs|expenses|debt|loss|losses|production|deliveries|volumes?|warranty|unit|division|plants?|vehicles|"
    r"spokes(?:man|woman|person))\b")
# A publication's name ends in one of these words ("Newswire(s)" starts with "News": a text without any of
# them has no publication name to mask).
PUBLICATION_WORDS = ("News", "Wire", "Daily", "Times", "Journal", "Post")
PUBLICATION = re.compile(r"\b(?:[A-Z][\w&'.-]*\s+){1,3}(?:Newswires?|" + "|".join(PUBLICATION_WORDS) + r")\b")
_WORD_CHAR = re.compile(r"\w")


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
    how: str  # exchange | cashtag | name | alias | context | symbol
    text: str = ""  # what in the text gave it

    def as_dict(self) -> dict:
        return {"symbol": self.symbol, "confidence": self.confidence, "how": self.how, "text": self.text}


@dataclass(frozen=True)
class Overrides:
    classes: dict[str, str]
    aliases: dict[str, str]  # alias -> symbol, winning over the generated table
    rows: tuple[dict, ...]  # extra listings, as symbols.csv rows
    not_companies: tuple[str, ...]
    us_venues: tuple[str, ...]
    foreign_venues: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = OVERRIDES) -> "Overrides":
        data = tomllib.loads(path.read_text())
        classes = {alias: kind for kind in (CORPORATE, NEVER) for alias in data["classes"].get(kind, [])}
        rows = tuple({"symbol": row["symbol"], "name": row["name"], "exchange": row.get("exchange", ""),
                      "tier": row.get("tier", "large"), "aliases": "|".join(row["aliases"])}
                     for row in data.get("symbols", []))
        venues = data["venues"]
        return cls(classes, dict(data.get("aliases", {})), rows, tuple(data["not_companies"]["names"]),
                   tuple(venues["us"]), tuple(venues["foreign"]))


class SymbolTable:
    def __init__(self, rows: list[dict], overrides: Overrides):
        rows = [*rows, *overrides.rows]
        self.symbols = {row["symbol"]: Symbol(row["symbol"], row["name"], row["exchange"], row["tier"]) for row in rows}
        names: dict[str, tuple[str, str]] = {alias: (symbol, "alias") for alias, symbol in overrides.aliases.items()}
        for row in rows:
            for alias in filter(None, row["aliases"].split("|")):
                how = "name" if alias == row["name"] else "alias"
                # A shared alias (two classes of one company) resolves to the first symbol only.
                names.setdefault(alias, (row["symbol"], how))
        self.names = names
        self.classes = {alias: overrides.classes.get(alias, DISTINCTIVE) for alias in names}
        # Names by their first word, longest first: a text is scanned once, word by word.
        self.by_first_word: dict[str, list[str]] = {}
        for alias in sorted(names, key=len, reverse=True):
            first = WORD.match(alias)
            if first:
                self.by_first_word.setdefault(first.group(0), []).append(alias)
        venues = sorted({*overrides.us_venues, *overrides.foreign_venues}, key=len, reverse=True)
        self.us_venues = frozenset(overrides.us_venues)
        # Both start at a word boundary: see _at_word_start for why the pattern does not say so itself.
        self.exchange_prefix = re.compile(
            r"(" + "|".join(re.escape(v) for v in venues) + r")\s*:\s*([A-Z0-9]{1,6}(?:[.-][A-Z0-9]{1,3})?)\b")
        self.not_companies = re.compile(
            r"(" + "|".join(re.escape(n) for n in sorted(overrides.not_companies, key=len, reverse=True))
            + r")(?![\w])")

    def get(self, symbol: str) -> Symbol | None:
        return self.symbols.get(symbol)

    def resolve(self, text: str) -> list[TickerMatch]:
        """Tickers mentioned in `text`, most confident first, one match (the strongest) per symbol."""
        found: dict[str, TickerMatch] = {}

        def add(match: TickerMatch) -> None:
            if match.symbol not in found or found[match.symbol].confidence < match.confidence:
                found[match.symbol] = match

        # Each rule's tell-tale character or word is looked for first: most texts have no cashtag, no
        # exchange prefix, no "shares"/"stock", and a regex scan costs microseconds a text.
        text = self._mask_publications(text)
        foreign: set[str] = set()
        if ":" in text:
            for venue_match in _at_word_start(self.exchange_prefix, text):
                venue, symbol = venue_match.groups()
                if venue not in self.us_venues:
                    foreign.add(symbol)  # another company than the US listing with these letters
                    continue
                add(TickerMatch(symbol, 0.98 if symbol in self.symbols else 0.85, "exchange", venue_match.group(0)))
        if "$" in text:
            for cashtag in CASHTAG.finditer(text):
                symbol = cashtag.group(1)
                add(TickerMatch(symbol, 0.95 if symbol in self.symbols else 0.6, "cashtag", cashtag.group(0)))
        for alias, end in self._names_in(text):
            match = self._name_match(alias, text, end)
            if match is not None:
                add(match)
        if "shares" in text or "stock" in text:
            bare = [m for m in BARE.finditer(text) if m.group(1) in self.symbols and m.group(1) not in foreign]
            if bare and not _shouting(text):
                for m in bare:
                    add(TickerMatch(m.group(1), 0.7, "symbol", m.group(0)))
        return sorted(found.values(), key=lambda m: (-m.confidence, m.symbol))

    def _mask_publications(self, text: str) -> str:
        """Blank out agency and publication names (same length, so offsets hold)."""
        pieces, last = [], 0
        for match in _at_word_start(self.not_companies, text):
            pieces += [text[last:match.start()], " " * (match.end() - match.start())]
            last = match.end()
        if pieces:
            text = "".join(pieces) + text[last:]
        if any(word in text for word in PUBLICATION_WORDS):
            text = PUBLICATION.sub(lambda m: " " * len(m.group(0)), text)
        return text

    def _name_match(self, alias: str, text: str, end: int) -> TickerMatch | None:
        symbol, how = self.names[alias]
        kind = self.classes[alias]
        if kind == DISTINCTIVE:
            return TickerMatch(symbol, 0.9 if how == "name" else 0.85, how, alias)
        context = SUFFIX_AFTER.match(text, end) or (BUSINESS_AFTER.match(text, end) if kind == CORPORATE else None)
        if context:
            return TickerMatch(symbol, 0.85, "context", alias + context.group(0))
        return None

    def _names_in(self, text: str):
        """(alias, end offset) of company names at word boundaries, case-sensitive, longest match at each word."""
        for word in CAPITALISED.finditer(text):
            start = word.start()
            for alias in self.by_first_word.get(word.group(0), ()):
                end = start + len(alias)
                if text.startswith(alias, start) and (end == len(text) or not (text[end].isalnum() or text[end] == "_")):
                    yield alias, end
                    break


def _at_word_start(pattern: re.Pattern, text: str):
    """pattern.finditer(text) as if the pattern began with (?<![\\w]): only matches not preceded by a
    word character. Said in the pattern, that look-behind would be tried at every position of the text
    (a pattern that starts with an assertion cannot skip ahead to its first letters): several times
    slower. A rejected match is searched again from its next character, as the look-behind would."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start = match.start()
        if start and _WORD_CHAR.match(text, start - 1):
            position = start + 1
            continue
        yield match
        position = match.end() if match.end() > start else start + 1


def _shouting(text: str) -> bool:
    """An all-caps headline makes every word look like a ticker (the first 300 characters tell)."""
    head = text[:300]
    upper, lower = len(_UPPER.findall(head)), len(_LOWER.findall(head))
    return upper + lower > 20 and upper / (upper + lower) > 0.6


@cache
def symbol_table() -> SymbolTable:
    with DATA.open(newline="") as handle:
        return SymbolTable(list(csv.DictReader(handle)), Overrides.load())


def resolve(text: str) -> list[TickerMatch]:
    return symbol_table().resolve(text)


# Social text (Reddit, X) names companies loosely ("Target practice", "Apple pie", "MSFT" in a rant
# about Windows): cashtags and exchange prefixes are trusted as in news; a name is kept as strong
# evidence only when it is said with corporate context ("Nvidia Corp", "Apple's earnings") or more than
# once, else it drops below any sensible threshold; bare upper-case words are dropped.
SOCIAL_WEAK = 0.5


def resolve_social(text: str) -> list[TickerMatch]:
    found = []
    for match in symbol_table().resolve(text):
        if match.how in ("exchange", "cashtag", "context"):
            found.append(match)
        elif match.how in ("name", "alias"):
            said = list(re.finditer(r"(?<![\w$])" + re.escape(match.text) + r"(?!\w)", text))
            context = any(SUFFIX_AFTER.match(text, m.end()) or BUSINESS_AFTER.match(text, m.end()) for m in said)
            strong = len(said) > 1 or context
            found.append(match if strong else TickerMatch(match.symbol, SOCIAL_WEAK, match.how, match.text))
    return sorted(found, key=lambda m: (-m.confidence, m.symbol))
