from datetime import timedelta

import waffle
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.flags import services
from apps.flags.audit import changed_by
from apps.flags.registry import FLAGS

STALE_AFTER = timedelta(days=90)


class Command(BaseCommand):
    help = (
        "Create the registered flags that are missing (with their defaults), report database rows the "
        "registry does not know and flags unchanged for 90 days. --check changes nothing and exits 1 "
        "on drift (missing or unknown rows)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report only; exit 1 on drift")

    def handle(self, *args, check, **options):
        rows = {"switch": {s.name: s for s in waffle.get_waffle_switch_model().objects.all()},
                "flag": {f.name: f for f in waffle.get_waffle_flag_model().objects.all()}}
        missing = [spec for spec in FLAGS.values() if spec.name not in rows[spec.kind]]
        unknown = sorted(f"{kind} {name}" for kind in rows for name in rows[kind]
                         if name not in FLAGS or FLAGS[name].kind != kind)
        stale = sorted(name for kind in rows for name, row in rows[kind].items()
                       if name in FLAGS and row.modified < timezone.now() - STALE_AFTER)
        for spec in missing:
            if check:
                self.stdout.write(f"missing: {spec.kind} {spec.name}")
            else:
                with changed_by(None, "command"):
                    services.flag_ensure(spec)
                self.stdout.write(f"created: {spec.kind} {spec.name} ({'on' if spec.default else 'off'})")
        for entry in unknown:
            self.stdout.write(f"unknown (not in the registry): {entry}")
        for name in stale:
            self.stdout.write(f"unchanged for 90 days: {name}")
        self.stdout.write(f"{len(FLAGS)} registered, {len(missing)} missing, {len(unknown)} unknown, {len(stale)} stale.")
        if check and (missing or unknown):
            raise CommandError("flags drifted from the registry")


