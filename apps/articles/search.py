"""Article search: PostgreSQL full-text (GIN-indexed, ranked) or a plain contains fallback on SQLite."""

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

# The index in migration 0002 is on exactly this expression, so the planner can use it.
DOCUMENT = "to_tsvector('english'::regconfig, coalesce(articles_article.title, '') || ' ' || coalesce(articles_article.summary, ''))"
QUERY = "websearch_to_tsquery('english'::regconfig, %s)"


def search_articles(queryset: QuerySet, text: str) -> QuerySet:
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        return (
            queryset.annotate(rank=RawSQL(f"ts_rank({DOCUMENT}, {QUERY})", (text,)))
            .extra(where=[f"{DOCUMENT} @@ {QUERY}"], params=[text])
            .order_by("-rank", "-published_at", "-id")
        )
    condition = Q()
    for word in text.split()[:8]:
        condition &= Q(title__icontains=word) | Q(summary__icontains=word)
    return queryset.filter(condition)
