"""The offline analyser: deterministic, from the text alone (lexicon sentiment, catalyst keywords,
the symbol table). Used whenever no LLM is configured or the llm_analysis flag is off."""

import re

from apps.articles import scoring
from apps.articles.analysis import stance
from apps.articles.analysis.schema import AnalysisResult, validate_plan
from apps.articles.tickers import resolve

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d")
RISKS = {
    "EARNINGS": ["Guidance may matter more than the quarter", "Post-earnings drift can reverse"],
    "FDA": ["Regulatory timelines slip", "Label or market size may disappoint"],
    "M&A": ["Deal may fail regulatory review", "Financing or shareholder votes can derail it"],
    "CONTRACT": ["Contract value may be spread over years", "Terms may be less than headline"],
    "GUIDANCE": ["Management guidance can be revised again", "Macro conditions may override company outlook"],
    "MACRO": ["Market-wide moves swamp single-name effects", "Data revisions are common"],
    "OTHER": ["Headline may not be material", "Low-information news fades quickly"],
}
MODEL = "offline-lexicon-1"


DEFAULT_TICKER_MIN_CONFIDENCE = 0.75  # ScoringPolicy.ticker_min_confidence's default


def analyze(title: str, summary: str = "", ticker_min_confidence: float = DEFAULT_TICKER_MIN_CONFIDENCE) -> AnalysisResult:
    text = f"{title}. {summary}".strip()
    tone = stance.tone(text)
    label = "BULLISH" if tone >= stance.THRESHOLD else "BEARISH" if tone <= -stance.THRESHOLD else "NEUTRAL"
    return build(title, summary, label, lambda strength, tickers: min(
        0.95, 0.3 + 0.4 * abs(tone) + 0.05 * strength + (0.05 if tickers else 0)), provider="offline", model=MODEL,
        ticker_min_confidence=ticker_min_confidence)


def build(title: str, summary: str, label: str, confidence, *, provider: str, model: str,
          ticker_min_confidence: float = DEFAULT_TICKER_MIN_CONFIDENCE, extra: dict | None = None) -> AnalysisResult:
    """The plan around a stance decided elsewhere (these rules, or a model): catalyst, tickers above
    `ticker_min_confidence`, key facts, thesis, risks and setups, all from the text. `confidence` is a
    number or a function of (catalyst strength, tickers)."""
    text = f"{title}. {summary}".strip()
    strength, catalyst_type, matched = scoring.catalyst(text)
    tickers = [m.symbol for m in resolve(text) if m.confidence >= ticker_min_confidence][:10]
    if callable(confidence):
        confidence = confidence(strength, tickers)
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    facts = [s for s in sentences if _NUMBER.search(s)][:3] or sentences[:2]
    subject = ", ".join(tickers) or "the company"
    direction = {"BULLISH": "upside", "BEARISH": "downside", "NEUTRAL": "little directional edge"}[label]
    plan = {
        "stance": label,
        "confidence": round(confidence, 3),
        "catalyst_type": catalyst_type,
        "tickers": tickers,
        "thesis": f"{catalyst_type.title()} news for {subject} suggests {direction}.",
        "key_facts": [f[:1000] for f in facts],
        "risks": RISKS[catalyst_type],
        "suggested_setups": _setups(label, strength),
        "summary": (sentences[0] if sentences else title)[:1000],
        "strategy_bucket": "event-driven" if strength >= 2 else ("momentum" if label != "NEUTRAL" else "watch"),
    }
    return AnalysisResult(provider=provider, model=model, plan=validate_plan(plan),
                          extra={"catalysts": matched, **(extra or {})})


def _setups(stance: str, strength: float) -> list[str]:
    if stance == "NEUTRAL":
        return ["No trade: wait for confirmation"]
    side = "long" if stance == "BULLISH" else "short"
    setups = [f"{side.title()} on a break of the first 30-minute range in the direction of the news"]
    if strength >= 2:
        setups.append(f"{side.title()} on the first pullback that holds the news-day VWAP")
    return setups
