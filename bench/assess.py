"""Assessment benchmark (issue 7): the figures of every subject of every kind for a month and
a year of a bulk-simulated history on PostgreSQL, against DuckDB computing the same figures
from the same facts in the same run (asserted identical); warm medians.

    .venv/bin/python bench/assess.py [--cases 1000000] [--days 365] [--runs 7] [--workers 2]

Creates the scratch database `bench_assess` on 127.0.0.1:5432 (BENCH_PG_DSN overrides the
server DSN), migrates it, loads the small demo city and organisation, writes the case
histories (citygrid.assess.bulk: COPY, indexes rebuilt after the load), builds the facts and
the per-subject daily figures, copies the facts into DuckDB, measures, drops the database
(`--keep-db` keeps it; `--reuse-db` measures a kept one again without loading; with
`--refresh` it migrates and rebuilds the facts and per-day sums with the current code first).

PostgreSQL answers three ways: `figures_of_all` (one query over the per-day figures: what the
pages and the monthly run use), the per-case facts with FILTER clauses (the ORM's queries, one
per kind and subject column), and the full assessment of every kind (figures, deductions,
scores, grades, ranks, names). DuckDB runs the very SQL the ORM compiles for the facts path.
"""

from __future__ import annotations

import argparse
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
FACTS_CSV = Path("/tmp/bench_assess_facts.csv")


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


def _uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--city", choices=("small", "full"), default="full",
                        help="demo city: full (6 districts, ~80 streets) or small (2 districts)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--refresh", action="store_true",
                        help="with --reuse-db: migrate and rebuild the facts and per-day sums")
    args = parser.parse_args()
    if not args.reuse_db:
        _admin(f"DROP DATABASE IF EXISTS {DB}")
        _admin(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygrid.settings")
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        FACTS_CSV.unlink(missing_ok=True)
        if not args.keep_db:
            _admin(f"DROP DATABASE IF EXISTS {DB}")


def load(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from citygrid.assess.bulk import bulk_generate
    from citygrid.assess.facts import refresh_facts, refresh_subject_days
    from citygrid.assess.indexes import timings
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    _load_city(args.city)
    print(f"demo city ({args.city}) loaded in {time.perf_counter() - t:.0f} s", flush=True)
    step = max(args.cases // 10, 1)

    def progress(done: int, total: int) -> None:
        if done % step < 20_000 or done == total:
            print(f"  {done:,}/{total:,} cases, {time.perf_counter() - t:.0f} s, load {_uptime()}",
                  flush=True)

    t = time.perf_counter()
    bulk_generate(cases=args.cases, days=args.days, seed=1, workers=args.workers,
                  progress=progress)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    refresh_facts()
    facts_s = time.perf_counter() - t
    t = time.perf_counter()
    refresh_subject_days()
    days_s = time.perf_counter() - t
    with connection.cursor() as c:
        c.execute("ANALYZE")
        c.execute("SELECT count(*) FROM cases_caseevent")
        events = c.fetchone()[0]
        c.execute("SELECT (SELECT count(*) FROM assess_subjectday), "
                  "(SELECT count(*) FROM assess_deductionday)")
        subject_days, deduction_days = c.fetchone()
        c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = c.fetchone()[0]
    print(f"cases {args.cases:,}, events {events:,}: bulk load {load_s:.0f} s (index and key "
          f"rebuild {timings.get('rebuild', 0):.0f} s of it); facts + subject days "
          f"{facts_s:.0f} s (per-day sums alone {days_s:.0f} s: {subject_days:,} subject days, "
          f"{deduction_days:,} deduction days); "
          f"database {size}; load average {_uptime()}", flush=True)


def _load_city(size: str) -> None:
    import io

    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.org.demo import load_demo as org
    from citygrid.space.demo import load_city

    load_city(size)
    calendars(io.StringIO())
    catalog(io.StringIO(), size=size)
    org(io.StringIO(), size=size)


def refresh(args: argparse.Namespace) -> None:
    """A kept database with the current code: migrated, facts and per-day sums rebuilt."""
    from django.core.management import call_command
    from django.db import connection

    from citygrid.assess.facts import refresh_facts, refresh_subject_days

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    refresh_facts()
    facts_s = time.perf_counter() - t
    t = time.perf_counter()
    refresh_subject_days()
    days_s = time.perf_counter() - t
    with connection.cursor() as c:
        c.execute("ANALYZE")
        c.execute("SELECT (SELECT count(*) FROM assess_casefact), (SELECT count(*) FROM "
                  "assess_subjectday), (SELECT count(*) FROM assess_deductionday)")
        facts, subject_days, deduction_days = c.fetchone()
    print(f"refreshed {facts:,} facts: facts + per-day sums {facts_s:.0f} s (per-day sums alone "
          f"{days_s:.0f} s: {subject_days:,} subject days, {deduction_days:,} deduction days); "
          f"load average {_uptime()}", flush=True)


def duck_facts():
    import duckdb
    from django.db import connection

    from citygrid.assess.models import CaseFact

    t = time.perf_counter()
    with FACTS_CSV.open("wb") as out, connection.cursor() as c:
        with c.cursor.copy(f"COPY {CaseFact._meta.db_table} TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for block in copy:
                out.write(bytes(block))
        c.execute("SELECT id, kind FROM org_department")
        departments = c.fetchall()
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE {CaseFact._meta.db_table} AS SELECT * FROM read_csv_auto('{FACTS_CSV}')")
    duck.execute("CREATE TABLE org_department (id BIGINT, kind VARCHAR)")
    duck.executemany("INSERT INTO org_department VALUES (?, ?)", departments)
    print(f"DuckDB {duckdb.__version__}: facts copied in {time.perf_counter() - t:.0f} s "
          f"({duck.execute('SELECT count(*) FROM ' + CaseFact._meta.db_table).fetchone()[0]:,} rows, "
          f"{duck.execute('SELECT current_setting(' + chr(39) + 'threads' + chr(39) + ')').fetchone()[0]} threads)",
          flush=True)
    return duck


def duck_queries(filters) -> list[tuple[str, list, str, list[str]]]:
    """The ORM's facts queries (compute_figures with use_rollup=False), compiled once for
    PostgreSQL, to run on DuckDB: (kind, figure keys, SQL, parameters)."""
    from collections import defaultdict

    from django.db.models import Count

    from citygrid.assess.models import CaseFact
    from citygrid.assess.services import SUBJECTS

    queries = []
    for kind, subject in SUBJECTS.items():
        by_column = defaultdict(list)
        for fig in subject.figures:
            by_column[fig.column].append(fig)
        base = CaseFact.objects.filter(filters.q(), subject.base)
        for column, figs in by_column.items():
            qs = (base.filter(**{f"{column}__isnull": False}).values(column)
                  .annotate(**{f"n_{f.key}": Count("case_id", filter=f.q) for f in figs}))
            sql, params = qs.query.sql_with_params()
            queries.append((kind, [f.key for f in figs], sql.replace("%s", "?"), list(params)))
    return queries


def duck_figures(duck, filters, queries) -> dict[str, dict[int, dict[str, int]]]:
    from collections import defaultdict

    from citygrid.assess.services import SUBJECTS, _finish_figures

    found: dict[str, dict[int, dict[str, int]]] = {}
    for kind, keys, sql, params in queries:
        empty = {f.key: 0 for f in SUBJECTS[kind].figures}
        result = found.setdefault(kind, defaultdict(lambda e=empty: dict(e)))
        for sid, *values in duck.execute(sql, params).fetchall():
            result[sid].update(zip(keys, values, strict=True))
    return {kind: _finish_figures(kind, filters, result) for kind, result in found.items()}


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db.models import Max

    from citygrid.assess.domain.indicators import default_config
    from citygrid.assess.models import CaseFact
    from citygrid.assess.services import (
        KINDS,
        Filters,
        assess_kind,
        compute_figures,
        figures_of_all,
    )

    if not args.reuse_db:
        load(args)
    elif args.refresh:
        refresh(args)
    duck = duck_facts()
    last = CaseFact.objects.aggregate(m=Max("day"))["m"] - timedelta(days=1)
    month = (date(last.year, last.month, 1) - timedelta(days=1)).replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    periods = {"month": (month, month_end), "year": (last - timedelta(days=364), last)}
    config = default_config()
    print(f"\n{len(KINDS)} subject kinds; month {month}…{month_end}; year {periods['year'][0]}…{last}")
    print("| period | PostgreSQL, per-day figures (1 query) | PostgreSQL, facts (FILTER, ORM) "
          "| DuckDB, same SQL on the same facts | per-day / DuckDB | full assessment, PostgreSQL |")
    print("|---|---|---|---|---|---|")
    for label, (start, stop) in periods.items():
        f = Filters(start, stop)
        rollup_ms, rollup = _median(lambda f=f: figures_of_all(f), args.runs)
        facts_ms, facts = _median(
            lambda f=f: {k: compute_figures(k, f, use_rollup=False) for k in KINDS}, args.runs)
        queries = duck_queries(f)
        duck_ms, ducked = _median(lambda f=f, q=queries: duck_figures(duck, f, q), args.runs)
        assert rollup == facts == ducked, f"{label}: figures differ"
        full_ms, _ = _median(lambda f=f: [assess_kind(k, f, config) for k in KINDS], max(args.runs // 2, 3))
        subjects = sum(len(v) for v in rollup.values())
        print(f"| {label} ({subjects} subjects) | {rollup_ms:.1f} ms | {facts_ms:.1f} ms | "
              f"{duck_ms:.1f} ms | {rollup_ms / duck_ms:.2f}× | {full_ms:.0f} ms |", flush=True)
    print(f"load average at the end {_uptime()}")


if __name__ == "__main__":
    main()
