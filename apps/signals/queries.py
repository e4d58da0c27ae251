"""The signals app's raw SQL, kept here and tested in tests/signals/test_queries.py: what the ORM cannot
say in a form the planner answers from an index."""

from django.db import connection
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
