"""reanalyze_low_scores existed but nothing started it: a schedule every 6 hours (editable, pausable)."""

from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).get_or_create(
        name="reanalyze unsure analyses", defaults={"actor": "reanalyze_low_scores", "cron": "15 */6 * * *"})


def unseed(apps, schema_editor):
    apps.get_model("jobs", "Schedule").objects.using(schema_editor.connection.alias).filter(name="reanalyze unsure analyses").delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_reconcile_in_scheduler")]
    operations = [migrations.RunPython(seed, unseed)]
