"""The scheduler reconciles by itself now (every NT_JOBS_RECONCILE_EVERY seconds, apps/jobs/scheduler.py):
as a scheduled job, a reconcile lost with the broker it repairs held its schedule's dedupe key, so no
later reconcile started. The seeded schedule goes; `manage.py reconcile_jobs` and the actor stay."""

from django.db import migrations


def drop(apps, schema_editor):
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).filter(actor="reconcile_jobs").delete()


def restore(apps, schema_editor):
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).get_or_create(
        name="reconcile jobs", defaults={"actor": "reconcile_jobs", "cron": "* * * * *"})


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_seed_digest_schedules")]
    operations = [migrations.RunPython(drop, restore)]
