"""Stance that reads finance: the direction a sentence gives a company, from how its figures moved.

Rules first (they decide when they fire): a metric and the way it went ("net sales rose", "the net loss
narrowed", "operating profit fell to X from Y", "totalled X, up from Y"), swings ("swung to a profit",
"turned to a loss"), estimates and guidance ("above estimates", "cut its guidance"), layoffs, and
negation ("did not raise", "failed to meet"). Otherwise the finance word lists (lexicon.py, after
Loughran-McDonald's categories) give a weaker tone. Pure Python regular expressions: well under a
millisecond a sentence.
"""

import re

from apps.articles import scoring

THRESHOLD = 0.2  # |tone| at or above this is a stance, below it neutral

# Figures where up is good, and where up is bad.
GOOD = (r"(?:net |operating |pre-tax |pretax |gross |comparable |organic |core |adjusted |quarterly |annual )*"
        r"(?:profits?|earnings|eps|earnings per share|revenues?|net sales|sales|turnover|income|ebitda|ebit|"
        r"margins?|orders?(?: received| intake)?|order intake|order backlog|backlog|cash flow|dividend|production|"
        r"deliveries|volumes?|market share|demand|result|results|bookings|gross bookings|room nights|traffic|"
        r"exports|output|subscribers|customers|shipments|growth|premiums written|transactions|"
        r"interest income|profitability|free cash flow|share price|shares|stock|stocks|retail sales|"
        r"consumer confidence|confidence|nights booked|gross merchandise volume|procedure growth|gdp|economy)")
BAD = (r"(?:net |operating |pre-tax |pretax |quarterly |annual |credit |loan |streaming )*"
       r"(?:loss|losses|deficit|costs?|expenses|debt|provisions?(?: for credit losses)?|write-?downs?|"
       r"impairments?|unemployment(?: rate)?|inventory|inventories|charges?|litigation costs|warranty costs|"
       r"yields?|layoffs)")
UP = (r"(?:rose|rise|rises|rising|risen|increased|increase|increases|grew|grow|grows|growing|climbed|climbs|"
      r"jumped|jumps|surged|surges|soared|soars|improved|improve|improves|improving|gained|gains|advanced|advances|"
      r"doubled|doubles|tripled|triples|more than doubled|more than doubles|more than tripled|expanded|expands|"
      r"widened|widens|strengthened|strengthens|accelerated|accelerates|rebounded|rebounds|recovered|recovers|"
      r"higher|up|was up|were up|went up|reached a record|hit a record|beat|beats|topped|tops|exceeded|exceeds|"
      r"picked up)")
DOWN = (r"(?:fell|fall|falls|falling|fallen|decreased|decrease|decreases|declined|decline|declines|declining|"
        r"dropped|drops|drop|slipped|slid|sank|sinks|plunged|plunges|tumbled|tumbles|slumped|shrank|shrinks|"
        r"contracted|halved|narrowed|narrows|weakened|weakens|deteriorated|slowed|eased|eases|lower|down|"
        r"was down|were down|went down|missed|misses|declined for|fell short|collapsed|dipped|dips|sagged|slides|"
        r"slips|shrink|halves|deteriorates|slows|contracts|shrunk)")
WINDOW = r"(?:\s+[\w%$€£.,'’/-]+){0,8}?\s+"

_RULES: list[tuple[re.Pattern, float, bool]] = []


def _rule(pattern: str, weight: float, inner_negation: bool = False) -> None:
    """inner_negation: a "not" inside the match flips it ("revenue did not grow")."""
    _RULES.append((re.compile(pattern, re.IGNORECASE), weight, inner_negation))


# Swings: the strongest statements there are.
_rule(r"\b(?:swung|swings|turned|turns|returned|returns|moved|back)\s+(?:back\s+)?(?:to|into|in)\s+(?:an?\s+)?"
      r"(?:net\s+|operating\s+|pre-tax\s+|quarterly\s+)?(?:profit|black|profitability)", 3.0)
_rule(r"\b(?:swung|swings|turned|turns|fell|slipped|plunged|moved)\s+(?:back\s+)?(?:to|into)\s+(?:an?\s+)?"
      r"(?:net\s+|operating\s+|pre-tax\s+|quarterly\s+)?(?:loss|red|deficit)", -3.0)
_rule(r"\bwas profitable for the first time\b|\bposted an operating profit, compared with a loss\b", 3.0)
_rule(r"\bcompared (?:to|with) a loss\b", 2.5)
_rule(r"\bcompared (?:to|with) a profit\b", -2.5)
# Figures and their direction: "net sales rose", "the loss narrowed", "costs declined".
_rule(rf"\b{GOOD}\b{WINDOW}?{UP}\b", 2.0, inner_negation=True)
_rule(rf"\b{GOOD}\b{WINDOW}?{DOWN}\b", -2.0, inner_negation=True)
_rule(rf"\b{BAD}\b{WINDOW}?(?:narrowed|narrows|decreased|declined|fell|shrank|eased|dropped|was smaller|were smaller|"
      rf"shrunk|improved|lower)\b", 2.5, inner_negation=True)
_rule(rf"\b{BAD}\b{WINDOW}?(?:widened|widens|widen|increased|increase|increases|rose|rise|rises|grew|grow|climbed|"
      rf"climb|climbs|deepened|jumped|surged|was larger|were larger|higher|mounted|ballooned)\b", -2.5,
      inner_negation=True)
_rule(rf"\b{GOOD}\s+(?:was|were)\s+negative\b", -2.0)
_rule(rf"\b{GOOD}\s+(?:was|were)\s+positive\b", 2.0)
_rule(r"\b(?:widened|widens|deepened|deepens)\s+(?:its|the)\s+(?:net\s+|operating\s+|quarterly\s+)?loss", -2.5)
_rule(r"\b(?:narrowed|narrows|cut|reduced|trimmed)\s+(?:its|the)\s+(?:net\s+|operating\s+|quarterly\s+)?loss", 2.5)
_rule(r"\b(?:posts|posted|reports|reported|records|recorded|books|booked)\s+an?\s+(?:[\w-]+\s+){0,2}?loss\b", -2.0)
_rule(r"\bfirst (?:[\w-]+\s+){0,3}?profit\b", 2.0)
_rule(r"\bno (?:slowdown|decline|drop|weakness|impact|deterioration)\b", 1.5)
_rule(r"\b(?:narrower|smaller|lower|reduced)\s+(?:net\s+|operating\s+|quarterly\s+)?loss", 2.0)
_rule(r"\b(?:wider|bigger|larger|deeper|higher)(?:-than-expected)?\s+(?:net\s+|operating\s+|quarterly\s+)?loss", -2.0)
# Verb first: "raised its dividend", "cut its guidance", "lost $1.1 billion".
_rule(r"\b(?:raised|raises|raise|lifted|lifts|boosted|boosts|increased|increases|hiked)\s+(?:its\s+|their\s+)?"
      r"(?:full-year\s+|annual\s+|quarterly\s+|fiscal(?:-year)?\s+(?:\d{4}\s+)?|\d{4}\s+)?"
      r"(?:[\w-]+\s+){0,3}?(?:guidance|outlook|forecasts?|dividend|estimates?|target)", 2.5)
_rule(r"\b(?:cut|cuts|lowered|lowers|lower|reduced|reduces|slashed|slashes|trimmed|trims|withdrew|withdraws|"
      r"suspended|suspends|scrapped)\s+(?:its\s+|their\s+)?(?:full-year\s+|annual\s+|quarterly\s+|"
      r"fiscal(?:-year)?\s+(?:\d{4}\s+)?|\d{4}\s+|\w+\s+)?(?:guidance|outlook|forecasts?|dividend|estimates|"
      r"profit forecast|earnings outlook|sales outlook|revenue forecast|sales forecast|profit outlook)", -2.5)
_rule(r"\b(?:lost|loses)\s+(?:about\s+)?[$€£]?\d", -2.0)
_rule(r"\b(?:loses|lost)\s+[\d,]+\s+(?:\w+\s+)?(?:customers|subscribers|users)", -2.0)
_rule(r"\b(?:adds|added|gained|gains)\s+(?:more\s+)?[\d,.]+\s*(?:million\s+)?(?:\w+\s+)?(?:customers|subscribers|users)", 2.0)
# Estimates and expectations.
_rule(r"\b(?:above|beat|beats|beating|topped|tops|topping|exceeded|exceeds|ahead of|better than|higher than|"
      r"surpassed)\s+(?:[\w'’-]+\s+){0,3}?(?:estimates?|expectations?|forecasts?|consensus|targets?|had forecast)", 2.5)
_rule(r"\b(?:below|missed|misses|miss|short of|worse than|weaker than|lower than|failed to meet|fell short of|"
      r"did not meet)\s+(?:[\w'’-]+\s+){0,3}?(?:estimates?|expectations?|forecasts?|consensus|targets?|hoped)", -2.5)
_rule(r"\bweaker-than-expected\b|\blarger-than-expected drop\b|\bworse-than-expected\b", -2.0)
_rule(r"\bstronger-than-expected\b|\bbetter-than-expected\b|\bhigher-than-expected\b", 2.0)
_rule(r"\b\d[\d.]*\s?(?:%|percent) (?:more|higher)\b", 2.0)
_rule(r"\b\d[\d.]*\s?(?:%|percent) (?:fewer|less|lower)\b", -2.0)
_rule(r"\breturn to (?:sales |revenue |profit )?growth\b", 2.0)
_rule(r"\bin line with (?:expectations|estimates|forecasts)\b|\bunchanged\b|\broughly flat\b|\bremain(?:ed)? at the "
      r"previous year's level\b|\bconfirmed its previous guidance\b|\bkept its .{0,30}outlook unchanged\b", 0.0)
# Jobs and other plain news.
_rule(r"\b(?:lay off|laid off|layoffs?|job cuts|cut [\d,]+ jobs|to cut [\d,]+|redundancies|temporary layoffs|"
      r"will lay off)\b", -2.0)
_rule(r"\bprofit warning\b|\bwarned that\b|\bwarns of\b", -2.0)
_rule(r"\b(?:record|all-time high|highest level|largest order|a record)\b", 1.5)
_rule(r"\b(?:lowest level in|(?:\d+|ten|five)-year low|hit a .{0,10}low)\b", -1.0)
_rule(r"\b(?:impairment|write-down|writedown|charge of)\b", -1.0)
_rule(r"\bno dividend\b|\bsuspend(?:s|ed)? (?:its |the )?dividend\b", -2.5)
_rule(r"\bup from\b", 2.0)
_rule(r"\bdown from\b", -2.0)
_rule(r"\b(?:negative|loss)\s+(?:at\s+)?(?:EUR|USD|\$|€)?\s?[\d.,]+", -0.5)

_NEGATION = re.compile(r"\b(?:not|no|never|didn't|did not|does not|doesn't|failed to|without|nor)\s+(?:\w+\s+){0,2}$",
                       re.IGNORECASE)
_COMPARISON = re.compile(
    rf"\b(?P<metric>{GOOD}|{BAD})\b[^.;]{{0,60}}?(?:was|were|totall?ed|amounted to|reached|stood at|came in at|of)\s+"
    r"(?:positive at |negative at )?(?:a (?:profit|loss) of )?(?:EUR|USD|SEK|GBP|\$|€|£)?\s?(?P<now>\d[\d,]*(?:\.\d+)?)"
    r"[^.;]{0,25}?(?:compared (?:with|to)|versus|vs\.?|against)\s+(?:a (?:profit|loss) of )?(?:negative )?"
    r"(?:EUR|USD|SEK|GBP|\$|€|£)?\s?(?P<then>\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE)
_BAD_METRIC = re.compile(rf"^{BAD}$", re.IGNORECASE)
_INNER_NEGATION = re.compile(r"\b(?:not|never|didn't|failed to)\b", re.IGNORECASE)
_MIXED_COMPARISON = re.compile(r"\b(?:a|an) (profit|loss) of\b", re.IGNORECASE)


def rule_evidence(text: str) -> list[tuple[str, float]]:
    """(matched phrase, weight) for each finance rule that fires; a negated phrase counts the other way."""
    found = []
    for pattern, weight, inner_negation in _RULES:
        for match in pattern.finditer(text):
            negated = _NEGATION.search(text[max(0, match.start() - 40):match.start()]) or (
                inner_negation and _INNER_NEGATION.search(match.group(0)))
            if weight and negated:
                found.append((match.group(0), -weight * 0.75))
            else:
                found.append((match.group(0), weight))
    for match in _COMPARISON.finditer(text):
        against = _MIXED_COMPARISON.search(match.group(0))
        bad_metric = bool(_BAD_METRIC.match(match.group("metric").strip()))
        if against and (against.group(1).lower() == "loss") != bad_metric:
            continue  # a loss against a profit (or the reverse): the swing rules tell
        now, then = (float(match.group(g).replace(",", "")) for g in ("now", "then"))
        if now != then:
            sign = 1.0 if now > then else -1.0
            if bad_metric:
                sign = -sign
            found.append((match.group(0), 2.5 * sign))
    return found


def tone(text: str) -> float:
    """-1..1. The finance rules decide when any fires; otherwise the word lists, more softly."""
    evidence = rule_evidence(text)
    lexical = scoring.sentiment(text)
    if evidence:
        total = sum(weight for _, weight in evidence)
        if total == 0:
            return 0.0
        return round(max(-1.0, min(1.0, total / 4.0 + 0.1 * lexical)), 4)
    return round(0.25 * lexical, 4)  # one word alone (0.19 at most) is not a stance
