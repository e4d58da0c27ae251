"""A plan's LLM budget: 0 now means no LLM analyses at all (it meant "no cap"); an explicitly empty
budget (NULL) is the uncapped one."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_seed_plans")]
    operations = [
        migrations.AlterField(
            model_name="plan", name="llm_budget_usd",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True,
                                      validators=[django.core.validators.MinValueValidator(0)],
                                      help_text="USD per month for LLM analyses. 0: none at all; empty: no cap."),
        ),
        migrations.AlterField(
            model_name="plan", name="features",
            field=models.JSONField(blank=True, default=list,
                                   help_text="Any of: llm_analysis, signal_search, priority_support."),
        ),
    ]
