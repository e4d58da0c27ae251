"""Metering and request quotas for API-key requests, in the shared Redis.

Every request made with an API key is counted (atomic HINCRBY into a per-day hash that the
`flush_usage` job rolls up into UsageRecord rows every minute; a Redis restart loses at most the
counts since the last flush). While the rate_limiting flag is on, a request over the plan's
per-minute or per-day limit is refused with 429, Retry-After and {detail, limit, used, resets_at}.
"""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.exceptions import PermissionDenied, Throttled

from apps import flags
from apps.articles import analysis
from apps.articles.analysis import budget as llm_budget
from apps.billing.models import ApiKey, Feature, Plan, UsageRecord


def pending_key() -> str:
    """The hash "<account>|<day>|<metric>" -> count waiting for the flush. Every key here carries the
    cache's prefix (NT_CACHE_PREFIX), so installs sharing a Redis database do not mix their counts."""
    return cache.make_key("usage:pending")


def quota_keys(account_id: int, now: datetime) -> tuple[str, str, datetime, datetime]:
    """(minute counter key, day counter key, start of the minute, start of the day)."""
    minute = now.replace(second=0, microsecond=0)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (cache.make_key(f"quota:{account_id}:m:{minute:%Y%m%d%H%M}"),
            cache.make_key(f"quota:{account_id}:d:{day_start:%Y%m%d}"), minute, day_start)


class QuotaExceeded(Throttled):
    def __init__(self, *, what: str, limit: float, used: float, resets_at: datetime, whose: str = " of your plan"):
        wait = max(1, int((resets_at - timezone.now()).total_seconds()) + 1)
        super().__init__(wait=wait)
        self.detail = {"detail": f"{what} limit{whose} reached.", "limit": limit, "used": used,
                       "resets_at": resets_at.isoformat()}


class PlanFeatureMissing(PermissionDenied):
    """403: the key's plan does not include what the request needs."""

    def __init__(self, plan: Plan, feature: str, detail: str = ""):
        super().__init__()
        self.detail = {"detail": detail or f"Your plan ({plan.name}) does not include {feature}.",
                       "code": "plan_feature_missing", "feature": feature}


def _redis():
    return get_redis_connection("default")


def record(account_id: int, metric: str, amount: float | int = 1, now: datetime | None = None) -> None:
    day = (now or timezone.now()).date().isoformat()
    _redis().hincrbyfloat(pending_key(), f"{account_id}|{day}|{metric}", float(amount))


def month_used(account_id: int, metric: str, now: datetime | None = None) -> float:
    """This calendar month's total of a metric: flushed rows plus what is still pending in Redis."""
    now = now or timezone.now()
    start = now.date().replace(day=1)
    flushed = UsageRecord.objects.filter(account_id=account_id, metric=metric, day__gte=start).aggregate(
        total=Sum("quantity"))["total"] or 0
    pending = 0.0
    for field, value in _redis().hscan_iter(pending_key(), match=f"{account_id}|*|{metric}"):
        if field.decode().split("|")[1] >= start.isoformat():
            pending += float(value)
    return float(flushed) + pending


def reserve_analysis(key: ApiKey, provider: str | None, now: datetime | None = None) -> str:
    """Before an analysis asked for through the API; returns the provider it will use ("llm" or
    "offline"). Asking for the LLM by name needs the llm_analysis feature and a budget that is not 0
    (403 otherwise), room in the plan's monthly LLM budget and in the service's daily one (429); with
    no provider named, the LLM is used only where all of that allows it, else the offline analyser.
    The month's analyses must be under the plan (429), and the analysis is counted at once (its tokens
    and cost when it ends). Check and count happen under a per-account lock, so a burst of requests
    cannot overshoot the monthly analyses. The LLM budget can still be overshot by the cost of the
    analyses already running when it runs out."""
    now = now or timezone.now()
    plan, account_id = key.account.plan, key.account_id
    named_llm = provider == "llm"
    if named_llm:
        _llm_allowed(plan)
    elif provider is None:
        provider = "llm" if plan.includes(Feature.LLM_ANALYSIS) and plan.llm_budget_usd != 0 and analysis.llm_usable() else "offline"
    if not flags.is_enabled("rate_limiting"):
        record(account_id, "analyses", 1, now)
        return provider
    next_month = (now.date().replace(day=28) + timedelta(days=4)).replace(day=1)
    resets_at = datetime.combine(next_month, datetime.min.time(), tzinfo=UTC)
    with _redis().lock(cache.make_key(f"quota:{account_id}:analyses-lock"), timeout=10, blocking_timeout=10):
        analyses = month_used(account_id, "analyses", now)
        if analyses >= plan.analyses_per_month:
            raise QuotaExceeded(what="Analyses per month", limit=plan.analyses_per_month, used=int(analyses),
                                resets_at=resets_at)
        if provider == "llm" and plan.llm_budget_usd is not None:
            spent = month_used(account_id, "llm_cost_usd", now)
            if spent >= float(plan.llm_budget_usd):
                if named_llm:
                    raise QuotaExceeded(what="LLM budget per month", limit=float(plan.llm_budget_usd),
                                        used=round(spent, 6), resets_at=resets_at)
                provider = "offline"
        record(account_id, "analyses", 1, now)
    return provider


def _llm_allowed(plan: Plan) -> None:
    if not plan.includes(Feature.LLM_ANALYSIS):
        raise PlanFeatureMissing(plan, Feature.LLM_ANALYSIS)
    if plan.llm_budget_usd == 0:
        raise PlanFeatureMissing(plan, Feature.LLM_ANALYSIS, f"Your plan ({plan.name}) has no LLM budget.")
    if llm_budget.left_today() <= 0:
        tomorrow = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        raise QuotaExceeded(what="The service's daily LLM budget", limit=float(settings.LLM_DAILY_BUDGET_USD),
                            used=float(llm_budget.spent_today()), resets_at=tomorrow, whose="")


def count(pipe, account_id: int, now: datetime) -> None:
    """Queue on `pipe` what counting one request does: both quota windows and the usage meter (5
    commands; their replies are read by usage_counts())."""
    minute_key, day_key, _, _ = quota_keys(account_id, now)
    pipe.incr(minute_key)
    pipe.expire(minute_key, 120)
    pipe.incr(day_key)
    pipe.expire(day_key, 2 * 86400)
    pipe.hincrbyfloat(pending_key(), f"{account_id}|{now.date().isoformat()}|requests", 1)


def usage_counts(replies: list) -> tuple[int, int]:
    """(used this minute, used today) from the replies of count()'s commands."""
    return replies[0], replies[2]


def uncount(account_id: int, now: datetime) -> None:
    """Take one counted request back: it was refused (over a quota, or its key turned out invalid)."""
    minute_key, day_key, _, _ = quota_keys(account_id, now)
    _redis().pipeline().decr(minute_key).decr(day_key).hincrbyfloat(
        pending_key(), f"{account_id}|{now.date().isoformat()}|requests", -1).execute()


def check_and_count(key: ApiKey, now: datetime | None = None, counted: tuple | None = None) -> None:
    """Count this request against its account; refuse it (429) if over the plan while rate_limiting is on.
    `counted`: (used this minute, used today, when) if authentication counted it already, in the round
    trip that read the key (apps/billing/authentication.py)."""
    account, plan = key.account, key.account.plan
    if counted is None:
        now = now or timezone.now()
        pipe = _redis().pipeline()  # one round trip: count against both windows and meter it
        count(pipe, account.pk, now)
        used_minute, used_day = usage_counts(pipe.execute())
    else:
        used_minute, used_day, now = counted
    if flags.is_enabled("rate_limiting"):
        _, _, minute, day_start = quota_keys(account.pk, now)
        over = None
        if used_minute > plan.requests_per_minute:
            over = QuotaExceeded(what="Requests per minute", limit=plan.requests_per_minute, used=used_minute - 1,
                                 resets_at=minute + timedelta(minutes=1))
        elif used_day > plan.requests_per_day:
            over = QuotaExceeded(what="Requests per day", limit=plan.requests_per_day, used=used_day - 1,
                                 resets_at=day_start + timedelta(days=1))
        if over is not None:  # a refused request neither uses up the allowance nor counts as usage
            uncount(account.pk, now)
            raise over


def flush_usage() -> int:
    """Move the pending counts into UsageRecord rows. Counts arriving meanwhile wait for the next flush;
    a batch whose database write failed is picked up again by the next flush."""
    client = _redis()
    pending = pending_key()
    batches = [key.decode() for key in client.scan_iter(f"{pending}:flushing:*")]
    if client.exists(pending):
        batch = f"{pending}:flushing:{uuid.uuid4().hex}"
        client.rename(pending, batch)
        batches.append(batch)
    return sum(_flush(client, batch) for batch in batches)


def _flush(client, batch: str) -> int:
    counts = {field.decode(): Decimal(value.decode()) for field, value in client.hgetall(batch).items()}
    with transaction.atomic():
        for field, amount in counts.items():
            if not amount:  # e.g. a refused request counted, then taken back
                continue
            account_id, day, metric = field.split("|")
            row, created = UsageRecord.objects.get_or_create(
                account_id=int(account_id), day=day, metric=metric, defaults={"quantity": amount})
            if not created:
                UsageRecord.objects.filter(pk=row.pk).update(quantity=F("quantity") + amount)
    client.delete(batch)
    return len(counts)
