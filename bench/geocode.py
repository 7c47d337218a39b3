"""Geocoding benchmark: citygrid's raster GridIndex vs PostGIS, same grids, same points.

Run with `make bench-geocode` (or `.venv/bin/python bench/geocode.py --help`). Not a test:
it prints figures (and a markdown table for docs/benchmarks.md). It needs PostgreSQL on
127.0.0.1:5432 (user postgres, trust auth; BENCH_PG_DSN overrides) and installs Debian's
PostGIS package when `CREATE EXTENSION postgis` fails. It works in its own scratch database
(bench_geocode), dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from citygrid.space.domain.geoindex import GridIndex  # noqa: E402

DSN = os.environ.get("BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres")
DB = "bench_geocode"


# ------------------------------------------------------------------ data
def load_grids(seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The full demo city's grids; a Voronoi stand-in only if the generator is missing."""
    try:
        from citygrid.space.domain.demo_city import build_city
    except ImportError:
        return (*voronoi_city(seed), "Voronoi stand-in (demo_city missing)")
    plan = build_city("full", seed=2016)
    geoms = np.empty(len(plan.grids), dtype=object)
    geoms[:] = [g.geometry for g in plan.grids]
    return np.arange(1, len(geoms) + 1, dtype=np.int64), geoms, "demo city (build_city('full'))"


def voronoi_city(seed: int, n: int = 46_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cx, cy = 104.06, 30.66
    half_km = 465**0.5 / 2
    h = half_km / 111.32
    w = half_km / (111.32 * np.cos(np.radians(cy)))
    frame = shapely.box(cx - w, cy - h, cx + w, cy + h)
    seeds = shapely.points(rng.uniform(cx - w, cx + w, n), rng.uniform(cy - h, cy + h, n))
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame)
    geoms = shapely.intersection(shapely.get_parts(cells), frame)
    return np.arange(1, n + 1, dtype=np.int64), geoms


# --------------------------------------------------------------- helpers
def best_of(runs: int, fn: Callable[[], object]) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times, result


def fmt_rate(n: int, times: list[float]) -> str:
    rates = sorted(n / t for t in times)
    return " / ".join(f"{r / 1000:,.0f}k" if r < 1e6 else f"{r / 1e6:.2f}M" for r in rates)


def percentiles_us(samples_ns: list[int]) -> tuple[float, float]:
    arr = np.array(samples_ns) / 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": f"{shapely.__version__} (GEOS {shapely.geos_version_string})",
    }


# --------------------------------------------------------------- PostGIS
def connect(dbname: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(f"{DSN} dbname={dbname}", autocommit=True, prepare_threshold=None)


def ensure_postgis(conn) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return
    except psycopg.Error as exc:
        print(f"  CREATE EXTENSION postgis failed ({exc.__class__.__name__}); installing Debian's PostGIS")
    major = conn.execute("SHOW server_version_num").fetchone()[0][:2]
    subprocess.run(["apt-get", "install", "-y", f"postgresql-{major}-postgis-3"], check=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def postgis(ids, geoms, lons, lats, args) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import psycopg

    out: dict[str, object] = {}
    try:
        admin = connect("postgres")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL not reachable ({exc}); skipping PostGIS.")
        return out
    admin.execute(f"DROP DATABASE IF EXISTS {DB}")
    admin.execute(f"CREATE DATABASE {DB}")
    try:
        with connect(DB) as conn:
            ensure_postgis(conn)
            out["version"] = conn.execute("SHOW server_version").fetchone()[0]
            out["postgis"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            t = time.perf_counter()
            load(conn, ids, geoms, lons, lats)
            print(f"  loaded grids and {len(lons):,} points with GiST indexes in {time.perf_counter() - t:.1f} s")
            conn.execute("SET max_parallel_workers_per_gather = 0")
            conn.execute("SET jit = off")
            queries = {
                # OFFSET 0 keeps the planner from flattening LATERAL into the slow
                # point-driven plan.
                "ST_Contains, LATERAL from grids (polygon-driven)": (
                    "SELECT count(*), sum(g.id) FROM grids g CROSS JOIN LATERAL "
                    "(SELECT p.id FROM pts p WHERE ST_Contains(g.geom, p.geom) OFFSET 0) p"
                ),
                "ST_Intersects join (planner drives from polygons)": (
                    "SELECT count(*), sum(g.id) FROM pts p JOIN grids g "
                    "ON ST_Intersects(g.geom, p.geom)"
                ),
            }
            rates: dict[str, list[float]] = {}
            for name, sql in queries.items():
                plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql).fetchall())
                times, _ = best_of(args.pg_runs, lambda sql=sql: conn.execute(sql).fetchone())
                rates[name] = times
                print(f"  {name}: {fmt_rate(len(lons), times)} points/s")
                if args.verbose:
                    print(plan)
            out["rates"] = rates
            # Answers with the same border rule (smallest covering id), for the comparison.
            buf = io.StringIO()
            with conn.cursor().copy(
                "COPY (SELECT p.id, min(g.id) FROM pts p JOIN grids g "
                "ON ST_Intersects(g.geom, p.geom) GROUP BY p.id) TO STDOUT"
            ) as copy:
                for chunk in copy:
                    buf.write(bytes(chunk).decode())
            answer = np.full(len(lons), -1, dtype=np.int64)
            rows = np.loadtxt(io.StringIO(buf.getvalue()), dtype=np.int64, ndmin=2)
            if rows.size:
                answer[rows[:, 0]] = rows[:, 1]
            out["answer"] = answer
            # One point per query, as an app would ask it (prepared, round trip included).
            sql = (
                "SELECT id FROM grids WHERE ST_Intersects(geom, "
                "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY id LIMIT 1"
            )
            samples: list[int] = []
            with conn.cursor() as cur:
                for i in range(args.pg_single):
                    t0 = time.perf_counter_ns()
                    cur.execute(sql, (float(lons[i]), float(lats[i])), prepare=True)
                    cur.fetchone()
                    samples.append(time.perf_counter_ns() - t0)
            out["single"] = percentiles_us(samples)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.close()
    return out


def load(conn, ids, geoms, lons, lats) -> None:  # type: ignore[no-untyped-def]
    conn.execute("CREATE TABLE grids (id integer PRIMARY KEY, geom geometry(Geometry, 4326))")
    conn.execute("CREATE TABLE pts (id integer PRIMARY KEY, geom geometry(Point, 4326))")
    grid_hex = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    with conn.cursor().copy("COPY grids (id, geom) FROM STDIN") as copy:
        copy.write("".join(f"{i}\t{h}\n" for i, h in zip(ids.tolist(), grid_hex, strict=True)))
    pts = shapely.set_srid(shapely.points(lons, lats), 4326)
    pt_hex = shapely.to_wkb(pts, hex=True, include_srid=True)
    with conn.cursor().copy("COPY pts (id, geom) FROM STDIN") as copy:
        step = 200_000
        for lo in range(0, len(pt_hex), step):
            copy.write("".join(f"{lo + k}\t{h}\n" for k, h in enumerate(pt_hex[lo : lo + step])))
    conn.execute("CREATE INDEX grids_geom ON grids USING gist (geom)")
    conn.execute("CREATE INDEX pts_geom ON pts USING gist (geom)")
    conn.execute("ANALYZE grids")
    conn.execute("ANALYZE pts")


# ------------------------------------------------------------------ main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--cell", type=float, default=10.0, help="raster cell size, metres")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg-runs", type=int, default=2)
    parser.add_argument("--single", type=int, default=100_000)
    parser.add_argument("--pg-single", type=int, default=5_000)
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    info = machine()
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))

    t = time.perf_counter()
    ids, geoms, source = load_grids(args.seed)
    print(f"grids: {len(ids):,} from {source} in {time.perf_counter() - t:.1f} s; "
          f"{np.mean(shapely.get_num_coordinates(geoms)):.1f} coordinates each on average")

    t = time.perf_counter()
    index = GridIndex(ids, geoms, cell_size_m=args.cell)
    build_s = time.perf_counter() - t
    rows, cols = index.raster_shape
    print(f"index: {args.cell:g} m cells, {rows}x{cols} raster, "
          f"{index.boundary_cells / (rows * cols):.0%} boundary cells, "
          f"{index.nbytes / 2**20:.0f} MiB, built in {build_s:.2f} s")

    rng = np.random.default_rng(args.seed)
    min_x, min_y, max_x, max_y = shapely.total_bounds(geoms)
    lons = rng.uniform(min_x, max_x, args.points)
    lats = rng.uniform(min_y, max_y, args.points)

    times, located = best_of(args.runs, lambda: index.locate(lons, lats))
    assert isinstance(located, np.ndarray)
    print(f"raster batched, 1 core: {fmt_rate(args.points, times)} points/s "
          f"({(located >= 0).mean():.1%} of points inside coverage)")

    tree_times, exact = best_of(1, lambda: index.locate_exact(lons, lats))
    assert isinstance(exact, np.ndarray)
    tree_mismatch = int((exact != located).sum())
    print(f"STRtree (exact reference): {fmt_rate(args.points, tree_times)} points/s; "
          f"mismatches vs raster: {tree_mismatch}")

    samples: list[int] = []
    locate_one = index.locate_one
    clock = time.perf_counter_ns
    for x, y in zip(lons[: args.single].tolist(), lats[: args.single].tolist(), strict=True):
        t0 = clock()
        locate_one(x, y)
        samples.append(clock() - t0)
    p50, p99 = percentiles_us(samples)
    print(f"raster single lookup: p50 {p50:.1f} µs, p99 {p99:.1f} µs")

    pg: dict[str, object] = {}
    if not args.no_postgis:
        print("PostGIS (same grids, same points, one core):")
        pg = postgis(ids, geoms, lons, lats, args)
        # Again after PostGIS: on a shared machine load comes and goes; both sides get
        # their best run from the same stretch of time.
        more, _ = best_of(args.runs, lambda: index.locate(lons, lats))
        print(f"raster batched again: {fmt_rate(args.points, more)} points/s")
        times += more
    load_avg = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average at the end (1/5/15 min): {load_avg}")

    best_ours = max(args.points / t for t in times)
    lines = [
        f"Date: {dt.date.today().isoformat()}. Grids: {len(ids):,} ({source}); "
        f"{args.points:,} seeded points (seed {args.seed}) uniform in their bounding box.",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items())
        + (f"; PostgreSQL {pg['version']}, PostGIS {pg['postgis']}" if "version" in pg else "")
        + f"; load average at the end {load_avg}.",
        "",
        "| method | points/s (runs, ascending) | single lookup p50 / p99 |",
        "|---|---|---|",
        f"| citygrid raster index, {args.cell:g} m cells, 1 core | {fmt_rate(args.points, times)} "
        f"| {p50:.1f} / {p99:.1f} µs |",
        f"| shapely STRtree (exact reference), 1 core | {fmt_rate(args.points, tree_times)} | – |",
    ]
    if "rates" in pg:
        rates = pg["rates"]
        assert isinstance(rates, dict)
        for name, pg_times in rates.items():
            lines.append(f"| PostGIS {name}, 1 core | {fmt_rate(args.points, pg_times)} | – |")
        single = pg["single"]
        assert isinstance(single, tuple)
        lines.append(f"| PostGIS one prepared query per point (round trip) | – | "
                     f"{single[0]:.0f} / {single[1]:.0f} µs |")
        best_pg = max(args.points / t for ts in rates.values() for t in ts)
        median_ours = args.points / float(np.median(times))
        median_pg = max(args.points / float(np.median(ts)) for ts in rates.values())
        answer = pg["answer"]
        assert isinstance(answer, np.ndarray)
        mismatch = int((answer != located).sum())
        lines += [
            "",
            f"Ratio, best batched run vs PostGIS's best one-core run: **{best_ours / best_pg:.1f}×** "
            f"(medians: {median_ours / median_pg:.1f}×). "
            f"Single lookups: **{single[0] / p50:.0f}×** faster at p50.",
            f"Agreement: raster vs PostGIS (smallest covering id): {mismatch} mismatches; "
            f"raster vs STRtree: {tree_mismatch} mismatches, over {args.points:,} points.",
            f"Index build: {build_s:.2f} s, {index.nbytes / 2**20:.0f} MiB.",
        ]
        if mismatch:
            bad = np.flatnonzero(answer != located)[:10]
            for i in bad:
                print(f"  mismatch at ({lons[i]!r}, {lats[i]!r}): raster {located[i]}, PostGIS {answer[i]}")
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
