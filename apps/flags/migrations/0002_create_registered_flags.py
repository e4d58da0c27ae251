"""Create every flag in the registry with its default (later ones: `manage.py sync_flags`)."""

from django.db import migrations


def create(apps, schema_editor):
    from apps.flags.registry import FLAG, FLAGS

    Switch, Flag = apps.get_model("waffle", "Switch"), apps.get_model("waffle", "Flag")
    FlagChange = apps.get_model("flags", "FlagChange")
    for spec in FLAGS.values():
        if spec.kind == FLAG:
            # everyone=None: users, groups and percent decide (off for all until someone is targeted)
            everyone = True if spec.default else None
            _, created = Flag.objects.using(schema_editor.connection.alias).get_or_create(name=spec.name, defaults={"everyone": everyone, "note": spec.description})
            new = {"everyone": everyone}
        else:
            _, created = Switch.objects.using(schema_editor.connection.alias).get_or_create(name=spec.name, defaults={"active": spec.default, "note": spec.description})
            new = {"active": spec.default}
        if created:
            FlagChange.objects.using(schema_editor.connection.alias).create(name=spec.name, kind=spec.kind, source="migration", old=None, new=new)


class Migration(migrations.Migration):
    dependencies = [("flags", "0001_initial"), ("waffle", "0004_update_everyone_nullbooleanfield")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
