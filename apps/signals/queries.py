"""The signals app's raw SQL, kept here and tested in tests/signals/test_queries.py: what the ORM cannot
say in a form the planner answers from an index."""

from django.db import NotSupportedError, connection
from django.db.models import CharField, Func
from django.db.models.expressions import RawSQL

# A skip scan: walk the distinct symbols through the (symbol, t) index one step at a time (a recursive
# CTE), then take each one's newest signal from the same index. (symbol, t) is unique, so t alone
# orders a symbol's signals. About 1,000 index probes for 1,000 symbols, whatever the table's size,
# where the correlated "newest of each symbol" subquery read every row.
LATEST_PER_SYMBOL = """
WITH RECURSIVE symbols(symbol) AS (
    SELECT min(symbol) FROM signals_signal
    UNION ALL
    SELECT (SELECT min(s.symbol) FROM signals_signal s WHERE s.symbol > symbols.symbol)
    FROM symbols WHERE symbols.symbol IS NOT NULL
)
SELECT (SELECT s.id FROM signals_signal s WHERE s.symbol = symbols.symbol ORDER BY s.t DESC LIMIT 1)
FROM symbols WHERE symbols.symbol IS NOT NULL
"""


def latest_signal_ids_sql() -> RawSQL:
    """The same as a subquery (`id__in=`): one round trip, no thousand-id list sent back."""
    return RawSQL(LATEST_PER_SYMBOL, ())


def latest_signal_ids() -> list[int]:
    """The id of the newest signal of every symbol (PostgreSQL and SQLite alike)."""
    with connection.cursor() as cursor:
        cursor.execute(LATEST_PER_SYMBOL)
        return [row[0] for row in cursor.fetchall()]


class UTCText(Func):
    """A timestamp column as the API writes a UTC datetime ("2026-12-04T10:00:00Z", with ".123456"
    when it has microseconds: serializers.utc_text), formatted by the database. Reading the text is
    several times cheaper than loading a datetime and formatting it in Python (the signals list's
    JSON page)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores an aware datetime as its UTC "YYYY-MM-DD HH:MM:SS[.ffffff]" text (str(datetime))
        return super().as_sql(compiler, connection, template="replace(%(expressions)s, ' ', 'T') || 'Z'", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if params:
            raise NotSupportedError("UTCText formats a column, not an expression with parameters")
        return (f"to_char({sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
                f" || CASE WHEN date_trunc('second', {sql}) = {sql} THEN '' ELSE to_char({sql}, '.US') END || 'Z'"), []

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"UTCText is written for SQLite and PostgreSQL, not {connection.vendor}")
