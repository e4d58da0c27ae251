"""Import a database of the original News Tunneler (SQLite; tables sources, articles, scores, signals,
settings). Idempotent: rows already imported are recognised (sources by URL, articles by canonical URL
hash, signals by symbol and time) and left as they are, so a second run changes nothing."""

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.articles import scoring
from apps.articles.canonical import canonical_url, title_fingerprint, url_hash
from apps.articles.models import Article, ArticleScore, ArticleTicker, ScoringPolicy, Source
from apps.signals.models import Label, Signal

TABLES = ("sources", "articles", "scores", "signals", "settings")
BATCH = 1000


class LegacyDatabaseError(Exception):
    pass


@dataclass
class TableReport:
    read: int = 0
    created: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


def open_legacy(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise LegacyDatabaseError(f"{path} is not a readable SQLite database: {exc}") from None
    return conn


def _tables(conn) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _columns(conn, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def _when(value) -> datetime | None:
    """Legacy dates: naive ISO text (UTC, as the original wrote them) or epoch milliseconds."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    moment = parse_datetime(str(value).replace(" ", "T", 1))
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _json(value, default):
    if value in (None, ""):
        return default
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return default


class LegacyImporter:
    def __init__(self, conn: sqlite3.Connection, progress: Callable[[str, int, int], None] | None = None):
        self.conn = conn
        self.progress = progress or (lambda table, done, total: None)
        self.present = _tables(conn)
        self.article_ids: dict[int, int] = {}  # legacy id -> our id
        self.poll_minutes = 15

    def run(self) -> dict[str, TableReport]:
        reports = {}
        for table in ("settings", "sources", "articles", "scores", "signals"):
            if table not in self.present:
                reports[table] = TableReport(problems=[f"table {table!r} not found: skipped"])
                continue
            with transaction.atomic():
                reports[table] = getattr(self, f"_import_{table}")()
        return reports

    def _rows(self, table: str):
        total = self.conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        cursor = self.conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        done = 0
        while rows := cursor.fetchmany(BATCH):
            yield from rows
            done += len(rows)
            self.progress(table, done, total)

    def _import_settings(self) -> TableReport:
        report = TableReport()
        row = self.conn.execute('SELECT * FROM "settings" ORDER BY id LIMIT 1').fetchone()
        if row is None:
            return report
        report.read = 1
        keys = row.keys()
        policy = ScoringPolicy.current()
        wanted = {name: row[name] for name in ("weight_catalyst", "weight_novelty", "weight_credibility",
                                               "weight_sentiment", "weight_liquidity") if name in keys}
        if "min_alert_score" in keys:
            wanted["alert_threshold"] = row["min_alert_score"]
        if "poll_interval_sec" in keys and row["poll_interval_sec"]:
            self.poll_minutes = max(1, round(row["poll_interval_sec"] / 60))
        changed = [name for name, value in wanted.items() if value is not None and getattr(policy, name) != value]
        for name in changed:
            setattr(policy, name, wanted[name])
        if changed:
            policy.save()
            report.created = 1
        else:
            report.unchanged = 1
        return report

    def _import_sources(self) -> TableReport:
        report = TableReport()
        known = set(Source.objects.values_list("url", flat=True))
        for row in self._rows("sources"):
            report.read += 1
            url = (row["url"] or "").strip()
            if not url.startswith(("http://", "https://")):
                report.skipped += 1
                report.problems.append(f"source {row['id']}: not an http(s) URL: {url[:100]!r}")
                continue
            if url in known:
                report.unchanged += 1
                continue
            keys = row.keys()
            Source.objects.create(
                url=url, name=(row["name"] or "")[:200], enabled=bool(row["enabled"]) if "enabled" in keys else True,
                credibility=scoring.default_credibility(url), poll_interval_minutes=self.poll_minutes,
                last_polled_at=_when(row["last_fetched_at"]) if "last_fetched_at" in keys else None,
            )
            known.add(url)
            report.created += 1
        return report

    def _import_articles(self) -> TableReport:
        report = TableReport()
        sources = dict(Source.objects.values_list("url", "id"))
        keys = _columns(self.conn, "articles")
        for row in self._rows("articles"):
            report.read += 1
            url = (row["url"] or "").strip()
            title = " ".join((row["title"] or "").split())
            published = _when(row["published_at"]) if "published_at" in keys else None
            if not url.startswith(("http://", "https://")) or not title:
                report.skipped += 1
                report.problems.append(f"article {row['id']}: no http(s) URL or no title")
                continue
            canonical = canonical_url(url)
            key = url_hash(canonical)
            existing = Article.objects.filter(url_hash=key).values_list("id", flat=True).first()
            if existing:
                self.article_ids[row["id"]] = existing
                report.unchanged += 1
                continue
            created = _when(row["created_at"]) if "created_at" in keys else None
            published = published or created or timezone.now()
            guesses = [g.strip().upper() for g in (row["ticker_guess"] or "").split(",") if g.strip()] if "ticker_guess" in keys else []
            article = Article.objects.create(
                source_id=sources.get(row["source_url"]) if "source_url" in keys else None,
                url=canonical, url_hash=key, title=title[:1000], title_fingerprint=title_fingerprint(title),
                summary=row["summary"] or "" if "summary" in keys else "",
                tickers=[{"symbol": g, "confidence": 0.5, "how": "legacy"} for g in guesses],
                published_at=min(published, timezone.now()), fetched_at=created or published,
            )
            ArticleTicker.objects.bulk_create([ArticleTicker(article=article, symbol=g[:12], confidence=0.5) for g in guesses],
                                              ignore_conflicts=True)
            self.article_ids[row["id"]] = article.pk
            report.created += 1
        return report

    def _import_scores(self) -> TableReport:
        report = TableReport()
        scored = set(ArticleScore.objects.filter(article_id__in=self.article_ids.values()).values_list("article_id", flat=True))
        for row in self._rows("scores"):
            report.read += 1
            article_id = self.article_ids.get(row["article_id"])
            if article_id is None:
                report.skipped += 1
                continue
            if article_id in scored:
                report.unchanged += 1
                continue
            ArticleScore.objects.create(
                article_id=article_id, catalyst=row["catalyst"] or 0, novelty=row["novelty"] or 0,
                credibility=row["credibility"] or 0, sentiment=max(-1.0, min(1.0, row["sentiment"] or 0)),
                liquidity=row["liquidity"] or 0, total=row["total"] or 0, details={"legacy": True},
                scored_at=_when(row["computed_at"]) or timezone.now(),
            )
            scored.add(article_id)
            report.created += 1
        return report

    def _import_signals(self) -> TableReport:
        report = TableReport()
        labels = set(Label.values)
        for row in self._rows("signals"):
            report.read += 1
            moment = _when(row["t"])
            symbol = (row["symbol"] or "").strip().upper()[:12]
            if moment is None or not symbol or row["score"] is None:
                report.skipped += 1
                report.problems.append(f"signal {row['id']}: missing symbol, time or score")
                continue
            label = row["label"] if row["label"] in labels else Label.IGNORE
            _, created = Signal.objects.get_or_create(
                symbol=symbol, t=moment,
                defaults={"score": row["score"], "label": label, "reasons": _json(row["reasons"], []),
                          "features": {**_json(row["features"], {}), "legacy": True}},
            )
            if created:
                report.created += 1
            else:
                report.unchanged += 1
        return report
