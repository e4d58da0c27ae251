"""social_sentiment: a symbol's social mentions (Reddit, X) in the hour of a signal against that symbol's
own baseline, the 7 x 24 hours before it (hours without posts count as zero). An abnormal spike (at least
ScoringPolicy.social_min_mentions, and social_spike_z standard deviations above the baseline mean) adds a
component to the signal's score: weight_social x the posts' net stance (bullish - bearish, over mentions)
x the spike's strength (z / social_spike_z, at most 2), with a reason saying so."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum

from apps.articles.models import ScoringPolicy, SocialHour

BASELINE_HOURS = 7 * 24


@dataclass
class SocialSpike:
    mentions: int
    mean: float
    std: float
    z: float
    net: float  # (bullish - bearish) / mentions, -1..1
    points: float

    def reason(self) -> dict:
        lean = "bullish" if self.net > 0 else "bearish" if self.net < 0 else "mixed"
        return {"factor": "social", "contribution": round(self.points, 2),
                "detail": f"{self.mentions} social mentions in the hour vs {self.mean:.1f} ± {self.std:.1f} usual "
                          f"(z {self.z:.1f}), {abs(self.net):.0%} net {lean}"}


def spike(symbol: str, at: datetime, policy: ScoringPolicy) -> SocialSpike | None:
    hour = at.replace(minute=0, second=0, microsecond=0)
    now_row = SocialHour.objects.filter(symbol=symbol, hour=hour).values_list("mentions", "bullish", "bearish").first()
    if not now_row or now_row[0] < policy.social_min_mentions:
        return None
    mentions, bullish, bearish = now_row
    history = SocialHour.objects.filter(symbol=symbol, hour__gte=hour - timedelta(hours=BASELINE_HOURS), hour__lt=hour)
    totals = history.aggregate(total=Sum("mentions"))
    counts = list(history.values_list("mentions", flat=True))
    mean = (totals["total"] or 0) / BASELINE_HOURS
    variance = (sum(c * c for c in counts) / BASELINE_HOURS) - mean * mean
    # A quiet symbol's baseline is near zero: the floor keeps one post from looking like a hundred sigmas.
    std = max(math.sqrt(max(variance, 0.0)), math.sqrt(mean), 1.0)
    z = (mentions - mean) / std
    if z < policy.social_spike_z:
        return None
    net = (bullish - bearish) / mentions
    points = policy.weight_social * net * min(z / policy.social_spike_z, 2.0)
    return SocialSpike(mentions=mentions, mean=mean, std=std, z=z, net=net, points=points)
