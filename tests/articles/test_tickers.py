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


def test_ordinary_word_tickers_match_with_a_cashtag_or_prefix():
    assert set(_symbols("$NOW and (NYSE: IT) and $ALL and $A")) == {"NOW", "IT", "ALL", "A"}


def test_company_names_and_aliases():
    found = _symbols("Agilent Technologies and Google sign a deal; Ford Motor Company recalls trucks")
    assert found["A"] == ("name", 0.9)
    assert found["GOOGL"][0] == "alias"
    assert found["F"][0] == "name"


def test_bare_symbols_need_three_letters_and_mixed_case_text():
    assert "NVDA" in _symbols("Analysts say NVDA demand stays strong")
    assert resolve("ANALYSTS SAY NVDA DEMAND STAYS VERY STRONG INTO NEXT YEAR") == []


def test_unknown_cashtag_is_kept_with_low_confidence():
    assert _symbols("$ZZZZ soars")["ZZZZ"] == ("cashtag", 0.6)
