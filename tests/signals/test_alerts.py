"""Slack alerts and outbound webhooks, against a local HTTP receiver (pytest-httpserver)."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.articles.models import ScoringPolicy
from apps.flags import services as flag_services
from apps.jobs.models import Job
from apps.signals import notify
from apps.signals.models import Signal, WebhookDelivery, WebhookEndpoint
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def every_signal_is_strong(db):
    policy = ScoringPolicy.current()
    policy.signal_alert_score = 0
    policy.save()


@pytest.fixture
def slack(settings, httpserver):
    settings.SLACK_WEBHOOK_URL = httpserver.url_for("/services/T000/B000/XXXX")
    return httpserver


def posts(server, path):
    return [json.loads(request.data) for request, _ in server.log if request.path == path]


def test_a_strong_signal_posts_a_slack_message(slack, every_signal_is_strong, run_jobs):
    slack.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_data("ok")
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates <script>alert(1)</script>", analyse=True)
    run_jobs()
    (message,) = posts(slack, "/services/T000/B000/XXXX")
    signal = Signal.objects.get(article=article)
    headline = f"AAPL {signal.score:.0f}/100 {signal.label} ({signal.stance.lower()})"
    assert message["text"] == f"{headline}: Apple (NASDAQ: AAPL) beats estimates &lt;script&gt;alert(1)&lt;/script&gt;"
    section = message["blocks"][0]["text"]
    assert section["type"] == "mrkdwn" and section["text"].startswith(f"*{headline}*\n<{article.url}|Apple")
    assert "<script>" not in json.dumps(message)


def test_weak_signals_are_not_alerted(slack, run_jobs, fast_notify_retries):
    policy = ScoringPolicy.current()
    policy.signal_alert_score = 99.5
    policy.save()
    article = factories.article("Apple (NASDAQ: AAPL) schedules its annual meeting", analyse=True)
    run_jobs()
    assert Signal.objects.get(article=article).score < 99.5
    assert posts(slack, "/services/T000/B000/XXXX") == []


def test_alerts_are_debounced_per_symbol_and_article_for_the_window(slack, every_signal_is_strong, run_jobs, broker,
                                                                    settings):
    slack.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_data("ok")
    first = factories.article("Apple (NASDAQ: AAPL) beats estimates", analyse=True)
    run_jobs()
    signal = Signal.objects.get(article=first)
    for _ in range(3):  # the same signal again (a retried or repeated job): debounced
        broker.get_actor("send_slack_alert").send(signal.pk)
    run_jobs()
    assert len(posts(slack, "/services/T000/B000/XXXX")) == 1
    factories.article("Apple (NASDAQ: AAPL) raises its dividend by 10%", analyse=True)  # same symbol, other article
    run_jobs()
    assert len(posts(slack, "/services/T000/B000/XXXX")) == 2
    settings.ALERT_DEBOUNCE_SECONDS = 1
    from django_redis import get_redis_connection
    get_redis_connection("default").delete(notify.debounce_key(notify.signal_payloads([signal.pk])[0]))  # window over
    broker.get_actor("send_slack_alert").send(signal.pk)
    run_jobs()
    assert len(posts(slack, "/services/T000/B000/XXXX")) == 3


def test_slack_alerts_off_posts_nothing(slack, every_signal_is_strong, run_jobs):
    flag_services.flag_set(name="slack_alerts", enabled=False)
    factories.article("Apple (NASDAQ: AAPL) beats estimates", analyse=True)
    run_jobs()
    assert posts(slack, "/services/T000/B000/XXXX") == []


@pytest.fixture
def endpoint(httpserver):
    return WebhookEndpoint.objects.create(name="desk", url=httpserver.url_for("/hook"), secret="s3cret-shared",
                                          event_types=["signal.created"])


def test_webhook_payload_is_signed_with_the_secret(httpserver, endpoint, every_signal_is_strong, run_jobs):
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks", status=202)
    article = factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract", analyse=True)
    run_jobs()
    (request, _), = [entry for entry in httpserver.log if entry[0].path == "/hook"]
    body = request.get_data()
    # What a receiver does, written out here independently of the code under test:
    parts = dict(item.split("=", 1) for item in request.headers["X-NT-Signature"].split(","))
    expected = hmac.new(b"s3cret-shared", parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - timezone.now().timestamp()) < 60
    assert not notify.verify("another-secret", request.headers["X-NT-Signature"], body)
    event = json.loads(body)
    assert event["type"] == "signal.created" == request.headers["X-NT-Event"]
    assert event["id"] == request.headers["X-NT-Delivery"]
    assert event["data"]["symbol"] == "MSFT" and event["data"]["article_id"] == article.pk
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status_code, delivery.ok, delivery.attempt) == (202, True, 1)
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None and endpoint.failing_since is None


def test_failing_endpoint_is_retried_then_dead_lettered(httpserver, endpoint, every_signal_is_strong, run_jobs,
                                                        fast_notify_retries):
    httpserver.expect_request("/hook", method="POST").respond_with_data("boom", status=500)
    factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract", analyse=True)
    run_jobs()
    deliveries = list(WebhookDelivery.objects.order_by("attempt"))
    assert [d.attempt for d in deliveries] == [1, 2, 3, 4, 5, 6]  # first try + 5 retries
    assert {(d.status_code, d.ok) for d in deliveries} == {(500, False)}
    assert len({d.event_id for d in deliveries}) == 1
    job = Job.objects.get(actor="deliver_webhook")
    assert job.status == "dead" and job.attempts == 6 and "HTTP 500: boom" in job.traceback
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None


def test_an_endpoint_failing_for_24_hours_is_disabled_with_the_reason(httpserver, endpoint, run_jobs, admin_client,
                                                                       broker):
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=25))
    notify.emit("signal.created", {"symbol": "MSFT"})
    run_jobs()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "failing since" in endpoint.disabled_reason and "HTTP 503: down" in endpoint.disabled_reason
    job = Job.objects.get(actor="deliver_webhook")
    assert job.status == "dead" and job.attempts == 1  # no retries once disabled
    page = admin_client.get("/admin/signals/webhookendpoint/").content.decode()
    assert "HTTP 503: down" in page
    assert notify.emit("signal.created", {"symbol": "MSFT"}) == 0  # a disabled endpoint gets nothing


def test_webhook_to_a_private_address_is_refused(httpserver, endpoint, settings, run_jobs):
    settings.ALLOW_PRIVATE_URLS = False
    notify.emit("signal.created", {"symbol": "MSFT"})
    run_jobs()
    assert httpserver.log == []  # nothing reached the server on loopback
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code is None and delivery.error.startswith("refused:") and "127.0.0.1" in delivery.error
    job = Job.objects.get(actor="deliver_webhook")
    assert job.status == "dead" and job.attempts == 1


def test_a_dead_job_is_announced_to_job_dead_endpoints(httpserver, slack, every_signal_is_strong, run_jobs,
                                                       fast_notify_retries):
    slack.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_data("no", status=500)
    httpserver.expect_request("/ops", method="POST").respond_with_data("ok")
    WebhookEndpoint.objects.create(name="ops", url=httpserver.url_for("/ops"), event_types=["job.dead"])
    factories.article("Apple (NASDAQ: AAPL) beats estimates", analyse=True)
    run_jobs()
    (request, _), = [entry for entry in httpserver.log if entry[0].path == "/ops"]
    event = json.loads(request.get_data())
    assert event["type"] == "job.dead" and event["data"]["actor"] == "send_slack_alert"
    assert event["data"]["attempts"] == 6 and "HTTP 500" in event["data"]["error"]


def test_webhook_notifications_off_queues_nothing(endpoint):
    flag_services.flag_set(name="webhook_notifications", enabled=False)
    assert notify.emit("signal.created", {"symbol": "MSFT"}) == 0
    assert not Job.objects.filter(actor="deliver_webhook").exists()


def test_admin_form_names_every_bad_field(admin_client, settings):
    settings.ALLOW_PRIVATE_URLS = False
    page = admin_client.get("/admin/signals/webhookendpoint/add/").content.decode()
    assert 'type="checkbox" name="event_types" value="job.dead"' in page
    response = admin_client.post("/admin/signals/webhookendpoint/add/", {
        "name": "desk", "url": "http://127.0.0.1:9/hook", "secret": "x", "enabled": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"url", "event_types"} and "127.0.0.1" in errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_old_news_and_backfills_are_not_announced(httpserver, endpoint, every_signal_is_strong, run_jobs):
    from django.core.management import call_command

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    factories.article("Apple (NASDAQ: AAPL) beats estimates", analyse=True,
                      published_at=timezone.now() - timedelta(days=3))  # a feed listing an old story
    factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract", analyse=True)  # fresh
    run_jobs()
    assert [d.event_type for d in WebhookDelivery.objects.all()] == ["signal.created"]  # MSFT only
    Signal.objects.all().delete()  # the analyses stay: backfill_signals rebuilds the signals from them
    call_command("backfill_signals")
    run_jobs()
    assert set(Signal.objects.values_list("symbol", flat=True)) == {"AAPL", "MSFT"}
    assert WebhookDelivery.objects.count() == 1  # rebuilt silently


def test_a_reanalysis_that_turns_a_weak_signal_strong_announces_it_once(slack, run_jobs):
    from apps.articles import services as article_services

    slack.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_data("ok")
    policy = ScoringPolicy.current()
    policy.signal_alert_score = 100  # nothing is strong at first
    policy.save()
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    run_jobs()
    signal = Signal.objects.get(article=article)
    assert posts(slack, "/services/T000/B000/XXXX") == []
    Signal.objects.filter(pk=signal.pk).update(score=signal.score - 10)  # as an older, weaker analysis left it
    policy.signal_alert_score = signal.score - 1
    policy.save()
    article_services.article_analyze(article=article)  # a new model (or backfill) scores it strong
    run_jobs()
    assert len(posts(slack, "/services/T000/B000/XXXX")) == 1
    article_services.article_analyze(article=article)  # still strong: not announced again
    run_jobs()
    assert len(posts(slack, "/services/T000/B000/XXXX")) == 1
