"""The operations overview (admin index) and the dead letters grouped by error, through the admin as staff
see them, against the real database and broker."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.articles.models import Source
from apps.jobs import selectors
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, JobStatus, OperatorAction
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _stat(html: str, name: str) -> str:
    return re.search(rf'id="stat-{name}" href="([^"]*)"><span class="nt-n">([^<]*)</span>', html).group(2)


def _dead(run_jobs, *messages):
    ids = [enqueue("always_fails", message) for message in messages]
    run_jobs()
    return ids


def test_fingerprints_group_messages_that_differ_only_in_numbers_and_ids():
    fp = selectors.fingerprint
    assert fp("TimeoutError", "timed out after 30 s on source 12") == fp("TimeoutError", "timed out after 31.5 s on source 9")
    assert fp("KeyError", "job 0b0c6a3e-8f61-4b7a-9c55-2f1d9a6b7c10 missing") == fp(
        "KeyError", "job 11111111-2222-4333-8444-555555555555 missing")
    assert fp("ValueError", "bad URL") != fp("TypeError", "bad URL")
    assert fp("ValueError", "bad URL") != fp("ValueError", "bad title")
    assert fp("RuntimeError", "") == "RuntimeError"
    assert fp("RuntimeError", "first line 42\nTraceback detail 7") == "RuntimeError: first line <n>"


def test_the_overview_counts_what_the_database_holds_and_links_each_count(admin_client, broker, worker, run_jobs):
    healthy = factories.source()
    failing = factories.source(name="Broken feed")
    Source.objects.filter(pk=failing.pk).update(consecutive_failures=4, last_error_kind="http", last_error="HTTP 503")
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    _dead(run_jobs, "boom 1", "boom 2")
    html = admin_client.get("/admin/").content.decode()
    assert html.index('id="nt-overview"') < html.index('id="content-main"')  # the index's first section
    assert _stat(html, "sources-ok") == str(Source.objects.filter(consecutive_failures=0, enabled=True).count())
    assert _stat(html, "sources-failing") == "1" and "Broken feed" in html and "http: HTTP 503" in html
    assert _stat(html, "articles") == "1" and _stat(html, "signals") == "1" and _stat(html, "analyses") == "1"
    assert _stat(html, "dead") == "2" == str(Job.objects.dead().count())
    assert _stat(html, "died") == "2"
    assert 'data-queue="tests"' in html and "Live workers (1)" in html
    assert 'data-series="always_fails failed" data-total="2"' in html  # the job chart
    assert 'data-series="articles" data-total="1"' in html  # the pipeline chart
    # every count's link lists what it counted
    for name, expected in [("sources-failing", "Broken feed"), ("articles", "Apple"), ("died", "always_fails")]:
        href = re.search(rf'id="stat-{name}" href="([^"]*)"', html).group(1).replace("&amp;", "&")
        assert expected in admin_client.get(href).content.decode(), href
    assert healthy.name not in admin_client.get("/admin/articles/source/?health=failing").content.decode()


def test_died_in_the_last_hour_counts_requeued_deaths_and_not_old_ones(admin_client, broker, worker, run_jobs):
    first, second, old = _dead(run_jobs, "a", "b", "c")
    Job.objects.filter(pk=old).update(finished_at=timezone.now() - timedelta(hours=3))
    admin_client.post("/admin/jobs/job/", {"action": "requeue_jobs", "_selected_action": [first], "confirm": "yes"})
    run_jobs()  # the requeued copy dies again
    assert Job.objects.get(pk=first).status == JobStatus.DISCARDED
    html = admin_client.get("/admin/overview/").content.decode()
    assert _stat(html, "died") == "3"  # first (requeued since), its copy, second; not the one 3 h ago
    assert _stat(html, "dead") == "3"  # second, old, the copy


def test_the_refresh_fragment_is_staff_only(analyst, admin_client):
    from django.test import Client

    fragment = admin_client.get("/admin/overview/")
    assert fragment.status_code == 200 and "no-store" in fragment["Cache-Control"]
    assert "<html" not in fragment.content.decode() and 'id="stat-dead"' in fragment.content.decode()
    client = Client()
    assert client.get("/admin/overview/").status_code == 302
    client.force_login(analyst)
    assert "/admin/login/" in client.get("/admin/overview/")["Location"]


def test_dead_letters_grouped_by_error_requeue_a_whole_group_after_confirming(admin_client, broker, worker, run_jobs):
    timeouts = _dead(run_jobs, "timeout after 30 s on source 1", "timeout after 31 s on source 2",
                     "timeout after 9 s on source 3")
    (other,) = _dead(run_jobs, "bad URL <script>")
    html = admin_client.get("/admin/jobs/deadletter/groups/").content.decode()
    rows = re.findall(r'<tr class="dead-letter-group" data-count="(\d+)">\s*<td class="nt-wrap"><code>([^<]*)</code>', html)
    assert rows == [("3", "RuntimeError: boom for timeout after &lt;n&gt; s on source &lt;n&gt;"),
                    ("1", "RuntimeError: boom for bad URL &lt;script&gt;")]
    assert "<script>" not in html and "traceback" in html
    key = "RuntimeError: boom for timeout after <n> s on source <n>"
    confirm = admin_client.post("/admin/jobs/deadletter/groups/", {"fingerprint": key, "action": "requeue"})
    assert "Requeue 3 dead letter(s)?" in confirm.content.decode()
    assert Job.objects.filter(pk__in=timeouts, status=JobStatus.DEAD).count() == 3  # not before confirming
    done = admin_client.post("/admin/jobs/deadletter/groups/", {"fingerprint": key, "action": "requeue", "confirm": "yes"},
                             follow=True).content.decode()
    assert "Requeue: 3 dead letter(s)" in done
    assert Job.objects.filter(requeued_from__in=timeouts).count() == 3
    assert Job.objects.get(pk=other).status == JobStatus.DEAD  # the other group is untouched
    action = OperatorAction.objects.get(action="requeue")
    assert sorted(action.job_ids) == sorted(timeouts) and action.user.is_staff
    gone = admin_client.post("/admin/jobs/deadletter/groups/", {"fingerprint": key, "action": "discard", "confirm": "yes"},
                             follow=True).content.decode()
    assert "no dead letters any more" in gone


def test_a_jobs_own_page_has_requeue_and_discard(admin_client, broker, worker, run_jobs):
    (job_id,) = _dead(run_jobs, "boom")
    page = admin_client.get(f"/admin/jobs/job/{job_id}/change/").content.decode()
    assert 'id="job-requeue"' in page and 'id="job-discard"' in page
    confirm = admin_client.post("/admin/jobs/job/", {"action": "discard_jobs", "_selected_action": [job_id]})
    assert "Discard 1 job(s)?" in confirm.content.decode() and "&quot;boom&quot;" in confirm.content.decode()
    admin_client.post("/admin/jobs/job/", {"action": "discard_jobs", "_selected_action": [job_id], "confirm": "yes"})
    assert Job.objects.get(pk=job_id).status == JobStatus.DISCARDED
    assert 'id="job-discard"' not in admin_client.get(f"/admin/jobs/job/{job_id}/change/").content.decode()


def test_there_is_one_job_list(admin_client):
    index = admin_client.get("/admin/").content.decode()
    assert "/admin/django_dramatiq/task/" not in index and "/admin/jobs/job/" in index
    assert admin_client.get("/admin/django_dramatiq/task/").status_code == 404
