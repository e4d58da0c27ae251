"""Outcomes from price series built here (trend, half day, split, halt): entry bars, returns against the
benchmark, direction, adverse excursion, and no look-ahead."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from apps.markets import calendar, services
from apps.markets.providers import Bar
from apps.signals.models import Signal, SignalOutcome
from apps.signals.outcomes import outcomes_compute

pytestmark = pytest.mark.django_db

SESSIONS = calendar.sessions(date(2026, 9, 1), date(2026, 12, 1))  # all closed: a bar of a later one is refused
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def series(symbol, closes, *, adjust=None, lows=None, skip=()):
    """Daily bars over SESSIONS: closes[i] for session i (adjusted by adjust[i]; lows[i] the day's low);
    sessions in `skip` have no bar (a halt)."""
    bars = []
    for i, (session, close) in enumerate(zip(SESSIONS, closes, strict=False)):
        if session in skip:
            continue
        factor = adjust[i] if adjust else 1.0
        low = lows[i] if lows else close * 0.99
        bars.append(Bar(symbol=symbol, session=session, open=close, high=close * 1.01, low=low, close=close,
                        adj_close=close * factor, volume=1000))
    result = services.bars_store(bars, source="test")
    assert not result.rejected, result.rejected


def signal(symbol, t, stance="BULLISH", score=70.0):
    return Signal.objects.create(symbol=symbol, t=t, score=score, label="Watch", stance=stance)


def flat_benchmark():
    series("SPY", [100.0] * len(SESSIONS))


def outcome(sig, horizon):
    return SignalOutcome.objects.get(signal=sig, horizon=horizon)


def test_signals_one_minute_either_side_of_the_close_enter_on_different_bars():
    flat_benchmark()
    series("ACME", [100.0 + i for i in range(len(SESSIONS))])
    friday = date(2026, 11, 20)
    before = signal("ACME", datetime(2026, 11, 20, 20, 59, tzinfo=UTC))  # 15:59 New York
    after = signal("ACME", datetime(2026, 11, 20, 21, 1, tzinfo=UTC))  # 16:01
    outcomes_compute(signals=[before, after], now=NOW)
    assert outcome(before, 1).entry_t == calendar.session_close(friday)
    assert outcome(after, 1).entry_t == calendar.session_close(date(2026, 11, 23))  # Monday: the next bar
    i = SESSIONS.index(friday)
    assert outcome(before, 1).ret == pytest.approx((101.0 + i) / (100.0 + i) - 1)
    assert outcome(after, 1).entry_price == 100.0 + i + 1


def test_returns_excess_direction_and_adverse_excursion_over_sessions():
    flat_benchmark()
    closes = [100.0] * len(SESSIONS)
    start = SESSIONS.index(date(2026, 11, 10))
    for k, price in enumerate([100, 98, 97, 103, 104, 110]):  # entry 100, dips to 97 (low 95), ends +10 %
        closes[start + k] = float(price)
    lows = [c * 0.99 for c in closes]
    lows[start + 2] = 95.0
    series("ACME", closes, lows=lows)
    bull = signal("ACME", datetime(2026, 11, 10, 15, 0, tzinfo=UTC))
    bear = signal("ACME", datetime(2026, 11, 10, 15, 30, tzinfo=UTC), stance="BEARISH")
    neutral = signal("ACME", datetime(2026, 11, 10, 16, 0, tzinfo=UTC), stance="NEUTRAL")
    outcomes_compute(signals=[bull, bear, neutral], now=NOW)
    five = outcome(bull, 5)
    assert five.exit_t == calendar.session_close(SESSIONS[start + 5])
    assert (five.ret, five.benchmark_ret, five.excess_ret) == (pytest.approx(0.10), 0.0, pytest.approx(0.10))
    assert five.direction_right is True and five.mae == pytest.approx(-0.05)  # the 95 low
    assert outcome(bear, 5).direction_right is False
    assert outcome(bear, 5).mae == pytest.approx(-(110 * 1.01 / 100 - 1))  # the worst high against a short
    assert outcome(neutral, 5).direction_right is None and outcome(neutral, 5).mae is None
    one = outcome(bull, 1)
    assert one.ret == pytest.approx(-0.02) and one.direction_right is False


def test_a_holiday_and_a_half_day_are_the_calendars():
    flat_benchmark()
    series("ACME", [100.0] * len(SESSIONS))
    wednesday_evening = signal("ACME", datetime(2026, 11, 25, 22, 0, tzinfo=UTC))  # after the close
    outcomes_compute(signals=[wednesday_evening], now=NOW)
    one = outcome(wednesday_evening, 1)
    assert one.entry_t == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # Thursday is Thanksgiving; Friday closes at 13:00
    assert one.exit_t == calendar.session_close(date(2026, 11, 30))


def test_a_bar_of_a_session_that_has_not_closed_is_refused():
    today = calendar.sessions(date.today(), date.today() + timedelta(days=10))[-1]
    result = services.bars_store([Bar("ACME", today, 1, 2, 1, 2, 2, 5)], source="test")
    assert result.created == 0 and "has not closed yet" in result.rejected[0]


def test_a_split_is_no_move_through_adjusted_closes():
    flat_benchmark()
    split = SESSIONS.index(date(2026, 11, 16))
    closes = [200.0 if i < split else 100.0 for i in range(len(SESSIONS))]  # 2-for-1 on the 16th
    adjust = [0.5 if i < split else 1.0 for i in range(len(SESSIONS))]  # earlier bars adjusted down
    series("ACME", closes, adjust=adjust)
    sig = signal("ACME", datetime(2026, 11, 12, 15, 0, tzinfo=UTC))
    outcomes_compute(signals=[sig], now=NOW)
    assert outcome(sig, 5).ret == pytest.approx(0.0) and outcome(sig, 5).entry_price == 100.0


def test_a_halt_is_recorded_as_missing_never_guessed_and_the_future_waits():
    flat_benchmark()
    halted = date(2026, 11, 23)
    series("ACME", [100.0] * len(SESSIONS), skip={halted})
    sig = signal("ACME", datetime(2026, 11, 19, 22, 0, tzinfo=UTC))  # enters on the 20th; +1 is the halted 23rd
    late = signal("ACME", datetime(2026, 11, 24, 22, 0, tzinfo=UTC))
    result = outcomes_compute(signals=[sig, late], now=datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    row = outcome(sig, 1)
    assert row.status == "missing" and row.ret is None and "2026-11-23" in row.note and "ACME" in row.note
    assert outcome(sig, 5).status == "ok"
    # The late signal entered on the 25th: +1 (the 27th) exists; +5 and +20 are after "now".
    assert set(SignalOutcome.objects.filter(signal=late).values_list("horizon", flat=True)) == {1}
    assert result.waiting == 3  # its +5 and +20, and the first signal's +20


def test_backfill_is_resumable_and_shows_progress():
    flat_benchmark()
    series("ACME", [100.0 + i for i in range(len(SESSIONS))])
    signals = [signal("ACME", datetime(2026, 9, 2, 15, 0, tzinfo=UTC) + timedelta(hours=6 * n)) for n in range(30)]
    SignalOutcome.objects.create(signal=signals[0], horizon=1, entry_t=NOW, exit_t=NOW, ret=9.9)  # made before
    out = io.StringIO()
    call_command("backfill_outcomes", "--batch-size", "7", stdout=out)
    assert "30/30 (100%)" in out.getvalue() and "89 outcome(s) made" in out.getvalue()
    assert SignalOutcome.objects.count() == 90 and outcome(signals[0], 1).ret == 9.9  # kept
    out = io.StringIO()
    call_command("backfill_outcomes", stdout=out)
    assert "0 outcome(s) made" in out.getvalue()


def test_the_scheduled_jobs_fetch_bars_for_recent_signals_then_make_their_outcomes(httpserver, settings):
    from django.utils import timezone

    from apps.signals.outcomes import outcomes_for_recent_signals, prices_for_recent_signals

    settings.PRICES_PROVIDER, settings.TIINGO_URL, settings.TIINGO_TOKEN = "tiingo", httpserver.url_for(""), "tok"
    now = timezone.now()
    days = [d for d in calendar.sessions((now - timedelta(days=40)).date(), now.date())
            if calendar.session_close(d) < now]

    def rows(base):
        return [{"date": f"{d.isoformat()}T00:00:00.000Z", "open": base + i, "high": base + i + 1, "low": base + i - 1,
                 "close": base + i, "adjClose": base + i, "volume": 10} for i, d in enumerate(days)]

    httpserver.expect_request("/tiingo/daily/acme/prices", headers={"Authorization": "Token tok"}).respond_with_json(rows(50))
    httpserver.expect_request("/tiingo/daily/spy/prices").respond_with_json(rows(400))
    sig = signal("ACME", calendar.session_close(days[-8]) - timedelta(hours=2))  # enters on that session's close
    prices_for_recent_signals(now=now)
    result = outcomes_for_recent_signals(now=now)
    assert result.created == 2 and result.waiting == 1  # +1 and +5 now; +20 later
    five = outcome(sig, 5)
    assert five.entry_price == 50 + len(days) - 8 and five.ret > 0 and five.excess_ret == pytest.approx(
        five.ret - five.benchmark_ret)
    assert outcomes_for_recent_signals(now=now).created == 0  # nothing twice


def test_without_a_provider_the_fetch_job_does_nothing(settings, caplog):
    from apps.signals.outcomes import prices_for_recent_signals

    settings.PRICES_PROVIDER = ""
    prices_for_recent_signals()
    assert "prices_not_fetched" in caplog.text
