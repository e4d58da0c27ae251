from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "schema.graphql"


class Command(BaseCommand):
    help = ("Write the GraphQL schema (SDL) to docs/schema.graphql, or print it with --print; --check exits 1 if the "
            "file is stale (CI runs the test that does).")

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(SCHEMA_FILE), help="where to write it (default docs/schema.graphql)")
        parser.add_argument("--print", action="store_true", dest="print_only", help="print it instead")
        parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from the code's schema")

    def handle(self, *args, output, print_only, check, **options):
        from newstunneler.gql.schema import schema

        text = schema.as_str() + "\n"
        path = Path(output)
        if print_only:
            self.stdout.write(text, ending="")
            return
        if check:
            if not path.exists() or path.read_text() != text:
                raise CommandError(f"{path} is stale: run manage.py export_graphql_schema")
            self.stdout.write(f"{path} is current")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path} ({len(text.splitlines())} lines)"))
