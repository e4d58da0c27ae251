"""SEC EDGAR Form 4 sources (kind "sec_form4"): the EDGAR current-filings Atom feed of Form 4s, then each
new filing's full submission text, from which the ownershipDocument XML is read.

SEC's fair-access rules are followed: every request declares NT_SEC_USER_AGENT ("Company admin@example.com";
without it nothing is fetched) and at most NT_SEC_MAX_RPS (default and SEC's maximum: 10) requests go out
per second across every worker. A poll reads at most NT_SEC_MAX_FILINGS new filings; the rest wait for the
next poll (the feed lists the latest 100).

Each filing becomes an entry (platform "sec", its issuer's symbol as the ticker) whose meta holds its
non-derivative transactions: issuer, insider, role, code (P, S, A, M …), shares, price, value, date."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import httpx
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings

from apps.articles import feeds
from apps.articles.canonical import canonical_url, url_hash
from apps.articles.feeds import Entry, FeedError, ParsedFeed, platforms
from apps.articles.models import Platform

PLATFORM = Platform.SEC.value
DEFAULT_FEED = ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&type=4&company=&dateb=&owner=include"
                "&start=0&count=100&output=atom")
INDEX = re.compile(r"^(?P<base>https?://[^?#]+/)(?P<accession>\d{10}-\d{2}-\d{6})-index\.html?$")
XML_PART = re.compile(rb"<XML>\s*(.*?)\s*</XML>", re.DOTALL | re.IGNORECASE)
CODES = {"P": "bought", "S": "sold", "A": "was granted", "M": "exercised", "F": "paid tax with", "G": "gave",
         "D": "returned", "C": "converted", "X": "exercised", "J": "reported"}


def _headers(accept: str) -> dict:
    if not settings.SEC_USER_AGENT:
        raise FeedError("config", "SEC sources need NT_SEC_USER_AGENT, a name and a contact address SEC can reach "
                                  "(\"Example Capital admin@example.com\"): SEC's fair-access rules (README: SEC)")
    return {"User-Agent": settings.SEC_USER_AGENT, "Accept": accept}


def _get(url: str, accept: str, client) -> feeds.Fetched:
    return platforms.get(PLATFORM, url, headers=_headers(accept), client=client, per_second=settings.SEC_MAX_RPS)


def read(source, client: httpx.Client | None = None, now: datetime | None = None) -> ParsedFeed:
    from apps.articles.models import Article  # the filings already stored are not fetched again

    now = now or datetime.now(UTC)
    fetched = _get(source.url, "application/atom+xml, application/xml;q=0.9", client)
    listing = feeds.parse(fetched.content, url=fetched.url, content_type=fetched.content_type, now=now)
    filings: dict[str, feeds.Entry] = {}
    for entry in listing.entries:  # each filing is listed twice: as the issuer's and as the insider's
        match = INDEX.match(entry.url)
        if match and match.group("accession") not in filings:
            filings[match.group("accession")] = entry
    hashes = {url_hash(canonical_url(entry.url)): accession for accession, entry in filings.items()}
    known = set(Article.objects.filter(url_hash__in=hashes).values_list("url_hash", flat=True))
    new = [(accession, filings[accession]) for digest, accession in hashes.items() if digest not in known]
    result = ParsedFeed(title=listing.title or "SEC EDGAR Form 4", skipped=listing.skipped)
    problems = []
    for accession, listed in new[:settings.SEC_MAX_FILINGS]:
        document_url = INDEX.match(listed.url).group("base") + f"{accession}.txt"
        try:
            document = _get(document_url, "text/plain, application/xml;q=0.9", client)
            filing = parse_form4(document.content, accession)
        except feeds.RateLimited:
            raise
        except FeedError as exc:  # this filing only: the others are read
            problems.append(f"{accession}: {exc.message}")
            continue
        if filing is None:
            result.skipped += 1  # not a Form 4 with an issuer symbol (an amendment without one, a 4/A oddity)
            continue
        result.entries.append(filing.entry(listed.url, listed.published_at))
    if len(new) > settings.SEC_MAX_FILINGS:
        problems.insert(0, f"{len(new) - settings.SEC_MAX_FILINGS} filing(s) left for the next poll")
    result.warning = "; ".join(problems)[:2000]
    return result


# --- Form 4 ----------------------------------------------------------------------------------------


class Filing:
    def __init__(self, accession: str, issuer: str, symbol: str, insider: str, role: str, is_officer: bool,
                 is_director: bool, transactions: list[dict]):
        self.accession, self.issuer, self.symbol, self.insider = accession, issuer, symbol, insider
        self.role, self.is_officer, self.is_director, self.transactions = role, is_officer, is_director, transactions

    def headline(self) -> str:
        main = max(self.transactions, key=lambda t: (t["code"] in ("P", "S"), float(t["value"] or 0)), default=None)
        who = f"{self.insider} ({self.role})" if self.role else self.insider
        if main is None:
            return f"Form 4: {who} reports no non-derivative transaction in {self.symbol}"
        verb = CODES.get(main["code"], f"reported code {main['code']} for")
        price = f" at ${Decimal(main['price']):,.2f}" if main["price"] else ""
        value = f" (${Decimal(main['value']):,.0f})" if main["value"] else ""
        more = f" and {len(self.transactions) - 1} more" if len(self.transactions) > 1 else ""
        return f"Form 4: {who} {verb} {Decimal(main['shares']):,.0f} {self.symbol} shares{price}{value}{more}"

    def entry(self, url: str, published_at: datetime) -> Entry:
        lines = [f"{t['date']}: {CODES.get(t['code'], t['code'])} {Decimal(t['shares']):,.0f} shares"
                 + (f" at ${Decimal(t['price']):,.2f}" if t["price"] else "") + f" (code {t['code']})"
                 for t in self.transactions]
        return Entry(url=url, title=self.headline()[:1000],
                     summary=f"{self.issuer} ({self.symbol}) insider {self.insider}, {self.role or 'reporting owner'}. "
                             + "; ".join(lines),
                     published_at=published_at,
                     meta={"platform": PLATFORM, "accession": self.accession, "symbols": [self.symbol],
                           "issuer": self.issuer, "insider": self.insider, "role": self.role,
                           "is_officer": self.is_officer, "is_director": self.is_director,
                           "transactions": self.transactions})


def _text(node, path: str) -> str:
    found = node.find(path) if node is not None else None
    return " ".join((found.text or "").split()) if found is not None else ""


def _flag(node, path: str) -> bool:
    return _text(node, path).lower() in ("1", "true")


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None
    return number if number.is_finite() and abs(number) < Decimal("1e15") else None


def parse_form4(content: bytes, accession: str) -> Filing | None:
    """The filing's ownershipDocument: None if it is not a Form 4 naming its issuer's symbol; FeedError
    if its XML cannot be read."""
    part = XML_PART.search(content)
    xml = part.group(1) if part else content
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise FeedError("parse", f"unreadable Form 4 XML: {type(exc).__name__}: {exc}"[:500]) from None
    if root.tag != "ownershipDocument" or _text(root, "documentType") not in ("4", "4/A"):
        return None
    symbol = _text(root, "issuer/issuerTradingSymbol").upper()
    if not re.fullmatch(r"[A-Z]{1,6}(?:[.-][A-Z]{1,2})?", symbol):
        return None
    owners = root.findall("reportingOwner")
    names, roles, officer, director = [], [], False, False
    for owner in owners:
        names.append(_text(owner, "reportingOwnerId/rptOwnerName"))
        relation = owner.find("reportingOwnerRelationship")
        officer |= _flag(relation, "isOfficer")
        director |= _flag(relation, "isDirector")
        roles += [role for role, on in (
            (_text(relation, "officerTitle") if _flag(relation, "isOfficer") else "", True),
            ("Director", _flag(relation, "isDirector")), ("10% owner", _flag(relation, "isTenPercentOwner")),
            (_text(relation, "otherText"), _flag(relation, "isOther"))) if on and role]
    transactions = []
    for line, row in enumerate(root.findall("nonDerivativeTable/nonDerivativeTransaction"), start=1):
        shares = _decimal(_text(row, "transactionAmounts/transactionShares/value"))
        code = _text(row, "transactionCoding/transactionCode").upper()[:2]
        try:
            when = date.fromisoformat(_text(row, "transactionDate/value")[:10])
        except ValueError:
            when = None
        if shares is None or not code or when is None:
            continue  # a row without its essentials is not a transaction we can use
        price = _decimal(_text(row, "transactionAmounts/transactionPricePerShare/value"))
        transactions.append({
            "line": line, "code": code, "date": when.isoformat(), "shares": str(shares),
            "price": str(price) if price is not None else None,
            "value": str((shares * price).quantize(Decimal("0.01"))) if price is not None else None,
            "acquired": _text(row, "transactionAmounts/transactionAcquiredDisposedCode/value").upper() != "D",
            "security": _text(row, "securityTitle/value")[:100],
        })
    return Filing(accession, _text(root, "issuer/issuerName")[:200], symbol, "; ".join(filter(None, names))[:200],
                  ", ".join(dict.fromkeys(roles))[:200], officer, director, transactions)
