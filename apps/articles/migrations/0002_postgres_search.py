"""PostgreSQL-only search indexes: full-text GIN on title+summary, trigram GIN on titles.
On SQLite this migration does nothing (search falls back to contains)."""

from django.db import migrations

FTS = (
    "CREATE INDEX IF NOT EXISTS article_fts_idx ON articles_article USING gin "
    "(to_tsvector('english'::regconfig, coalesce(articles_article.title, '') || ' ' || coalesce(articles_article.summary, '')))"
)
TRGM = "CREATE INDEX IF NOT EXISTS article_title_trgm_idx ON articles_article USING gin (title gin_trgm_ops)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(FTS)
    schema_editor.execute(TRGM)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS article_fts_idx")
    schema_editor.execute("DROP INDEX IF EXISTS article_title_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
