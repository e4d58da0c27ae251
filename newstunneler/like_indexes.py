"""PostgreSQL: Django gives every indexed or unique varchar column a second index, with varchar_pattern_ops,
for LIKE 'prefix%' lookups. On a column only ever compared for equality (a hash, a job id) that index
serves nothing and costs a b-tree insert on every row. `dropped(...)` is the migration operation that
removes them (and puts them back when the migration is reversed). Nothing on SQLite.

Django adds the index again if a later migration alters such a field's index or uniqueness: drop it again
in that migration."""

from django.db import migrations


def dropped(app_label: str, model_name: str, *field_names: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in field_names:
            column = model._meta.get_field(name).column
            index = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name in field_names:
            sql = schema_editor._create_like_index_sql(model, model._meta.get_field(name))
            if sql is not None:
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards, elidable=False)
