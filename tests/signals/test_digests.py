"""Email digests through a real SMTP server (aiosmtpd on loopback), sent by real jobs."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.flags import services as flag_services
from apps.signals import digests
from apps.signals.models import DigestRun, Frequency
from tests.signals.notify_data import signal, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def week(db):
    """Signals of the last days: three strong ones today, a weak one, an old strong one."""
    return {
        "aapl": signal("Apple (NASDAQ: AAPL) beats estimates and raises guidance", 82, hours_ago=2),
        "msft": signal("Microsoft (NASDAQ: MSFT) wins record cloud contract award", 64, hours_ago=3),
        "nvda": signal("Nvidia (NASDAQ: NVDA) unveils a <b>faster</b> chip", 91, hours_ago=5),
        "tsla": signal("Tesla (NASDAQ: TSLA) recalls cars over brake fault", 30, hours_ago=4),
        "old": signal("Amazon (NASDAQ: AMZN) raises prices for Prime members", 88, hours_ago=60),
    }


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_the_daily_digest_arrives_as_html_and_text_with_the_right_signals(smtp, week, viewer, run_jobs, broker):
    subscribe(user=viewer, frequency="daily", min_score=60)
    broker.get_actor("send_daily_digest").send()
    run_jobs()
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == [viewer.email] and message.is_multipart()
    assert message["Subject"].startswith("News Tunneler daily digest") and message["Subject"].endswith("3 signals")
    text, html = parts(message)
    # grouped by label (High-Conviction before Opportunity), strongest first; weak and old ones left out
    assert [line.split()[0] for line in text.splitlines() if re.match(r"^[A-Z]{2,5}  \d", line)] == ["NVDA", "AAPL", "MSFT"]
    assert text.index("== High-Conviction ==") < text.index("== Opportunity ==")
    assert "TSLA" not in text and "AMZN" not in text
    assert week["aapl"].article.url in text and week["aapl"].article.analysis.summary in text
    assert f'<a href="{week["aapl"].article.url}">' in html
    assert "&lt;b&gt;faster&lt;/b&gt;" in html and "<b>faster</b>" not in html  # outside text escaped
    unsubscribe = re.search(r"https://tunneler\.example\.com/digests/unsubscribe/\S+/", text).group(0)
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # (long: folded onto a second line)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{unsubscribe}"' in html


def test_running_the_job_twice_sends_once(smtp, week, viewer, run_jobs, broker):
    subscribe(user=viewer, frequency="daily")
    subscribe(email=viewer.email.upper(), frequency="daily")  # same address twice
    for _ in range(2):
        broker.get_actor("send_daily_digest").send()
        run_jobs()
    assert len(smtp.messages) == 1
    run = DigestRun.objects.get()
    assert (run.status, run.recipient, run.signal_count) == ("sent", viewer.email, 3)


def test_a_refused_send_is_retried_and_still_sent_once(smtp, week, viewer, run_jobs, broker, fast_notify_retries):
    subscribe(user=viewer, frequency="daily")
    smtp.refuse = 2  # the server answers 451 twice
    broker.get_actor("send_daily_digest").send()
    run_jobs()
    assert len(smtp.messages) == 1 and DigestRun.objects.get().status == "sent"


def test_an_empty_period_sends_nothing(smtp, viewer, run_jobs, broker):
    signal("Tesla (NASDAQ: TSLA) recalls cars over brake fault", 30)
    subscribe(user=viewer, frequency="daily", min_score=60)
    broker.get_actor("send_daily_digest").send()
    run_jobs()
    assert [m.get_body(preferencelist=("plain",)).get_content() for _, m in smtp.messages] == [] and not DigestRun.objects.exists()


def test_the_weekly_digest_is_the_top_20_of_7_days(smtp, viewer, run_jobs, broker):
    for n in range(22):
        signal(f"Company {n} (NYSE: {'ABCDEFGHIJKLMNOPQRSTUV'[n]}XX) wins a contract", 50 + n, hours_ago=24 * (n % 6) + 1)
    signal("Amazon (NASDAQ: AMZN) raises prices for Prime members", 99, hours_ago=24 * 8)
    subscribe(user=viewer, frequency="weekly", min_score=0)
    broker.get_actor("send_weekly_digest").send()
    run_jobs()
    (_, message), = smtp.messages
    text, _ = parts(message)
    scores = [int(m) for m in re.findall(r"^\S+  (\d+)/100", text, re.M)]
    assert scores == sorted(scores, reverse=True) and len(scores) == 20 and min(scores) == 52
    assert "AMZN" not in text and "weekly digest" in message["Subject"]
    assert DigestRun.objects.get().period == digests.period_of(Frequency.WEEKLY, timezone.now())


def test_unsubscribe_is_signed_and_one_click(client, smtp, week, viewer, run_jobs, broker):
    subscription = subscribe(user=viewer, frequency="daily")
    url = digests.unsubscribe_url(subscription).removeprefix("https://tunneler.example.com")
    page = client.get(url)  # a link scanner opening it unsubscribes no one
    assert page.status_code == 200 and "<form method=\"post\">" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.active
    tampered = url.replace(url.split(":")[-1][:4], "AAAA") if ":" in url else url + "x"
    bad = client.post(tampered)
    assert bad.status_code == 400 and "not valid" in bad.content.decode()
    other = subscribe(email="someone@example.com", frequency="daily")
    forged = url.replace(f"/{subscription.pk}:", f"/{other.pk}:")  # another id with this signature
    assert client.post(forged).status_code == 400
    done = client.post(url)  # RFC 8058 one-click: a POST without a CSRF token
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    subscription.refresh_from_db()
    assert not subscription.active and subscription.unsubscribed_at is not None
    broker.get_actor("send_daily_digest").send()
    run_jobs()
    assert [rcpt for rcpt, _ in smtp.messages] == [["someone@example.com"]]


def test_email_digests_off_sends_nothing(smtp, week, viewer, run_jobs, broker):
    subscribe(user=viewer, frequency="daily")
    flag_services.flag_set(name="email_digests", enabled=False)
    broker.get_actor("send_daily_digest").send()
    run_jobs()
    assert smtp.messages == []


def test_send_digest_command(smtp, week, viewer, capsys):
    subscribe(user=viewer, frequency="daily")
    call_command("send_digest", "daily", "--dry-run")
    out = capsys.readouterr().out
    assert f"{viewer.email}: would send (3 signals)" in out and smtp.messages == []
    call_command("send_digest", "daily")
    assert len(smtp.messages) == 1 and "Digests: 1 sent." in capsys.readouterr().out
    call_command("send_digest", "daily")
    assert len(smtp.messages) == 1 and "Digests: 1 already sent." in capsys.readouterr().out
    call_command("send_digest", "daily", "--to", "ops@example.com")
    assert smtp.messages[-1][0] == ["ops@example.com"]
    assert "not subscribed" in parts(smtp.messages[-1][1])[0]
    with pytest.raises(CommandError, match="--to must be an email address"):
        call_command("send_digest", "daily", "--to", "nope")


@pytest.mark.django_db(transaction=False)  # (a transactional test's flush removes what migrations seeded)
def test_digest_schedules_are_seeded():
    from apps.jobs.models import Schedule

    seeded = dict(Schedule.objects.filter(actor__in=["send_daily_digest", "send_weekly_digest"]).values_list("actor", "cron"))
    assert seeded == {"send_daily_digest": "0 8 * * *", "send_weekly_digest": "0 8 * * 1"}
