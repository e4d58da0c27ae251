"""Every write of the articles app: sources, polling, ingest, scoring and analysis."""

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.articles import analysis as analysers
from apps.articles import feeds, scoring
from apps.articles.canonical import canonical_url, title_fingerprint, url_hash
from apps.articles.feeds.platforms import source_problem
from apps.articles.models import (
    SOCIAL_PLATFORMS,
    Analysis,
    Article,
    ArticleScore,
    ArticleTicker,
    InsiderTransaction,
    Platform,
    ScoringPolicy,
    SocialHour,
    Source,
    SourceKind,
)
from apps.articles.recent import recent_titles
from apps.articles.tickers import TickerMatch, resolve, resolve_social, symbol_table
from apps.jobs.enqueue import Call, enqueue, enqueue_many
from newstunneler import bulk, telemetry
from newstunneler.netguard import check_url, check_url_syntax

logger = structlog.get_logger(__name__)

DUPLICATE_TITLE_WINDOW = timedelta(hours=48)


# --- Sources -------------------------------------------------------------------------------------


def source_create(*, url: str, kind: str = SourceKind.RSS, name: str = "", enabled: bool = True, poll_interval_minutes: int = 15,
                  credibility: float | None = None, resolve_now: bool = True) -> Source:
    """Create a source after the SSRF check. Raises BlockedURL with the reason (ValidationError for a
    bad field). With resolve_now=False (imports, which may run offline) only the URL's form is checked
    here; its addresses are checked, as always, when each poll connects."""
    problem = source_problem(kind, url)  # a URL that does not fit its kind: said before any DNS lookup
    if problem:
        raise ValidationError({"url": problem})
    if resolve_now:
        check_url(url)
    else:
        check_url_syntax(url)
    source = Source(
        kind=kind, url=url, name=name, enabled=enabled, poll_interval_minutes=poll_interval_minutes,
        credibility=scoring.default_credibility(url) if credibility is None else credibility,
    )
    source.full_clean()
    source.save()
    return source


def source_refresh_metadata(*, source: Source) -> Source:
    if source.kind != SourceKind.RSS:  # a platform source has no feed document to read a title from
        return source
    fetched = feeds.fetch(source.url)
    parsed = feeds.parse(fetched.content, url=fetched.url, content_type=fetched.content_type)
    source.feed_title = parsed.title or source.feed_title
    source.site_url = parsed.site_url if parsed.site_url.startswith(("http://", "https://")) else source.site_url
    if not source.name:
        source.name = parsed.title[:200]
    source.save(update_fields=["feed_title", "site_url", "name"])
    return source


# --- Articles ------------------------------------------------------------------------------------


@dataclass
class IngestResult:
    new: int = 0
    duplicates: int = 0
    invalid: int = 0  # entries that could not be stored (an unusable URL, a row the database refused)
    invalid_reason: str = ""  # the first one's
    article_ids: list[int] = field(default_factory=list)
    analyses_queued: list[str] = field(default_factory=list)

    def refuse(self, reason: str) -> None:
        self.invalid += 1
        self.invalid_reason = self.invalid_reason or reason[:500]


class BatchRefused(Exception):
    """The database refused a batch inserted without a savepoint: the transaction must be rolled back."""


@dataclass
class _Candidate:
    entry: feeds.Entry
    canonical: str
    url_hash: str
    fingerprint: str


def article_ingest(*, source: Source | None, entries: list[feeds.Entry], fetched_at: datetime,
                   queue_analyses: bool = True, policy: ScoringPolicy | None = None,
                   savepoint: bool = True) -> IngestResult:
    """Store new entries in bulk, skipping known URLs and a same-titled story seen in the last 48 h;
    score each new article and queue analysis of those at or above the policy threshold (unless
    `queue_analyses` is False: imports). A bad entry (an unusable URL, a row the database refuses)
    loses only itself: it is counted in `invalid`. `policy`: the scoring policy, if the caller read it
    already (a batch of polls reads it once).

    `savepoint=False` (a caller that can start again, see polling._store): the batch is inserted
    without a savepoint around it (two round trips fewer), so a row the database refuses raises
    BatchRefused, its transaction spoiled; the caller rolls it back and calls again with
    `savepoint=True`, which stores the rest and names the refused row."""
    return articles_ingest(batches=[(source, entries)], fetched_at=fetched_at, queue_analyses=queue_analyses,
                           policy=policy, savepoint=savepoint)[0]


def articles_ingest(*, batches: list[tuple[Source | None, list[feeds.Entry]]], fetched_at: datetime,
                    queue_analyses: bool = True, policy: ScoringPolicy | None = None,
                    savepoint: bool = True) -> list[IngestResult]:
    """`article_ingest` for several sources' entries at once (a poll's sources that answered together):
    one look-up, one insert per table and one analysis fan-out for all, one result per (source, entries)
    in their order. The same as ingesting them one after another: a URL or a title an earlier batch has
    is a duplicate in a later one, and a later batch's novelty counts the earlier ones' titles."""
    results = [IngestResult() for _ in batches]
    candidates: dict[str, _Candidate] = {}
    owner: dict[str, int] = {}  # url hash -> the batch it is stored for
    for n, (_, entries) in enumerate(batches):
        for key, candidate in _ingest_candidates(entries, results[n]).items():
            if key in owner:  # an earlier batch has it
                results[n].duplicates += 1
            else:
                candidates[key], owner[key] = candidate, n
    result_of = {key: results[n] for key, n in owner.items()}
    fresh = _ingest_fresh(candidates, fetched_at, result_of, {key: batches[n][0] for key, n in owner.items()})
    if fresh:
        # Read before inserting: this batch must not find itself among the "recent" titles.
        recent = recent_titles.index(fetched_at)
        stored = _ingest_store(fresh, result_of, savepoint)
        _ingest_score(stored, recent, result_of, queue_analyses, policy or ScoringPolicy.current())
        # This process's next ingests compare with these titles at once, without waiting for the index's
        # next read of the database (robust: a committed poll must not fail on the index).
        titles = [(article.pk, article.title, article.published_at) for article, _ in stored]
        transaction.on_commit(lambda: recent_titles.stored(titles, fetched_at), robust=True)
    telemetry.ARTICLES_INGESTED.inc(sum(result.new for result in results))
    telemetry.ARTICLE_DUPLICATES.inc(sum(result.duplicates for result in results))
    return results


def _ingest_candidates(entries: list[feeds.Entry], result: IngestResult) -> dict[str, _Candidate]:
    """One candidate per canonical URL; an entry whose URL cannot be canonicalised (a bad port, too long) is refused."""
    candidates: dict[str, _Candidate] = {}
    for entry in entries:
        try:
            canonical = canonical_url(entry.url)
        except ValueError as exc:
            result.refuse(f"unusable URL {entry.url[:200]!r}: {exc}")
            continue
        if len(canonical) > feeds.MAX_URL:
            result.refuse(f"URL longer than {feeds.MAX_URL} characters: {canonical[:200]!r}…")
            continue
        key = url_hash(canonical)
        if key in candidates:
            result.duplicates += 1
        else:
            candidates[key] = _Candidate(entry, canonical, key, title_fingerprint(entry.title))
    return candidates


def _ingest_fresh(candidates: dict[str, _Candidate], fetched_at: datetime, results: dict[str, IngestResult],
                  sources: dict[str, Source | None]) -> list[tuple[Article, list[TickerMatch]]]:
    """Unsaved articles for the candidates not known by URL, nor by a same title seen in the last 48 h
    (`results` and `sources`: each candidate's, by its URL hash)."""
    # One query for both (each branch of the OR on its own index): known URLs, and titles seen lately.
    fingerprints, since = {c.fingerprint for c in candidates.values()}, fetched_at - DUPLICATE_TITLE_WINDOW
    known, seen_titles = set(), set()
    for hash_, fingerprint, published_at in Article.objects.filter(
            Q(url_hash__among=list(candidates)) | Q(title_fingerprint__among=list(fingerprints), published_at__gte=since),
    ).order_by().values_list("url_hash", "title_fingerprint", "published_at"):
        if hash_ in candidates:
            known.add(hash_)
        if fingerprint in fingerprints and published_at >= since:
            seen_titles.add(fingerprint)
    fresh = []
    for key, candidate in candidates.items():
        if key in known or candidate.fingerprint in seen_titles:
            results[key].duplicates += 1
            continue
        seen_titles.add(candidate.fingerprint)
        entry = candidate.entry
        platform = entry.meta.get("platform", Platform.NEWS)
        matches = _tickers(entry, platform)
        fresh.append((Article(
            source=sources[key], url=candidate.canonical, url_hash=key, title=entry.title,
            title_fingerprint=candidate.fingerprint, summary=entry.summary, tickers=[m.as_dict() for m in matches],
            published_at=entry.published_at, fetched_at=fetched_at, platform=platform, meta=entry.meta,
        ), matches))
    return fresh


def _tickers(entry: feeds.Entry, platform: str) -> list[TickerMatch]:
    """A filing names its issuer's symbol; social posts are read by the stricter social rules; news as news."""
    if entry.meta.get("symbols"):
        return [TickerMatch(symbol, 1.0, "filing", symbol) for symbol in entry.meta["symbols"]]
    text = f"{entry.title}. {entry.summary}"
    return resolve_social(text) if platform in SOCIAL_PLATFORMS else resolve(text)


def _ingest_store(fresh: list[tuple[Article, list[TickerMatch]]], results: dict[str, IngestResult],
                  savepoint: bool = True) -> list[tuple[Article, list[TickerMatch]]]:
    """Insert in one statement; if the database refuses the batch, row by row so that a bad row loses
    only itself (without `savepoint`, the refusal is raised: see article_ingest). Returns the rows this
    call stored (with their ids). `results`: each article's, by its URL hash."""
    # In the order of the unique key: two pollers storing the same URLs (one job's store threads, or two
    # workers) then wait on each other's rows in one order, never in a deadlock.
    articles = sorted((article for article, _ in fresh), key=lambda article: article.url_hash)
    refused, ids = set(), {}
    try:
        # A savepoint: a refused batch must not spoil the caller's transaction (unless it starts again).
        with transaction.atomic() if savepoint else nullcontext():
            ids = dict(bulk.insert(Article, articles, ignore_conflicts=True, returning=("url_hash", "id")))
    except DatabaseError as exc:
        if not savepoint:
            raise BatchRefused(str(exc)) from exc
        for article in articles:
            try:
                with transaction.atomic():
                    ids.update(bulk.insert(Article, [article], ignore_conflicts=True, returning=("url_hash", "id")))
            except DatabaseError as exc:
                refused.add(article.url_hash)
                results[article.url_hash].refuse(f"the database refused {article.url[:200]!r}: {exc}")
    # Only the rows this statement inserted come back: one another poller stored at the same moment is
    # not ours to score (it counts as a duplicate).
    stored = []
    for article, matches in fresh:
        result = results[article.url_hash]
        if article.url_hash in ids:
            article.pk = ids[article.url_hash]
            article._state.adding = False
            stored.append((article, matches))
            result.new += 1
            result.article_ids.append(article.pk)
        elif article.url_hash not in refused:
            result.duplicates += 1
    return stored


def _ingest_score(stored: list[tuple[Article, list[TickerMatch]]], recent: scoring.NoveltyIndex,
                  results: dict[str, IngestResult], queue_analyses: bool, policy: ScoringPolicy) -> None:
    """Score the stored articles (each with its source's credibility), record their tickers, queue
    analysis of the strong ones (`results`: each article's, by its URL hash)."""
    # Titles stored before this batch (the shared index) and this batch's earlier titles (counted at once).
    within, scored_at = scoring.similarities_within([article.title for article, _ in stored]), timezone.now()
    scores = [  # rows as mappings for bulk.insert: cheaper than model instances
        _score_values(article, matches, policy, article.source, recent, similar=similar, scored_at=scored_at)
        for (article, matches), similar in zip(stored, within, strict=True)]
    bulk.insert(ArticleScore, scores, ignore_conflicts=True)
    bulk.insert(ArticleTicker, [{"article_id": a.pk, "symbol": m.symbol, "confidence": m.confidence}
                                for a, matches in stored for m in matches], ignore_conflicts=True)
    sentiment = {score["article_id"]: score["sentiment"] for score in scores}
    social = [(a, m, sentiment[a.pk]) for a, m in stored if a.platform in SOCIAL_PLATFORMS]
    if social:
        social_mentions_record(posts=social, min_confidence=policy.ticker_min_confidence)
    filings = [article for article, _ in stored if article.meta.get("transactions")]
    if filings:
        insider_transactions_record(articles=filings)
    if queue_analyses:
        strong = [article for (article, _), score in zip(stored, scores, strict=True)
                  if score["total"] >= policy.alert_threshold]
        jobs = enqueue_many("analyze_article", [(article.pk,) for article in strong])
        for article, job in zip(strong, jobs, strict=True):
            results[article.url_hash].analyses_queued.append(job)


# A post's lexicon sentiment beyond this is a bullish (or bearish) mention.
STANCE_CUT = 0.15


def social_mentions_record(*, posts: list[tuple[Article, list[TickerMatch], float]], min_confidence: float) -> None:
    """Count each post once per symbol it names (at or above `min_confidence`) in its UTC hour, bullish or
    bearish by its lexicon sentiment: SocialHour, the social_sentiment baseline."""
    counts: dict[tuple[str, datetime], list[int]] = {}
    for article, matches, sentiment in posts:
        hour = article.published_at.replace(minute=0, second=0, microsecond=0)
        for match in matches:
            if match.confidence >= min_confidence:
                row = counts.setdefault((match.symbol, hour), [0, 0, 0])
                row[0] += 1
                row[1] += sentiment > STANCE_CUT
                row[2] += sentiment < -STANCE_CUT
    for (symbol, hour), (mentions, bullish, bearish) in sorted(counts.items()):  # one lock order for every poller
        row = SocialHour.objects.filter(symbol=symbol, hour=hour)
        add = {"mentions": F("mentions") + mentions, "bullish": F("bullish") + bullish, "bearish": F("bearish") + bearish}
        if not row.update(**add):
            _, created = SocialHour.objects.get_or_create(
                symbol=symbol, hour=hour, defaults={"mentions": mentions, "bullish": bullish, "bearish": bearish})
            if not created:  # another poller made the row meanwhile
                row.update(**add)


def insider_transactions_record(*, articles: list[Article]) -> list[InsiderTransaction]:
    """The Form 4 filings' transactions (in each article's meta, from apps/articles/feeds/sec.py) as rows;
    then the signals job looks at the new filings (open-market trades by officers and directors)."""
    rows = []
    for article in articles:
        meta = article.meta
        for tx in meta["transactions"]:
            rows.append(InsiderTransaction(
                article=article, accession=meta["accession"], line=tx["line"], symbol=meta["symbols"][0],
                issuer=meta.get("issuer", ""), insider=meta.get("insider", ""), role=meta.get("role", ""),
                is_officer=bool(meta.get("is_officer")), is_director=bool(meta.get("is_director")), code=tx["code"],
                acquired=bool(tx["acquired"]), shares=tx["shares"], price=tx["price"], value=tx["value"], date=tx["date"]))
    stored = InsiderTransaction.objects.bulk_create(rows, ignore_conflicts=True)
    enqueue_many("signals_from_filing", [(article.pk,) for article in articles])
    return stored


def _score_values(article: Article, matches: list[TickerMatch], policy: ScoringPolicy, source: Source | None,
                  *novelty: scoring.NoveltyIndex, similar: float = 0.0, scored_at: datetime | None = None) -> dict:
    """The article's ArticleScore, as field values (`scored_at`: now, unless a batch has one time; `similar`:
    its similarity with titles outside the indexes, see scoring.similarities_within)."""
    credibility = source.credibility if source else scoring.default_credibility(article.url)
    parts = scoring.score_text(article.title, article.summary, credibility, matches, *novelty, similar=similar)
    return {"article_id": article.pk, "catalyst": parts.catalyst, "novelty": parts.novelty,
            "credibility": parts.credibility, "sentiment": parts.sentiment, "liquidity": parts.liquidity,
            "total": parts.total(policy), "details": parts.details, "scored_at": scored_at or timezone.now()}


def article_rescore(*, articles: list[Article], policy: ScoringPolicy | None = None) -> int:
    """Re-score with the current weights (novelty against what was published in the 72 h before each)."""
    policy = policy or ScoringPolicy.current()
    scores = []
    for article in articles:
        window = Article.objects.filter(
            published_at__lt=article.published_at,
            published_at__gte=article.published_at - timedelta(hours=scoring.NOVELTY_WINDOW_HOURS),
        ).values_list("title", flat=True)
        matches = [TickerMatch(t["symbol"], t["confidence"], t["how"], t.get("text", "")) for t in article.tickers]
        scores.append(ArticleScore(**_score_values(article, matches, policy, article.source,
                                                   scoring.NoveltyIndex(window))))
    ArticleScore.objects.bulk_create(
        scores, update_conflicts=True, unique_fields=["article"],
        update_fields=["catalyst", "novelty", "credibility", "sentiment", "liquidity", "total", "details", "scored_at"],
    )
    return len(scores)


def _accepted_tickers(article: Article, named: list[str], min_confidence: float) -> list[str]:
    """The analyser's tickers that signals may use: a resolver match at or above `min_confidence`, or (from
    the LLM) a listed company the resolver missed. A symbol outside the table is kept only with the
    exchange evidence that made it a resolver match."""
    confidence = {match["symbol"]: match.get("confidence", 0) for match in article.tickers}
    table = symbol_table()
    return [symbol for symbol in dict.fromkeys(named)
            if confidence.get(symbol, 0) >= min_confidence or (symbol not in confidence and table.get(symbol))]


def article_analyze(*, article: Article, provider: str | None = None) -> Analysis:
    """Analyse (LLM or offline), store the Analysis (replacing an earlier one), queue its signals. Its tickers
    are the analyser's that pass the policy's ticker_min_confidence (see _accepted_tickers)."""
    policy = ScoringPolicy.current()
    started = time.perf_counter()
    try:
        result = analysers.analyze(article.title, article.summary, provider=provider, candidates=article.tickers,
                                   ticker_min_confidence=policy.ticker_min_confidence)
    except Exception as exc:
        telemetry.ANALYSES.labels(provider or "auto", "failed").inc()
        telemetry.error("analysis", exc)
        raise
    telemetry.ANALYSES.labels(result.provider, "ok").inc()
    telemetry.ANALYSIS_SECONDS.labels(result.provider).observe(time.perf_counter() - started)
    plan = result.plan
    with transaction.atomic():
        analysis, _ = Analysis.objects.update_or_create(
            article=article,
            defaults={
                "provider": result.provider, "model": result.model, "stance": plan["stance"],
                "confidence": plan["confidence"], "catalyst_type": plan["catalyst_type"],
                "tickers": _accepted_tickers(article, plan["tickers"], policy.ticker_min_confidence),
                "thesis": plan.get("thesis", ""),
                "key_facts": plan.get("key_facts", []), "risks": plan.get("risks", []),
                "suggested_setups": plan.get("suggested_setups", []), "summary": plan.get("summary", ""),
                "strategy_bucket": plan.get("strategy_bucket", ""), "plan": plan,
                "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                "cost_usd": result.cost_usd, "created_at": timezone.now(),
            },
        )
        enqueue("signals_from_analysis", analysis.pk)
    return analysis


def analysis_requeue_unsure(*, max_confidence: float = 0.5, hours: int = 24, limit: int = 200) -> list[str]:
    """Queue a new analysis of the articles of the last `hours` whose analysis was unsure (confidence below
    `max_confidence`), least sure first, at most `limit`; their signals follow (a re-analysis that turns
    a signal strong announces it). Returns the job ids."""
    since = timezone.now() - timedelta(hours=hours)
    ids = list(Analysis.objects.filter(confidence__lt=max_confidence, article__published_at__gte=since)
               .order_by("confidence", "id").values_list("article_id", flat=True)[:limit])
    jobs = enqueue_many("analyze_article", [Call(args=(article_id,), dedupe_key=f"analyze:{article_id}") for article_id in ids])
    logger.info("reanalyze_unsure", queued=len(jobs), max_confidence=max_confidence, hours=hours)
    return jobs


def scoring_policy_update(*, user=None, **fields) -> ScoringPolicy:
    """Change the scoring policy (validated by the caller); the change is logged with old and new values."""
    policy = ScoringPolicy.current()
    changed = {name: (getattr(policy, name), value) for name, value in fields.items() if getattr(policy, name) != value}
    for name, (_, value) in changed.items():
        setattr(policy, name, value)
    if changed:
        policy.save()
        logger.info("scoring_policy_changed", user_id=getattr(user, "pk", None),
                    changes={name: {"old": old, "new": new} for name, (old, new) in changed.items()})
    return policy
