"""Create the finbert_sentiment switch (off) the same way as 0002: idempotent, the creation audited."""

import importlib

from django.db import migrations

create = importlib.import_module("apps.flags.migrations.0002_create_registered_flags").create


class Migration(migrations.Migration):
    dependencies = [("flags", "0003_notify_flags")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
