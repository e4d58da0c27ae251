"""Move this install's data from the embedded SQLite database to PostgreSQL (`manage.py move_to_postgres`).

Every model's table (auto-created many-to-many tables included) is copied in foreign-key order, in
batches ordered by primary key, each batch committed together with its progress in the target's
`importers_move_progress` table: an interrupted move resumes where it stopped. The target must be a
PostgreSQL database without data of its own: it is migrated, its seeded rows (flags, roles, plans,
schedules, content types ...) replaced by the source's, every row keeps its id, and the sequences are
set past the highest ids. Parity is checked afterwards: row counts and an order-independent checksum
of every row's values, per table.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections, transaction
from django.db.utils import load_backend

from newstunneler.env import database_from_url

ALIAS = "move_target"
PROGRESS = "importers_move_progress"
# Tables only people (or the pipeline) fill; migrations seed none of them. Rows here: not an empty target.
USER_DATA = ("auth_user", "articles_source", "articles_article", "signals_signal", "jobs_job")


class MoveError(Exception):
    """The move cannot start or go on; the message says why and what to do."""


@dataclass
class Parity:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


def models_in_order() -> list:
    """Every concrete, managed model, each after the models its foreign keys point to (self-references
    and cycles aside: PostgreSQL checks Django's foreign keys at commit, and a cycle's table is copied in
    one transaction)."""
    candidates = [m for m in apps.get_models(include_auto_created=True)
                  if m._meta.managed and not m._meta.proxy and not m._meta.swapped]
    by_label = {m._meta.label_lower: m for m in candidates}
    ordered, seen, visiting = [], set(), set()

    def visit(model):
        label = model._meta.label_lower
        if label in seen or label in visiting:
            return
        visiting.add(label)
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target is not None and target is not model and target._meta.label_lower in by_label:
                visit(by_label[target._meta.label_lower])
        visiting.discard(label)
        seen.add(label)
        ordered.append(model)

    for model in sorted(candidates, key=lambda m: m._meta.db_table):
        visit(model)
    return ordered


def self_referencing(model) -> bool:
    return any(f.is_relation and f.related_model is model for f in model._meta.concrete_fields)


def connect_target(url: str):
    """Register and open the target database under ALIAS. Raises MoveError for a bad URL or no server."""
    try:
        config = database_from_url("the target", url)
    except Exception as exc:  # ImproperlyConfigured with the reason
        raise MoveError(str(exc)) from None
    configured = connections.configure_settings({"default": connections.settings["default"], ALIAS: config})[ALIAS]
    # A connection made here rather than a configured alias (DATABASES stays as settings made it), reachable
    # as connections[ALIAS] in this thread for the ORM, transactions and migrate.
    connection = load_backend(configured["ENGINE"]).DatabaseWrapper(configured, ALIAS)
    setattr(connections._connections, ALIAS, connection)
    try:
        connection.ensure_connection()
    except Exception as exc:
        raise MoveError(f"cannot connect to the target: {exc}") from None
    return connection


def disconnect_target() -> None:
    connection = getattr(connections._connections, ALIAS, None)
    if connection is not None:
        connection.close()
        delattr(connections._connections, ALIAS)


def target_state(connection) -> str:
    """'fresh' (no tables yet), 'empty' (migrated, no data of its own), 'resume' (a move of ours was
    interrupted) or 'not empty'."""
    tables = set(connection.introspection.table_names())
    if PROGRESS in tables:
        return "resume"
    if "django_migrations" not in tables:
        return "fresh" if not tables else "not empty"
    with connection.cursor() as cursor:
        for table in USER_DATA:
            if table in tables:
                cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
                if cursor.fetchone()[0]:
                    return "not empty"
    return "empty"


class Mover:
    def __init__(self, url: str, *, batch_size: int = 2000, progress: Callable = lambda *a: None,
                 say: Callable = print):
        self.source = connections["default"]
        if self.source.vendor != "sqlite":
            raise MoveError(f"the source is this install's database, which is {self.source.vendor}, not the "
                            f"embedded SQLite: there is nothing to move")
        self.url, self.batch_size, self.progress, self.say = url, batch_size, progress, say
        self.target = connect_target(url)
        if self.target.vendor != "postgresql":
            raise MoveError("the target must be PostgreSQL")
        self.models = models_in_order()

    def plan(self) -> list[tuple[str, int]]:
        return [(m._meta.db_table, m._base_manager.using("default").count()) for m in self.models]

    def prepare(self) -> str:
        """Check the target; migrate it and clear its seeded rows on a first run. Returns its state."""
        state = target_state(self.target)
        if state == "not empty":
            raise MoveError("the target already holds data (users, sources, articles, signals or jobs) and no "
                            "interrupted move of ours: give an empty database (createdb newstunneler)")
        if state in ("fresh", "empty"):
            self.say("Migrating the target ...")
            call_command("migrate", database=ALIAS, verbosity=0, interactive=False)
            tables = [m._meta.db_table for m in self.models]
            with self.target.cursor() as cursor:
                cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
                cursor.execute(f'CREATE TABLE "{PROGRESS}" (table_name text PRIMARY KEY, last_pk text, '
                               f'rows bigint NOT NULL DEFAULT 0, done boolean NOT NULL DEFAULT false)')
        return state

    def copy(self) -> dict[str, int]:
        """Copy every table not yet done; returns rows copied per table by this run."""
        copied = {}
        totals = dict(self.plan())
        grand_total, grand_done = sum(totals.values()), 0
        for model in self.models:
            table = model._meta.db_table
            last_pk, rows, done = self._progress(table)
            if done:
                grand_done += rows
                continue
            copied[table] = 0
            whole = self_referencing(model)  # a row may point at a later one: one transaction
            with transaction.atomic(using=ALIAS) if whole else _nothing():
                while True:
                    batch = self._batch(model, last_pk)
                    if not batch:
                        break
                    with transaction.atomic(using=ALIAS):
                        self._insert(model, batch)
                        last_pk = batch[-1].pk
                        rows += len(batch)
                        self._save_progress(table, last_pk, rows, False)
                    copied[table] += len(batch)
                    grand_done += len(batch)
                    self.progress(grand_done, grand_total, f"{table} {rows}/{totals[table]}")
                self._save_progress(table, last_pk, rows, True)
        self._reset_sequences()
        return copied

    def _batch(self, model, last_pk) -> list:
        rows = model._base_manager.using("default").order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        return list(rows[:self.batch_size])

    def _insert(self, model, batch) -> None:
        fields = model._meta.concrete_fields
        columns = ", ".join(f'"{f.column}"' for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        values = [[f.get_db_prep_save(getattr(obj, f.attname), connection=self.target) for f in fields]
                  for obj in batch]
        with self.target.cursor() as cursor:
            cursor.executemany(f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({marks})', values)

    def _progress(self, table: str):
        with self.target.cursor() as cursor:
            cursor.execute(f'SELECT last_pk, rows, done FROM "{PROGRESS}" WHERE table_name = %s', [table])
            row = cursor.fetchone()
        if row is None:
            return None, 0, False
        return (json.loads(row[0]) if row[0] is not None else None), row[1], row[2]

    def _save_progress(self, table: str, last_pk, rows: int, done: bool) -> None:
        with self.target.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{PROGRESS}" (table_name, last_pk, rows, done) VALUES (%s, %s, %s, %s) '
                f"ON CONFLICT (table_name) DO UPDATE SET last_pk = EXCLUDED.last_pk, rows = EXCLUDED.rows, "
                f"done = EXCLUDED.done", [table, None if last_pk is None else json.dumps(last_pk), rows, done])

    def _reset_sequences(self) -> None:
        statements = self.target.ops.sequence_reset_sql(no_style(), self.models)
        with self.target.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def parity(self) -> list[Parity]:
        results = []
        for n, model in enumerate(self.models, 1):
            source_rows, source_sum = checksum(model, "default")
            target_rows, target_sum = checksum(model, ALIAS)
            results.append(Parity(model._meta.db_table, source_rows, target_rows, source_sum, target_sum))
            self.progress(n, len(self.models), f"checked {model._meta.db_table}")
        return results

    def finish(self) -> None:
        """After a clean parity check: the progress table goes (the target is an ordinary database now)."""
        with self.target.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{PROGRESS}"')


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _canonical(value) -> str:
    """One spelling of a value whichever database it came from."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return repr(value)


def checksum(model, alias: str, chunk: int = 5000) -> tuple[int, str]:
    """(rows, checksum) of a table: the sum of a hash of each row's values, so the order rows come back in
    (collations differ between the two databases) does not matter."""
    names = [f.attname for f in model._meta.concrete_fields]
    total, rows = 0, 0
    for values in model._base_manager.using(alias).values_list(*names).iterator(chunk_size=chunk):
        digest = hashlib.sha256("\x1f".join(map(_canonical, values)).encode()).digest()
        total = (total + int.from_bytes(digest[:8], "big")) % (1 << 64)
        rows += 1
    return rows, f"{total:016x}"
