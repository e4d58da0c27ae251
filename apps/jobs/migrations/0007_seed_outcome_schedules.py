"""Prices and outcomes: bars of recent signals' symbols after the US close (Tiingo publishes by 22:30
UTC), then the outcomes they make possible. Editable and pausable like every schedule."""

from django.db import migrations

SEEDS = [("fetch prices", "fetch_signal_prices", "0 23 * * 1-5"), ("compute outcomes", "compute_outcomes", "30 23 * * 1-5")]


def seed(apps, schema_editor):
    Schedule = apps.get_model("jobs", "Schedule")
    for name, actor, cron in SEEDS:
        Schedule.objects.using(schema_editor.connection.alias).get_or_create(name=name, defaults={"actor": actor, "cron": cron})


def unseed(apps, schema_editor):
    names = [name for name, _, _ in SEEDS]
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0006_seed_reanalyze_schedule")]
    operations = [migrations.RunPython(seed, unseed)]
