"""Two foreign-key indexes go: Article.source's (article_source_pub_idx, on (source, -published_at), leads
with the same column) and ArticleTicker.article's (the unique constraint's index, on (article, symbol),
does). Each cost an index insert per stored article or ticker row and served no query the other does not.

Only the indexes are dropped (DROP INDEX, on both databases): an AlterField would rebuild the article
tables on SQLite and re-validate the foreign keys on PostgreSQL."""

import django.db.models.deletion
from django.db import migrations, models

COVERED = [("Article", "source"), ("ArticleTicker", "article")]


def drop(apps, schema_editor):
    for model_name, field_name in COVERED:
        model = apps.get_model("articles", model_name)
        column = model._meta.get_field(field_name).column
        name = schema_editor._create_index_name(model._meta.db_table, [column])
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore(apps, schema_editor):
    for model_name, field_name in COVERED:
        model = apps.get_model("articles", model_name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(field_name)]))


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_drop_like_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="article", name="source",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, related_name="articles",
                                            to="articles.source"),
                ),
                migrations.AlterField(
                    model_name="articleticker", name="article",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="ticker_rows", to="articles.article"),
                ),
            ],
        ),
    ]
