"""The exchange calendar (NT_MARKET_CALENDAR, XNYS by default) from the maintained exchange-calendars
package: which days are sessions (weekends, holidays and half days included) and when each closes."""

from datetime import UTC, date, datetime
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def _calendar(name: str):
    import exchange_calendars

    return exchange_calendars.get_calendar(name, start="1995-01-01")


def calendar():
    return _calendar(settings.MARKET_CALENDAR)


def closes(start: date, end: date) -> dict[date, datetime]:
    """Every session from start to end (both included), in order, with when it closes (UTC)."""
    cal = calendar()
    start, end = max(start, cal.first_session.date()), min(end, cal.last_session.date())
    if start > end:
        return {}
    schedule = cal.schedule.loc[start.isoformat():end.isoformat(), "close"]
    return {session.date(): close.to_pydatetime().astimezone(UTC) for session, close in schedule.items()}


def sessions(start: date, end: date) -> list[date]:
    """The sessions from start to end, both included."""
    return list(closes(start, end))


def session_closes(start: date, end: date) -> list[datetime]:
    """The close of every session from start to end (UTC), in order."""
    return list(closes(start, end).values())


def session_close(session: date) -> datetime:
    """When that session closes (UTC)."""
    return calendar().session_close(session.isoformat()).to_pydatetime().astimezone(UTC)


def is_session(day: date) -> bool:
    return bool(calendar().is_session(day.isoformat()))
