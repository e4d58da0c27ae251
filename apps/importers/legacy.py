"""Import a database of the original News Tunneler (SQLite; tables sources, articles, scores, signals,
settings). Idempotent: rows already imported are recognised (sources by URL, articles by canonical URL
hash, signals by symbol and time) and left as they are, so a second run changes nothing. Every row is
written through the services, as the product writes it: source_create, article_ingest (no analysis
queued), signal_record (never announced)."""

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.articles import feeds
from apps.articles.canonical import canonical_url, url_hash
from apps.articles.models import Article, ScoringPolicy, Source
from apps.articles.services import article_ingest, source_create
from apps.signals.models import Label
from apps.signals.services import signal_record
from newstunneler.commands import validation_message
from newstunneler.netguard import BlockedURL

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
            if url in known:
                report.unchanged += 1
                continue
            try:
                source_create(url=url, name=(row["name"] or "")[:200],
                              enabled=bool(row["enabled"]) if "enabled" in row.keys() else True,
                              poll_interval_minutes=self.poll_minutes, resolve_now=False)
            except (BlockedURL, ValidationError) as exc:
                report.skipped += 1
                report.problems.append(f"source {row['id']}: {_reason(exc)}: {url[:100]!r}")
                continue
            known.add(url)
            report.created += 1
        return report

    def _import_articles(self) -> TableReport:
        """Each article through article_ingest, as a poll stores it: canonical URL, dedupe (by URL, and by
        title within 48 h), tickers by today's resolver (the original's guesses named the wrong company
        too often to be kept), a score by the current policy; no analysis is queued (backfill_analysis
        does that on demand)."""
        report = TableReport()
        sources = {source.url: source for source in Source.objects.all()}
        keys = _columns(self.conn, "articles")
        for row in self._rows("articles"):
            report.read += 1
            url = (row["url"] or "").strip()
            title = " ".join((row["title"] or "").split())
            if not url.startswith(("http://", "https://")) or not title:
                report.skipped += 1
                report.problems.append(f"article {row['id']}: no http(s) URL or no title")
                continue
            created = _when(row["created_at"]) if "created_at" in keys else None
            published = (_when(row["published_at"]) if "published_at" in keys else None) or created or timezone.now()
            published = min(published, timezone.now())
            entry = feeds.Entry(url=url, title=title[:1000], published_at=published,
                                summary=((row["summary"] or "") if "summary" in keys else "")[:20000])
            result = article_ingest(source=sources.get(row["source_url"]) if "source_url" in keys else None,
                                    entries=[entry], fetched_at=created or published, queue_analyses=False)
            if result.new:
                self.article_ids[row["id"]] = result.article_ids[0]
                report.created += 1
            elif result.invalid:
                report.skipped += 1
                report.problems.append(f"article {row['id']}: {result.invalid_reason}")
            else:
                existing = Article.objects.filter(url_hash=url_hash(canonical_url(url))).values_list("id", flat=True).first()
                if existing:
                    self.article_ids[row["id"]] = existing
                    report.unchanged += 1
                else:
                    report.skipped += 1
                    report.problems.append(f"article {row['id']}: the same story (title) as one already stored")
        return report

    def _import_scores(self) -> TableReport:
        """Scores are not copied: each imported article was scored by the current policy as it was stored
        (the original's scores came from other weights and tickers). The rows are counted and reported."""
        report = TableReport()
        for row in self._rows("scores"):
            report.read += 1
            if self.article_ids.get(row["article_id"]) is None:
                report.skipped += 1
            else:
                report.unchanged += 1
        if report.unchanged:
            report.problems.append(f"{report.unchanged} score(s) not copied: scored again by the current policy")
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
            try:
                _, created = signal_record(symbol=symbol, t=moment, score=row["score"], label=label,
                                           reasons=_json(row["reasons"], []),
                                           features={**_json(row["features"], {}), "legacy": True})
            except ValidationError as exc:
                report.skipped += 1
                report.problems.append(f"signal {row['id']}: {_reason(exc)}")
                continue
            if created:
                report.created += 1
            else:
                report.unchanged += 1
        return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return validation_message(exc)
    return str(exc)
