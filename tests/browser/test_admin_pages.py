"""The performance report in a real browser: Debian's headless Chromium driven through ChromeDriver
(selenium, tests/browser/conftest.py) against the live test server, at the 1,400 px staff use. Skipped
where Chromium is not installed, unless NT_BROWSER_TESTS=required (CI installs it and sets that)."""

import pytest

from tests import factories
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_performance_report_draws_its_charts_in_chromium(browser, live_server, admin_user):
    factories.scored_outcomes()
    log_in(browser, live_server, admin_user)
    browser.get(f"{live_server.url}/admin/signals/signaloutcome/")
    link = browser.find_element("css selector", "ul.object-tools a[href$='/signaloutcome/performance/']")
    assert link.text.lower() == "performance report"  # (the admin's style shows object tools in capitals)
    link.click()
    charts = browser.find_elements("css selector", "svg[role=img]")
    assert len(charts) == 2
    for chart in charts:  # drawn side by side at 1,400 px, each at a readable size
        assert chart.is_displayed() and chart.size["width"] >= 500 and chart.size["height"] >= 200
    lines = browser.find_elements("css selector", "polyline.series")
    assert sorted(line.get_attribute("data-label") for line in lines) == ["High-Conviction", "Watch"]
    bars = browser.find_elements("css selector", "rect.bar")
    assert len(bars) == 10 and all(bar.size["height"] > 10 for bar in bars)  # hit rates are 20-80 %: visible
    assert "400 outcome(s)" in browser.find_element("id", "content-main").text

    from selenium.webdriver.support.ui import Select, WebDriverWait

    Select(browser.find_element("name", "horizon")).select_by_visible_text("+1 sessions")
    browser.find_element("css selector", "input[value=Show]").click()
    WebDriverWait(browser, 10).until(lambda b: "horizon=1" in b.current_url)  # the new page, once it has loaded
    assert "0 outcome(s)" in browser.find_element("id", "content-main").text
    assert "No outcomes in this period: nothing to draw." in browser.page_source

    browser.get(f"{live_server.url}/admin/signals/signaloutcome/performance/?since=2026-12-01&until=2026-11-01")
    assert browser.find_element("css selector", ".errornote").text == "'until' must be after 'since'."
