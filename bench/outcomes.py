"""Outcomes in bulk: `manage.py backfill_outcomes` over N signals x 3 horizons (1,000,000 signals on
PostgreSQL, 100,000 on SQLite by default), with the daily bars of their 1,000 symbols and the benchmark
for the year they span, in a throwaway database.

    .venv/bin/python bench/outcomes.py [--signals N] [--symbols 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/outcomes.py

It reports outcome rows made per second, next to the rate of plainly inserting outcome rows
(bulk_create of precomputed rows, no bars read, no calendar) measured before and after in the same
run: the ratio is what working the rows out costs over writing them. The target is minutes, not hours.
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import run_child, scratch_dir, throwaway_database  # noqa: E402


def load(n_signals: int, n_symbols: int) -> tuple[float, int]:
    from django.conf import settings
    from django.db import connection

    from apps.markets import calendar

    rnd = random.Random(11)
    today = datetime.now(UTC).date()
    closes = calendar.session_closes(today - timedelta(days=400), today - timedelta(days=1))
    symbols = [f"S{n:04d}" for n in range(n_symbols)] + [settings.BENCHMARK_SYMBOL]
    started = time.perf_counter()
    bars = []
    for symbol in symbols:
        price = rnd.uniform(10, 500)
        for close_t in closes:
            price *= 1 + rnd.gauss(0.0003, 0.02)
            bars.append((symbol, "1d", close_t, price, price * 1.01, price * 0.99, price, price, 1000, "bench",
                         close_t))
    first, last = closes[0], closes[-30]  # every signal has all three horizons behind it
    span = (last - first).total_seconds()
    stances = ["BULLISH", "BEARISH", "NEUTRAL"]
    signals = [(n + 1, symbols[n % n_symbols], first + timedelta(seconds=rnd.random() * span), rnd.uniform(0, 100),
                "Watch", stances[n % 3], "[]", "{}", first, first) for n in range(n_signals)]
    columns = {
        "markets_pricebar": "symbol, interval, t, open, high, low, close, adj_close, volume, source, updated_at",
        "signals_signal": "id, symbol, t, score, label, stance, reasons, features, created_at, updated_at",
    }
    raw = connection.connection if connection.connection else (connection.ensure_connection() or connection.connection)
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor:
            for table, rows in (("markets_pricebar", bars), ("signals_signal", signals)):
                with cursor.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute("SELECT setval(pg_get_serial_sequence('signals_signal', 'id'), (SELECT max(id) FROM signals_signal))")
        raw.commit()
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        raw.autocommit = False
    else:
        for table, rows in (("markets_pricebar", bars), ("signals_signal", signals)):
            marks = ", ".join("?" * len(columns[table].split(",")))
            raw.executemany(f"INSERT INTO {table} ({columns[table]}) VALUES ({marks})",
                            [tuple(connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v
                                   for v in row) for row in rows])  # stored as Django stores them (compared as text)
        raw.commit()
        raw.execute("ANALYZE")
    connection.close()
    return time.perf_counter() - started, len(bars)


def plain_insert_rate(sample: int) -> float:
    """Rows/s of bulk_create'ing ready outcome rows (horizons 2-4, which the report never uses; removed)."""
    from apps.signals.models import Signal, SignalOutcome

    ids = list(Signal.objects.order_by("?").values_list("id", flat=True)[:sample // 3])
    now = datetime.now(UTC)
    rows = [SignalOutcome(signal_id=pk, horizon=h, entry_t=now, exit_t=now, entry_price=1.0, exit_price=1.1, ret=0.1,
                          benchmark_ret=0.05, excess_ret=0.05, direction_right=True, mae=-0.01)
            for pk in ids for h in (2, 3, 4)]
    started = time.perf_counter()
    for first in range(0, len(rows), 3000):
        SignalOutcome.objects.bulk_create(rows[first:first + 3000], batch_size=1000)
    rate = len(rows) / (time.perf_counter() - started)
    SignalOutcome.objects.filter(horizon__in=(2, 3, 4)).delete()
    return rate


def measure(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.signals.models import OutcomeStatus, SignalOutcome

    call_command("migrate", verbosity=0)
    seconds, n_bars = load(args.signals, args.symbols)
    print(f"{connection.vendor}: loaded {args.signals:,} signals of {args.symbols:,} symbols and {n_bars:,} daily bars "
          f"in {seconds:.0f} s", flush=True)
    sample = min(150_000, args.signals * 3)
    before = plain_insert_rate(sample)
    print(f"plain insert of ready rows: {before:,.0f} rows/s", flush=True)
    started = time.perf_counter()
    call_command("backfill_outcomes", "--batch-size", "5000", verbosity=0)
    elapsed = time.perf_counter() - started
    made = SignalOutcome.objects.count()
    missing = SignalOutcome.objects.filter(status=OutcomeStatus.MISSING).count()
    after = plain_insert_rate(sample)
    print(f"plain insert of ready rows (after): {after:,.0f} rows/s")
    rate = made / elapsed
    print(f"backfill_outcomes: {made:,} outcome rows ({missing} missing) for {args.signals:,} signals in {elapsed:.0f} s "
          f"= {rate:,.0f} rows/s")
    print(f"ratio backfill / plain insert: {rate / ((before + after) / 2):.2f}; "
          f"1,000,000 signals x 3 horizons at this rate: {3_000_000 / rate / 60:.1f} min (target: minutes, not hours)")


def main():
    sqlite = not os.environ.get("DATABASE_URL")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100_000 if sqlite else 1_000_000)
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        return measure(args)
    tmp = scratch_dir("nt-bench-outcomes-")
    db_env, drop = throwaway_database(tmp)
    sys.exit(run_child(__file__, tmp, db_env, drop))


if __name__ == "__main__":
    main()
