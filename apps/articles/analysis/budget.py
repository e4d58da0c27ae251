"""The LLM's daily budget: every call's tokens and cost are recorded (LlmSpend, per UTC day and model),
and no LLM call starts once the day's spend has reached NT_LLM_DAILY_BUDGET_USD."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone


@dataclass(frozen=True)
class Usage:
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    def __bool__(self):
        return bool(self.prompt_tokens or self.completion_tokens)

    def as_metrics(self) -> dict[str, str | int]:
        """As an account's usage metrics (billing's record_usage)."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "llm_cost_usd": str(self.cost_usd)}


def spent_today(now=None) -> Decimal:
    from apps.articles.models import LlmSpend

    day = (now or timezone.now()).date()
    return LlmSpend.objects.filter(day=day).aggregate(total=Sum("cost_usd"))["total"] or Decimal(0)


def left_today(now=None) -> Decimal:
    return Decimal(str(settings.LLM_DAILY_BUDGET_USD)) - spent_today(now)


def record(usage: Usage, *, rejected: bool = False, now=None) -> None:
    """Add one analysis' LLM calls to today's spend (and to the tokens and cost metrics)."""
    from apps.articles.models import LlmSpend
    from newstunneler import telemetry

    if not usage:
        return
    telemetry.LLM_TOKENS.labels(usage.model, "prompt").inc(usage.prompt_tokens)
    telemetry.LLM_TOKENS.labels(usage.model, "completion").inc(usage.completion_tokens)
    telemetry.LLM_COST.labels(usage.model).inc(float(usage.cost_usd))
    day = (now or timezone.now()).date()
    with transaction.atomic():
        row, _ = LlmSpend.objects.get_or_create(day=day, model=usage.model)
        LlmSpend.objects.filter(pk=row.pk).update(
            analyses=F("analyses") + 1, rejected=F("rejected") + (1 if rejected else 0),
            prompt_tokens=F("prompt_tokens") + usage.prompt_tokens,
            completion_tokens=F("completion_tokens") + usage.completion_tokens,
            cost_usd=F("cost_usd") + usage.cost_usd)
