"""Importing a database of the original News Tunneler, built here with the original's schema."""

import io
import json
import sqlite3
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from apps.articles.models import Article, ArticleScore, ScoringPolicy, Source
from apps.jobs.models import Job
from apps.signals.models import Signal

pytestmark = pytest.mark.django_db

SCHEMA = """
CREATE TABLE sources (id INTEGER PRIMARY KEY, url VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL,
  source_type VARCHAR NOT NULL, enabled BOOLEAN NOT NULL, last_fetched_at DATETIME, created_at DATETIME, updated_at DATETIME);
CREATE TABLE articles (id INTEGER PRIMARY KEY, url VARCHAR NOT NULL UNIQUE, title VARCHAR NOT NULL, summary TEXT,
  source_name VARCHAR NOT NULL, source_url VARCHAR NOT NULL, source_type VARCHAR NOT NULL, published_at DATETIME NOT NULL,
  ticker_guess VARCHAR, created_at DATETIME, updated_at DATETIME);
CREATE TABLE scores (id INTEGER PRIMARY KEY, article_id INTEGER NOT NULL UNIQUE, catalyst FLOAT, novelty FLOAT,
  credibility FLOAT, sentiment FLOAT, liquidity FLOAT, total FLOAT, computed_at DATETIME, created_at DATETIME, updated_at DATETIME);
CREATE TABLE signals (id INTEGER PRIMARY KEY, symbol VARCHAR NOT NULL, t BIGINT NOT NULL, features JSON NOT NULL,
  score FLOAT NOT NULL, label VARCHAR NOT NULL, reasons JSON NOT NULL, y_ret_1d FLOAT, y_beat INTEGER,
  created_at DATETIME, updated_at DATETIME);
CREATE TABLE settings (id INTEGER PRIMARY KEY, weight_catalyst FLOAT, weight_novelty FLOAT, weight_credibility FLOAT,
  weight_sentiment FLOAT, weight_liquidity FLOAT, min_alert_score FLOAT, poll_interval_sec INTEGER);
"""
T = int(datetime(2026, 10, 1, 14, 30, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def legacy_db(tmp_path):
    path = tmp_path / "news_tunneler.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO sources VALUES (?,?,?,?,?,?,?,?)", [
        (1, "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent", "SEC EDGAR", "atom", 1, "2026-10-01 12:00:00", None, None),
        (2, "https://feeds.reuters.com/reuters/businessNews", "Reuters", "rss", 0, None, None, None),
        (3, "javascript:alert(1)", "Broken", "rss", 1, None, None, None),
    ])
    conn.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
        (10, "https://www.reuters.com/a?utm_source=x", "Apple beats estimates", "Big quarter", "Reuters",
         "https://feeds.reuters.com/reuters/businessNews", "rss", "2026-10-01 14:30:00", "AAPL", "2026-10-01 14:31:00", None),
        (11, "https://www.sec.gov/filing/1", "8-K filed by Tesla", None, "SEC EDGAR",
         "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent", "atom", "2026-10-02T09:00:00", None, None, None),
        (12, "", "No URL", None, "x", "x", "rss", "2026-10-02 09:00:00", None, None, None),
    ])
    conn.executemany("INSERT INTO scores VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
        (1, 10, 3.0, 4.0, 4.0, 0.6, 5.0, 19.0, "2026-10-01 14:32:00", None, None),
    ])
    conn.executemany("INSERT INTO signals VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
        (1, "AAPL", T, json.dumps({"sentiment": 0.6}), 81.5, "High-Conviction",
         json.dumps([{"factor": "sentiment", "contribution": 14.4}]), None, None, None, None),
        (2, "MSFT", T, "{}", 40.0, "Unknown-Label", "[]", None, None, None, None),
    ])
    conn.execute("INSERT INTO settings VALUES (1, 1.5, 1.0, 1.0, 0.5, 1.0, 14.0, 600)")
    conn.commit()
    conn.close()
    return path


def run(*args):
    out = io.StringIO()
    call_command("import_legacy_sqlite", *args, stdout=out)
    return out.getvalue()


def test_import_then_a_second_run_changes_nothing(legacy_db):
    first = run(str(legacy_db))
    assert "sources: 3 read, 2 imported, 0 already there, 1 skipped" in first
    assert "articles: 3 read, 2 imported, 0 already there, 1 skipped" in first
    assert "scores: 1 read, 0 imported, 1 already there" in first  # scored again by the current policy
    assert "signals: 2 read, 2 imported" in first

    sec = Source.objects.get(name="SEC EDGAR")
    assert sec.credibility == 5 and sec.poll_interval_minutes == 10
    assert Source.objects.get(name="Reuters").enabled is False
    apple = Article.objects.get(title="Apple beats estimates")
    assert apple.url == "https://www.reuters.com/a" and apple.symbols == ["AAPL"]
    assert apple.published_at == datetime(2026, 10, 1, 14, 30, tzinfo=UTC)
    assert apple.source.name == "Reuters"
    assert apple.score.total != 19.0 and "legacy" not in apple.score.details  # scored as a poll scores it
    assert not Job.objects.filter(actor="analyze_article").exists()  # an import queues no analysis
    signal = Signal.objects.get(symbol="AAPL")
    assert (signal.t, signal.score, signal.label) == (datetime(2026, 10, 1, 14, 30, tzinfo=UTC), 81.5, "High-Conviction")
    assert Signal.objects.get(symbol="MSFT").label == "Ignore"
    assert "source 3: only http and https URLs are allowed" in first
    policy = ScoringPolicy.current()
    assert (policy.weight_catalyst, policy.weight_sentiment, policy.alert_threshold) == (1.5, 0.5, 14.0)

    counts = (Source.objects.count(), Article.objects.count(), ArticleScore.objects.count(), Signal.objects.count())
    second = run(str(legacy_db))
    assert "sources: 3 read, 0 imported, 2 already there, 1 skipped" in second
    assert "articles: 3 read, 0 imported, 2 already there" in second
    assert "scores: 1 read, 0 imported, 1 already there" in second
    assert "signals: 2 read, 0 imported, 2 already there" in second
    assert "settings: 1 read, 0 imported, 1 already there" in second
    assert (Source.objects.count(), Article.objects.count(), ArticleScore.objects.count(), Signal.objects.count()) == counts


def test_dry_run_imports_nothing(legacy_db):
    assert "Dry run: nothing was saved." in run(str(legacy_db), "--dry-run")
    assert not Article.objects.exists() and not Signal.objects.exists()


def test_missing_tables_are_reported(tmp_path):
    path = tmp_path / "partial.db"
    sqlite3.connect(path).executescript(SCHEMA.split("CREATE TABLE articles")[0])
    output = run(str(path))
    assert "table 'articles' not found: skipped" in output and "sources: 0 read" in output


def test_not_a_database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite" * 100)
    with pytest.raises(CommandError, match="not a readable SQLite database"):
        run(str(junk))
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.db"))
