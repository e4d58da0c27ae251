"""The GraphQL API (graphql_api): the same API keys, roles, metering and quotas as REST, cursor pages,
a permission per field, hostile documents refused with a clear 400 before anything runs, and the
exported schema current."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.articles.models import Article
from apps.billing import services
from apps.billing.models import Account, Plan
from apps.signals.models import Signal, SignalOutcome
from tests import factories

pytestmark = pytest.mark.django_db
SIGNALS = "query($first: Int!, $after: String) { signals(first: $first, after: $after) { edges { cursor node { symbol score " \
          "article { title } } } pageInfo { hasNextPage endCursor } } }"


@pytest.fixture(autouse=True)
def _on(settings):
    settings.FLAG_OVERRIDES = {"graphql_api": True}


def _key(user, plan=None):
    plan = plan or Plan.objects.create(name=f"p-{user.pk}", requests_per_minute=1000, requests_per_day=10_000,
                                       analyses_per_month=1, llm_budget_usd=0)
    return services.api_key_create(account=Account.objects.create(owner=user, name=f"{user.username} co", plan=plan),
                                   name="bot")[1]


def _ask(client, key, query, variables=None, **extra):
    return client.post("/api/graphql/", {"query": query, **({"variables": variables} if variables else {}), **extra},
                       content_type="application/json", headers={"Authorization": f"Api-Key {key}"} if key else {})


def _signals(n):
    source = factories.source(name="Wire")
    article = factories.article("Acme wins a large defense contract", source_obj=source)
    now = timezone.now()
    for i in range(n):
        Signal.objects.create(symbol=f"S{i:03d}", t=now - timedelta(minutes=i), score=50 + i % 50, label="Watch",
                              article=article)
    return article


def test_cursor_pages_walk_every_signal_once_newest_first(client, viewer):
    _signals(45)
    key, seen, after = _key(viewer), [], None
    while True:
        body = _ask(client, key, SIGNALS, {"first": 20, "after": after}).json()
        assert "errors" not in body
        page = body["data"]["signals"]
        seen += [edge["node"]["symbol"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"S{i:03d}" for i in range(45)]
    assert page["edges"][0]["node"]["article"]["title"] == "Acme wins a large defense contract"


def test_keys_roles_and_the_switch(client, viewer, settings):
    _signals(1)
    assert _ask(client, None, "{ signals { edges { cursor } } }").status_code in (401, 403)
    assert _ask(client, "nt_bogus", "{ signals { edges { cursor } } }").status_code in (401, 403)
    key = _key(viewer)
    # A viewer may not read outcomes: that field is an error, the rest is answered.
    body = _ask(client, key, "{ signals { edges { node { symbol outcomes { horizon } } } } }").json()
    assert body["errors"][0]["message"] == "Your role lacks: signals.view_signaloutcome."
    assert body["errors"][0]["path"] == ["signals", "edges", 0, "node", "outcomes"]
    settings.FLAG_OVERRIDES = {"graphql_api": False}
    from apps.flags.checks import clear_local_cache

    clear_local_cache()
    off = _ask(client, key, "{ signals { edges { cursor } } }")
    assert off.status_code == 404 and "graphql_api" in off.json()["detail"]


def test_an_analyst_reads_outcomes_and_articles_by_ticker(client, analyst):
    article = _signals(2)
    signal = Signal.objects.first()
    SignalOutcome.objects.create(signal=signal, horizon=5, entry_t=timezone.now(), exit_t=timezone.now(), ret=0.02,
                                 excess_ret=0.01, direction_right=True)
    key = _key(analyst)
    body = _ask(client, key, '{ signal(id: "%d") { outcomes { horizon excessRet directionRight } } '
                             'articles(first: 5) { edges { node { id platform source { name } } } } }' % signal.pk).json()
    assert body["data"]["signal"]["outcomes"] == [{"horizon": 5, "excessRet": 0.01, "directionRight": True}]
    assert body["data"]["articles"]["edges"][0]["node"] == {"id": str(article.pk), "platform": "news", "source": {"name": "Wire"}}


@pytest.mark.parametrize(("query", "says"), [
    ("{ signals { edges { node { article { signals { edges { node { article { signals { edges { node { symbol } }"
     " } } } } } } } } } }", "exceeds maximum operation depth"),
    ("{ " + " ".join(f"a{i}: signals(first: 100) {{ edges {{ node {{ symbol }} }} }}" for i in range(20)) + " }",
     "over the limit of"),
    ("{ " + " ".join(f"a{i}: sources {{ edges {{ cursor }} }}" for i in range(40)) + " }", "aliases"),
    ("{ signals { edges { node { nope } } } }", "Cannot query field 'nope'"),
    ("{ signals(first: 1000) { edges { cursor } } }", None),
    ("{ signals {", "Syntax Error"),
])
def test_hostile_and_broken_queries_are_clear_400s(client, viewer, query, says):
    key = _key(viewer)
    response = _ask(client, key, query)
    body = response.json()
    if says is None:  # a page size past the maximum: the field's error, not a 5xx
        assert response.status_code == 200 and "first: must be between 1 and 100" in body["errors"][0]["message"]
        return
    assert response.status_code == 400 and body["code"] == "invalid_query"
    assert says in body["detail"] and says in body["errors"][0]["message"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"query": ""}, "query"), ({"query": "{ signals { edges { cursor } } }", "variables": [1]}, "variables"),
    ({"queryy": "{ x }"}, "query"),
])
def test_a_bad_request_body_names_the_field(client, viewer, payload, field):
    response = client.post("/api/graphql/", payload, content_type="application/json",
                           headers={"Authorization": f"Api-Key {_key(viewer)}"})
    assert response.status_code == 400 and field in response.json()["errors"]


def test_a_bad_cursor_or_id_is_the_callers_error_never_a_server_error(client, viewer):
    import base64

    key = _key(viewer)
    body = _ask(client, key, '{ signals(after: "bm90IGEgY3Vyc29y") { edges { cursor } } }').json()
    assert "is not a cursor this list gave" in body["errors"][0]["message"]
    huge = base64.urlsafe_b64encode(b"2026-12-01T00:00:00+00:00|" + b"9" * 30).decode()
    body = _ask(client, key, '{ signals(after: "%s") { edges { cursor } } }' % huge).json()
    assert "is not a cursor this list gave" in body["errors"][0]["message"]
    huge_id = base64.urlsafe_b64encode(b"9" * 30).decode()
    body = _ask(client, key, '{ sources(after: "%s") { edges { cursor } } }' % huge_id).json()
    assert "is not a cursor this list gave" in body["errors"][0]["message"]
    body = _ask(client, key, '{ signal(id: "%s") { id } article(id: "-1") { id } }' % ("9" * 30)).json()
    assert body == {"data": {"signal": None, "article": None}}


def test_metering_and_quotas_are_rests(client, viewer):
    plan = Plan.objects.create(name="tiny", requests_per_minute=2, requests_per_day=100, analyses_per_month=1,
                               llm_budget_usd=0)
    key = _key(viewer, plan)
    assert _ask(client, key, "{ sources { edges { cursor } } }").status_code == 200
    assert _ask(client, key, "{ sources { edges { cursor } } }").status_code == 200
    refused = _ask(client, key, "{ sources { edges { cursor } } }")
    assert refused.status_code == 429 and refused.json()["limit"] == 2


def test_the_exported_schema_is_current(capsys):
    call_command("export_graphql_schema", "--check")
    call_command("export_graphql_schema", "--print")
    sdl = capsys.readouterr().out
    assert "type SignalNode" in sdl and "signals(symbol: String = null" in sdl and "type PageInfo" in sdl
    assert Article._meta.get_field("platform")  # (the schema lists the platform field)
    assert "platform: String!" in sdl
