"""The API docs pages in a real browser, as a key holder without an admin login uses them: paste the key,
read the schema, try a call (Swagger UI); read the reference (ReDoc)."""

import pytest

from apps.billing import services
from apps.billing.models import Account, Plan
from tests.browser.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(viewer):
    plan = Plan.objects.create(name="docs-plan", requests_per_minute=600, requests_per_day=10_000, analyses_per_month=10)
    _, key = services.api_key_create(account=Account.objects.create(owner=viewer, name="Docs reader", plan=plan),
                                     name="docs")
    return key


def text(browser) -> str:
    return browser.execute_script("return document.body.innerText;")


def test_swagger_ui_takes_a_pasted_key_and_tries_a_call(browser, live_server, key):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/api/docs/")
    browser.execute_script("sessionStorage.clear();")
    browser.get(f"{live_server.url}/api/docs/")
    wait_for(lambda: "no key: paste one" in text(browser), what="the key bar")
    browser.find_element("id", "nt-api-key").send_keys(key)
    browser.find_element("id", "nt-use-key").click()
    wait_for(lambda: "/api/v1/signals/latest/" in text(browser), what="the schema's operations, read with the key")
    assert "using the key pasted in this tab" in text(browser)
    browser.find_element("css selector", "#operations-v1-v1_billing_limits_retrieve .opblock-summary").click()
    wait_for(lambda: browser.find_elements("css selector", ".try-out__btn"), what="Try it out")[0].click()
    browser.find_element("css selector", ".execute").click()
    body = wait_for(lambda: browser.find_elements("css selector", ".live-responses-table .response-col_description pre"),
                    what="the call's answer")[0].text
    assert '"plan": "docs-plan"' in body  # the call was made with the pasted key
    browser.find_element("id", "nt-forget-key").click()
    wait_for(lambda: "no key: paste one" in text(browser), what="the key forgotten")


def test_redoc_reads_the_schema_with_the_pasted_key(browser, live_server, key):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/api/redoc/")
    browser.execute_script("sessionStorage.clear();")
    browser.find_element("id", "nt-api-key").send_keys(key)
    browser.find_element("id", "nt-use-key").click()
    wait_for(lambda: "Financial news turned into per-ticker trading signals." in text(browser), what="ReDoc's page")
    assert "fonts.googleapis.com" not in browser.page_source  # nothing from a CDN
