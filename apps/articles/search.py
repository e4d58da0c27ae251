"""Article search. PostgreSQL: full text through SearchVector/SearchQuery on the expression the GIN index
`article_search_idx` holds (migration 0008), ranked; SQLite: every word contained in title or summary."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, QuerySet

CONFIG = "english"
# The indexed expression (migration 0008 builds the index from this very object, so they match).
DOCUMENT = SearchVector("title", "summary", config=CONFIG)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def query(text: str) -> SearchQuery:
    """Web-search syntax: words are ANDed, "quoted phrases", -excluded, or."""
    return SearchQuery(text, search_type="websearch", config=CONFIG)


def search_articles(queryset: QuerySet, text: str, *, ranked: bool = True) -> QuerySet:
    """Articles of `queryset` matching `text`; on PostgreSQL annotated with `rank` and ordered by it
    (best first, then newest) when `ranked`."""
    text = text.strip()
    if not text:
        return queryset
    if is_postgres():
        matching = queryset.alias(document=DOCUMENT).filter(document=query(text))
        if not ranked:
            return matching
        return (matching.annotate(rank=SearchRank(F("document"), query(text)))
                .order_by("-rank", "-published_at", "-id"))
    condition = Q()
    for word in text.split()[:8]:
        condition &= Q(title__icontains=word) | Q(summary__icontains=word)
    return queryset.filter(condition)

