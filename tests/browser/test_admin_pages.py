"""Admin pages in a real browser: Debian's headless Chromium driven through ChromeDriver (selenium)
against the live test server, at the 1,400 px staff use. Skipped where Chromium is not installed,
unless NT_BROWSER_TESTS=required (CI installs it and sets that)."""

import os
import shutil

import pytest

from tests import factories
from tests.conftest import PERSONA_PASSWORD

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver")
if not (os.path.exists(CHROMIUM) and CHROMEDRIVER):
    if os.environ.get("NT_BROWSER_TESTS") == "required":
        raise RuntimeError("NT_BROWSER_TESTS=required but chromium / chromedriver are not installed")
    pytest.skip("Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def log_in(browser, live_server, admin_user):
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(admin_user.username)
    browser.find_element(By.NAME, "password").send_keys(PERSONA_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.current_url == f"{live_server.url}/admin/", browser.current_url  # logged in: the index


def test_the_performance_report_draws_its_charts_in_chromium(browser, live_server, admin_user):
    factories.scored_outcomes()
    log_in(browser, live_server, admin_user)
    browser.get(f"{live_server.url}/admin/signals/signaloutcome/")
    link = browser.find_element(By.CSS_SELECTOR, "ul.object-tools a[href$='/signaloutcome/performance/']")
    assert link.text.lower() == "performance report"  # (the admin's style shows object tools in capitals)
    link.click()
    charts = browser.find_elements(By.CSS_SELECTOR, "svg[role=img]")
    assert len(charts) == 2
    for chart in charts:  # drawn side by side at 1,400 px, each at a readable size
        assert chart.is_displayed() and chart.size["width"] >= 500 and chart.size["height"] >= 200
    lines = browser.find_elements(By.CSS_SELECTOR, "polyline.series")
    assert sorted(line.get_attribute("data-label") for line in lines) == ["High-Conviction", "Watch"]
    bars = browser.find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(bars) == 10 and all(bar.size["height"] > 10 for bar in bars)  # hit rates are 20-80 %: visible
    assert "400 outcome(s)" in browser.find_element(By.ID, "content-main").text

    Select(browser.find_element(By.NAME, "horizon")).select_by_visible_text("+1 sessions")
    browser.find_element(By.CSS_SELECTOR, "input[value=Show]").click()
    assert "horizon=1" in browser.current_url
    assert "0 outcome(s)" in browser.find_element(By.ID, "content-main").text
    assert "No outcomes in this period: nothing to draw." in browser.page_source

    browser.get(f"{live_server.url}/admin/signals/signaloutcome/performance/?since=2026-12-01&until=2026-11-01")
    assert browser.find_element(By.CSS_SELECTOR, ".errornote").text == "'until' must be after 'since'."
