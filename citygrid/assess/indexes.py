"""Secondary indexes and constraints off during a bulk load, rebuilt after it (PostgreSQL).

Building an index once over millions of rows is several times cheaper than updating it row
by row, and a foreign key checked per copied row (a trigger each) costs more than one join
that validates them all at the end. The primary keys stay. The definitions are read from the
catalogue before dropping and replayed verbatim, so what is rebuilt is what was there; the
rebuild runs even when the load fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, models

_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')
ORDER BY c.contype, c.conname"""
_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1"""

timings: dict[str, float] = {}


@contextmanager
def dropped_indexes(tables: Sequence[type[models.Model]], *, active: bool = True) -> Iterator[None]:
    if not active or connection.vendor != "postgresql":
        yield
        return
    names = [m._meta.db_table for m in tables]
    with connection.cursor() as cursor:
        cursor.execute(_CONSTRAINTS, [names])
        constraints = cursor.fetchall()
        cursor.execute(_INDEXES, [names])
        indexes = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in reversed(constraints):  # unique ones first
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("RESET maintenance_work_mem")
        timings["rebuild"] = time.perf_counter() - started
