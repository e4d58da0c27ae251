"""Daily bars: the CSV import and the Tiingo provider (a local HTTP server), checked against the calendar."""

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from apps.markets import calendar, services
from apps.markets.models import PriceBar
from apps.markets.providers import PriceError
from apps.markets.providers.tiingo import Tiingo

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prices", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_calendar_knows_weekends_holidays_and_half_days():
    days = calendar.sessions(date(2026, 11, 25), date(2026, 11, 30))
    assert days == [date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)]  # Thanksgiving, a weekend
    assert calendar.session_close(date(2026, 11, 27)) == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 13:00 New York
    assert calendar.session_close(date(2026, 11, 25)) == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)


def test_a_one_symbol_export_imports_its_good_rows_and_names_the_bad_ones(tmp_path):
    path = tmp_path / "aapl.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2026-11-20,228.1,230.4,227.5,229.87,229.0,51234567\n"
        "2026-11-19,229,231,228,230,229.2,100\n"
        "2026-11-22,229,231,228,230,230,100\n"            # a Sunday
        "2026-11-23,abc,231,228,230,230,100\n"            # not a number
        "2026-11-24,229,228,230,229,229,100\n"            # low above high
        "\n"
        "2026-11-25,229,231,228,230,230,\n")               # no volume: 0
    out, err = run(str(path), "--symbol", "aapl")
    assert "6 row(s): 3 bar(s) created, 0 updated, 3 skipped." in out
    assert "line 5: ValueError" in err and "2026-11-22 is not a session of XNYS" in err and "do not hold" in err
    bar = PriceBar.objects.get(symbol="AAPL", t=datetime(2026, 11, 20, 21, 0, tzinfo=UTC))
    assert (bar.close, bar.adj_close, bar.volume, bar.source) == (229.87, 229.0, 51234567, "csv:aapl.csv")
    out, _ = run(str(path), "--symbol", "AAPL")  # again: the same bars, updated, not doubled
    assert "0 bar(s) created, 3 updated" in out and PriceBar.objects.count() == 3


def test_a_file_of_many_symbols_and_layout_errors(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text("symbol,date,open,high,low,close\nMSFT,2026-11-20,1,2,1,2\nSPY,2026-11-20,5,6,4,5\n")
    out, _ = run(str(path))
    assert "2 bar(s) created" in out
    assert PriceBar.objects.get(symbol="SPY").adj_close == 5  # no adjusted column: the close
    bad = tmp_path / "bad.csv"
    bad.write_text("day,price\n2026-11-20,1\n")
    with pytest.raises(CommandError, match="the header lacks date, open, high, low, close"):
        run(str(bad))
    nosym = tmp_path / "nosym.csv"
    nosym.write_text("date,open,high,low,close\n2026-11-20,1,2,1,2\n")
    with pytest.raises(CommandError, match="--symbol"):
        run(str(nosym))
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.csv"))


def _tiingo_rows():
    return [{"date": "2026-11-20T00:00:00.000Z", "open": 500.0, "high": 510.0, "low": 495.0, "close": 505.0,
             "volume": 1200, "adjClose": 252.5, "adjHigh": 255.0, "adjLow": 247.5, "adjOpen": 250.0, "adjVolume": 2400,
             "divCash": 0.0, "splitFactor": 1.0},
            {"date": "2026-11-23T00:00:00.000Z", "open": 253.0, "high": 256.0, "low": 250.0, "close": 254.0,
             "volume": 3000, "adjClose": 254.0, "adjHigh": 256.0, "adjLow": 250.0, "adjOpen": 253.0, "adjVolume": 3000,
             "divCash": 0.0, "splitFactor": 2.0}]


def test_tiingo_bars_are_fetched_with_the_token_and_stored_adjusted(httpserver):
    httpserver.expect_request("/tiingo/daily/brk-b/prices", query_string="startDate=2026-11-20&endDate=2026-11-23",
                              headers={"Authorization": "Token s3cret"}).respond_with_json(_tiingo_rows())
    provider = Tiingo(base_url=httpserver.url_for(""), token="s3cret")
    result = services.prices_fetch(symbols=["BRK.B"], start=date(2026, 11, 20), end=date(2026, 11, 23), provider=provider)
    assert (result.stored.created, result.failed, result.empty) == (2, {}, [])
    before_split = PriceBar.objects.get(symbol="BRK.B", t=datetime(2026, 11, 20, 21, 0, tzinfo=UTC))
    assert (before_split.close, before_split.adj_close, before_split.source) == (505.0, 252.5, "tiingo")


def test_tiingo_failures_are_named_per_symbol_and_the_others_go_on(httpserver):
    httpserver.expect_request("/tiingo/daily/nope/prices").respond_with_response(Response("{}", status=404))
    httpserver.expect_request("/tiingo/daily/busy/prices").respond_with_response(Response("", status=429))
    httpserver.expect_request("/tiingo/daily/halt/prices").respond_with_json([])
    httpserver.expect_request("/tiingo/daily/junk/prices").respond_with_data("<html>oops</html>")
    httpserver.expect_request("/tiingo/daily/ok/prices").respond_with_json(_tiingo_rows()[:1])
    provider = Tiingo(base_url=httpserver.url_for(""), token="t")
    result = services.prices_fetch(symbols=["NOPE", "BUSY", "HALT", "JUNK", "OK"], start=date(2026, 11, 1),
                                   end=date(2026, 11, 30), provider=provider)
    assert result.failed["NOPE"].startswith("unknown_symbol") and result.failed["BUSY"].startswith("rate_limited")
    assert result.failed["JUNK"].startswith("bad_answer") and result.empty == ["HALT"]
    assert result.stored.created == 1 and PriceBar.objects.filter(symbol="OK").exists()


def test_no_token_no_provider(settings):
    settings.TIINGO_TOKEN = ""
    with pytest.raises(PriceError, match="NT_TIINGO_TOKEN"):
        Tiingo()
    settings.PRICES_PROVIDER = ""
    with pytest.raises(PriceError, match="no price provider is configured"):
        services.prices_fetch(symbols=["AAPL"], start=date(2026, 11, 1), end=date(2026, 11, 2))
