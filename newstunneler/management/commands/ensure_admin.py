import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from newstunneler.env import env_str


class Command(BaseCommand):
    help = (
        "Create the first admin user if no superuser exists. The password comes from NT_ADMIN_PASSWORD, "
        "or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen, change nothing.")

    @transaction.atomic
    def handle(self, *args, dry_run, verbosity, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            if verbosity > 1:
                self.stdout.write("A superuser exists already; nothing to do.")
            return
        username = settings.ADMIN_USERNAME
        if dry_run:
            self.stdout.write(f"Would create superuser {username!r}.")
            return
        password = env_str("NT_ADMIN_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=settings.ADMIN_EMAIL, password=password)
        self.stdout.write(self.style.SUCCESS(f"Created admin user {username!r}."))
        if generated:
            self.stdout.write(
                f"  password: {password}\n"
                "  (shown once; set NT_ADMIN_PASSWORD to choose it, or `manage.py changepassword` later)"
            )
