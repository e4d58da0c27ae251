"""Create the websocket_v2 flag (off) as 0002 does:
idempotent, the creation audited."""

import importlib

from django.db import migrations

create = importlib.import_module("apps.flags.migrations.0002_create_registered_flags").create


class Migration(migrations.Migration):
    dependencies = [("flags", "0007_graphql_flag")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
