"""Article scoring: catalyst, novelty, credibility, sentiment and liquidity, weighted by ScoringPolicy.

Each component is 0-5 (sentiment is -1..1 and counts by its strength), so with unit weights a total
of 12 (the default threshold) needs several strong components at once.
"""

import re
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import numpy

from apps.articles import lexicon
from apps.articles.canonical import title_words
from apps.articles.tickers import TickerMatch, symbol_table

NOVELTY_WINDOW_HOURS = 72
COMMON_SHARE = 0.05  # a bigram in more than 5% of recent titles is boilerplate for novelty
SET_BY_SET = 48  # up to this many candidate titles, NoveltyIndex compares sets; beyond, numpy counts

# One pass over the text finds every catalyst phrase; a phrase may count for several types.
_CATALYST_KINDS: dict[str, list[str]] = {}
for _kind, _phrases in lexicon.CATALYSTS.items():
    for _phrase in _phrases:
        _CATALYST_KINDS.setdefault(_phrase, []).append(_kind)
# Matched against lower-cased text (the phrases are lower case): case-sensitive matching is twice as fast.
_CATALYST_PATTERN = lexicon.phrase_pattern(_CATALYST_KINDS, ignore_case=False)
_WORD = re.compile(r"[a-z][a-z'-]*")

HIGH_CREDIBILITY = ("sec.gov", "prnewswire.com", "globenewswire.com", "businesswire.com", "accesswire.com")
MAJOR_OUTLETS = ("reuters.com", "bloomberg.com", "wsj.com", "ft.com", "cnbc.com", "marketwatch.com", "apnews.com")


def default_credibility(url: str) -> float:
    host = (urlsplit(url).hostname or "").lower()

    def under(domains):
        return any(host == d or host.endswith("." + d) for d in domains)

    if under(HIGH_CREDIBILITY) or host.startswith(("investor.", "investors.", "ir.")):
        return 5.0
    if under(MAJOR_OUTLETS):
        return 4.0
    return 2.0


def catalyst(text: str, lowered: str | None = None) -> tuple[float, str, dict[str, list[str]]]:
    """(0-5 strength, the strongest catalyst type, matched phrases by type). `lowered`: text.lower(), if
    the caller has it."""
    matched: dict[str, list[str]] = {}
    for phrase in sorted(set(_CATALYST_PATTERN.findall(text.lower() if lowered is None else lowered))):
        for kind in _CATALYST_KINDS[phrase]:
            matched.setdefault(kind, []).append(phrase)
    strengths = {kind: sum(lexicon.CATALYSTS[kind][p] for p in phrases) for kind, phrases in matched.items()}
    if not strengths:
        return 0.0, "OTHER", {}
    best = max(strengths, key=strengths.get)
    return min(5.0, strengths[best] + 0.5 * (len(strengths) - 1)), best, matched


def sentiment(text: str, lowered: str | None = None) -> float:
    """-1..1: (positive - negative) / (positive + negative), a negation flipping the next three words.
    `lowered`: text.lower(), if the caller has it."""
    positive = negative = 0
    flip_for = 0
    for word in _WORD.findall(text.lower() if lowered is None else lowered):
        if word in lexicon.NEGATIONS:
            flip_for = 3
            continue
        sign = 1 if word in lexicon.POSITIVE else -1 if word in lexicon.NEGATIVE else 0
        if flip_for:
            flip_for -= 1
            sign = -sign
        positive += sign > 0
        negative += sign < 0
    total = positive + negative
    return 0.0 if not total else round((positive - negative) / total * min(1.0, 0.5 + 0.25 * total), 4)


@lru_cache(maxsize=4096)  # a new title is shingled to score it, then again to index it
def shingles(title: str) -> frozenset[str]:
    words = title_words(title)
    if len(words) < 2:
        return frozenset(words)
    return frozenset(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))


class NoveltyIndex:
    """Titles of the last 72 h as word-bigram sets; novelty = 5 x (1 - best Jaccard similarity).
    An inverted index (bigram -> positions of the titles holding it, ascending) limits each comparison
    to the titles sharing a bigram (see `similarity`)."""

    def __init__(self, titles=()):
        # Each title's bigrams as a tuple: a tuple of strings leaves the garbage collector's care after its
        # first collection, a frozenset never does (a full collection would walk every title of the window).
        self._sets: list[tuple[str, ...]] = []
        self._sizes = array("I")  # each title's bigram count, by position
        self._holders: dict[str, array] = defaultdict(lambda: array("i"))
        for title in titles:
            self.add(title)

    def add(self, title: str) -> None:
        s = shingles(title)
        if s:
            position = len(self._sets)
            # The size before the holder lists: a reader (another store thread) that finds this position
            # in a holder list finds its size too, as it copies the sizes after the holder lists.
            self._sets.append(tuple(s))
            self._sizes.append(len(s))
            for shingle in s:
                self._holders[shingle].append(position)

    def __len__(self) -> int:
        return len(self._sets)

    def similarity(self, title: str, mine: frozenset[str] | None = None) -> float:
        """The best Jaccard similarity of the title's bigrams with any indexed title (0..1).

        Candidates are the titles sharing a bigram that is not boilerplate (held by more than
        COMMON_SHARE of a window of 50+ titles, like "shares fall"); each is then compared exactly, on
        all its bigrams. Titles sharing nothing but boilerplate are not the same story.

        A few candidates are compared set by set. Many (hundreds, in a window of tens of thousands of
        titles) are counted at once, by numpy: how many of this title's bigrams a title holds is how
        often its position appears in those bigrams' holder lists, and its size is stored; the float is
        the same (tests/articles/test_scoring.py compares both ways). The lists are copied (tobytes)
        before numpy reads them: a store thread adding titles meanwhile never resizes an array numpy holds."""
        mine = shingles(title) if mine is None else mine
        limit = max(50, int(COMMON_SHARE * len(self._sets)))
        rare, common, count = [], [], 0
        for shingle in mine:
            holders = self._holders.get(shingle)
            if holders:
                if len(holders) <= limit:
                    rare.append(holders)
                    count += len(holders)
                else:
                    common.append(holders)
        if not rare:
            return 0.0
        if count <= SET_BY_SET:
            return self._compared(mine, {position for holders in rare for position in holders})
        return self._counted(len(mine), rare, common)

    def _compared(self, mine: frozenset[str], candidates) -> float:
        best, size, sets = 0.0, len(mine), self._sets
        for i in candidates:
            other = sets[i]
            shared = len(mine.intersection(other))
            similarity = shared / (size + len(other) - shared)
            if similarity > best:
                best = similarity
        return best

    def _counted(self, size: int, rare: list[array], common: list[array]) -> float:
        held = [holders.tobytes() for holders in rare]
        candidates = numpy.frombuffer(b"".join(held), dtype=numpy.int32)
        if len(held) > 1:  # one list is unique and ascending already
            candidates = numpy.unique(candidates)
        every = numpy.frombuffer(b"".join(held + [holders.tobytes() for holders in common]), dtype=numpy.int32)
        shared = numpy.bincount(every)[candidates]
        sizes = numpy.frombuffer(self._sizes.tobytes(), dtype=numpy.uint32)[candidates].astype(numpy.int64)
        return float((shared / (size + sizes - shared)).max())

    def novelty(self, title: str, *others: "NoveltyIndex") -> tuple[float, float]:
        """(0-5 novelty, best similarity) against this index and any others."""
        mine = shingles(title)
        best = max([self.similarity(title, mine), *(other.similarity(title, mine) for other in others)])
        return round(5.0 * (1.0 - best), 3), round(best, 3)


@dataclass
class Components:
    catalyst: float
    novelty: float
    credibility: float
    sentiment: float
    liquidity: float
    details: dict = field(default_factory=dict)

    def total(self, policy) -> float:
        return round(
            policy.weight_catalyst * self.catalyst
            + policy.weight_novelty * self.novelty
            + policy.weight_credibility * self.credibility
            + policy.weight_sentiment * 5.0 * abs(self.sentiment)
            + policy.weight_liquidity * self.liquidity,
            3,
        )


def liquidity(matches: list[TickerMatch]) -> float:
    table = symbol_table()
    values = [table.get(m.symbol).liquidity for m in matches if table.get(m.symbol)]
    return max(values, default=0.0)


def score_text(title: str, summary: str, credibility: float, matches: list[TickerMatch], novelty: NoveltyIndex,
               *more_novelty: NoveltyIndex) -> Components:
    text = f"{title}. {summary}"
    lowered = text.lower()
    strength, kind, matched = catalyst(text, lowered)
    novel, similarity = novelty.novelty(title, *more_novelty)
    return Components(
        catalyst=strength,
        novelty=novel,
        credibility=credibility,
        sentiment=sentiment(text, lowered),
        liquidity=liquidity(matches),
        details={"catalyst_type": kind, "catalysts": matched, "similar_to_recent": similarity},
    )
