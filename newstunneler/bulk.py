"""The project's hand-built multi-row INSERT (tested in tests/newstunneler/test_bulk.py), for the hot paths
that store a batch at a time: ingest (articles, their scores and tickers) and the job ledger's fan-outs.

Why not `bulk_create`: with `ignore_conflicts` it returns no primary keys on any backend, so ingest had
to read its rows back by hash; and it compiles every value of every row through the SQL compiler
(about a third of an ingest's time in the bench's profile). Here:

- PostgreSQL: the batch travels as ONE json parameter, `INSERT … SELECT … FROM jsonb_to_recordset(%s)`,
  each column cast to its own type by the server. The statement text is the same whatever the batch
  size, and the rows are serialised by the json module in C: with Django's client-side binding, one
  array parameter per column cost 2.5 times as much, all of it in the driver's per-value quoting. A
  column that no row (of mappings) gives has one value for the batch and is sent once, beside the document.
- SQLite: multi-row VALUES, split at the parameter limit SQLite was compiled with.

Values of the plain column types pass as they are; others go through the field's own conversion.
`ON CONFLICT DO NOTHING RETURNING` hands back exactly the rows the statement inserted (PostgreSQL, and
SQLite 3.35+). Unlike `INSERT OR IGNORE`, SQLite's `ON CONFLICT DO NOTHING` skips only uniqueness
conflicts, as PostgreSQL does: a NOT NULL or CHECK violation still raises, so a caller's row-by-row
fallback sees it.
"""

import datetime
import decimal
import json
import operator
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from types import SimpleNamespace

from django.conf import settings
from django.core import checks
from django.db import connections, models, router

# Column types whose Python values the drivers take as they are, when the value is of these types.
_PLAIN = {
    models.CharField: (str, type(None)), models.TextField: (str, type(None)),
    models.IntegerField: (int, type(None)), models.ForeignKey: (int, type(None)),
    models.FloatField: (float, int, type(None)), models.BooleanField: (bool, type(None)),
}


def insert(model: type[models.Model], objs: Sequence[models.Model | Mapping[str, object]], *,
           fields: Sequence[str] | None = None, ignore_conflicts: bool = False, returning: Sequence[str] = (),
           using: str | None = None) -> list[tuple]:
    """INSERT `objs`: one statement on PostgreSQL, as few as the parameter limit allows on SQLite.
    - `objs`: unsaved instances of `model`, or (cheaper to make, for the hot paths) mappings of field
      values by attribute name ("article_id"); all of one kind. A field a mapping leaves out takes its
      default, evaluated once for the call (one `now` for the batch).
    - `fields`: the field names to write (default: every concrete field but an auto primary key and
      generated columns). Field defaults were applied when the instances were made; auto_now and
      auto_now_add are applied here, as a save would (for mappings: one `now` for the call).
    - `ignore_conflicts`: a row that breaks a unique constraint is skipped.
    - `returning`: field names whose values come back, one tuple per inserted row, in no promised order
      (with `ignore_conflicts`, the skipped rows are not among them)."""
    if not objs:
        return []
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    if fields is None:
        chosen = [f for f in meta.concrete_fields
                  if not (f.primary_key and isinstance(f, models.AutoField)) and not getattr(f, "generated", False)]
    else:
        chosen = [meta.get_field(name) for name in fields]
    returned = [meta.get_field(name) for name in returning]
    mappings = isinstance(objs[0], Mapping)
    get = _getters(chosen, mappings=mappings)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in chosen)
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) "
    tail = (" ON CONFLICT DO NOTHING" if ignore_conflicts else "") + (
        f" RETURNING {', '.join(quote(f.column) for f in returned)}" if returned else "")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A field no mapping gives has one value for the whole batch (its default, or `now`): it travels
            # once, as a parameter, not in every row of the document (a ledger row gives 9 of its 22 columns).
            given = set().union(*objs) if mappings else None
            varying = [f for f in chosen if given is None or f.attname in given] or chosen[:1]
            constant = {f: f.get_db_prep_save(get[f]({}), connection) for f in chosen if f not in varying}
            record = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in varying)
            prepare = [(f.column, _json_preparer(f, get[f])) for f in varying]
            document = json.dumps([{column: prep(obj) for column, prep in prepare} for obj in objs],
                                  default=_json_default, allow_nan=False)
            select = ", ".join(f"%s::{f.db_type(connection)}" if f in constant else f"r.{quote(f.column)}" for f in chosen)
            cursor.execute(f"{head}SELECT {select} FROM jsonb_to_recordset(%s::jsonb) AS r({record}){tail}",
                           [*constant.values(), document])
            return [tuple(row) for row in cursor.fetchall()] if returned else []
        prepare = [_preparer(f, get[f], connection) for f in chosen]
        row_sql = "(" + ", ".join(["%s"] * len(chosen)) + ")"
        per_statement = max(1, min(len(objs), _max_params(connection) // len(chosen)))
        rows: list[tuple] = []
        for first in range(0, len(objs), per_statement):
            batch = objs[first:first + per_statement]
            cursor.execute(f"{head}VALUES {', '.join([row_sql] * len(batch))}{tail}",
                           [prep(obj) for obj in batch for prep in prepare])
            if returned:
                rows += [tuple(row) for row in cursor.fetchall()]
    return rows


def _max_params(connection) -> int:
    """The most parameters one SQLite statement may carry, as compiled (32,766 since 3.32; Django assumes 999)."""
    connection.ensure_connection()
    return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def _auto(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _kinds(field: models.Field) -> tuple | None:
    return next((kinds for cls, kinds in _PLAIN.items() if isinstance(field, cls)), None)


def _getters(fields: list[models.Field], mappings: bool) -> dict:
    """field -> (obj -> its raw value): auto_now/auto_now_add applied as a save would (for mappings: the
    same `now` for every row), a field a mapping leaves out at its default (evaluated once)."""
    getters = {}
    for field in fields:
        attname = field.attname
        if mappings:
            if _auto(field):
                now = field.pre_save(SimpleNamespace(), add=True)
                getters[field] = lambda row, now=now: now
            else:
                default = field.get_default()
                getters[field] = lambda row, attname=attname, default=default: row.get(attname, default)
        elif _auto(field):
            getters[field] = lambda obj, field=field: field.pre_save(obj, add=True)
        else:
            getters[field] = operator.attrgetter(attname)
    return getters


def _value(field: models.Field, get):
    """obj -> the field's value: a value of a plain column type as it is, else the field's Python
    conversion (int("3")...); auto_now/auto_now_add as `get` applied them."""
    kinds = _kinds(field)
    if _auto(field):
        return get
    if kinds:
        def plain(obj):
            value = get(obj)
            return value if isinstance(value, kinds) else field.get_prep_value(value)
        return plain
    return lambda obj: field.get_prep_value(get(obj))


def _preparer(field: models.Field, get, connection):
    """For a SQLite parameter: plain values as they are; an aware datetime and plain JSON as the field
    would write them (the same text, without its per-value calls: tests/newstunneler/test_bulk.py
    compares them byte for byte); the rest through get_db_prep_save."""
    if _kinds(field) and not _auto(field):
        return _value(field, get)
    if isinstance(field, models.DateTimeField) and settings.USE_TZ:
        zone = connection.timezone

        def moment(obj):
            value = get(obj)
            if type(value) is datetime.datetime and value.tzinfo is not None:
                return str(value.astimezone(zone).replace(tzinfo=None))
            return field.get_db_prep_save(value, connection)
        return moment
    if isinstance(field, models.JSONField):
        def document(obj):
            value = get(obj)
            if type(value) in (dict, list):
                return json.dumps(value, cls=field.encoder)
            return field.get_db_prep_save(value, connection)
        return document
    return lambda obj: field.get_db_prep_save(get(obj), connection)


def _json_preparer(field: models.Field, get):
    """For a member of the PostgreSQL json document: JSON fields' values as JSON (through their encoder,
    if they have one), an aware datetime in ISO form, the rest as _json_default renders them."""
    if isinstance(field, models.DateTimeField):
        prepare = (lambda found: found) if _auto(field) else field.get_prep_value

        def moment(obj):
            found = get(obj)
            if type(found) is not datetime.datetime or found.tzinfo is None:
                found = prepare(found)  # a naive datetime, a string, None: as the field prepares it (an aware one as it is)
            return found.isoformat() if type(found) is datetime.datetime else found
        return moment
    value = _value(field, get)
    if isinstance(field, models.JSONField) and field.encoder is not None:
        return lambda obj: json.loads(json.dumps(value(obj), cls=field.encoder))
    return value


def _json_default(value):
    """What json cannot write itself, as the text PostgreSQL reads for the column's type."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return str(value) if not isinstance(value, datetime.timedelta) else f"{value.total_seconds()} seconds"
    raise TypeError(f"bulk.insert cannot store a {type(value).__name__} value ({value!r:.80}) on PostgreSQL")


@checks.register(checks.Tags.database)
def returning_supported(app_configs, databases=None, **kwargs):
    """`insert(..., returning=...)` needs INSERT … RETURNING: PostgreSQL, or SQLite 3.35+."""
    errors = []
    for alias in databases or ():
        connection = connections[alias]
        if not connection.features.can_return_rows_from_bulk_insert:
            errors.append(checks.Error(
                f"database {alias!r} ({connection.vendor}) cannot return rows from INSERT",
                hint="Use PostgreSQL, or a Python built with SQLite 3.35 or later.", id="newstunneler.E010"))
    return errors
