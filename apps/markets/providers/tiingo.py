"""Tiingo's end-of-day prices (https://www.tiingo.com/documentation/end-of-day): raw and adjusted OHLCV
per session, adjusted for splits and dividends. A free account gives a token (NT_TIINGO_TOKEN) and a
request allowance per hour and per day: one request per symbol and call here."""

from datetime import date, datetime

import httpx
from django.conf import settings

from apps.markets.providers import Bar, PriceError
from newstunneler.netguard import shared_client


class Tiingo:
    name = "tiingo"

    def __init__(self, base_url: str | None = None, token: str | None = None):
        self.base_url = (base_url or settings.TIINGO_URL).rstrip("/")
        self.token = token if token is not None else settings.TIINGO_TOKEN
        if not self.token:
            raise PriceError("config", "NT_TIINGO_TOKEN is not set: Tiingo needs an API token")

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        # The operator's own setting, like the Slack URL: not an outside URL, so not SSRF-guarded.
        client = shared_client("prices", guarded=False, timeout=httpx.Timeout(20.0, connect=5.0))
        ticker = symbol.lower().replace(".", "-")  # BRK.B is brk-b there
        try:
            response = client.get(f"{self.base_url}/tiingo/daily/{ticker}/prices",
                                  params={"startDate": start.isoformat(), "endDate": end.isoformat()},
                                  headers={"Authorization": f"Token {self.token}", "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise PriceError("http", f"Tiingo: {type(exc).__name__}: {exc}") from None
        if response.status_code == 404:
            raise PriceError("unknown_symbol", f"Tiingo knows no symbol {symbol!r}")
        if response.status_code in (401, 403):
            raise PriceError("auth", f"Tiingo refused the token ({response.status_code})")
        if response.status_code == 429:
            raise PriceError("rate_limited", "Tiingo: request allowance used up (429); try again later")
        if response.status_code != 200:
            raise PriceError("http", f"Tiingo answered {response.status_code}")
        try:
            rows = response.json()
            return [Bar(symbol=symbol, session=datetime.fromisoformat(row["date"].replace("Z", "+00:00")).date(),
                        open=float(row["open"]), high=float(row["high"]), low=float(row["low"]),
                        close=float(row["close"]), adj_close=float(row["adjClose"]), volume=int(row.get("volume") or 0))
                    for row in rows]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PriceError("bad_answer", f"Tiingo: unexpected answer ({type(exc).__name__}: {exc})") from None
