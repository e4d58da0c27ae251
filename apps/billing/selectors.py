"""Reads of the billing app: usage by metric and day, and what the plan still allows."""

from collections import defaultdict
from datetime import date

from django.utils import timezone
from django_redis import get_redis_connection

from apps.billing import metering
from apps.billing.models import Account, UsageRecord


def month_bounds(period: str) -> tuple[date, date]:
    """'current' or 'YYYY-MM' -> [first day, first day of next month). ValueError if malformed."""
    if period == "current":
        today = timezone.now().date()
        year, month = today.year, today.month
    else:
        year, month = (int(part) for part in period.split("-"))
        date(year, month, 1)  # validates
        if len(period) != 7:
            raise ValueError(period)
    start = date(year, month, 1)
    end = date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    return start, end


def _pending(account: Account) -> dict[tuple[str, str], int]:
    """Counts not yet flushed into UsageRecord rows."""
    found = {}
    for field, value in get_redis_connection("default").hgetall(metering.pending_key()).items():
        account_id, day, metric = field.decode().split("|")
        if int(account_id) == account.pk:
            found[(day, metric)] = int(value)
    return found


def usage(*, account: Account, period: str) -> dict:
    start, end = month_bounds(period)
    by_metric: dict[str, dict[str, float]] = defaultdict(dict)
    for row in UsageRecord.objects.filter(account=account, day__gte=start, day__lt=end).order_by("day"):
        by_metric[row.metric][row.day.isoformat()] = float(row.quantity)
    for (day, metric), count in _pending(account).items():
        if start.isoformat() <= day < end.isoformat():
            by_metric[metric][day] = by_metric[metric].get(day, 0) + count
    return {
        "account": account.name, "plan": account.plan.name, "period": f"{start:%Y-%m}",
        "metrics": {metric: {"total": sum(days.values()), "by_day": dict(sorted(days.items()))}
                    for metric, days in sorted(by_metric.items())},
    }


def limits(*, account: Account) -> dict:
    plan = account.plan
    now = timezone.now()
    client = get_redis_connection("default")
    minute_key, day_key, _, _ = metering.quota_keys(account.pk, now)
    used_minute, used_day = (int(value or 0) for value in client.mget(minute_key, day_key))
    analyses = metering.month_used(account.pk, "analyses", now)  # flushed rows + what is pending in Redis
    llm_cost = metering.month_used(account.pk, "llm_cost_usd", now)

    def entry(limit, used):
        if limit is None:  # no cap
            return {"limit": None, "used": used, "remaining": None}
        return {"limit": limit, "used": used, "remaining": max(0, limit - used)}

    return {
        "account": account.name, "plan": plan.name, "features": plan.features,
        "requests_per_minute": entry(plan.requests_per_minute, used_minute),
        "requests_per_day": entry(plan.requests_per_day, used_day),
        "analyses_per_month": entry(plan.analyses_per_month, analyses),
        "llm_budget_usd_per_month": entry(None if plan.llm_budget_usd is None else float(plan.llm_budget_usd), llm_cost),
    }
