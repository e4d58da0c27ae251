from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    """Sources, articles, scores and analyses."""

    name = "apps.articles"
    label = "articles"

    def ready(self):
        from apps.articles import checks  # noqa: F401 (registers the system checks)
