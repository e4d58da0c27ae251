"""insider_trading: a Form 4 filing's open-market purchases (code P) and sales (S) by the issuer's officers
or directors, at least ScoringPolicy.insider_min_value in all, make a signal of their own (catalyst
INSIDER). Awards, option exercises, tax withholding and gifts are not decisions to trade: they never count.

Points: weight_insider for a trade at the minimum value, plus weight_insider/2 per tenfold above it; a
chief executive's or financial officer's trade counts 1.25 times; sales count half (insiders sell for many
reasons, they buy for one). Purchases push the score up, sales down."""

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from apps.articles.models import Article, InsiderTransaction, ScoringPolicy

OPEN_MARKET = ("P", "S")
TOP_OFFICER = re.compile(r"\b(?:CEO|CFO|Chief Executive|Chief Financial|President)\b", re.IGNORECASE)


@dataclass
class InsiderScore:
    symbol: str
    raw: float
    stance: str
    bought: Decimal
    sold: Decimal
    reasons: list[dict]


def qualifying(article: Article) -> list[InsiderTransaction]:
    return [tx for tx in article.insider_transactions.order_by("line")
            if tx.code in OPEN_MARKET and (tx.is_officer or tx.is_director) and tx.value is not None]


def score_filing(article: Article, policy: ScoringPolicy) -> InsiderScore | None:
    trades = qualifying(article)
    if not trades:
        return None
    bought = sum((tx.value for tx in trades if tx.code == "P"), Decimal(0))
    sold = sum((tx.value for tx in trades if tx.code == "S"), Decimal(0))
    size = max(bought, sold)
    if size <= 0 or float(size) < policy.insider_min_value:
        return None
    buying = bought >= sold
    ratio = float(size) / policy.insider_min_value if policy.insider_min_value else 10.0
    points = policy.weight_insider * (1 + 0.5 * math.log10(max(ratio, 1.0)))
    first = trades[0]
    if TOP_OFFICER.search(first.role or ""):
        points *= 1.25
    raw = round(points if buying else -0.5 * points, 3)
    verb = "bought" if buying else "sold"
    lines = [f"{tx.insider} ({tx.role or 'insider'}) {'bought' if tx.code == 'P' else 'sold'} {tx.shares:,.0f} shares "
             f"at ${tx.price:,.2f} (${tx.value:,.0f}) on {tx.date:%Y-%m-%d}" for tx in trades]
    reasons = [{"factor": "insider", "contribution": raw,
                "detail": f"insiders {verb} ${size:,.0f} in the open market (Form 4 {first.accession}): " + "; ".join(lines)}]
    return InsiderScore(symbol=first.symbol, raw=raw, stance="BULLISH" if buying else "BEARISH", bought=bought,
                        sold=sold, reasons=reasons)
