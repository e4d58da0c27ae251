import pytest

from apps.articles.tickers import resolve


def _symbols(text):
    return {m.symbol: (m.how, m.confidence) for m in resolve(text)}


def test_cashtags_and_exchange_prefixes():
    found = _symbols("Apple (NASDAQ: AAPL) rallies while $MSFT and (NYSE:BRK.B) slip")
    assert found["AAPL"] == ("exchange", 0.98)
    assert found["MSFT"] == ("cashtag", 0.95)
    assert found["BRK.B"][0] == "exchange"


@pytest.mark.parametrize("text", [
    "IT spending is up NOW for ALL of A group",
    "A new ON switch is KEY to LOW costs",
    "THE FDA SAYS YES TO ALL OF IT",
])
def test_ordinary_words_never_match_without_a_cashtag_or_prefix(text):
    assert resolve(text) == []


def test_a_venue_counts_only_as_a_word_of_its_own():
    # "ANYSE" is not the NYSE: the next venue in the text still counts.
    assert _symbols("ANYSE: TGT and then (NYSE: TGT) rallies") == {"TGT": ("exchange", 0.98)}
    assert resolve("ANYSE: TGT rallies") == []


def test_ordinary_word_tickers_match_with_a_cashtag_or_prefix():
    assert set(_symbols("$NOW and (NYSE: IT) and $ALL and $A")) == {"NOW", "IT", "ALL", "A"}


def test_company_names_and_aliases():
    found = _symbols("Agilent Technologies and Google sign a deal; Ford Motor Company recalls trucks")
    assert found["A"] == ("name", 0.9)
    assert found["GOOGL"][0] == "alias"
    assert found["F"][0] == "name"


def test_a_bare_symbol_is_only_weak_evidence():
    assert _symbols("NVDA shares rose 3% in early trading")["NVDA"] == ("symbol", 0.7)  # below the 0.75 default
    assert resolve("Analysts say NVDA demand stays strong") == []
    assert resolve("ANALYSTS SAY NVDA SHARES STAY VERY STRONG INTO NEXT YEAR") == []


def test_unknown_cashtag_is_kept_with_low_confidence():
    assert _symbols("$ZZZZ soars")["ZZZZ"] == ("cashtag", 0.6)


@pytest.mark.parametrize("text", [
    # The examples the issue saw resolve to the wrong company: none of them names a US listing.
    "City commission approves zoning changes",
    "(ADP News) - Finnish company Componenta said today its net sales rose",
    "Target : Tieto Corporation is to acquire the unit",
    "Rapala VMC Corp (HEL: RAP1V) reported higher sales",
    "Patrick Jeambar will take over as managing director",
    "The Hayward, Calif.-based company designs test equipment",
    "Telenor ASA OSL: TEL sees growth in Asia",
    "According to the Finnish news agency STT, the talks continue",
    "Sanoma News publishes the largest daily newspaper in Finland",
    "Minerals processing accounted for a third of sales",
    "Powell said the central bank would watch the data",
])
def test_generic_words_agencies_and_foreign_listings_name_no_us_company(text):
    assert resolve(text) == []


def test_a_foreign_venue_never_maps_to_the_us_listing_with_the_same_letters():
    assert resolve("HSBC Holdings (LSE: HSBA) and Siemens (XETRA: SIE) and Tencent (HKEX: 0700) report") == []
    assert _symbols("Telenor (OSL: TEL) and TE Connectivity (NYSE: TEL)")["TEL"][0] == "exchange"


@pytest.mark.parametrize("text, symbol", [
    ("Target Corp. raised its dividend", "TGT"),
    ("Target's quarterly sales rose 3%", "TGT"),
    ("Target shares tumble after the retailer misses estimates", "TGT"),
    ("Hayward Holdings reported record sales", "HAYW"),
    ("Powell Industries raised its guidance", "POWL"),
    ("Pool Corp. cut its annual forecast", "POOL"),
])
def test_a_name_that_is_also_an_ordinary_word_needs_corporate_context(text, symbol):
    assert symbol in _symbols(text)


def test_every_match_keeps_its_evidence():
    (match,) = resolve("Target's quarterly sales rose 3%")
    assert match.as_dict() == {"symbol": "TGT", "confidence": 0.85, "how": "context", "text": "Target's quarterly sales"}


@pytest.mark.django_db
def test_signals_use_only_tickers_at_or_above_the_policy_threshold():
    from apps.articles.models import ScoringPolicy
    from apps.signals.models import Signal
    from tests import factories

    weak = factories.article("NVDA shares jumped 9% after record data center revenue beat estimates", analyse=True)
    assert weak.tickers[0]["how"] == "symbol" and not Signal.objects.filter(article=weak).exists()
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"ticker_min_confidence": 0.6})
    lowered = factories.article("AMD shares jumped 9% after record data center revenue beat estimates", analyse=True)
    assert Signal.objects.get(article=lowered).symbol == "AMD"
