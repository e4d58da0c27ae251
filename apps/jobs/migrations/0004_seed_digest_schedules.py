from django.db import migrations


def seed(apps, schema_editor):
    Schedule = apps.get_model("jobs", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(name="daily digest", defaults={"actor": "send_daily_digest", "cron": "0 8 * * *"})
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(name="weekly digest", defaults={"actor": "send_weekly_digest", "cron": "0 8 * * 1"})


class Migration(migrations.Migration):
    dependencies = [("jobs", "0003_seed_usage_flush")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
