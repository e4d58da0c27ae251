"""Polling sources: the scheduled fan-out, one source's poll, and a batch of polls whose fetches run
concurrently (at most NT_POLL_CONCURRENCY at once per job).

A poll fetches the feed (conditional GET) and parses it, in a fetching thread; then stores what it got:
a failure on the source (with backoff), "not modified" as a success, new entries through article_ingest.
A batch stores its not-modified sources with one UPDATE, and on PostgreSQL its other answers in up to
NT_POLL_STORE_THREADS threads at once."""

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.articles import feeds
from apps.articles.feeds import reddit, sec, x
from apps.articles.models import ScoringPolicy, Source, SourceKind
from apps.articles.services import BatchRefused, IngestResult, article_ingest, articles_ingest
from apps.jobs import context as jobs_context
from apps.jobs.enqueue import enqueue_many
from newstunneler import telemetry

logger = structlog.get_logger(__name__)


@dataclass
class PollResult:
    source_id: int
    status: str  # ok | not_modified | failed | deferred (the platform asked us to wait)
    new: int = 0
    duplicates: int = 0
    skipped: int = 0
    error: str = ""
    warning: str = ""
    analyses_queued: list[str] = field(default_factory=list)


def summary(results: list[PollResult]) -> str:
    """A poll job's result line: "3 source(s): 12 new, 3 duplicates, 1 failed, 1 not modified"."""
    count = {status: sum(1 for r in results if r.status == status) for status in ("failed", "not_modified", "deferred")}
    return (f"{len(results)} source(s): {sum(r.new for r in results)} new, {sum(r.duplicates for r in results)} "
            f"duplicates, {count['failed']} failed, {count['not_modified']} not modified"
            + (f", {count['deferred']} deferred (rate limited)" if count["deferred"] else ""))


class PollCrashed(Exception):
    """A bug (not a feed problem) while storing a source's poll; the batch's other sources were stored."""


# --- The fan-out ---------------------------------------------------------------------------------


def sources_fan_out(*, now: datetime | None = None) -> int:
    """Queue every due source's poll, NT_POLL_BATCH sources per poll_sources job. The sources are leased
    first (next poll pushed NT_POLL_LEASE_SECONDS ahead; the poll itself sets the real next time), so a
    cycle that has not finished yet is not queued again by the next one, and a lost job's sources come
    back once the lease ends. Returns how many sources were queued."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.POLL_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(Source.objects.due(now).order_by("id").values_list("id", flat=True))
        for first in range(0, len(ids), 500):  # SQLite takes at most 999 parameters per statement
            Source.objects.filter(pk__in=ids[first:first + 500]).update(next_poll_at=lease)
        batch = settings.POLL_BATCH
        enqueue_many("poll_sources", [(ids[first:first + batch],) for first in range(0, len(ids), batch)])
    return len(ids)


# --- Polls ---------------------------------------------------------------------------------------


def source_poll(*, source: Source, client=None) -> PollResult:
    """Fetch, parse and ingest one source. Feed problems are recorded on the source, never raised."""
    now = timezone.now()
    return _store(source, _fetch(source, client, now), now, ScoringPolicy.current())


def sources_poll(*, sources: list[Source], concurrency: int | None = None, client=None) -> list[PollResult]:
    """Poll several sources: the feeds' fetches run concurrently, at most `concurrency` (NT_POLL_CONCURRENCY)
    at once; the answers are stored as they arrive (those that arrived together with new entries in one
    transaction, see _store_together), the not-modified ones with one UPDATE at the end. On
    PostgreSQL up to NT_POLL_STORE_THREADS answers are stored at once (see _store_all). Platform sources
    (Reddit, X, SEC) are read one after another in this thread: their platforms' rate limits set the pace,
    and the SEC reader asks the database which filings it already has. A bug while storing
    one source is recorded on it (kind "internal"), the others are stored anyway, and then PollCrashed is
    raised with the first traceback (the job ends as a dead letter that says which source)."""
    if not sources:
        return []
    now = timezone.now()
    policy = ScoringPolicy.current()  # once for the batch
    feeds_only = [source for source in sources if source.kind == SourceKind.RSS]
    workers = max(1, min(concurrency or settings.POLL_CONCURRENCY, len(feeds_only) or 1))
    results: dict[int, PollResult] = {}
    unchanged, crashed = [], []

    def handle(source: Source, answer) -> None:
        if isinstance(answer, feeds.Fetched) and answer.not_modified:
            _succeeded(source, now)
            unchanged.append(source)
            results[source.pk] = PollResult(source.pk, "not_modified")
            return
        try:
            results[source.pk] = _store(source, answer, now, policy)
        except Exception as exc:  # noqa: BLE001 - one source's bug must not lose the rest of the batch
            logger.exception("source_poll_crashed", source_id=source.pk)
            message = f"{type(exc).__name__}: {exc}"
            source_record_failure(source=source, kind="internal", message=message, now=now)
            results[source.pk] = PollResult(source.pk, "failed", error=f"internal: {message}")
            crashed.append((source, exc))

    def handle_group(answers: list[tuple[Source, object]]) -> None:
        """The answers that arrived together: the feeds with new entries stored in one transaction (if
        that fails, whatever the reason, each is stored again on its own, as handle stores it), the rest
        one by one."""
        ready = [(source, answer) for source, answer in answers if _ready(answer)]
        if len(ready) > 1 and _store_together(ready, now, policy, results):
            answers = [(source, answer) for source, answer in answers if source.pk not in results]
        for source, answer in answers:
            handle(source, answer)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
        arrived: queue.SimpleQueue = queue.SimpleQueue()
        for source in feeds_only:
            future = pool.submit(_fetch, source, client, now)
            future.add_done_callback(lambda future, source=source: arrived.put((source, future)))
        _store_all(arrived, len(feeds_only), handle_group)
    for source in sources:
        if source.kind != SourceKind.RSS:
            handle(source, _fetch(source, client, now))
    _store_not_modified(unchanged, now)
    if crashed:
        source, exc = crashed[0]
        raise PollCrashed(f"storing the poll of source {source.pk} failed ({len(crashed)} of {len(sources)} "
                          f"in this batch): {type(exc).__name__}: {exc}") from exc
    return [results[source.pk] for source in sources]


def _store_threads(answers: int) -> int:
    """How many threads store a batch's answers. More than one only on PostgreSQL (SQLite takes one writer
    at a time) and outside a transaction (each thread writes through its own connection, which could
    neither see nor join the caller's): one thread's Python runs while another's waits on the database."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, min(settings.POLL_STORE_THREADS, answers))


def _store_all(arrived: queue.SimpleQueue, count: int, handle_group) -> None:
    """handle_group([(source, answer), ...]) for the `count` (source, fetch future) pairs put on `arrived`,
    as they come: each call takes what has arrived, at most STORE_GROUP; in this thread and, on
    PostgreSQL, in _store_threads()-1 more (each with its own database connection, closed when it is
    done, and this job's log context)."""
    lock, taken = threading.Lock(), 0

    def store() -> None:
        nonlocal taken
        while True:
            with lock:
                if taken == count:
                    return
                taken += 1
            group = [arrived.get()]
            with lock:
                while len(group) < STORE_GROUP and taken < count:
                    try:
                        group.append(arrived.get_nowait())
                    except queue.Empty:
                        break
                    taken += 1
            handle_group([(source, future.result()) for source, future in group])

    failures: list[BaseException] = []

    def helper() -> None:
        try:
            store()
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            failures.append(exc)
        finally:
            connections.close_all()  # this thread's own

    helpers = [threading.Thread(target=jobs_context.carried(helper), name=f"poll-store-{n}", daemon=True)
               for n in range(_store_threads(count) - 1)]
    for thread in helpers:
        thread.start()
    try:
        store()
    finally:
        for thread in helpers:
            thread.join()
    if failures:
        raise failures[0]


def _store_not_modified(sources: list[Source], now: datetime) -> None:
    """One UPDATE per poll interval among them (usually one), of what any success writes."""
    by_interval: dict[int, list[int]] = {}
    for source in sources:
        by_interval.setdefault(source.poll_interval_minutes, []).append(source.pk)
    for minutes, ids in by_interval.items():
        Source.objects.filter(pk__in=ids).update(**_success(now, timedelta(minutes=minutes)))


READERS = {SourceKind.REDDIT: reddit.read, SourceKind.X: x.read, SourceKind.SEC_FORM4: sec.read}


def _fetch(source: Source, client, now: datetime) -> feeds.Fetched | feeds.ParsedFeed | Exception:
    """The network part of a poll, and a feed's parse (no database for a feed: safe to run in a thread,
    beside the threads storing). A feed's answer is returned as fetched, with its parse (or what the
    parse raised) in `parsed`; a platform source's as read (parsed); what the fetch raised is returned,
    for _store to record (a FeedError) or raise (anything else: a bug)."""
    started = time.perf_counter()
    try:
        if source.kind != SourceKind.RSS:
            parsed = READERS[source.kind](source, client=client)
            telemetry.FEED_FETCHES.labels("ok").inc()
            telemetry.FEED_FETCH_SECONDS.labels("ok").observe(time.perf_counter() - started)
            return parsed
        fetched = feeds.fetch(source.url, etag=source.etag, last_modified=source.last_modified, client=client)
    except Exception as exc:  # noqa: BLE001 - handed to _store, in the calling thread
        telemetry.FEED_FETCHES.labels("failed").inc()
        telemetry.FEED_FETCH_SECONDS.labels("failed").observe(time.perf_counter() - started)
        if isinstance(exc, feeds.FeedError):
            telemetry.FEED_ERRORS.labels(exc.kind).inc()
        else:
            telemetry.error("feeds", exc)
        return exc
    outcome = "not_modified" if fetched.not_modified else "ok"
    telemetry.FEED_FETCHES.labels(outcome).inc()
    telemetry.FEED_FETCH_SECONDS.labels(outcome).observe(time.perf_counter() - started)
    if not fetched.not_modified:
        try:
            fetched.parsed = feeds.parse(fetched.content, url=fetched.url, content_type=fetched.content_type, now=now)
        except Exception as exc:  # noqa: BLE001 - raised by _store, as a parse failure (or a bug) of this source
            fetched.parsed = exc
    return fetched


def _store(source: Source, fetched: feeds.Fetched | feeds.ParsedFeed | Exception, now: datetime,
           policy: ScoringPolicy) -> PollResult:
    try:
        if isinstance(fetched, Exception):
            raise fetched
        if isinstance(fetched, feeds.ParsedFeed):  # a platform source: read already
            parsed, fetched = fetched, None
        elif fetched.not_modified:
            _record_success(source, fetched, None, now, 0)
            return PollResult(source.pk, "not_modified")
        elif isinstance(fetched.parsed, Exception):
            raise fetched.parsed
        else:
            parsed = fetched.parsed  # parsed by _fetch, in the thread that fetched it
    except feeds.RateLimited as exc:
        source_defer(source=source, until=exc.retry_at, reason=exc.message, now=now)
        return PollResult(source.pk, "deferred", warning=exc.message)
    except feeds.FeedError as exc:
        if not isinstance(fetched, Exception):  # a parse failure (a fetch failure was counted by _fetch)
            telemetry.FEED_ERRORS.labels(exc.kind).inc()
        source_record_failure(source=source, kind=exc.kind, message=exc.message, now=now)
        return PollResult(source.pk, "failed", error=str(exc))
    try:
        ingest = _ingest(source, fetched, parsed, now, policy, savepoint=False)
    except BatchRefused:
        # A row the database refused spoiled the first attempt (made without a savepoint around its
        # batch, two round trips fewer): rolled back whole; this one stores the rest and names that row.
        ingest = _ingest(source, fetched, parsed, now, policy, savepoint=True)
    return _polled(source, parsed, ingest)


def _polled(source: Source, parsed: feeds.ParsedFeed, ingest: IngestResult) -> PollResult:
    skipped = parsed.skipped + ingest.invalid
    logger.info("source_polled", source_id=source.pk, new=ingest.new, duplicates=ingest.duplicates,
                skipped=skipped, redated=parsed.redated or None, warning=parsed.warning or None)
    return PollResult(source.pk, "ok", new=ingest.new, duplicates=ingest.duplicates, skipped=skipped,
                      warning=parsed.warning, analyses_queued=ingest.analyses_queued)


def _ingest(source: Source, fetched: feeds.Fetched | None, parsed: feeds.ParsedFeed, now: datetime,
            policy: ScoringPolicy, savepoint: bool) -> IngestResult:
    """The entries and the source's success, in one transaction."""
    with transaction.atomic():
        # Posts and filings are not sent to the analysers: posts feed social sentiment, filings make
        # their own signals (insider transactions).
        ingest = article_ingest(source=source, entries=parsed.entries, fetched_at=now,
                                queue_analyses=source.kind == SourceKind.RSS, policy=policy, savepoint=savepoint)
        _succeeded_with(source, fetched, parsed, now, ingest)
    return ingest


def _succeeded_with(source: Source, fetched: feeds.Fetched | None, parsed: feeds.ParsedFeed, now: datetime,
                    ingest: IngestResult) -> None:
    if ingest.invalid:
        note = f"{ingest.invalid} entr{'y' if ingest.invalid == 1 else 'ies'} not stored ({ingest.invalid_reason})"
        parsed.warning = "; ".join(filter(None, [note, parsed.warning]))[:2000]
    _record_success(source, fetched, parsed, now, ingest.new)


# Feeds whose answers arrived together are stored together, this many at most: one transaction, one
# look-up and one insert per table for all of them instead of a source's eight round trips each.
STORE_GROUP = 8


def _ready(answer) -> bool:
    """A feed's answer with entries to store (not a failure, nor a not-modified)."""
    return isinstance(answer, feeds.Fetched) and not answer.not_modified and isinstance(answer.parsed, feeds.ParsedFeed)


def _store_together(ready: list[tuple[Source, feeds.Fetched]], now: datetime, policy: ScoringPolicy,
                    results: dict[int, PollResult]) -> bool:
    """Store several feeds' new entries in one transaction (articles_ingest) and record each source's
    success; their PollResults into `results`. False if that failed, whatever the reason (a row the
    database refused, a bug): rolled back, sources and feeds as they were, for the caller to store each
    on its own (which names a refused row, or records a bug on its source)."""
    before = [(source.__dict__.copy(), fetched.parsed.warning) for source, fetched in ready]
    try:
        with transaction.atomic():
            ingests = articles_ingest(batches=[(source, fetched.parsed.entries) for source, fetched in ready],
                                      fetched_at=now, policy=policy, savepoint=False)
            for (source, fetched), ingest in zip(ready, ingests, strict=True):
                _succeeded_with(source, fetched, fetched.parsed, now, ingest)
    except Exception as exc:  # noqa: BLE001 - each source is stored again on its own, where it is reported
        for (source, fetched), (state, warning) in zip(ready, before, strict=True):
            source.__dict__.update(state)
            fetched.parsed.warning = warning
        logger.info("poll_group_stored_one_by_one", sources=[source.pk for source, _ in ready],
                    reason=f"{type(exc).__name__}: {exc}"[:300])
        return False
    for (source, fetched), ingest in zip(ready, ingests, strict=True):
        results[source.pk] = _polled(source, fetched.parsed, ingest)
    return True


# --- Recording the outcome on the source ---------------------------------------------------------


def _backoff(source: Source) -> timedelta:
    seconds = source.poll_interval.total_seconds() * (2 ** min(source.consecutive_failures, 20))
    return timedelta(seconds=min(seconds, settings.FEED_MAX_BACKOFF_SECONDS))


def source_record_failure(*, source: Source, kind: str, message: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    source.consecutive_failures += 1
    source.last_polled_at = now
    source.last_error_kind = kind[:40]
    source.last_error = message[:5000]
    source.next_poll_at = now + _backoff(source)
    source.save(update_fields=["consecutive_failures", "last_polled_at", "last_error_kind", "last_error", "next_poll_at"])
    logger.warning("source_poll_failed", source_id=source.pk, kind=kind, error=message[:500],
                   failures=source.consecutive_failures, next_poll_at=source.next_poll_at.isoformat())


def source_defer(*, source: Source, until: datetime, reason: str, now: datetime | None = None) -> None:
    """The platform asked us to wait: the next poll at `until`, the reason as the source's warning; not a
    failure (no back-off, no failure count)."""
    now = now or timezone.now()
    source.last_polled_at = now
    source.next_poll_at = max(until, now + timedelta(seconds=1))
    source.last_warning = f"rate limited: {reason}"[:2000]
    source.save(update_fields=["last_polled_at", "next_poll_at", "last_warning"])
    logger.info("source_poll_deferred", source_id=source.pk, until=source.next_poll_at.isoformat(), reason=reason[:300])


def _success(now: datetime, interval: timedelta) -> dict:
    """What any successful poll writes on its source: the failure count and error cleared, the next poll
    one interval from now."""
    return {"consecutive_failures": 0, "last_polled_at": now, "last_success_at": now, "last_error_kind": "",
            "last_error": "", "next_poll_at": now + interval}


def _succeeded(source: Source, now: datetime) -> list[str]:
    """Set the success fields on the source (unsaved); returns their names."""
    values = _success(now, source.poll_interval)
    for name, value in values.items():
        setattr(source, name, value)
    return list(values)


def _record_success(source: Source, fetched: feeds.Fetched | None, parsed: feeds.ParsedFeed | None, now: datetime,
                    ingested: int) -> None:
    """`fetched` is None for a platform source (nothing to cache by HTTP: its cursor is its position)."""
    fields = _succeeded(source, now)
    if fetched is None or not fetched.not_modified:
        if fetched is not None:
            source.etag, source.last_modified = fetched.etag, fetched.last_modified
            fields += ["etag", "last_modified"]
        if parsed is not None and parsed.cursor is not None:
            source.cursor = parsed.cursor
            fields.append("cursor")
        source.last_warning = parsed.warning if parsed else ""
        source.articles_ingested += ingested
        fields += ["last_warning", "articles_ingested"]
        if parsed and parsed.title and not source.feed_title:
            source.feed_title = parsed.title
            fields.append("feed_title")
    source.save(update_fields=fields)
