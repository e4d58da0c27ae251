import json

import pytest

from apps.signals.models import Signal
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def signals():
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", published_at=factories.at(19), analyse=True)
    factories.article("Apple (NASDAQ: AAPL) shares plunge after lawsuit and guidance cut", published_at=factories.at(20), analyse=True)
    factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract award", published_at=factories.at(18), analyse=True)
    return Signal.objects.all()


def test_list_and_filters(api, signals):
    body = api.get("/api/v1/signals/").json()
    assert [(s["symbol"], s["t"][:10]) for s in body["results"]] == [
        ("AAPL", "2026-11-20"), ("AAPL", "2026-11-19"), ("MSFT", "2026-11-18")]
    assert len(api.get("/api/v1/signals/?symbol=msft").json()["results"]) == 1
    high = api.get("/api/v1/signals/?min_score=60").json()["results"]
    assert high and all(s["score"] >= 60 for s in high)
    label = signals.get(symbol="MSFT").label
    assert {s["symbol"] for s in api.get(f"/api/v1/signals/?label={label}").json()["results"]} >= {"MSFT"}


def test_bad_filter_is_400(api):
    response = api.get("/api/v1/signals/?label=Great&min_score=101")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"label", "min_score"}


def test_top_orders_by_score(api, signals, settings):
    body = api.get("/api/v1/signals/top/?hours=720&limit=2").json()
    scores = [s["score"] for s in body]
    assert len(body) == 2 and scores == sorted(scores, reverse=True)


def test_latest_per_symbol(api, signals):
    body = api.get("/api/v1/signals/latest/").json()
    assert [(s["symbol"], s["t"][:10]) for s in body] == [("AAPL", "2026-11-20"), ("MSFT", "2026-11-18")]


def test_search_by_symbol_and_text(api, signals):
    assert {s["symbol"] for s in api.get("/api/v1/signals/search/?q=MSFT").json()} == {"MSFT"}
    assert {s["symbol"] for s in api.get("/api/v1/signals/search/?q=lawsuit").json()} == {"AAPL"}
    assert api.get("/api/v1/signals/search/").status_code == 400


def test_signal_survives_its_article(api, signals):
    signal = signals.get(symbol="MSFT")
    signal.article.delete()
    body = api.get("/api/v1/signals/?symbol=MSFT").json()["results"][0]
    assert body["article_id"] is None and body["score"] == signal.score


def test_a_json_page_is_the_serializers_page_to_the_byte_of_every_value(api, signals, monkeypatch):
    """The list writes a JSON page itself (apps/signals/api.page_json, JSON columns as stored): the same
    JSON as the serializer and DRF's renderer give, with awkward values, both links and every page."""
    from apps.signals import api as signals_api

    awkward = signals.order_by("id").first()
    awkward.reasons = ["line\u2028separator", 'say "hi" \\ é 株 \U0001F4C8', {"nested": [1, 2.5, None, True]}]
    awkward.features = {"ratio": 0.1, "tiny": 1e-07, "big": 12345678901234567, "neg": -3, "text": "</script>"}
    awkward.t = awkward.t.replace(microsecond=5)  # the times are written by the database (queries.UTCText)
    awkward.save()
    awkward.article.title = 'The marker page_json splits on: ,"reasons":null,"features":null, and {braces}'
    awkward.article.save()
    factories.article("Nvidia (NASDAQ: NVDA) wins a $2 billion contract", published_at=factories.at(17), analyse=True)
    pages = {}
    for fast in (True, False):
        monkeypatch.setattr(signals_api, "fast_json", lambda request, fast=fast: fast and signals_api.JSONRenderer is
                            type(request.accepted_renderer))
        url, bodies = "/api/v1/signals/?page_size=2", []
        while url:
            response = api.get(url)
            assert response.status_code == 200 and response["Content-Type"] == "application/json"
            assert (type(response).__name__ == "HttpResponse") is fast  # written by page_json, or by DRF
            bodies.append(response.content)
            url = response.json()["next"]
        pages[fast] = bodies
    assert len(pages[True]) == len(pages[False]) >= 2
    for fast_body, slow_body in zip(pages[True], pages[False], strict=True):
        assert json.loads(fast_body) == json.loads(slow_body)
        assert list(json.loads(fast_body)["results"][0]) == list(json.loads(slow_body)["results"][0])  # key order
    # U+2028 escaped as DRF's renderer does (a raw one ends a line in some JavaScript).
    awkward_page = next(body for body in pages[True] if b"separator" in body)
    assert b"\xe2\x80\xa8" not in awkward_page and b"line\\u2028separator" in awkward_page


def test_a_cursor_from_before_the_times_were_written_by_the_database_still_pages(api, signals):
    """Cursors now carry the time as the API writes it ("...T12:00:00Z"); a next link handed out before
    (str(datetime): "... 12:00:00+00:00") still leads to the same page."""
    from base64 import b64encode
    from urllib.parse import urlencode

    first = api.get("/api/v1/signals/?page_size=1").json()
    newest = Signal.objects.order_by("-t").first()
    assert first["results"][0]["id"] == newest.id and "cursor=" in first["next"]
    old_cursor = b64encode(urlencode({"p": str(newest.t)}).encode()).decode()
    old_page = api.get("/api/v1/signals/", {"page_size": 1, "cursor": old_cursor})
    assert old_page.status_code == 200
    assert old_page.json()["results"] == api.get(first["next"]).json()["results"]
    assert old_page.json()["results"][0]["id"] != newest.id
