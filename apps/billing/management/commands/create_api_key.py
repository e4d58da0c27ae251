from datetime import UTC, datetime, time

from django.contrib.auth import get_user_model

from apps.billing import services
from apps.billing.models import Account, Plan
from newstunneler.commands import CommandError, OperatorCommand, parse_day


class Command(OperatorCommand):
    help = ("Create an API key for an account (by id or name) and print it once: only its hash is stored. "
            "With --owner, a missing account is created for that user (on --plan, default free).")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--account", required=True, help="account id or exact name")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'trading bot'")
        parser.add_argument("--expires", default=None, help="last day it works (YYYY-MM-DD), default never")
        parser.add_argument("--owner", default=None, help="username: create the account for this user if it is missing")
        parser.add_argument("--plan", default="free", help="the plan of an account --owner creates (default free)")

    def handle(self, *args, account, name, expires, owner, plan, **options):
        by_id = account.isascii() and account.isdigit()
        target = (Account.objects.filter(pk=int(account)) if by_id else Account.objects.filter(name=account)).first()
        if target is None:
            target = self._create_account(account, owner, plan)
        expires_at = datetime.combine(parse_day("--expires", expires), time.max, UTC) if expires else None
        row, key = services.api_key_create(account=target, name=name, expires_at=expires_at)
        self.stdout.write(f"Created API key {row.prefix}… for account {target} ({target.plan}).")
        self.stdout.write(f"  key: {key}")
        self.stdout.write("  (shown once; send it as `Authorization: Api-Key <key>`)")

    def _create_account(self, account: str, owner: str | None, plan: str) -> Account:
        """A missing account: created for --owner, or an error that says exactly what to run."""
        if owner is None:
            known = ", ".join(f'"{a.name}"' for a in Account.objects.order_by("name")[:10]) or "none yet"
            raise CommandError(
                f'no account "{account}" (accounts: {known}). To create it for a user, run: manage.py create_api_key '
                f'--account "{account}" --owner USERNAME [--plan {"|".join(Plan.objects.values_list("name", flat=True))}] '
                f'--name NAME')
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f'no user "{owner}": create one first with manage.py createsuperuser or in the admin '
                               "(Users > Add)")
        chosen = Plan.objects.filter(name=plan).first()
        if chosen is None:
            raise CommandError(f'no plan "{plan}" (plans: {", ".join(Plan.objects.values_list("name", flat=True))})')
        created = Account.objects.create(owner=user, name=account, plan=chosen)
        self.stdout.write(f'Created account "{created.name}" for {user.username} on plan {chosen.name}.')
        return created
