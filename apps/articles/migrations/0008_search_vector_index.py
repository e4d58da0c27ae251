"""PostgreSQL only: the full-text index rebuilt from the very SearchVector the ORM queries with
(apps/articles/search.DOCUMENT), so the planner can use it inside any query, subqueries included; the
trigram index on titles goes (fuzzy matching is for symbols only, on signals). No-op on SQLite."""

import importlib

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

NAME = "article_search_idx"


def index():
    return GinIndex(SearchVector("title", "summary", config="english"), name=NAME)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS article_fts_idx")
    schema_editor.execute("DROP INDEX IF EXISTS article_title_trgm_idx")
    schema_editor.add_index(apps.get_model("articles", "Article"), index())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("articles", "Article"), index())
    old = importlib.import_module("apps.articles.migrations.0002_postgres_search")
    schema_editor.execute(old.FTS)
    schema_editor.execute(old.TRGM)


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_analysis_provider_finbert")]
    operations = [migrations.RunPython(forwards, backwards)]
