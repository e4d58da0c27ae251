from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    """Sources, articles, scores and analyses."""

    name = "apps.articles"
    label = "articles"
