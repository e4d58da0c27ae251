"""Reads of the articles app."""

from django.db.models import QuerySet

from apps.articles.models import Article
from apps.articles.search import search_articles


def article_list(*, q: str = "", min_score: float | None = None, ticker: str = "", source: int | None = None,
                 since=None) -> QuerySet:
    articles = Article.objects.with_details()
    if min_score is not None:
        articles = articles.filter(score__total__gte=min_score)
    if ticker:
        articles = articles.filter(ticker_rows__symbol=ticker.upper())
    if source is not None:
        articles = articles.filter(source_id=source)
    if since is not None:
        articles = articles.filter(published_at__gte=since)
    return search_articles(articles, q) if q else articles
