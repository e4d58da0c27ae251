"""`field__among=[...]`: `field IN (...)` with the whole list as ONE parameter, for hot paths that look up
hundreds of strings at a time (ingest's dedupe look-up: a poll group's URL hashes and title fingerprints).

Django's `__in` binds one parameter per value: Django prepares each, and on PostgreSQL psycopg's client-side
binding then parses the statement for its placeholders and quotes every value, both in Python (1.8 ms for a
500-value look-up, measured), and no statement cache holds a statement of a new length. Here the values
travel as one JSON array, which the database unpacks:

- PostgreSQL: `col = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))`: the array is computed
  once (an InitPlan), and the column's b-tree index is searched for its members, as for `IN`.
- SQLite: `col IN (SELECT value FROM json_each(%s))`: the index is searched for each member, as for `IN`.

Only strings (None is dropped, as `__in` drops it); the plans are asserted in tests/newstunneler/test_lookups.py.
"""

import json

from django.db.models import CharField, Lookup


@CharField.register_lookup
class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self):
        values = [value for value in self.rhs if value is not None]
        wrong = next((value for value in values if not isinstance(value, str)), None)
        if wrong is not None:
            raise TypeError(f"__among takes strings, not {type(wrong).__name__} ({wrong!r:.80})")
        return values

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        document = json.dumps(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY(SELECT jsonb_array_elements_text(%s::jsonb)))", (*lhs_params, document)
        if connection.vendor == "sqlite":
            return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, document)
        raise NotImplementedError(f"__among is written for PostgreSQL and SQLite, not {connection.vendor}")
