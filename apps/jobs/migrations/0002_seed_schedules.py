"""The schedules every install starts with (editable and pausable in the admin). The digest
schedules arrive with their actors in the notify issue."""

from django.db import migrations

SEEDS = [
    ("poll feeds", "poll_due_sources", "*/5 * * * *"),
    ("retention cleanup", "retention_cleanup", "0 0 * * *"),
    ("reconcile jobs", "reconcile_jobs", "* * * * *"),
    ("purge old jobs", "purge_jobs", "30 0 * * *"),
]


def seed(apps, schema_editor):
    Schedule = apps.get_model("jobs", "Schedule")
    for name, actor, cron in SEEDS:
        Schedule.objects.using(schema_editor.connection.alias).get_or_create(name=name, defaults={"actor": actor, "cron": cron})


def unseed(apps, schema_editor):
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).filter(name__in=[name for name, _, _ in SEEDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
