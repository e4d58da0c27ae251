"""The live alert stream: server-sent events through Redis pub/sub, behind the per-user flag alert_stream."""

import json
import queue
import threading

import httpx
import pytest
import waffle

from apps.articles.models import ScoringPolicy
from apps.billing import services as billing
from apps.billing.models import Account, Plan
from apps.flags import services as flag_services
from apps.flags.registry import FLAGS
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(viewer):
    plan, _ = Plan.objects.get_or_create(name="desk", defaults={"requests_per_minute": 100, "requests_per_day": 1000,
                                                                "analyses_per_month": 10, "llm_budget_usd": 0})
    account = Account.objects.create(owner=viewer, name="Desk", plan=plan)
    return billing.api_key_create(account=account, name="stream")[1]


@pytest.fixture(autouse=True)
def stream_flag(db):
    # (a transactional test's flush removes the rows migrations made: make sure the flag exists, targeting no one)
    flag_services.flag_ensure(FLAGS["alert_stream"])


@pytest.fixture
def streaming_for(viewer):
    waffle.get_waffle_flag_model().objects.get(name="alert_stream").users.add(viewer)
    from apps.flags.checks import clear_local_cache
    clear_local_cache()


def read_events(response, events: queue.Queue):
    """Parse the stream into (event, data) pairs; a comment line is reported as ("comment", text)."""
    event, data = "message", []
    try:
        for line in response.iter_lines():
            if line.startswith(":"):
                events.put(("comment", line[1:].strip()))
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data.append(line.split(":", 1)[1].strip())
            elif line == "" and data:
                events.put((event, json.loads("\n".join(data))))
                event, data = "message", []
    except (httpx.HTTPError, httpx.StreamError):
        pass  # the test closed the connection


def test_a_client_receives_a_strong_signal_created_after_it_connected(live_server, key, streaming_for, settings):
    settings.ALERT_STREAM_KEEPALIVE = 0.5
    policy = ScoringPolicy.current()
    policy.signal_alert_score = 0
    policy.save()
    factories.article("Tesla (NASDAQ: TSLA) recalls cars over brake fault", analyse=True)  # before: not sent
    events: queue.Queue = queue.Queue()
    with httpx.Client(base_url=live_server.url, timeout=httpx.Timeout(10)) as http:
        with http.stream("GET", "/api/v1/alerts/stream", headers={"Authorization": f"Api-Key {key}",
                                                                 "Accept": "text/event-stream"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            threading.Thread(target=read_events, args=(response, events), daemon=True).start()
            assert events.get(timeout=5) == ("comment", "connected")
            article = factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
            while True:
                kind, data = events.get(timeout=10)
                if kind == "signal":
                    break
                assert kind == "comment" and data == "keepalive"
    assert data["symbol"] == "AAPL" and data["article_id"] == article.pk and data["article_title"].startswith("Apple")
    assert set(data) >= {"id", "score", "label", "stance", "t", "article_url"}


def test_the_stream_needs_the_flag_and_authentication(live_server, key, client):
    with httpx.Client(base_url=live_server.url, timeout=5) as http:
        anonymous = http.get("/api/v1/alerts/stream")
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
        refused = http.get("/api/v1/alerts/stream", headers={"Authorization": f"Api-Key {key}",
                                                             "Accept": "text/event-stream"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == "The live alert stream is not enabled for you (flag alert_stream)."


def test_a_client_reconnecting_with_last_event_id_gets_what_it_missed_first(live_server, key, streaming_for):
    policy = ScoringPolicy.current()
    policy.signal_alert_score = 0
    policy.save()
    from apps.signals.models import Signal

    seen = factories.article("Tesla (NASDAQ: TSLA) recalls cars over brake fault", analyse=True)
    last_id = Signal.objects.get(article=seen).pk
    for title in ["Apple (NASDAQ: AAPL) beats estimates", "Microsoft (NASDAQ: MSFT) wins record cloud contract"]:
        factories.article(title, analyse=True)  # while the client was away
    events: queue.Queue = queue.Queue()
    headers = {"Authorization": f"Api-Key {key}", "Last-Event-ID": str(last_id)}
    with httpx.Client(base_url=live_server.url, timeout=httpx.Timeout(10)) as http:
        with http.stream("GET", "/api/v1/alerts/stream", headers=headers) as response:
            threading.Thread(target=read_events, args=(response, events), daemon=True).start()
            assert events.get(timeout=5) == ("comment", "connected")
            replayed = [events.get(timeout=5), events.get(timeout=5)]
            factories.article("Nvidia (NASDAQ: NVDA) unveils a faster chip", analyse=True)
            live = events.get(timeout=10)
            while live[0] == "comment":
                live = events.get(timeout=10)
    assert [(kind, data["symbol"]) for kind, data in replayed] == [("signal", "AAPL"), ("signal", "MSFT")]
    assert replayed[0][1]["id"] > last_id and replayed[1][1]["id"] > replayed[0][1]["id"]
    assert live[1]["symbol"] == "NVDA"
    with httpx.Client(base_url=live_server.url, timeout=5) as http:
        bad = http.get("/api/v1/alerts/stream", headers={**headers, "Last-Event-ID": "yesterday"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["Last-Event-ID"]


@pytest.mark.parametrize("last_id", ["\u00b2", "\u0663", "-1"])  # superscript two and Arabic-Indic three: isdigit()
def test_a_last_event_id_that_only_looks_numeric_is_a_400(client, viewer, streaming_for, last_id):
    client.force_login(viewer)
    response = client.get("/api/v1/alerts/stream", HTTP_LAST_EVENT_ID=last_id)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["Last-Event-ID"]
