"""Shared behaviour of the project's management commands: dry runs and progress lines."""

import time
from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class DryRunRollback(Exception):
    pass


class OperatorCommand(BaseCommand):
    """--dry-run runs everything inside a transaction that is rolled back at the end."""

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Do the work, report it, then roll it all back.")

    def execute(self, *args, **options):
        self.dry_run = options.get("dry_run", False)
        self.verbosity = options.get("verbosity", 1)
        self._last_progress = 0.0
        if not self.dry_run:
            return super().execute(*args, **options)
        try:
            with transaction.atomic():
                output = super().execute(*args, **options)
                raise DryRunRollback(output)
        except DryRunRollback as rollback:
            self.stdout.write(self.style.WARNING("Dry run: nothing was saved."))
            return rollback.args[0]

    def progress(self, done: int, total: int, detail: str = "", force: bool = False) -> None:
        """A progress line at most every second (and always at the end), unless -v 0."""
        now = time.monotonic()
        if self.verbosity < 1 or (not force and done < total and now - self._last_progress < 1.0):
            return
        self._last_progress = now
        percent = f" ({100 * done // total}%)" if total else ""
        self.stdout.write(f"  {done}/{total}{percent}{' ' + detail if detail else ''}")


def parse_day(option: str, value: str | None):
    """A YYYY-MM-DD option value as a date, or a CommandError naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date like 2026-11-01, not {value!r}") from None


def validation_message(exc: ValidationError) -> str:
    """A ValidationError as one line naming each field: "url: Enter a valid URL.; name: ..."."""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
    return " ".join(exc.messages)


__all__ = ["CommandError", "OperatorCommand", "parse_day", "validation_message"]
