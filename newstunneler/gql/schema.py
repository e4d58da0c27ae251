"""The GraphQL schema: strawberry-django types of the models (only the fields listed), keyset (cursor)
pages, and a permission check per field, the same permission its REST twin needs."""

import base64
import binascii
from datetime import datetime
from typing import Generic, TypeVar

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from apps.articles.models import Article, Source
from apps.billing.permissions import role_permissions
from apps.signals.models import Signal, SignalOutcome
from newstunneler.api import parse_id
from newstunneler.gql.limits import PAGE_DEFAULT, PAGE_MAX

T = TypeVar("T")


class Refused(GraphQLError):
    """An error the caller caused (a permission, an argument): its message is shown as it is."""


def require(info: Info, permission: str) -> None:
    user = info.context["request"].user
    if not (user.is_superuser or permission in role_permissions(user)):
        raise Refused(f"Your role lacks: {permission}.", extensions={"code": "permission_denied"})


# --- Pages ---------------------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def _encode(*parts) -> str:
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode()


def _not_a_cursor(after: str) -> Refused:
    return Refused(f"after: {after[:60]!r} is not a cursor this list gave", extensions={"code": "invalid"})


def _decode(cursor: str, arity: int) -> list[str]:
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        parts = []
    if len(parts) != arity:
        raise _not_a_cursor(cursor)
    return parts


def _first(first: int) -> int:
    if not 1 <= first <= PAGE_MAX:
        raise Refused(f"first: must be between 1 and {PAGE_MAX} (got {first})", extensions={"code": "invalid"})
    return first


def _page(queryset: QuerySet, first: int, cursor_of) -> Connection:
    """The first `first` rows of the ordered queryset, and whether there are more (one extra row read)."""
    rows = list(queryset[:first + 1])
    edges = [Edge(cursor=cursor_of(row), node=row) for row in rows[:first]]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=len(rows) > first,
                                                      end_cursor=edges[-1].cursor if edges else None))


def page_by_time(queryset: QuerySet, field: str, first: int, after: str | None) -> Connection:
    """Newest first by (field, id): keyset pages, so page 1,000 costs what page 1 does."""
    first = _first(first)
    if after:
        when, pk = _decode(after, 2)
        try:
            moment, key = datetime.fromisoformat(when), parse_id(pk)
        except ValueError:
            key = None
        if key is None:
            raise _not_a_cursor(after)
        queryset = queryset.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "id__lt": key}))
    return _page(queryset.order_by(f"-{field}", "-id"), first, lambda row: _encode(getattr(row, field).isoformat(), row.pk))


def page_by_id(queryset: QuerySet, first: int, after: str | None) -> Connection:
    first = _first(first)
    if after:
        (pk,) = _decode(after, 1)
        key = parse_id(pk)
        if key is None:
            raise _not_a_cursor(after)
        queryset = queryset.filter(id__gt=key)
    return _page(queryset.order_by("id"), first, lambda row: _encode(row.pk))


# --- Types ---------------------------------------------------------------------------------------


@strawberry_django.type(Source, fields=["id", "kind", "name", "url", "enabled", "credibility", "feed_title",
                                        "last_success_at", "consecutive_failures", "last_error_kind", "articles_ingested"])
class SourceNode:
    pass


@strawberry_django.type(SignalOutcome, fields=["horizon", "status", "note", "entry_t", "exit_t", "ret", "benchmark_ret",
                                               "excess_ret", "direction_right", "mae", "excess_sigma"])
class OutcomeNode:
    pass


@strawberry_django.type(Article, fields=["id", "title", "url", "summary", "platform", "published_at", "fetched_at"])
class ArticleNode:
    tickers: JSON = strawberry_django.field(description="[{symbol, confidence, how, text}]")
    meta: JSON = strawberry_django.field(description="The platform's data of a post or filing (score, comments …).")

    @strawberry_django.field(description="The feed, subreddit, search or filing feed it came from.")
    def source(self, info: Info) -> SourceNode | None:
        require(info, "articles.view_source")
        return self.source

    @strawberry_django.field(description="Signals made from this article, newest first.")
    def signals(self, info: Info, first: int = PAGE_DEFAULT, after: str | None = None) -> Connection["SignalNode"]:
        require(info, "signals.view_signal")
        return page_by_time(Signal.objects.filter(article_id=self.pk), "t", first, after)


@strawberry_django.type(Signal, fields=["id", "symbol", "t", "score", "label", "stance", "predicted_up", "model_version",
                                        "expected_move", "created_at"])
class SignalNode:
    reasons: JSON = strawberry_django.field(description="[{factor, contribution, detail?}], largest first")

    @strawberry_django.field(description="The article (news, post or filing) it was made from.")
    def article(self, info: Info) -> ArticleNode | None:
        require(info, "articles.view_article")
        return self.article

    @strawberry_django.field(description="What the market did after it: +1, +5, +20 sessions (analysts).")
    def outcomes(self, info: Info) -> list[OutcomeNode]:
        require(info, "signals.view_signaloutcome")
        return list(self.outcomes.order_by("horizon"))


# --- The queries ---------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(description="Sources by id; `kind`: rss, reddit, x, sec_form4.")
    def sources(self, info: Info, kind: str | None = None, first: int = PAGE_DEFAULT,
                after: str | None = None) -> Connection[SourceNode]:
        require(info, "articles.view_source")
        queryset = Source.objects.all()
        if kind:
            queryset = queryset.filter(kind=kind)
        return page_by_id(queryset, first, after)

    @strawberry.field(description="Articles, newest first; filter by ticker, source or platform (news, reddit, x, sec).")
    def articles(self, info: Info, ticker: str | None = None, source_id: int | None = None, platform: str | None = None,
                 first: int = PAGE_DEFAULT, after: str | None = None) -> Connection[ArticleNode]:
        require(info, "articles.view_article")
        queryset = Article.objects.select_related("source")
        if ticker:
            queryset = queryset.filter(ticker_rows__symbol=ticker.strip().upper())
        if source_id is not None:
            queryset = queryset.filter(source_id=source_id)
        if platform:
            queryset = queryset.filter(platform=platform)
        return page_by_time(queryset, "published_at", first, after)

    @strawberry.field(description="Signals, newest first; filter by symbol, label or a minimum score.")
    def signals(self, info: Info, symbol: str | None = None, label: str | None = None, min_score: float | None = None,
                first: int = PAGE_DEFAULT, after: str | None = None) -> Connection[SignalNode]:
        require(info, "signals.view_signal")
        queryset = Signal.objects.select_related("article")
        if symbol:
            queryset = queryset.filter(symbol=symbol.strip().upper())
        if label:
            queryset = queryset.filter(label=label)
        if min_score is not None:
            queryset = queryset.filter(score__gte=min_score)
        return page_by_time(queryset, "t", first, after)

    @strawberry.field(description="One signal by id (null if there is none).")
    def signal(self, info: Info, id: strawberry.ID) -> SignalNode | None:
        require(info, "signals.view_signal")
        pk = parse_id(id)
        return None if pk is None else Signal.objects.select_related("article").filter(pk=pk).first()

    @strawberry.field(description="One article by id (null if there is none).")
    def article(self, info: Info, id: strawberry.ID) -> ArticleNode | None:
        require(info, "articles.view_article")
        pk = parse_id(id)
        return None if pk is None else Article.objects.select_related("source").filter(pk=pk).first()


def build_schema() -> strawberry.Schema:
    from newstunneler.gql.limits import extensions

    return strawberry.Schema(query=Query, extensions=extensions())


schema = build_schema()
