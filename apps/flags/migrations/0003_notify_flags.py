"""Create the flags registered since 0002 (email_digests, slack_alerts, webhook_notifications,
alert_stream) the same way: idempotent, each creation audited."""

import importlib

from django.db import migrations

create = importlib.import_module("apps.flags.migrations.0002_create_registered_flags").create


class Migration(migrations.Migration):
    dependencies = [("flags", "0002_create_registered_flags")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
