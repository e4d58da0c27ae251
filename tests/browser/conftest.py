"""The browser tests' Chromium (Debian's, through its ChromeDriver), their login, and a screenshot of
the page for every failed test (in $NT_SCREENSHOT_DIR, default var/screenshots/)."""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import PERSONA_PASSWORD
from tests.processes import wait_for

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver")
AVAILABLE = os.path.exists(CHROMIUM) and bool(CHROMEDRIVER)
if not AVAILABLE and os.environ.get("NT_BROWSER_TESTS") == "required":
    raise RuntimeError("NT_BROWSER_TESTS=required but chromium / chromedriver are not installed")
SCREENSHOTS = Path(os.environ.get("NT_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots"))


def pytest_collection_modifyitems(items):
    if AVAILABLE:
        return
    skip = pytest.mark.skip(reason="Chromium and ChromeDriver are not installed (apt-get install chromium chromium-driver)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.browser_failed = report.failed


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

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


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request):
    yield
    if getattr(request.node, "browser_failed", False) and "browser" in request.fixturenames:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}.png"
        request.getfixturevalue("browser").save_screenshot(str(path))
        print(f"screenshot of the failed page: {path}")


def log_in(browser, live_server, user):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element("name", "username").send_keys(user.username)
    browser.find_element("name", "password").send_keys(PERSONA_PASSWORD)
    browser.find_element("css selector", "input[type=submit]").click()
    wait_for(lambda: browser.current_url == f"{live_server.url}/admin/", what=f"the admin index (at {browser.current_url})")

