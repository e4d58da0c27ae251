from datetime import UTC, datetime, time

from apps.billing import services
from apps.billing.models import Account
from newstunneler.commands import CommandError, OperatorCommand, parse_day


class Command(OperatorCommand):
    help = "Create an API key for an account (by id or name) and print it once: only its hash is stored."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--account", required=True, help="account id or exact name")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'trading bot'")
        parser.add_argument("--expires", default=None, help="last day it works (YYYY-MM-DD), default never")

    def handle(self, *args, account, name, expires, **options):
        found = Account.objects.filter(pk=int(account)) if account.isascii() and account.isdigit() else Account.objects.filter(name=account)
        target = found.first()
        if target is None:
            raise CommandError(f"no account {account!r}")
        expires_at = datetime.combine(parse_day("--expires", expires), time.max, UTC) if expires else None
        row, key = services.api_key_create(account=target, name=name, expires_at=expires_at)
        self.stdout.write(f"Created API key {row.prefix}… for account {target} ({target.plan}).")
        self.stdout.write(f"  key: {key}")
        self.stdout.write("  (shown once; send it as `Authorization: Api-Key <key>`)")
