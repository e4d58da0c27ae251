import pytest

from apps.articles import scoring
from apps.articles.models import Article, ScoringPolicy
from apps.articles.tickers import resolve


def test_catalyst_keywords_match_whole_words_only():
    assert scoring.catalyst("The commission approved the budget")[0] == 0
    strength, kind, matched = scoring.catalyst("Company misses estimates")
    assert (kind, matched) == ("EARNINGS", {"EARNINGS": ["misses"]}) and strength > 0


def test_strongest_catalyst_type_wins():
    assert scoring.catalyst("Acme to acquire Widget in merger; FDA news pending")[1] == "M&A"


@pytest.mark.parametrize(("text", "sign"), [
    ("Shares surge after record profit", 1),
    ("Shares plunge after guidance cut and lawsuit", -1),
    ("Company did not beat estimates", -1),
    ("Company holds annual meeting", 0),
])
def test_sentiment_direction(text, sign):
    value = scoring.sentiment(text)
    assert (value > 0) - (value < 0) == sign
    assert -1 <= value <= 1


def test_novelty_compares_with_recent_titles_not_age():
    index = scoring.NoveltyIndex(["Apple beats estimates on iPhone sales"])
    same, _ = index.novelty("Apple beats estimates on iPhone sales")
    similar, similarity = index.novelty("Apple beats estimates on strong iPhone sales")
    different, _ = index.novelty("Tesla recalls 2 million vehicles")
    assert same == 0 and 0 < similar < 5 and different == 5 and 0 < similarity < 1


def test_novelty_counts_many_candidates_to_the_same_similarity_as_comparing_sets():
    """Past SET_BY_SET candidate titles the shared bigrams are counted from the inverted index (numpy);
    the result must be the exact Jaccard a title-by-title comparison gives, boilerplate bigrams (held by
    more than COMMON_SHARE of the window) included in the comparison though they pick no candidate."""
    import random

    rng = random.Random(7)
    companies = [f"company{n}" for n in range(12)]
    verbs = ["beats", "misses", "raises", "cuts", "wins", "loses"]
    objects = ["guidance", "estimates", "contract", "approval", "lawsuit", "buyback", "dividend", "outlook"]

    def headline():
        words = [rng.choice(companies), rng.choice(verbs), rng.choice(objects), "shares", "rise"]
        return " ".join(words + [f"tag{rng.randrange(400)}" for _ in range(rng.randrange(3))])

    titles = [headline() for _ in range(3000)]
    index = scoring.NoveltyIndex(titles)
    sets = [scoring.shingles(title) for title in titles]
    held: dict[str, int] = {}
    for bigrams in sets:
        for bigram in bigrams:
            held[bigram] = held.get(bigram, 0) + 1
    limit = max(50, int(scoring.COMMON_SHARE * len(sets)))
    counted = 0
    for probe in [headline() for _ in range(200)]:
        mine = scoring.shingles(probe)
        rare = {bigram for bigram in mine if 0 < held.get(bigram, 0) <= limit}
        candidates = [other for other in sets if rare & other]
        counted += len(candidates) > scoring.SET_BY_SET
        expected = max((len(mine & other) / len(mine | other) for other in candidates), default=0.0)
        assert index.similarity(probe) == expected, probe
    assert counted > 100  # most probes took the counting path
    assert held["shares rise"] > limit  # a boilerplate bigram every title shares, in every comparison


def test_a_batch_is_compared_within_itself_as_an_index_built_title_by_title_would():
    """similarities_within (a poll group's titles, counted at once) gives each title exactly the similarity
    an index of the titles before it gives: with bigrams rare in the batch, bigrams held by more than 51 of
    its titles (rare for the first 50 holders, boilerplate after), repeated, empty and one-word titles."""
    import random

    rng = random.Random(11)
    companies = [f"company{n}" for n in range(30)]

    def headline():
        words = [rng.choice(companies), rng.choice(["beats", "misses", "raises", "cuts"]),
                 rng.choice(["guidance", "estimates", "outlook"]), "shares", "rise"]
        return " ".join(words + [f"tag{rng.randrange(300)}" for _ in range(rng.randrange(4))])

    def one_by_one(titles):
        index, found = scoring.NoveltyIndex(), []
        for title in titles:
            found.append(index.similarity(title))
            index.add(title)
        return found

    titles = [headline() for _ in range(700)]
    titles[100:100] = ["", "Apple", "the", titles[5], titles[5]]
    found = scoring.similarities_within(titles)
    assert found == one_by_one(titles)
    assert found[0] == 0 and found[103] == found[104] == 1.0 and len(set(found)) > 10
    held = sum(scoring.shingles(title) >= {"shares rise"} for title in titles)
    assert held > 51  # boilerplate for the later titles, a candidate picker for the first 50
    for titles in ([], [""], ["Apple beats"] * 60, [headline() for _ in range(60)]):
        assert scoring.similarities_within(titles) == one_by_one(titles)


def test_a_batch_past_the_pair_table_is_indexed_title_by_title(monkeypatch):
    titles = [f"Company{n % 7} beats estimates tag{n}" for n in range(40)]
    expected = scoring.similarities_within(titles)
    monkeypatch.setattr(scoring, "MAX_CELLS", 100)
    assert scoring.similarities_within(titles) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&output=atom", 5),
    ("https://investor.apple.com/rss", 5),
    ("https://ir.tesla.com/feed", 5),
    ("https://www.prnewswire.com/rss/news.rss", 5),
    ("https://feeds.reuters.com/reuters/businessNews", 4),
    ("https://www.bloomberg.com/feed", 4),
    ("https://random-blog.example.com/feed", 2),
])
def test_default_credibility_by_domain(url, expected):
    assert scoring.default_credibility(url) == expected


@pytest.mark.django_db
def test_weighted_total_follows_the_policy():
    parts = scoring.score_text("Apple (NASDAQ: AAPL) beats estimates, raises guidance", "", 5.0,
                               resolve("Apple (NASDAQ: AAPL)"), scoring.NoveltyIndex())
    policy = ScoringPolicy.current()
    unit = parts.total(policy)
    assert unit == pytest.approx(parts.catalyst + parts.novelty + parts.credibility + 5 * abs(parts.sentiment) + parts.liquidity)
    assert parts.liquidity == 5.0  # AAPL is a large cap
    policy.weight_novelty = 0
    assert parts.total(policy) == pytest.approx(unit - parts.novelty)
    assert unit >= policy.alert_threshold == 12


@pytest.fixture
def read_every_call(monkeypatch):
    """The index reads the database at each call (READ_EVERY is wall-clock time; these tests move `now`)."""
    monkeypatch.setattr("apps.articles.recent.READ_EVERY", 0.0)


@pytest.mark.django_db
def test_recent_titles_follow_the_window_without_rereading_it(django_assert_num_queries, read_every_call):
    from datetime import timedelta

    from django.utils import timezone

    from apps.articles.recent import RecentTitles
    from tests import factories

    now = timezone.now()
    factories.article("Acme wins a large defense contract", published_at=now - timedelta(hours=71, minutes=59))
    factories.article("Globex recalls its blenders", published_at=now - timedelta(hours=1))
    recent = RecentTitles()
    assert len(recent.index(now)) == 2
    factories.article("Initech beats estimates", published_at=now)
    # Five minutes on, the contract story has left the 72 h window: not a reason to read the window again
    # (one query: the rows since the last call, with the window's count; none to rebuild).
    with django_assert_num_queries(1):
        index = recent.index(now + timedelta(minutes=5))
    assert len(index) == 3 and index.similarity("Initech beats estimates") == 1
    # A row that disappears (deleted, or rolled back) is noticed at once, with no new row to bring the
    # count: the index is rebuilt from the window as it is.
    Article.objects.filter(title__startswith="Globex").delete()
    index = recent.index(now + timedelta(minutes=6))
    assert len(index) == 1 and index.similarity("Globex recalls its blenders") == 0
    factories.article("Umbrella opens a new plant", published_at=now)
    with django_assert_num_queries(1):
        assert recent.index(now + timedelta(minutes=7)).similarity("Umbrella opens a new plant") == 1


@pytest.mark.django_db
def test_recent_titles_do_not_wait_for_another_threads_read(read_every_call):
    """A poll job's store threads share the index: while one reads the new rows (holding the lock), another
    gets the index as it stands at once; the next call that takes the lock reads what it missed."""
    import threading

    from django.utils import timezone

    from apps.articles.recent import RecentTitles
    from tests import factories

    now = timezone.now()
    factories.article("Globex recalls its blenders", published_at=now)
    recent = RecentTitles()
    built = recent.index(now)
    factories.article("Initech beats estimates", published_at=now)
    with recent._lock:  # another thread is mid-read
        outcome = []
        reader = threading.Thread(target=lambda: outcome.append(recent.index(now)))
        reader.start()
        reader.join(timeout=5)  # a reader that waited for the lock would still be waiting
        assert outcome == [built] and len(built) == 1
    assert len(recent.index(now)) == 2 and built.similarity("Initech beats estimates") == 1


@pytest.mark.django_db
def test_recent_titles_count_the_window_at_most_every_check_interval(django_assert_num_queries, read_every_call):
    """Within CHECK_EVERY a call only reads the new rows (a count reads the whole 72 h window); the next
    call after it counts, and a row deleted meanwhile stops counting then."""
    from django.utils import timezone

    from apps.articles.recent import CHECK_EVERY, RecentTitles
    from tests import factories

    now = timezone.now()
    factories.article("Globex recalls its blenders", published_at=now)
    recent = RecentTitles()
    recent.index(now)
    Article.objects.filter(title__startswith="Globex").delete()
    factories.article("Initech beats estimates", published_at=now)
    soon = now + CHECK_EVERY / 2
    with django_assert_num_queries(1) as captured:
        index = recent.index(soon)
    assert "COUNT" not in captured.captured_queries[0]["sql"].upper()
    assert len(index) == 2 and index.similarity("Initech beats estimates") == 1
    later = now + CHECK_EVERY
    index = recent.index(later)
    assert len(index) == 1 and index.similarity("Globex recalls its blenders") == 0
    assert index.similarity("Initech beats estimates") == 1


@pytest.mark.django_db
def test_recent_titles_hold_what_this_process_stored_and_read_the_others_at_most_every_read_interval(
        django_assert_num_queries, monkeypatch):
    """Rows this process committed (`stored`) count at once, with no query; rows another process committed
    wait for the next read, at most READ_EVERY later; a row both stored and read is indexed once."""
    import time

    from django.utils import timezone

    from apps.articles import recent as recent_module
    from apps.articles.recent import RecentTitles
    from tests import factories

    monkeypatch.setattr(recent_module, "READ_EVERY", 0.2)
    now = timezone.now()
    recent = RecentTitles()
    recent.index(now)
    mine = factories.article("Globex recalls its blenders", published_at=now)  # committed by this process
    theirs = factories.article("Initech beats estimates", published_at=now)  # by another
    with django_assert_num_queries(0):
        recent.stored([(mine.pk, mine.title, mine.published_at)], now)
        index = recent.index(now)
    assert len(index) == 1 and index.similarity("Globex recalls its blenders") == 1
    assert index.similarity("Initech beats estimates") == 0  # not read yet
    time.sleep(0.25)
    with django_assert_num_queries(1):
        index = recent.index(now)
    assert index.similarity("Initech beats estimates") == 1
    assert len(index) == 2  # the stored row, returned by the read too, is not indexed twice
    recent.stored([(theirs.pk, theirs.title, theirs.published_at)], now)  # stored after a read found it
    assert len(recent.index(now)) == 2


def test_a_phrase_pattern_matches_what_an_alternation_of_its_phrases_longest_first_matches():
    """lexicon.phrase_pattern is written as a trie for speed: the same matches as the plain alternation, on
    the evaluation headlines and on texts made of the phrases themselves (prefixes of one another: "beat",
    "beats", "beats estimates"; glued to a word or a hyphen; in any case)."""
    import re
    from pathlib import Path

    from apps.articles import lexicon

    def plain(phrases, ignore_case=True):
        ordered = sorted(set(phrases), key=len, reverse=True)
        return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in ordered) + r")(?![\w-])",
                          re.IGNORECASE if ignore_case else 0)

    catalysts = [phrase for phrases in lexicon.CATALYSTS.values() for phrase in phrases]
    nested = ["beat", "beats", "beats estimates", "beats estimates and raises", "sec", "SEC filing", "8-k", "to buy",
              "to buy back", "a", "a b c"]  # phrases that are whole-word prefixes of others
    lists = [catalysts, nested, *(phrases for _, phrases in lexicon.TOPICS.values())]
    data = Path(scoring.__file__).parent / "data" / "eval"
    texts = [line.split("\t")[-1] for path in sorted(data.glob("*.tsv")) for line in path.read_text().splitlines()]
    everything = [phrase for phrases in lists for phrase in phrases]
    texts += [" ".join(everything), "-".join(everything), "".join(everything), " ".join(everything).upper(),
              "Beats estimates; beat, BEATS-estimates beatsestimates raises guidance raised to buy. Commission",
              "beats estimates and raises; beats estimates and; SEC filing sec filings a b c a b to buy back a-b"]
    assert len(texts) > 100
    for phrases in lists:
        for ignore_case in (True, False):
            trie, alternation = lexicon.phrase_pattern(phrases, ignore_case), plain(phrases, ignore_case)
            for text in texts:
                for case in (text, text.lower()):
                    assert trie.findall(case) == alternation.findall(case), (phrases, case)
    assert scoring._CATALYST_PATTERN.findall("it beats estimates and raises guidance") == ["beats", "raises guidance"]
