"""SEC EDGAR Form 4 sources against a local server answering as EDGAR does: the current-filings Atom
feed, then each filing's full submission text. SEC's fair-access rules (a declared User-Agent, at most
10 requests/s across workers), each non-derivative transaction stored, and the open-market trades of
officers and directors turned into INSIDER signals with reasons."""

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from apps.articles import polling
from apps.articles.feeds import sec
from apps.articles.models import Article, InsiderTransaction, ScoringPolicy, Source, SourceKind
from apps.jobs.models import Job
from apps.signals import services as signal_services
from apps.signals.models import Signal

pytestmark = pytest.mark.django_db
UA = "News Tunneler Tests ops@example.com"


def form4(symbol="ACME", owner="Doe Jane", officer=True, director=False, title="Chief Executive Officer",
          rows=(("P", "10000", "50.00", "A"),), date="2026-12-01"):
    table = "".join(f"""
    <nonDerivativeTransaction>
      <securityTitle><value>Common Stock</value></securityTitle>
      <transactionDate><value>{date}</value></transactionDate>
      <transactionCoding>
        <transactionFormType>4</transactionFormType><transactionCode>{code}</transactionCode>
      </transactionCoding>
      <transactionAmounts>
        <transactionShares><value>{shares}</value></transactionShares>
        <transactionPricePerShare><value>{price}</value></transactionPricePerShare>
        <transactionAcquiredDisposedCode><value>{ad}</value></transactionAcquiredDisposedCode>
      </transactionAmounts>
    </nonDerivativeTransaction>""" for code, shares, price, ad in rows)
    return f"""<SEC-DOCUMENT>0000000000-26-000001.txt
<DOCUMENT><TYPE>4<TEXT><XML>
<?xml version="1.0"?>
<ownershipDocument>
  <schemaVersion>X0508</schemaVersion><documentType>4</documentType><periodOfReport>{date}</periodOfReport>
  <issuer><issuerCik>0000000001</issuerCik><issuerName>Acme Widgets Inc</issuerName>
    <issuerTradingSymbol>{symbol}</issuerTradingSymbol></issuer>
  <reportingOwner>
    <reportingOwnerId><rptOwnerCik>0000000002</rptOwnerCik><rptOwnerName>{owner}</rptOwnerName></reportingOwnerId>
    <reportingOwnerRelationship><isDirector>{int(director)}</isDirector><isOfficer>{int(officer)}</isOfficer>
      <isTenPercentOwner>0</isTenPercentOwner><isOther>0</isOther><officerTitle>{title}</officerTitle>
    </reportingOwnerRelationship>
  </reportingOwner>
  <nonDerivativeTable>{table}</nonDerivativeTable>
</ownershipDocument>
</XML></TEXT></DOCUMENT></SEC-DOCUMENT>""".encode()


def folder(n, accession):
    return f"/Archives/edgar/data/{n}/{accession.replace('-', '')}"


def atom(base, accessions):
    updated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S-00:00")
    entries = "".join(
        f"""<entry><title>4 - {who} ({n:010d}) ({role})</title>
<link rel="alternate" type="text/html" href="{base}{folder(n, acc)}/{acc}-index.htm"/>
<summary type="html">Filed: 2026-12-01</summary><updated>{updated}</updated>
<category scheme="https://www.sec.gov/" label="form type" term="4"/><id>urn:tag:sec.gov,2008:accession-number={acc}</id></entry>"""
        for n, acc in enumerate(accessions, start=1)
        for who, role in (("ACME WIDGETS INC", "Issuer"), ("Doe Jane", "Reporting")))
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Latest Filings</title><link rel="alternate" href="{base}/cgi-bin/browse-edgar?action=getcurrent"/>
<updated>{updated}</updated><author><name>Webmaster</name><email>webmaster@sec.gov</email></author><id>urn:tag:sec.gov,2008:feed</id>{entries}</feed>""".encode()


@pytest.fixture
def edgar(httpserver, settings):
    settings.SEC_USER_AGENT = UA
    settings.FLAG_OVERRIDES = {"insider_trading": True}
    return httpserver


def _serve(edgar, documents, stamps=None):
    """The feed listing `documents` (accession: submission text) and each document; `stamps` gets the time
    of every request."""
    stamps = [] if stamps is None else stamps

    def answer(body, content_type):
        return lambda request: (stamps.append(time.time()), Response(body, content_type=content_type))[1]

    base = edgar.url_for("").rstrip("/")
    feed = answer(atom(base, list(documents)), "application/atom+xml")
    edgar.expect_request("/cgi-bin/browse-edgar").respond_with_handler(feed)
    for n, (accession, body) in enumerate(documents.items(), start=1):
        edgar.expect_request(f"{folder(n, accession)}/{accession}.txt").respond_with_handler(answer(body, "text/plain"))
    return Source.objects.create(kind=SourceKind.SEC_FORM4, url=f"{base}/cgi-bin/browse-edgar?action=getcurrent&type=4&output=atom")


def test_each_filing_becomes_an_article_and_its_transactions_rows(edgar):
    source = _serve(edgar, {
        "0000000001-26-000001": form4(rows=(("P", "10000", "50.00", "A"), ("S", "2000", "51.25", "D"))),
        "0000000001-26-000002": form4(symbol="WIDG", owner="Roe Richard", officer=False, director=True, title="",
                                      rows=(("A", "5000", "0", "A"),)),
        "0000000001-26-000003": b"<XML><notAForm/></XML>",
    })

    result = polling.source_poll(source=source)

    assert (result.status, result.new) == ("ok", 2)
    article = Article.objects.get(url__endswith="0000000001-26-000001-index.htm")
    assert article.platform == "sec"
    assert article.tickers[0] == {"symbol": "ACME", "confidence": 1.0, "how": "filing", "text": "ACME"}
    assert article.title == ("Form 4: Doe Jane (Chief Executive Officer) bought 10,000 ACME shares at $50.00 ($500,000) "
                             "and 1 more")
    rows = list(InsiderTransaction.objects.filter(accession="0000000001-26-000001").order_by("line")
                .values_list("code", "shares", "price", "value", "acquired", "is_officer", "role"))
    assert [(code, int(shares), float(price), float(value), acquired) for code, shares, price, value, acquired, *_ in rows] == [
        ("P", 10000, 50.0, 500000.0, True), ("S", 2000, 51.25, 102500.0, False)]
    assert rows[0][5] is True and rows[0][6] == "Chief Executive Officer"
    award = InsiderTransaction.objects.get(accession="0000000001-26-000002")
    assert (award.code, award.symbol, award.is_director, award.role) == ("A", "WIDG", True, "Director")
    assert Job.objects.filter(actor="signals_from_filing").count() == 2  # one per new filing
    # Every request declared who we are, as SEC's fair-access rules ask.
    assert all(request.headers["User-Agent"] == UA for request, _ in edgar.log)
    # The next poll fetches no filing it has already.
    fetched = len(edgar.log)
    assert polling.source_poll(source=source).new == 0
    assert len(edgar.log) == fetched + 2  # the feed, and the one unreadable filing tried again


def test_no_user_agent_no_request(edgar, settings):
    settings.SEC_USER_AGENT = ""
    source = _serve(edgar, {"0000000001-26-000001": form4()})
    polling.source_poll(source=source)
    source.refresh_from_db()
    assert source.last_error_kind == "config" and "NT_SEC_USER_AGENT" in source.last_error and not edgar.log


def test_at_most_ten_requests_a_second(edgar, settings):
    settings.SEC_MAX_RPS = 10
    stamps = []
    source = _serve(edgar, {f"0000000001-26-{n:06d}": form4(symbol=f"AB{chr(65 + n)}") for n in range(1, 25)}, stamps)
    started = time.monotonic()
    assert polling.source_poll(source=source).new == 24
    assert time.monotonic() - started >= 1.9 and len(stamps) == 25  # 25 requests at 10/s
    assert max(Counter(int(stamp) for stamp in stamps).values()) <= 10
    # and no 10 consecutive requests closer together than a second allows (any sliding window)
    assert all(later - earlier > 0.9 for earlier, later in zip(stamps, stamps[10:], strict=False))


def test_an_officers_large_open_market_purchase_makes_an_insider_signal(edgar):
    source = _serve(edgar, {
        "0000000001-26-000001": form4(rows=(("P", "20000", "50.00", "A"),)),  # $1,000,000 by the CEO
        "0000000001-26-000002": form4(symbol="SMAL", rows=(("P", "100", "10.00", "A"),)),  # $1,000: too small
        "0000000001-26-000003": form4(symbol="AWRD", rows=(("A", "90000", "50.00", "A"),)),  # an award: never
        "0000000001-26-000004": form4(symbol="SELL", owner="Roe Richard", officer=False, director=True, title="",
                                      rows=(("S", "40000", "25.00", "D"),)),  # a director's $1,000,000 sale
    })
    polling.source_poll(source=source)
    made = {}
    for article in Article.objects.filter(platform="sec"):
        for signal in signal_services.signals_from_filing(article=article, announce=False):
            made[signal.symbol] = signal
    assert set(made) == {"ACME", "SELL"}
    buy, sale = made["ACME"], made["SELL"]
    assert buy.stance == "BULLISH" and buy.score > 60 and buy.features["catalyst"] == "INSIDER"
    assert "Doe Jane (Chief Executive Officer) bought 20,000 shares at $50.00 ($1,000,000)" in buy.reasons[0]["detail"]
    assert sale.stance == "BEARISH" and sale.score < 50 and 50 - sale.score < buy.score - 50  # sales count half
    assert buy.article.platform == "sec" and Signal.objects.count() == 2


def test_the_minimum_value_is_the_policys(edgar):
    policy = ScoringPolicy.current()
    policy.insider_min_value = 2_000_000
    policy.save()
    _serve(edgar, {"0000000001-26-000001": form4(rows=(("P", "20000", "50.00", "A"),))})
    polling.source_poll(source=Source.objects.get())
    assert signal_services.signals_from_filing(article=Article.objects.get(platform="sec"), announce=False) == []


def test_hostile_xml_is_refused_not_expanded():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<ownershipDocument><documentType>&lol2;</documentType></ownershipDocument>"""
    with pytest.raises(sec.FeedError) as error:
        sec.parse_form4(bomb, "0000000001-26-000001")
    assert error.value.kind == "parse"
    assert sec.parse_form4(form4(), "x").transactions[0]["value"] == "500000.00"


def test_the_api_lists_transactions_and_filings(edgar, client, viewer):
    from apps.billing import services as billing
    from apps.billing.models import Account, Plan

    plan = Plan.objects.create(name="t", requests_per_minute=100, requests_per_day=1000, analyses_per_month=1,
                               llm_budget_usd=0)
    key = billing.api_key_create(account=Account.objects.create(owner=viewer, name="v", plan=plan), name="bot")[1]
    headers = {"Authorization": f"Api-Key {key}"}
    _serve(edgar, {"0000000001-26-000001": form4(rows=(("P", "10000", "50.00", "A"), ("A", "500", "0", "A"))),
                   "0000000001-26-000002": form4(symbol="WIDG", rows=(("S", "100", "20.00", "D"),))})
    polling.source_poll(source=Source.objects.get())
    everything = client.get("/api/v1/insider-transactions/", headers=headers).json()["results"]
    assert len(everything) == 3
    trades = client.get("/api/v1/insider-transactions/?open_market=true&symbol=acme", headers=headers).json()["results"]
    assert [(t["symbol"], t["code"], t["shares"], t["value"], t["role"]) for t in trades] == [
        ("ACME", "P", "10000.0000", "500000.00", "Chief Executive Officer")]
    assert trades[0]["filing_url"].endswith("0000000001-26-000001-index.htm")
    bad = client.get("/api/v1/insider-transactions/?since=yesterday", headers=headers)
    assert bad.status_code == 400 and "since" in bad.json()["errors"]
    filings = client.get("/api/v1/articles/?platform=sec", headers=headers).json()["results"]
    assert len(filings) == 2 and {f["platform"] for f in filings} == {"sec"}
    detail = client.get(f"/api/v1/articles/{filings[0]['id']}/", headers=headers).json()
    assert detail["meta"]["accession"].startswith("0000000001-26-") and detail["meta"]["transactions"]
    assert client.get("/api/v1/articles/?platform=rss", headers=headers).status_code == 400
