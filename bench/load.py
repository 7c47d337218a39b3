"""Load benchmark (issue 10, item 3): a locust scenario mixing inspector reports, queue views,
case details, map viewports and the big screen on PostgreSQL, beside a bare authenticated
request under the same load.

Run with `make bench-load` (or `.venv/bin/python bench/load.py --help`). Not a test: it prints
figures and a markdown block for docs/benchmarks.md, and writes var/bench/load-*.json.

What it does:
1. prepares the database `cg_load` on 127.0.0.1:5432 (user postgres, trust; BENCH_PG_DSN
   overrides the server), or reuses it when its marker (a COMMENT ON DATABASE with what was
   built) matches --cases and --days: migrations, the full demo city, calendars, standards and
   organisation, the demo cases through the real actions (with photos), then a history of
   --cases cases over --days days written by the simulator's bulk path
   (`citygrid.assess.bulk`, COPY); it prints what it built and how long it took;
2. issues API tokens and signs in sessions for the demo people, picks the cases each may see,
   report points and map centres, writes them to a fixtures file;
3. starts gunicorn (--workers sync workers, persistent connections) on a free loopback port,
   and nothing else (no worker, no sweeper);
4. runs locust headless (bench/locustfile.py; --users, --spawn-rate, --seconds, --wait) on the
   same machine, one process;
5. reads every request's timing back (locust's own percentiles are rounded), drops the first
   --warmup seconds, and reports per request type: requests/s, p50/p95/p99, errors, the p95
   as a multiple of the bare request's, server CPU per request (gunicorn workers + their
   PostgreSQL backends, from /proc) and the load generator's CPU;
6. profiles each request type once in-process (Django test client): SQL statements and time.

The database is kept for the next run (--drop removes it at the end; --rebuild rebuilds it).
The load generator shares the 2 cores with gunicorn and PostgreSQL: the figures are what one
small machine does end to end, not the server alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from serving import children_of, cpu_of, free_port, setup_django, start_gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SERVER = os.environ.get("BENCH_PG_DSN", "postgres://postgres@127.0.0.1:5432")
DB = "cg_load"
MARKER = "citygrid load bench"
BUILD_VERSION = 2  # bump when build() changes: a database built otherwise is rebuilt
RESULTS = ROOT / "var" / "bench"  # git-ignored
REPORT_CLASS = ("event", "06002")  # standard process outside a district's first street
DESK_ROLES = ("dispatcher", "handler", "intake_operator", "shift_leader")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {text}", flush=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ------------------------------------------------------------------ database
def admin(sql: str, params: tuple[Any, ...] = ()) -> Any:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        return conn.execute(sql, params).fetchall() if sql.lstrip().upper().startswith("SELECT") \
            else conn.execute(sql, params)


def marker() -> dict[str, Any] | None:
    """What the existing cg_load holds, from its COMMENT; None when absent or unmarked."""
    rows = admin("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                 (DB,))
    if not rows:
        return None
    text = rows[0][0] or ""
    if not text.startswith(MARKER + " "):
        return {"unmarked": True}
    return json.loads(text[len(MARKER) + 1:])


def set_marker(built: dict[str, Any]) -> None:
    text = f"{MARKER} {json.dumps(built, sort_keys=True)}".replace("'", "''")
    admin(f"COMMENT ON DATABASE {DB} IS '{text}'")


def vacuum() -> None:
    """VACUUM ANALYZE, as autovacuum would have done on a running server: this machine's
    PostgreSQL runs with autovacuum off, which leaves index-only scans visiting the heap."""
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log(f"  VACUUM (ANALYZE) in {time.perf_counter() - t:.0f} s")


def build(cases: int, days: int) -> dict[str, Any]:
    """Demo city, organisation and demo cases, then the bulk history; returns the marker."""
    from django.core.management import call_command

    from citygrid.assess.bulk import bulk_generate
    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.cases.demo import load_demo as demo_cases
    from citygrid.cases.models import Case, CaseEvent
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.org.demo import load_demo as org
    from citygrid.space.demo import load_demo as space

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    quiet = io.StringIO()
    steps: dict[str, float] = {}
    for name, loader in (("space", space), ("calendars", calendars), ("catalog", catalog),
                         ("org", org), ("demo cases", demo_cases)):
        t = time.perf_counter()
        loader(quiet, size="full") if name in ("space", "org", "demo cases") else loader(quiet)
        steps[name] = time.perf_counter() - t
        log(f"  {name} loaded in {steps[name]:.0f} s")
    t = time.perf_counter()
    log(f"  bulk history: {cases:,} cases over {days} days (COPY) …")
    bulk_generate(cases=cases, days=days, seed=2016, progress=_progress())
    steps["bulk history"] = time.perf_counter() - t
    rate = cases / steps["bulk history"]
    log(f"  bulk history written in {steps['bulk history']:.0f} s ({rate:,.0f} cases/s)")
    t = time.perf_counter()
    lights = step_deadlines()
    steps["step deadlines"] = time.perf_counter() - t
    log(f"  step deadlines and traffic lights of {lights:,} open bulk cases in "
        f"{steps['step deadlines']:.0f} s")
    vacuum()
    size = admin("SELECT pg_database_size(%s)", (DB,))[0][0]
    built = {"version": BUILD_VERSION, "cases": cases, "days": days, "total_cases": Case.objects.count(),
             "events": CaseEvent.objects.count(), "bytes": size, "built": str(dt.date.today()),
             "seconds": round(time.perf_counter() - started), "steps": {k: round(v) for k, v in steps.items()}}
    return built


# Step limits by the state a case waits in (the assessment method's defaults; handling: the
# bulk path's 3-day handling limit).
STEP_LIMITS = {"to_file": "30 minutes", "to_dispatch": "30 minutes", "dispatched": "1 hour",
               "handling": "3 days", "to_check": "1 hour", "to_close": "30 minutes"}


def step_deadlines() -> int:
    """Open cases the bulk path left without a running step limit (its first version wrote
    none; the current one computes them, and this finds nothing) get the step deadline and
    traffic light the actions and the sweeper would have given them (red once past). Queues
    sort by step deadline: without them the queue plans are not those of real data."""
    from django.db import connection

    limit = "CASE state " + " ".join(f"WHEN '{k}' THEN interval '{v}'" for k, v in STEP_LIMITS.items()) \
        + " END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE cases_case SET step_started_at = updated_at, step_deadline = updated_at + {limit}, "
            f"overdue_level = CASE WHEN updated_at + {limit} < now() THEN 'red' ELSE 'green' END "
            "WHERE step_deadline IS NULL AND history_head = 'bulk' AND state = ANY(%s)",
            (list(STEP_LIMITS),))
        count = int(cursor.rowcount)
    if count:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_case")
    return count


def _progress() -> Any:
    last = [time.monotonic()]

    def report(done: int, total: int) -> None:
        if time.monotonic() - last[0] >= 30 or done == total:
            last[0] = time.monotonic()
            log(f"    {done:,} / {total:,} cases")

    return report


def describe(built: dict[str, Any]) -> str:
    return (f"{built['total_cases']:,} cases ({built['cases']:,} bulk over {built['days']} days, "
            f"{built['cases'] / built['days']:,.0f} a day; the rest demo cases through the actions), "
            f"{built['events']:,} events, {built['bytes'] / 2**30:.2f} GiB; built "
            f"{built['built']} in {built['seconds']} s ({', '.join(f'{k} {v} s' for k, v in built['steps'].items())})")


# ------------------------------------------------------------------ fixtures
VIEW_PX = (1280, 800)  # the browser's map viewport


def viewport(lon: float, lat: float, zoom: int, pad: float = 0.0) -> str:
    """west,south,east,north of a VIEW_PX view centred on (lon, lat) at `zoom` (web
    mercator, 256-px tiles), padded by `pad` of its size on each side (map.js pads 25 %)."""
    deg_per_px = 360.0 / (256 * 2**zoom)
    half_w = VIEW_PX[0] / 2 * deg_per_px * (1 + 2 * pad)
    half_h = VIEW_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat)) * (1 + 2 * pad)
    return f"{lon - half_w:.6f},{lat - half_h:.6f},{lon + half_w:.6f},{lat + half_h:.6f}"


def make_photo(path: Path, seed: int) -> int:
    """A phone photo as the mobile app sends it (downscaled to 2000 px, JPEG): smooth
    colour fields with fine noise, so it compresses like a picture (~0.5 MB)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (15, 20, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((2000, 1500), Image.BICUBIC), dtype=np.int16)
    noisy = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(path, "JPEG", quality=82)
    return path.stat().st_size


def session_cookie(user: Any) -> str:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


def numbers(qs: Any, n: int, rng: random.Random) -> list[str]:
    """Case numbers: half the newest, half spread over the history (by id stride)."""
    recent = list(qs.order_by("-created_at").values_list("number", flat=True)[:n // 2])
    ids = list(qs.order_by().values_list("id", flat=True)[:200_000])
    older = rng.sample(ids, min(len(ids), n - len(recent)))
    spread = list(qs.model.objects.filter(id__in=older).values_list("number", flat=True))
    return recent + spread


def fixtures(rng: random.Random, photo: Path) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from citygrid.accounts.actions import issue_token
    from citygrid.cases.selectors import queue_for, visible_cases
    from citygrid.org.demo import DISTRICT_KEYS
    from citygrid.space.models import Area, UnitGrid
    from citygrid.web.selectors import coverage_bounds

    def user(name: str) -> Any:
        return User.objects.get(username=name)

    def token(u: Any) -> str:
        return str(issue_token(u, "bench-load")[1])

    districts = list(Area.objects.filter(code__in=list(DISTRICT_KEYS), level="district").order_by("code"))
    report_points: dict[int, list[dict[str, Any]]] = {}
    centres: list[tuple[float, float]] = []
    for district in districts:
        streets = list(district.children.order_by("code"))
        grids = list(UnitGrid.objects.filter(community__parent__in=streets[1:], valid_to__isnull=True)
                     .only("id", "geometry", "min_lon", "min_lat", "max_lon", "max_lat"))
        chosen = rng.sample(grids, min(len(grids), 150))
        points = []
        for grid in chosen:
            p = grid.shape.representative_point()
            points.append({"lon": round(float(p.x), 7), "lat": round(float(p.y), 7)})
        report_points[district.pk] = points
        centres += [(q["lon"], q["lat"]) for q in points[:40]]
    kind, code = REPORT_CLASS

    def bodies(source: str, district_ids: list[int]) -> list[dict[str, Any]]:
        return [{"source": source, "kind": kind, "category_code": code, **p,
                 "address": "load benchmark", "description": "压力测试：带照片上报"}
                for d in district_ids for p in report_points[d]]

    all_ids = [d.pk for d in districts]
    inspectors = []
    for name in ("city_inspector_1", "city_inspector_2"):
        u = user(name)
        inspectors.append({"username": name, "token": token(u), "reports": bodies("city_inspector", all_ids),
                           "cases": numbers(visible_cases(u), 200, rng)})
    desk, mobile = [], []
    for district in districts:
        key = DISTRICT_KEYS[district.code]
        u = User.objects.filter(username=f"district_inspector_{key}").first()
        if u is not None:
            inspectors.append({"username": u.username, "token": token(u),
                               "reports": bodies("district_inspector", [district.pk]),
                               "cases": numbers(visible_cases(u), 200, rng)})
        for role, name in (("dispatcher", f"dispatcher_{key}"), ("intake_operator", f"intake_operator_{key}"),
                           ("shift_leader", f"shift_leader_{key}"), ("handler", f"handler_{key}_hw"),
                           ("handler", f"handler_{key}_sz")):
            u = User.objects.filter(username=name).first()
            if u is None:
                continue
            queue = list(queue_for(u, role).values_list("number", flat=True)[:100])
            cases = queue + numbers(visible_cases(u), 200 - len(queue), rng)
            desk.append({"username": name, "role": role, "cookie": session_cookie(u), "cases": cases})
            if role == "handler":
                mobile.append({"username": name, "token": token(u), "cases": cases})
    bounds = coverage_bounds()
    assert bounds is not None
    (south, west), (north, east) = bounds
    map_users = [{"username": n, "cookie": session_cookie(user(n))}
                 for n in ("leader_city", "shift_leader_city")]
    return {
        "photo": str(photo),
        "inspectors": inspectors,
        "desk": [d for d in desk if d["cases"]],
        "mobile_handlers": [m for m in mobile if m["cases"]],
        "map": map_users,
        "screen": {"username": "leader_city", "cookie": session_cookie(user("leader_city"))},
        "centres": centres,
        "city_centre": [(west + east) / 2, (south + north) / 2],
        "baseline_token": token(user("city_inspector_1")),
    }


# ------------------------------------------------------------------ server
def backends() -> list[int]:
    return [int(r[0]) for r in admin("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB,))]


def warm(port: int, fx: dict[str, Any]) -> None:
    """One request of each heavy kind per worker slot, so that each worker has loaded its
    geocoding index and caches before the measured window (gunicorn picks workers freely)."""
    desk = fx["desk"][0]
    headers = {"Cookie": f"sessionid={desk['cookie']}"}
    for _ in range(8):
        for path in (f"/cases/?role={desk['role']}", f"/cases/{desk['cases'][0]}/"):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
            urllib.request.urlopen(req, timeout=60).read()


# ------------------------------------------------------------------ locust
def run_locust(port: int, args: argparse.Namespace, fx_path: Path, raw: Path,
               csv_prefix: Path) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "CG_LOAD_FIXTURES": str(fx_path), "CG_LOAD_RAW": str(raw),
           "CG_LOAD_WAIT": args.wait}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--host", f"http://127.0.0.1:{port}", "-u", str(args.users), "-r", str(args.spawn_rate),
           "-t", f"{args.seconds}s", "--stop-timeout", "30", "--only-summary",
           "--csv", str(csv_prefix), "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, started


def percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return math.nan
    k = max(0, min(len(sorted_ms) - 1, math.ceil(q / 100 * len(sorted_ms)) - 1))
    return sorted_ms[k]


def analyse(raw: Path, t0: float, t1: float) -> dict[str, dict[str, Any]]:
    """Per request name, over requests started in [t0, t1)."""
    by: dict[str, dict[str, Any]] = {}
    for line in raw.read_text("utf-8").splitlines():
        name, start, ms, status, ok = line.split("\t")
        if not t0 <= float(start) < t1:
            continue
        row = by.setdefault(name, {"ms": [], "errors": 0, "statuses": {}})
        row["ms"].append(float(ms))
        if ok != "1":
            row["errors"] += 1
            row["statuses"][status] = row["statuses"].get(status, 0) + 1
    window = t1 - t0
    out = {}
    for name, row in sorted(by.items()):
        ms = sorted(row["ms"])
        out[name] = {"requests": len(ms), "rps": len(ms) / window, "p50_ms": percentile(ms, 50),
                     "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99), "max_ms": ms[-1],
                     "mean_ms": statistics.fmean(ms), "errors": row["errors"],
                     "error_statuses": row["statuses"]}
    return out


def totals(stats: dict[str, dict[str, Any]], window: float, prefix: str = "") -> dict[str, Any]:
    rows = [v for k, v in stats.items() if k.startswith(prefix)]
    n = sum(r["requests"] for r in rows)
    return {"requests": n, "rps": n / window, "errors": sum(r["errors"] for r in rows)}


# ------------------------------------------------------------------ in-process profile
def profile(fx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each read once warm, in-process (Django test client, this process): SQL statements,
    the median of 5 wall times, and CPU per request over those 5: this process (the app,
    plus the test client's small share) and its PostgreSQL backend (/proc; the clock ticks
    are 10 ms, so a 5-request mean has ±2 ms of resolution), with parallel query off so
    that the backend does all the work. CPU holds on a shared machine where wall time does
    not."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    desk = {d["role"]: d for d in fx["desk"]}
    insp, screen = fx["inspectors"][0], fx["screen"]
    lon, lat = fx["centres"][0]
    clon, clat = fx["city_centre"]

    def page(d: dict[str, Any]) -> Client:
        c = Client(HTTP_HOST="127.0.0.1")
        c.cookies["sessionid"] = d["cookie"]
        return c

    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {insp['token']}")
    handler_api = Client(HTTP_HOST="127.0.0.1",
                         HTTP_AUTHORIZATION=f"Bearer {fx['mobile_handlers'][0]['token']}")
    number = insp["cases"][len(insp["cases"]) // 2]
    checks: dict[str, tuple[Client, str]] = {
        "R case detail (API)": (api, f"/api/v1/cases/{number}"),
        "R case events (API)": (api, f"/api/v1/cases/{number}/events"),
        "R handler queue (API)": (handler_api, "/api/v1/queues/handler?limit=20"),
        "R case detail page": (page(desk["dispatcher"]), f"/cases/{desk['dispatcher']['cases'][0]}/"),
        "R desk live-update poll": (page(desk["dispatcher"]), "/live/token.json?role=dispatcher"),
        "R big screen figures": (page(screen), "/screen/data.json"),
        "R big screen case map": (page(screen), f"/live/cases.json?open=1&bbox={viewport(clon, clat, 11)}&zoom=11"),
        "B bare authenticated request (API)": (api, "/api/v1/auth/tokens"),
    }
    for role in DESK_ROLES:
        if role in desk:
            checks[f"R queue page ({role})"] = (page(desk[role]), f"/cases/?role={role}")
    for zoom in (11, 13, 15, 17):
        x, y = (clon, clat) if zoom == 11 else (lon, lat)
        checks[f"R live case map z{zoom}"] = (page(screen), f"/live/cases.json?bbox={viewport(x, y, zoom)}&zoom={zoom}")
    for zoom, level in ((11, "district"), (13, "street"), (14, "community"), (16, "grid")):
        x, y = (clon, clat) if zoom == 11 else (lon, lat)
        checks[f"R map boundaries z{zoom} ({level})"] = (
            page(screen), f"/api/v1/features?level={level}&bbox={viewport(x, y, zoom, 0.25)}")
    with connection.cursor() as cursor:  # parallel workers' CPU would escape the backend's
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    out = {}
    for name, (client, url) in checks.items():
        status = client.get(url).status_code
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        captured = list(queries.captured_queries)  # the next request clears the log
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = int(cursor.fetchone()[0])
        times, app0, db0 = [], time.process_time(), cpu_of(backend)
        for _ in range(5):
            t = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        app_cpu, db_cpu = (time.process_time() - app0) * 200, (cpu_of(backend) - db0) * 200
        slowest = max(captured, key=lambda q: float(q["time"]), default={"sql": "", "time": "0"})
        out[name] = {"status": status, "queries": len(captured),
                     "ms": statistics.median(times), "app_cpu_ms": app_cpu, "db_cpu_ms": db_cpu, "slowest_sql_ms": float(slowest["time"]) * 1000,
                     "slowest_sql": re.sub(r"\s+", " ", slowest["sql"])[:300]}
    return out


# ------------------------------------------------------------------ machine
def machine() -> dict[str, str]:
    import django

    cpu = platform.processor() or ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    pg = admin("SELECT version()")[0][0].split(" on ")[0]
    gunicorn = subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True, text=True).stdout.strip()
    locust = subprocess.run([str(BIN / "locust"), "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "nproc": str(os.cpu_count()), "python": platform.python_version(),
            "django": django.get_version(), "postgresql": pg, "gunicorn": gunicorn,
            "locust": locust.split(" from ")[0]}


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent locust users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--seconds", type=int, default=60, help="locust run time (default 60)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="seconds at the start left out of the figures (default 10)")
    parser.add_argument("--wait", default="1,3", help="think time per user, min,max seconds (default 1,3)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--cases", type=int, default=600_000,
                        help="bulk history cases (default 600,000: builds in ~7-10 min here)")
    parser.add_argument("--days", type=int, default=365, help="history length in days (default 365)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild cg_load")
    parser.add_argument("--build-only", action="store_true", help="prepare cg_load and stop")
    parser.add_argument("--drop", action="store_true", help="drop cg_load at the end")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args()
    if not (1 <= args.users <= 500 and 5 <= args.seconds <= 1800 and 1 <= args.workers <= 32
            and 0 <= args.warmup < args.seconds and 1_000 <= args.cases <= 20_000_000):
        parser.error("--users 1..500, --seconds 5..1800, --workers 1..32, --warmup < --seconds, "
                     "--cases 1,000..20,000,000")
    wait = [float(x) for x in args.wait.split(",")]
    if len(wait) != 2 or not 0 <= wait[0] <= wait[1]:
        parser.error("--wait min,max with 0 <= min <= max")

    log(f"load average at the start: {load_average()}")
    work = Path(tempfile.mkdtemp(prefix="bench_load_"))
    media = str(work / "media")
    found = marker()
    reuse = (not args.rebuild and found is not None and not found.get("unmarked")
             and found.get("cases") == args.cases and found.get("days") == args.days
             and found.get("version") == BUILD_VERSION)
    if not reuse:
        if found is not None:
            log(f"dropping {DB} ({'rebuild asked' if args.rebuild else 'marker differs: ' + json.dumps(found)})")
        admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin(f"CREATE DATABASE {DB}")
    setup_django(f"{SERVER}/{DB}", media)
    proc = locust = None
    try:
        if reuse:
            from django.core.management import call_command

            try:
                call_command("migrate", verbosity=0, interactive=False)  # the code may have moved on
            except Exception as exc:  # noqa: BLE001 - e.g. a migration renamed since the build
                sys.exit(f"migrating the kept {DB} failed ({exc}); run again with --rebuild")
            from citygrid.cases.day_counts import refresh_day_counts
            from citygrid.cases.map_cells import refresh_map_cells

            log(f"  kept counts of the days since the last run: {refresh_map_cells():,} map cells, "
                f"{refresh_day_counts():,} days")
            vacuum()
            built = found
            log(f"reusing {DB}: {describe(built)}")  # type: ignore[arg-type]
        else:
            log(f"building {DB}: full demo city, organisation, demo cases, then the history …")
            built = build(args.cases, args.days)
            set_marker(built)
            log(f"built {DB}: {describe(built)}")
        if args.build_only:
            return
        rng = random.Random(args.seed)
        photo = work / "photo.jpg"
        photo_bytes = make_photo(photo, args.seed)
        fx = fixtures(rng, photo)
        fx_path = work / "fixtures.json"
        fx_path.write_text(json.dumps(fx, ensure_ascii=False), "utf-8")
        log(f"fixtures: {len(fx['inspectors'])} inspectors, {len(fx['desk'])} desk people, "
            f"{len(fx['mobile_handlers'])} mobile handlers, {len(fx['centres'])} map centres; "
            f"photo {photo_bytes / 1024:.0f} KiB")
        from django.db import connections

        from citygrid.cases.models import Case

        before = Case.objects.count()
        connections.close_all()
        port = free_port()
        proc = start_gunicorn(port, args.workers, media, f"{SERVER}/{DB}",
                              ready_path="/healthz", backlog=512, timeout=120)
        log(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; warming up …")
        warm(port, fx)
        raw, csv_prefix = work / "raw.tsv", work / "locust"
        pids = children_of(proc.pid) + backends()
        log(f"locust: {args.users} users (spawn {args.spawn_rate}/s), think time {args.wait} s, "
            f"{args.seconds} s; load average {load_average()}")
        locust, started = run_locust(port, args, fx_path, raw, csv_prefix)
        time.sleep(args.warmup)
        pids = sorted(set(pids + children_of(proc.pid) + backends()))
        cpu0, gen0, t0 = sum(cpu_of(p) for p in pids), cpu_of(locust.pid), time.time()
        load_during = []
        while locust.poll() is None and time.time() < started + args.seconds:
            time.sleep(1)
            load_during.append(os.getloadavg()[0])
        t1 = time.time()
        pids = sorted(set(pids + backends()))
        cpu1, gen1 = sum(cpu_of(p) for p in pids), cpu_of(locust.pid)
        out, _ = locust.communicate(timeout=120)
        locust = None
        stop(proc)
        proc = None
        summary = out.decode(errors="replace")
        stats = analyse(raw, t0, t1)
        window = t1 - t0
        n = totals(stats, window)["requests"]
        server_cpu_ms = (cpu1 - cpu0) * 1000 / max(n, 1)
        written = Case.objects.count() - before
        prof = {} if args.no_profile else profile(fx)
        result = {
            "date": str(dt.date.today()), "machine": machine(), "load_start_end": load_average(),
            "load_during_max": max(load_during, default=0.0), "database": built,
            "args": vars(args), "window_s": window, "stats": stats, "total": totals(stats, window),
            "reads": totals(stats, window, "R "), "writes": totals(stats, window, "W "),
            "server_cpu_ms_per_request": server_cpu_ms,
            "server_cpu_cores": (cpu1 - cpu0) / window, "locust_cpu_cores": (gen1 - gen0) / window,
            "cases_written": written, "profile": prof, "locust_summary_tail": summary[-3000:],
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json"
        path.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str), "utf-8")
        report(result, path)
    finally:
        if locust is not None and locust.poll() is None:
            stop(locust)
        if proc is not None:
            stop(proc)
        from django.db import connections

        connections.close_all()
        if args.drop:
            admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def cpu_text(p: dict[str, Any]) -> str:
    return f"{p['app_cpu_ms']:.0f} + {p['db_cpu_ms']:.0f} ms" if p else "–"


def report(r: dict[str, Any], path: Path) -> None:
    m, a, stats = r["machine"], r["args"], r["stats"]
    base = stats.get("B bare authenticated request (API)", {}).get("p95_ms") or math.nan
    print()
    print(f"**Date:** {r['date']}. **Machine:** {m['cpu']}, nproc {m['nproc']} (shared; load average "
          f"{r['load_start_end']} at the end, at most {r['load_during_max']:.2f} during the run), "
          f"Python {m['python']}, Django {m['django']}, {m['postgresql']}, {m['gunicorn']} "
          f"({a['workers']} sync workers, persistent connections), {m['locust']} on the same "
          f"machine (one process, FastHttpUser): {a['users']} users, think time {a['wait']} s, "
          f"{a['seconds']} s run, first {a['warmup']} s left out ({r['window_s']:.0f} s measured).")
    print(f"**Data:** {describe(r['database'])}.")
    print()
    print("| request | n | requests/s | p50 | p95 | p99 | max | p95 / bare | errors | SQL | in-process wall | app + DB CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in stats.items():
        p = r["profile"].get(name, {})
        flag = " **✗**" if name.startswith("R ") and s["p95_ms"] >= 100 else ""
        print(f"| {name} | {s['requests']} | {s['rps']:.1f} | {s['p50_ms']:.0f} ms | {s['p95_ms']:.0f} ms{flag} | "
              f"{s['p99_ms']:.0f} ms | {s['max_ms']:.0f} ms | {s['p95_ms'] / base:.1f}× | "
              f"{s['errors']}{' ' + json.dumps(s['error_statuses']) if s['errors'] else ''} | "
              f"{p.get('queries', '–')} | {(str(round(p['ms'])) + ' ms') if p else '–'} | "
              f"{cpu_text(p)} |")
    t, rd, w = r["total"], r["reads"], r["writes"]
    print()
    print(f"- All: {t['rps']:.1f} requests/s ({rd['rps']:.1f} reads, {w['rps']:.1f} writes), "
          f"{t['errors']} errors; {r['cases_written']} cases reported during the run.")
    print(f"- Server CPU (gunicorn workers + their PostgreSQL backends, /proc): "
          f"{r['server_cpu_cores']:.2f} cores, {r['server_cpu_ms_per_request']:.1f} ms per request; "
          f"locust used {r['locust_cpu_cores']:.2f} of a core. At that cost two idle cores would "
          f"serve at most {2000 / r['server_cpu_ms_per_request']:.0f} requests/s of this mix.")
    slow = [k for k, s in stats.items() if k.startswith("R ") and s["p95_ms"] >= 100]
    print(f"- Reads with p95 ≥ 100 ms: {', '.join(slow) if slow else 'none'}.")
    if r["profile"]:
        print("- Slowest SQL statement per request type (in-process, warm):")
        for name, p in r["profile"].items():
            print(f"  - {name}: status {p['status']}, {p['queries']} statements, {p['ms']:.1f} ms; "
                  f"slowest {p['slowest_sql_ms']:.1f} ms: {p['slowest_sql'][:160]}")
    print(f"- Result file: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
