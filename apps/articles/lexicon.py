"""Finance-aware word lists: sentiment (after Loughran-McDonald's finance categories, abridged),
catalyst keywords by type, and topic nudges used by signal scoring. Whole words only."""

import re

POSITIVE = frozenset(
    """beat beats exceeded exceeds surpass surpassed surge surged soar soared jump jumped rally rallied
    gain gains gained rise rises rose record strong stronger strongest growth grew expand expanded expansion
    upgrade upgraded upgrades outperform outperformed raise raised raises boost boosted improve improved
    improvement profit profitable profitability approval approved approves win wins won award awarded
    breakthrough accelerate accelerated robust upbeat optimistic bullish rebound rebounded tops topped
    exceed positive favorable successful success momentum dividend buyback repurchase higher""".split()
)
NEGATIVE = frozenset(
    """miss missed misses fall fell falls drop dropped plunge plunged plummet plummeted slump slumped
    decline declined declines loss losses lose lost weak weaker weakness downgrade downgraded downgrades
    underperform cut cuts lowered lower lowers warn warned warning warns lawsuit sued litigation probe
    investigation fraud recall recalled delay delayed halt halted bankruptcy default defaults layoff
    layoffs restructuring impairment writedown disappointing disappoint disappointed bearish concern
    concerns risk risks adverse negative rejected rejection fails failed failure subpoena penalty fine
    fined downturn slowdown shortfall""".split()
)
NEGATIONS = frozenset("not no never without hardly fails".split())

CATALYSTS: dict[str, dict[str, float]] = {
    "EARNINGS": {"earnings": 2.0, "eps": 2.0, "revenue": 1.5, "quarterly results": 2.0, "beat": 1.5, "miss": 1.5,
                 "beats": 1.5, "misses": 1.5, "profit": 1.0, "net income": 1.5},
    "FDA": {"fda": 3.0, "approval": 2.0, "phase 3": 2.5, "phase iii": 2.5, "clinical trial": 2.0, "pdufa": 3.0,
            "breakthrough therapy": 2.5, "ema": 1.5},
    "M&A": {"acquire": 3.0, "acquires": 3.0, "acquisition": 3.0, "merger": 3.0, "buyout": 3.0, "takeover": 3.0,
            "to buy": 2.0, "definitive agreement": 2.5, "tender offer": 2.5},
    "CONTRACT": {"contract": 2.0, "awarded": 2.0, "partnership": 1.5, "agreement": 1.0, "deal": 1.0,
                 "order": 1.0, "collaboration": 1.5},
    "GUIDANCE": {"guidance": 2.5, "outlook": 2.0, "forecast": 1.5, "raises guidance": 3.0, "cuts guidance": 3.0,
                 "reaffirms": 1.0},
    "MACRO": {"federal reserve": 2.0, "interest rates": 1.5, "rate hike": 2.0, "rate cut": 2.0, "inflation": 1.5,
              "cpi": 1.5, "jobs report": 1.5, "tariff": 1.5, "tariffs": 1.5, "recession": 1.5, "gdp": 1.0},
    "OTHER": {"buyback": 1.5, "repurchase": 1.5, "dividend": 1.0, "downgrade": 1.5, "upgrade": 1.5,
              "lawsuit": 1.5, "recall": 1.5, "bankruptcy": 3.0, "sec": 1.0, "8-k": 1.5, "ceo": 1.0,
              "resigns": 1.5, "layoffs": 1.5, "price target": 1.0},
}

# Topic nudges for signal scoring (points added to the raw signal value before squashing).
TOPICS: dict[str, tuple[float, tuple[str, ...]]] = {
    "guidance_up": (8.0, ("raises guidance", "raised guidance", "raises outlook", "raised outlook", "boosts forecast",
                          "raises forecast", "lifts guidance", "raises full-year")),
    "guidance_down": (-10.0, ("cuts guidance", "lowers guidance", "lowered guidance", "cut guidance",
                              "lowers outlook", "cuts outlook", "cuts forecast", "lowers forecast", "withdraws guidance")),
    "m&a": (6.0, ("acquire", "acquires", "acquisition", "merger", "buyout", "takeover", "definitive agreement")),
    "litigation": (-6.0, ("lawsuit", "sued", "litigation", "class action", "subpoena", "indictment")),
    "downgrade": (-5.0, ("downgrade", "downgrades", "downgraded", "cut to sell", "cut to underperform")),
    "upgrade": (5.0, ("upgrade", "upgrades", "upgraded", "raised to buy", "raised to outperform")),
    "earnings": (4.0, ("earnings", "quarterly results", "eps", "beats estimates", "tops estimates")),
}


def phrase_pattern(phrases, ignore_case: bool = True) -> re.Pattern:
    """One whole-word pattern for the phrases ("miss" never matches inside "commission"), case-insensitive
    unless `ignore_case` is False (for text the caller lower-cases, with lower-case phrases).

    Written as a trie (phrases sharing a start share its branch), so that at each position of the text the
    engine follows one branch instead of trying every phrase in turn (a third less time on a headline and its
    summary). It matches what an alternation of the phrases, longest first, matches: the phrases that match
    at one position are prefixes of each other, and in both the longest one ending at a word boundary wins
    (tests/articles/test_scoring.py compares them)."""
    trie: dict = {}
    for phrase in set(phrases):
        node = trie
        for char in phrase.lower() if ignore_case else phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here
    return re.compile(r"(?<![\w-])(" + _branches(trie) + r")(?![\w-])", re.IGNORECASE if ignore_case else 0)


def _branches(node: dict) -> str:
    """The regex of a trie node: its longer continuations first, ending here (if a phrase does) last."""
    longer = [re.escape(char) + _branches(child) for char, child in sorted(node.items()) if char]
    if not longer:
        return ""
    if len(longer) == 1 and "" not in node:
        return longer[0]
    return "(?:" + "|".join(longer) + ")" + ("?" if "" in node else "")  # greedy: the longer tried first
