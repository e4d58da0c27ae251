from django.apps import AppConfig


class ImportersConfig(AppConfig):
    """Data brought in from elsewhere: the original News Tunneler, and this install's SQLite on a move."""

    name = "apps.importers"
    label = "importers"
