from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).get_or_create(
        name="flush usage", defaults={"actor": "flush_usage", "cron": "* * * * *"})


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_seed_schedules")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
