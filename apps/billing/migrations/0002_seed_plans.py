from decimal import Decimal

from django.db import migrations

PLANS = [
    ("free", 30, 1_000, 50, Decimal("0"), []),
    ("pro", 300, 50_000, 2_000, Decimal("50"), ["llm_analysis", "signal_search"]),
    ("enterprise", 3_000, 1_000_000, 50_000, Decimal("1000"), ["llm_analysis", "signal_search", "priority_support"]),
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for name, per_minute, per_day, analyses, budget, features in PLANS:
        Plan.objects.using(schema_editor.connection.alias).get_or_create(name=name, defaults={
            "requests_per_minute": per_minute, "requests_per_day": per_day, "analyses_per_month": analyses,
            "llm_budget_usd": budget, "features": features})


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
