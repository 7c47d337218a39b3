"""Assessment benchmark (issue 7): month and year of all region/department subjects over a
bulk-simulated history on PostgreSQL, against DuckDB computing the same figures from the same
facts in the same run (asserted identical); warm medians.

    .venv/bin/python bench/assess.py [--cases 1000000] [--runs 7]

Creates the scratch database `bench_assess` on 127.0.0.1:5432 (BENCH_PG_DSN overrides the
server DSN), migrates it, loads the small demo city and organisation, writes the cases and
events with COPY (citygrid.assess.bulk), builds the facts and rollup, measures, drops it.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_PG_DSN", "postgres://postgres@127.0.0.1:5432")
DB = "bench_assess"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _median(fn, runs: int) -> tuple[float, object]:
    fn()
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    _admin(f"DROP DATABASE IF EXISTS {DB}")
    _admin(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygrid.settings")
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _admin(f"DROP DATABASE IF EXISTS {DB}")


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    import duckdb
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from citygrid.assess.bulk import bulk_generate
    from citygrid.assess.facts import refresh_facts
    from citygrid.assess.models import CaseFact
    from citygrid.assess.services import Filters, compute_figures
    from tests.cases.conftest import _load

    call_command("migrate", verbosity=0)
    _load()
    t = time.perf_counter()
    bulk_generate(cases=args.cases, days=args.days, seed=1)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    refresh_facts()
    with connection.cursor() as c:
        c.execute("ANALYZE")
    facts_s = time.perf_counter() - t
    print(f"cases {args.cases:,}: COPY load {load_s:.1f} s; facts + rollup {facts_s:.1f} s")

    buffer = io.StringIO()
    cols = ["case_id", "day", "district_id", "street_id", "department_id", "filed",
            "due_to_close", "closed", "closed_on_time", "valid", "due_to_handle",
            "handled_on_time", "reworks", "returns", "postponed", "suspended"]
    sql = (f"COPY (SELECT {', '.join(cols)} FROM {CaseFact._meta.db_table}) "
           "TO STDOUT WITH (FORMAT csv, HEADER)")
    with connection.cursor() as c, c.cursor.copy(sql) as copy:
        for block in copy:
            buffer.write(bytes(block).decode())
    path = Path("/tmp/bench_assess_facts.csv")
    path.write_text(buffer.getvalue())
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE f AS SELECT * FROM read_csv_auto('{path}')")

    end = timezone.localdate() - timedelta(days=1)
    month = (date(end.year, end.month, 1) - timedelta(days=1)).replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    year = (end - timedelta(days=args.days - 1), end)

    def duck_region(start: date, stop: date, column: str) -> dict[int, dict[str, int]]:
        rows = duck.execute(f"""
            SELECT {column}, count(*) FILTER (WHERE filed), count(*) FILTER (WHERE due_to_close),
                   count(*) FILTER (WHERE due_to_close AND closed),
                   count(*) FILTER (WHERE due_to_close AND closed_on_time)
            FROM f WHERE day BETWEEN ? AND ? AND {column} IS NOT NULL GROUP BY 1""",
                            [start, stop]).fetchall()
        keys = ("filed", "due_to_close", "closed", "closed_on_time")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows if any(r[1:])}

    def duck_dept(start: date, stop: date) -> dict[int, dict[str, int]]:
        rows = duck.execute("""
            SELECT department_id, count(*) FILTER (WHERE due_to_handle),
              count(*) FILTER (WHERE due_to_handle AND handled_on_time),
              count(*) FILTER (WHERE due_to_handle AND closed),
              count(*) FILTER (WHERE due_to_handle AND NOT handled_on_time),
              count(*) FILTER (WHERE due_to_handle AND reworks > 0),
              count(*) FILTER (WHERE due_to_handle AND returns > 0),
              count(*) FILTER (WHERE due_to_handle AND postponed),
              count(*) FILTER (WHERE due_to_handle AND suspended)
            FROM f WHERE day BETWEEN ? AND ? AND department_id IS NOT NULL GROUP BY 1""",
                            [start, stop]).fetchall()
        keys = ("due_to_handle", "handled_on_time", "closed", "overdue", "reworked", "returned",
                "postponed", "suspended")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows if any(r[1:])}

    def ours(start: date, stop: date, rollup: bool) -> dict[str, object]:
        f = Filters(start, stop)
        return {k: compute_figures(k, f, use_rollup=rollup) for k in ("district", "street", "department")}

    def theirs(start: date, stop: date) -> dict[str, object]:
        return {"district": duck_region(start, stop, "district_id"),
                "street": duck_region(start, stop, "street_id"), "department": duck_dept(start, stop)}

    print("| query | PostgreSQL rollup | PostgreSQL facts (FILTER) | DuckDB (facts) | rollup / DuckDB |")
    print("|---|---|---|---|---|")
    for label, (start, stop) in (("month", (month, month_end)), ("year", year)):
        pg_ms, pg = _median(lambda s=start, e=stop: ours(s, e, True), args.runs)
        raw_ms, raw = _median(lambda s=start, e=stop: ours(s, e, False), args.runs)
        dk_ms, dk = _median(lambda s=start, e=stop: theirs(s, e), args.runs)
        assert pg == raw == dk, f"{label}: figures differ"
        print(f"| {label}, district + street + department | {pg_ms:.1f} ms | {raw_ms:.1f} ms | "
              f"{dk_ms:.1f} ms | {pg_ms / dk_ms:.2f}× |")
    path.unlink()


if __name__ == "__main__":
    main()
