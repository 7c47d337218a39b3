"""Inventory benchmark: import rate of one million components (SQLite and PostgreSQL) and
nearby lookup latency, against baselines (brute-force numpy distances over every point;
PostGIS KNN `ORDER BY geog <-> point` with a GiST index).

Run on demand: `.venv/bin/python bench/inventory.py [--rows 1000000] [--queries 2000]`.
Each backend runs in its own process on its own scratch database (a SQLite file in a temp
directory; PostgreSQL database `bench_inventory` on 127.0.0.1:5432, user postgres, trust
auth, `BENCH_PG_URL` overrides), dropped at the end. Not a test: it prints figures for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DB = "bench_inventory"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.node()}: {cpu or platform.processor()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load:.1f} at start")


def pct(values: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), p))


# ---------------------------------------------------------------------------- worker
def worker(backend: str, rows: int, queries: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygrid.settings")
    django.setup()
    from django.core.management import call_command

    out: dict[str, Any] = {"backend": backend}
    t = time.perf_counter()
    # Only the apps the inventory needs, so work in progress elsewhere cannot stop the run.
    for app in ("contenttypes", "auth", "space", "calendars", "catalog", "org", "cases",
                "inventory"):
        call_command("migrate", app, verbosity=0)
    _load_city()
    out["setup_s"] = time.perf_counter() - t

    from citygrid.inventory import actions, demo

    base = demo.build_table("full")
    table = demo.build_table("full", seed=7, scale=rows / max(len(base), 1))
    data = _csv(table)
    out["rows"] = len(table)
    out["file_mib"] = len(data) / 2**20
    stages: dict[str, float] = {}
    mark = [time.perf_counter()]

    labels = {"geocoding": "read + class checks", "writing": "geocode + code/dept/dup checks"}

    def stage(name: str) -> None:
        now = time.perf_counter()
        stages[labels.get(name, name)] = now - mark[0]
        mark[0] = now

    t = time.perf_counter()
    result = actions.import_components(None, data, "bench.csv", stage=stage)
    out["import_s"] = time.perf_counter() - t
    stages["write (one transaction)"] = time.perf_counter() - mark[0]
    out["import_stages"] = stages
    out["imported"] = result.created
    out["rate"] = result.created / out["import_s"]
    out["nearby"] = _nearby(queries)
    if backend == "postgres":
        out["postgis"] = _postgis(queries)
    return out


def _load_city() -> None:
    from importlib import import_module

    sink = io.StringIO()
    for name in ("citygrid.space.demo", "citygrid.calendars.demo", "citygrid.catalog.demo",
                 "citygrid.org.demo"):
        import_module(name).load_demo(_Out(sink), size="full")


class _Out:
    def __init__(self, sink: io.StringIO) -> None:
        self.sink = sink

    def write(self, text: str, ending: str = "\n") -> None:
        self.sink.write(text + ending)

    def flush(self) -> None:
        pass


def _csv(table: Any) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    names = list(table.columns)
    writer.writerow(names)
    writer.writerows(zip(*(table.columns[n] for n in names), strict=True))
    return buf.getvalue().encode("utf-8")


def _query_points(queries: int) -> tuple[Any, Any]:
    import numpy as np

    from citygrid.inventory.models import Component

    rng = np.random.default_rng(11)
    ids = list(Component.objects.values_list("id", flat=True)[:: max(1, Component.objects.count()
                                                                    // (queries * 4))])
    pick = rng.choice(len(ids), queries, replace=len(ids) < queries)
    pts = np.array(list(Component.objects.filter(id__in=[ids[i] for i in pick])
                        .values_list("lon", "lat")))
    jitter = rng.normal(0, 0.0003, pts.shape)  # ~30 m
    return pts[:, 0] + jitter[:, 0], pts[:, 1] + jitter[:, 1]


def _nearby(queries: int) -> dict[str, Any]:
    import numpy as np

    from citygrid.inventory import nearby, selectors
    from citygrid.inventory.domain.nearby import brute_force_near
    from citygrid.inventory.models import Component, State

    t = time.perf_counter()
    nearby.invalidate_index()
    index = nearby.index()
    build_s = time.perf_counter() - t
    lons, lats = _query_points(queries)
    rows = np.array(list(Component.objects.exclude(state=State.REMOVED)
                         .values_list("id", "lon", "lat", "category_id")), dtype=np.float64)
    ids, plon, plat, cls = rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2], rows[:, 3].astype(np.int64)
    result: dict[str, Any] = {"components": len(index), "build_s": build_s,
                              "index_mib": index.nbytes / 2**20}
    for radius in (50.0, 200.0):
        idx_t, svc_t, brute_t = [], [], []
        mismatches = 0
        for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
            t = time.perf_counter()
            got, _ = index.near(lon, lat, radius, limit=20)
            idx_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            selectors.components_near(lon, lat, radius, limit=20)
            svc_t.append(time.perf_counter() - t)
        for lon, lat in list(zip(lons.tolist(), lats.tolist(), strict=True))[:200]:
            t = time.perf_counter()
            exp, _ = brute_force_near(ids, plon, plat, cls, lon, lat, radius, None, 20)
            brute_t.append(time.perf_counter() - t)
            mismatches += int(index.near(lon, lat, radius, limit=20)[0].tolist() != exp.tolist())
        result[f"r{int(radius)}"] = {
            "index_p50_ms": pct(idx_t, 50) * 1e3, "index_p99_ms": pct(idx_t, 99) * 1e3,
            "service_p50_ms": pct(svc_t, 50) * 1e3, "service_p99_ms": pct(svc_t, 99) * 1e3,
            "brute_p50_ms": pct(brute_t, 50) * 1e3, "brute_p99_ms": pct(brute_t, 99) * 1e3,
            "mismatches_of_200": mismatches,
        }
    return result


def _postgis(queries: int) -> dict[str, Any]:
    from django.db import connection

    out: dict[str, Any] = {}
    lons, lats = _query_points(queries)
    with connection.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        t = time.perf_counter()
        cur.execute("ALTER TABLE inventory_component ADD COLUMN geog geography(Point, 4326)")
        cur.execute("UPDATE inventory_component SET geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography")
        cur.execute("CREATE INDEX inv_bench_geog ON inventory_component USING gist (geog)")
        cur.execute("ANALYZE inventory_component")
        out["index_build_s"] = time.perf_counter() - t
        for radius in (50.0, 200.0):
            times = []
            sql = ("SELECT id, geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS d "
                   "FROM inventory_component WHERE state <> 'removed' AND ST_DWithin(geog, "
                   "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s) ORDER BY d LIMIT 20")
            for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
                t = time.perf_counter()
                cur.execute(sql, [lon, lat, lon, lat, radius])
                cur.fetchall()
                times.append(time.perf_counter() - t)
            out[f"r{int(radius)}"] = {"p50_ms": pct(times, 50) * 1e3, "p99_ms": pct(times, 99) * 1e3}
    return out


# ------------------------------------------------------------------------------ main
def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any] | None:
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="bench_inventory_")
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            conn.execute(f"CREATE DATABASE {PG_DB}")
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
    env["CITYGRID_VAR_DIR"] = tmp
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", backend, "--rows", str(args.rows),
             "--queries", str(args.queries)], env=env, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            print(f"{backend} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            return None
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if backend == "postgres":
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        subprocess.run(["rm", "-rf", tmp], check=False)


def report(results: list[dict[str, Any]]) -> None:
    print(f"\nMachine: {machine()}\n")
    print("| backend | rows | file | import | rate | stages |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        st = ", ".join(f"{k} {v:.1f} s" for k, v in r["import_stages"].items())
        print(f"| {r['backend']} | {r['imported']:,} | {r['file_mib']:.0f} MiB | "
              f"{r['import_s']:.1f} s | {r['rate']:,.0f}/s | {st} |")
    print("\nNearby lookup, limit 20 (ms):\n")
    print("| backend | components | radius | index p50/p99 | service (+DB fetch) p50/p99 | "
          "brute force numpy p50/p99 | PostGIS KNN p50/p99 | mismatches |")
    print("|---|---:|---:|---|---|---|---|---:|")
    for r in results:
        n = r["nearby"]
        for key in ("r50", "r200"):
            x = n[key]
            pg = r.get("postgis", {}).get(key)
            pgs = f"{pg['p50_ms']:.2f} / {pg['p99_ms']:.2f}" if pg else "-"
            print(f"| {r['backend']} | {n['components']:,} | {key[1:]} m | "
                  f"{x['index_p50_ms']:.3f} / {x['index_p99_ms']:.3f} | "
                  f"{x['service_p50_ms']:.2f} / {x['service_p99_ms']:.2f} | "
                  f"{x['brute_p50_ms']:.1f} / {x['brute_p99_ms']:.1f} | {pgs} | "
                  f"{x['mismatches_of_200']} / 200 |")
        print(f"\n{r['backend']}: index built in {n['build_s']:.1f} s, {n['index_mib']:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.queries)))
        return
    print(machine(), flush=True)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        print(f"running {backend} …", flush=True)
        r = run_backend(backend, args)
        if r is not None:
            results.append(r)
            print(json.dumps(r, indent=1), flush=True)
    report(results)


if __name__ == "__main__":
    main()
