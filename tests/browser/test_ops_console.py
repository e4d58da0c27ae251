"""The operations console in a real browser (headless Chromium, tests/browser/conftest.py): the overview
on the admin index refreshing itself, a dead-letter group requeued, a flag toggled and rolled back."""

import re
import time

import pytest
from waffle.models import Switch

from apps.flags.models import FlagChange
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, OperatorAction
from tests import factories
from tests.browser.conftest import log_in, wait_for
from tests.jobs import actors
from tests.jobs.conftest import redis_broker, redis_broker_factory  # noqa: F401,F811 - fixtures: the real Redis broker

pytestmark = pytest.mark.django_db(transaction=True)


def stat(browser, name: str) -> str:
    # Read in one script call: the overview replaces its content every few seconds, which would make a
    # found element stale between finding and reading it.
    return browser.execute_script("return document.querySelector(arguments[0]).textContent.trim();",
                                  f"#stat-{name} .nt-n")


def attribute(browser, selector: str, name: str) -> str | None:
    return browser.execute_script("var e = document.querySelector(arguments[0]); return e && e.getAttribute(arguments[1]);",
                                  selector, name)


def test_the_overview_matches_the_database_and_refreshes_after_a_job_dies(browser, live_server, admin_user, broker,
                                                                           worker, run_jobs):
    failing = factories.source(name="Broken wire")
    failing.consecutive_failures, failing.last_error_kind, failing.last_error = 3, "http", "HTTP 503 from upstream"
    failing.save()
    factories.article("Pfizer (NYSE: PFE) receives FDA approval for new therapy", analyse=True)
    log_in(browser, live_server, admin_user)
    overview = browser.find_element("id", "nt-overview")
    apps = browser.find_element("id", "content-main")
    assert overview.is_displayed() and overview.location["y"] < apps.location["y"]  # the first thing staff see
    assert stat(browser, "sources-failing") == "1" and stat(browser, "articles") == "1"
    assert stat(browser, "signals") == "1" and stat(browser, "dead") == str(Job.objects.dead().count()) == "0"
    assert "Broken wire" in browser.execute_script("return document.getElementById('nt-failing').innerText;")
    assert browser.execute_script(
        "return document.querySelector('#nt-pipeline-chart svg').getBoundingClientRect().width;") >= 400

    browser.execute_script("window.ntMarker = 'same page';")  # gone if the page reloads
    enqueue("always_fails", "while staff watch")
    run_jobs()
    wait_for(lambda: stat(browser, "dead") == "1", what="the overview to show the new dead letter")
    assert browser.execute_script("return window.ntMarker;") == "same page"  # refreshed in place, not reloaded
    assert stat(browser, "died") == "1"
    assert attribute(browser, "#nt-job-chart polyline[data-series='always_fails failed']", "data-total") == "1"

    browser.execute_script("document.getElementById('stat-dead').click();")  # every count links to what it counts
    wait_for(lambda: "/admin/jobs/deadletter/" in browser.current_url, what="the dead-letter list")
    assert "always_fails" in browser.find_element("id", "result_list").text


def test_a_dead_letter_group_is_requeued_after_one_confirmation(browser, live_server, admin_user, broker, worker,
                                                               run_jobs):
    timeouts = [enqueue("always_fails", f"timeout after {n} s on source {n * 7}") for n in (3, 5, 8)]
    enqueue("always_fails", "unrelated")
    run_jobs()
    browser.set_window_size(1280, 1000)
    try:
        log_in(browser, live_server, admin_user)
        browser.get(f"{live_server.url}/admin/jobs/deadletter/")
        error = browser.find_element("css selector", "#result_list td.field-error_summary")
        assert error.size["width"] >= 150  # long columns wrap instead of being squeezed
        browser.find_element("css selector", "ul.object-tools a[href$='/deadletter/groups/']").click()
        rows = browser.find_elements("css selector", "tr.dead-letter-group")
        assert [row.get_attribute("data-count") for row in rows] == ["3", "1"]
        rows[0].find_element("xpath", ".//button[starts-with(normalize-space(.), 'Requeue')]").click()
        wait_for(lambda: "Requeue 3 dead letter(s)?" in browser.title, what="the confirmation page")
        browser.find_element("css selector", "input[type=submit][value='Yes, requeue 3']").click()
        wait_for(lambda: browser.find_elements("css selector", ".messagelist"), what="the result message")
        assert re.search(r"Requeue: 3 dead letter\(s\)", browser.find_element("css selector", ".messagelist").text)
    finally:
        browser.set_window_size(1400, 1000)
    assert Job.objects.filter(requeued_from__in=timeouts).count() == 3
    assert sorted(OperatorAction.objects.get(action="requeue").job_ids) == sorted(timeouts)
    rows = browser.find_elements("css selector", "tr.dead-letter-group")
    assert [row.get_attribute("data-count") for row in rows] == ["1"]


def test_a_flag_is_toggled_then_rolled_back_with_the_audit_rows_visible(browser, live_server, admin_user):
    from selenium.webdriver.support.ui import Select

    from apps.flags import services

    services.flag_set(name="redis_caching", enabled=True)  # (a transactional test starts from an empty database)
    switch, before = Switch.objects.get(name="redis_caching"), True
    log_in(browser, live_server, admin_user)
    browser.get(f"{live_server.url}/admin/waffle/switch/{switch.pk}/change/")
    browser.find_element("name", "active").click()
    browser.find_element("name", "_save").click()
    wait_for(lambda: browser.current_url.endswith("/admin/waffle/switch/"), what="the switch list")
    assert Switch.objects.get(pk=switch.pk).active is (not before)

    browser.get(f"{live_server.url}/admin/flags/flagchange/")
    first_row = browser.find_element("css selector", "#result_list tbody tr")
    assert "redis_caching" in first_row.text and "admin" in first_row.text
    first_row.find_element("css selector", "input.action-select").click()
    Select(browser.find_element("name", "action")).select_by_value("roll_back")
    browser.find_element("css selector", "button[name=index]").click()
    plan = wait_for(lambda: browser.find_elements("id", "rollback-plan"), what="the rollback plan")[0].text
    assert f"redis_caching: now {'off' if before else 'on'}, back to {'on' if before else 'off'}" in plan
    assert Switch.objects.get(pk=switch.pk).active is (not before)  # nothing yet
    browser.find_element("css selector", "input[type=submit][value='Yes, roll back']").click()
    wait_for(lambda: browser.find_elements("css selector", ".messagelist"), what="the result message")
    assert "restored to" in browser.find_element("css selector", ".messagelist").text
    assert Switch.objects.get(pk=switch.pk).active is before
    rows = browser.find_elements("css selector", "#result_list tbody tr")
    assert "rollback" in rows[0].text.lower() and "redis_caching" in rows[0].text  # the rollback is audited, and shown
    assert FlagChange.objects.filter(name="redis_caching", source="rollback").count() == 1
    assert FlagChange.objects.filter(name="redis_caching", source="admin", user=admin_user).count() == 1
    assert "{'active'" not in browser.page_source


def test_a_queue_is_paused_and_resumed_from_the_overview(browser, live_server, admin_user, redis_broker):  # noqa: F811
    import dramatiq
    from django.core.cache import cache

    from apps.jobs import queues

    redis_broker.declare(actors.record_order)
    worker = dramatiq.Worker(redis_broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        cache.delete("run-order")
        log_in(browser, live_server, admin_user)
        row = "#nt-queues tr[data-queue='tests']"
        browser.execute_script(f"document.querySelector(\"{row} button\").click();")  # Pause
        wait_for(lambda: attribute(browser, row, "data-paused") == "yes", what="the queue to show paused")
        assert "paused: its messages are held" in browser.find_element("css selector", ".messagelist").text
        assert queues.paused_queues() == {"tests"}
        time.sleep(1.2)  # the worker notices within a second
        ids = [enqueue("record_order", f"b{n}") for n in range(3)]
        time.sleep(2)
        assert cache.get("run-order") is None and Job.objects.filter(pk__in=ids, status="queued").count() == 3
        browser.execute_script(f"document.querySelector(\"{row} button\").click();")  # Resume
        wait_for(lambda: attribute(browser, row, "data-paused") == "no", what="the queue to show running")
        wait_for(lambda: cache.get("run-order") == ["b0", "b1", "b2"], what="the held jobs to run in order")
        assert [a.action for a in OperatorAction.objects.order_by("at")] == ["queue_pause", "queue_resume"]
    finally:
        worker.stop()
