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

    def novelty(self, title: str, *others: "NoveltyIndex", similar: float = 0.0) -> tuple[float, float]:
        """(0-5 novelty, best similarity) against this index and any others (`similar`: a similarity the
        caller found elsewhere, see similarities_within)."""
        mine = shingles(title)
        best = max([similar, self.similarity(title, mine), *(other.similarity(title, mine) for other in others)])
        return round(5.0 * (1.0 - best), 3), round(best, 3)


# similarities_within counts pairs in a (titles x titles) table: a batch of more titles than its square root
# (1,000; a poll group holds up to 8 feeds' new entries) is indexed title by title instead, which is then faster.
MAX_CELLS = 1_000_000


def similarities_within(titles: list[str]) -> list[float]:
    """Each title's similarity with the titles before it in the list: what `NoveltyIndex(titles[:j])
    .similarity(titles[j])` gives, for a whole ingest batch at once (a poll group's hundreds of titles,
    which an index built and searched title by title took 20-40 us a title to score).

    The same rules, counted in numpy over the batch's (later title, earlier title) pairs that share a
    bigram: the later title's window is the non-empty titles before it; a bigram held by more than
    COMMON_SHARE of them (and more than 50) picks no candidate; each candidate is compared on all its
    bigrams. A bigram held by at most 51 titles of the batch is rare in every window: all its pairs count.
    One held by more is counted for the candidate pairs only, through a title x bigram table. A batch
    too big for these tables (MAX_CELLS) is indexed title by title instead."""
    sets = [shingles(title) for title in titles]
    count = len(sets)
    out = numpy.zeros(count)
    ids: dict[str, int] = {}
    entry_bigram = [ids.setdefault(bigram, len(ids)) for bigrams in sets for bigram in bigrams]
    if not entry_bigram:
        return out.tolist()
    if count * count > MAX_CELLS:
        return _within_one_by_one(titles)
    sizes = numpy.fromiter(map(len, sets), dtype=numpy.int64, count=count)
    # The entries (title, bigram) by bigram, then title: each bigram's holders in the batch's order.
    entries = numpy.asarray(entry_bigram, dtype=numpy.int64)
    order = numpy.argsort(entries, kind="stable")
    title, bigram = numpy.repeat(numpy.arange(count), sizes)[order], entries[order]
    starts = numpy.flatnonzero(numpy.r_[True, bigram[1:] != bigram[:-1]])
    held = numpy.diff(numpy.r_[starts, len(bigram)])  # each bigram's holders in the whole batch
    first, holders = numpy.repeat(starts, held), numpy.repeat(held, held)  # per entry: its bigram's
    rank = numpy.arange(len(bigram)) - first  # the holders before this title: its window's count
    nonempty = (sizes > 0).astype(numpy.int64)
    limit = numpy.maximum(50, (COMMON_SHARE * (numpy.cumsum(nonempty) - nonempty)).astype(numpy.int64))
    small = holders <= 51  # rare in every window: rank <= 50 <= limit

    def pairs(mask):
        """later title x count + earlier title, for each selected entry and each earlier holder of its bigram."""
        chosen = numpy.flatnonzero(mask)
        repeats = rank[chosen]
        later = numpy.repeat(chosen, repeats)
        earlier = numpy.repeat(first[chosen], repeats) + (
            numpy.arange(len(later)) - numpy.repeat(numpy.cumsum(repeats) - repeats, repeats))
        return title[later] * count + title[earlier]

    # Pairs by a small bigram, each one a bigram the pair shares; then the pairs a big bigram picks.
    shared = numpy.bincount(pairs(small), minlength=count * count)
    picked = shared > 0
    picked[pairs(~small & (rank <= limit[title]))] = True
    keys = numpy.flatnonzero(picked)  # ascending: by later title
    if not len(keys):
        return out.tolist()
    shared = shared[keys]
    later, earlier = keys // count, keys % count
    big = numpy.flatnonzero(~small)
    if len(big):
        kinds, columns = numpy.unique(bigram[big], return_inverse=True)
        if len(keys) * len(kinds) > 8 * MAX_CELLS:  # the candidate pairs' rows of the table: 8 MB at most
            return _within_one_by_one(titles)
        table = numpy.zeros((count, len(kinds)), dtype=bool)
        table[title[big], columns.reshape(-1)] = True
        shared += (table[later] & table[earlier]).sum(axis=1)
    similarity = shared / (sizes[later] + sizes[earlier] - shared)
    segments = numpy.flatnonzero(numpy.r_[True, later[1:] != later[:-1]])
    out[later[segments]] = numpy.maximum.reduceat(similarity, segments)
    return out.tolist()


def _within_one_by_one(titles: list[str]) -> list[float]:
    index, found = NoveltyIndex(), []
    for title in titles:
        found.append(index.similarity(title))
        index.add(title)
    return found


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
               *more_novelty: NoveltyIndex, similar: float = 0.0) -> Components:
    """`similar`: the title's similarity with titles not in the indexes (see similarities_within)."""
    text = f"{title}. {summary}"
    lowered = text.lower()
    strength, kind, matched = catalyst(text, lowered)
    novel, similarity = novelty.novelty(title, *more_novelty, similar=similar)
    return Components(
        catalyst=strength,
        novelty=novel,
        credibility=credibility,
        sentiment=sentiment(text, lowered),
        liquidity=liquidity(matches),
        details={"catalyst_type": kind, "catalysts": matched, "similar_to_recent": similarity},
    )
