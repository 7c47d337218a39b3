"""Intake benchmark (issue 4): `POST /api/v1/cases` through HTTP on PostgreSQL, beside a bare
authenticated request in the same run.

Run with `make bench-intake` (or `.venv/bin/python bench/intake.py --help`). Not a test: it
prints figures and a markdown block for docs/benchmarks.md.

What it does, bounded in time (about 3-6 minutes on a 2-core machine, most of it loading the
full demo city):
1. creates a scratch database `bench_intake` on 127.0.0.1:5432 (user postgres, trust;
   BENCH_PG_DSN overrides the server), migrates it and loads the full demo city, calendars,
   standards and organisation (no demo cases);
2. issues API tokens for the city inspectors and each district's inspector (`issue_token`),
   and picks report points: the flat process (the system files and dispatches at once, three
   history events) and the standard process (one event, waits for the centre);
3. starts gunicorn (2 sync workers, persistent database connections) on a free port;
4. drives it with `wrk` (Debian package; installed with apt-get when missing) and a Lua
   script on the same machine: warm-up, then the baseline `GET /api/v1/auth/tokens` (token
   authentication, one small query), then intake of flat-process reports, then
   standard-process reports, each for --seconds;
5. profiles one intake request in-process (cProfile, Django test client, same database):
   queries per request and where the time goes;
6. stops gunicorn and drops the database (--keep-db leaves it; --reuse-db skips step 1 when
   it is there).

The load generator shares the 2 cores with gunicorn and PostgreSQL: the figures are what
one small machine does end to end, not the server alone.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from serving import children_of, cpu_of, free_port, setup_django, start_gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SERVER = os.environ.get("BENCH_PG_DSN", "postgres://postgres@127.0.0.1:5432")
DB = "bench_intake"
FLAT_CLASS = ("event", "06007")  # in a first street's communities: flat process, street office
STANDARD_CLASS = ("event", "06002")  # elsewhere: standard process


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# ------------------------------------------------------------------ database
def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone() is not None


def load_data() -> None:
    from django.core.management import call_command

    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.org.demo import load_demo as org
    from citygrid.space.demo import load_demo as space

    call_command("migrate", verbosity=0, interactive=False)
    quiet = io.StringIO()
    started = time.perf_counter()
    for name, loader in (("space", space), ("calendars", calendars), ("catalog", catalog),
                         ("org", org)):
        loader(quiet, size="full") if name in ("space", "org") else loader(quiet)
        log(f"  {name} loaded ({time.perf_counter() - started:.0f} s)")


# ------------------------------------------------------------------ requests
def reporters_and_points(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Request bodies with their bearer tokens: flat-process and standard-process reports."""
    from django.contrib.auth.models import User

    from citygrid.accounts.actions import issue_token
    from citygrid.org.demo import DISTRICT_KEYS
    from citygrid.space.models import Area, UnitGrid

    rng = random.Random(seed)
    city_tokens = [issue_token(User.objects.get(username=u), "bench-intake")[1]
                   for u in ("city_inspector_1", "city_inspector_2")]
    flat: list[dict[str, Any]] = []
    standard: list[dict[str, Any]] = []
    for district in Area.objects.filter(code__in=list(DISTRICT_KEYS), level="district").order_by("code"):
        user = User.objects.filter(username=f"district_inspector_{DISTRICT_KEYS[district.code]}").first()
        tokens = [(t, "city_inspector") for t in city_tokens]
        if user is not None:
            tokens.append((issue_token(user, "bench-intake")[1], "district_inspector"))
        streets = list(district.children.order_by("code"))
        first_communities = list(streets[0].children.order_by("code"))[1:]
        other = [s.code for s in streets[1:]]
        flat_grids = list(UnitGrid.objects.filter(community__in=first_communities, valid_to__isnull=True))
        std_grids = [g for code in other[:6] for g in
                     UnitGrid.objects.filter(community__code__startswith=code, valid_to__isnull=True)[:100]]
        for grids, out, (kind, code) in ((flat_grids, flat, FLAT_CLASS), (std_grids, standard, STANDARD_CLASS)):
            for grid in rng.sample(grids, min(len(grids), n // 6 + 1)):
                p = grid.shape.representative_point()
                token, source = rng.choice(tokens)
                out.append({"token": token, "body": {
                    "source": source, "kind": kind, "category_code": code,
                    "lon": round(float(p.x), 7), "lat": round(float(p.y), 7),
                    "address": "benchmark", "description": "压力测试上报"}})
    rng.shuffle(flat)
    rng.shuffle(standard)
    return {"flat": flat, "standard": standard, "baseline_token": city_tokens[0]}  # type: ignore[dict-item]


def lua_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def batches_of(requests: list[dict[str, Any]], size: int, count: int) -> list[dict[str, Any]]:
    """Request bodies for the batch endpoint: `count` batches of `size` reports, each batch
    from one reporter (one token), as a phone's queue or a district system's feed sends."""
    by_token: dict[str, list[dict[str, Any]]] = {}
    for r in requests:
        by_token.setdefault(r["token"], []).append(r["body"])
    rng, tokens = random.Random(7), sorted(by_token)
    return [{"token": t, "body": {"reports": rng.sample(by_token[t], min(size, len(by_token[t])))}}
            for t in (tokens[i % len(tokens)] for i in range(count))]


def write_lua(path: Path, requests: list[dict[str, Any]] | None, token: str = "",
              endpoint: str = "/api/v1/cases") -> None:
    """A wrk script: POST the bodies in random order (or GET the baseline), and print a
    RESULT line with requests, duration (µs), p50, p99, mean (µs), non-2xx and socket errors."""
    lines = ["local bodies = {"]
    for r in requests or []:
        body = json.dumps(r["body"], ensure_ascii=False)
        lines.append(f"  {{'Bearer {lua_escape(r['token'])}', '{lua_escape(body)}'}},")
    lines.append("}")
    if requests:
        lines.append("""
math.randomseed(os.time())
request = function()
  local r = bodies[math.random(#bodies)]
  return wrk.format("POST", "ENDPOINT",
    {["Authorization"] = r[1], ["Content-Type"] = "application/json"}, r[2])
end""".replace("ENDPOINT", endpoint))
    else:
        lines.append(f"""
request = function()
  return wrk.format("GET", "/api/v1/auth/tokens", {{["Authorization"] = "Bearer {token}"}})
end""")
    lines.append("""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.mean, e.status,
    e.connect + e.read + e.write + e.timeout))
end""")
    path.write_text("\n".join(lines), encoding="utf-8")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: apt-get install -y wrk")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed and apt-get could not install it")
    return found


def run_wrk(wrk: str, url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run([wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "10s", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out.stdout)
    if not match:
        raise RuntimeError(f"wrk said:\n{out.stdout}\n{out.stderr}")
    n, duration, p50, p99, mean, non2xx, sock = (int(x) for x in match.groups())
    return {"requests": n, "rps": n / (duration / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "mean_ms": mean / 1000, "non2xx": non2xx, "socket_errors": sock}


# ------------------------------------------------------------------ CPU time
def server_pids(master: int) -> list[int]:
    """The gunicorn workers and the PostgreSQL backends of this database (persistent
    connections: the same backends for the whole run), not the benchmark's own connection."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres") as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB,)).fetchall()
    return children_of(master) + [int(r[0]) for r in rows]


def server_cpu(pids: list[int]) -> float:
    return sum(cpu_of(p) for p in pids)


# ------------------------------------------------------------------ server
# ------------------------------------------------------------------ profile
def profile(requests: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """cProfile over n intake requests in-process (Django test client, same database)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")

    def post(r: dict[str, Any]) -> int:
        response = client.post("/api/v1/cases", data=json.dumps(r["body"]),
                               content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {r['token']}")
        return int(response.status_code)

    for r in requests[:5]:
        post(r)  # warm: geocoding index, routing caches, connection
    with CaptureQueriesContext(connection) as queries:
        status = post(requests[5])
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    tables: dict[str, int] = {}
    for q in queries.captured_queries:
        found = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', q["sql"])
        name = f"{q['sql'].split()[0].upper()} {found.group(1) if found else ''}".strip()
        tables[name] = tables.get(name, 0) + 1
    started, cpu_started = time.perf_counter(), time.process_time()
    for r in requests[6:6 + n]:  # unprofiled: wall time and this process's CPU time
        post(r)
    per_request = (time.perf_counter() - started) / n
    app_cpu = (time.process_time() - cpu_started) / n
    prof = cProfile.Profile()
    prof.enable()
    for r in requests[6:6 + n]:
        post(r)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    watch = {
        "SQL (cursor execute, incl. network)": ("django/db/backends/utils.py", "_execute"),
        "token authentication": ("citygrid/accounts/auth.py", "authenticate"),
        "report_case action (all)": ("citygrid/cases/actions.py", "report_case"),
        "  geocoding locate": ("citygrid/space/geocoding.py", "locate"),
        "  routing (rules)": ("citygrid/org/services.py", "route"),
        "  automatic filing + dispatch": ("citygrid/cases/actions.py", "_automatic_filing"),
        "  time limits (_recompute)": ("citygrid/cases/actions.py", "_recompute"),
        "  history events (_append)": ("citygrid/cases/actions.py", "_append"),
        "response (_detail)": ("citygrid/cases/api.py", "_detail"),
    }
    shares = {}
    for label, (file_part, func) in watch.items():
        cum = sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                  if k[2] == func and k[0].endswith(file_part))
        shares[label] = cum / total if total else 0.0
    top = io.StringIO()
    pstats.Stats(prof, stream=top).sort_stats("tottime").print_stats(12)
    ours = io.StringIO()
    pstats.Stats(prof, stream=ours).sort_stats("cumulative").print_stats(r"/citygrid/", 25)
    return {"status": status, "queries": len(statements), "kinds": statements,
            "ms_per_request": per_request * 1000, "app_cpu_ms": app_cpu * 1000, "shares": shares,
            "top": top.getvalue(), "ours": ours.getvalue(),
            "tables": sorted(tables.items(), key=lambda kv: -kv[1])}


# ------------------------------------------------------------------ machine
def machine() -> dict[str, str]:
    import django
    import psycopg

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(f"{SERVER}/postgres") as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    gunicorn = subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True, text=True).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "django": django.get_version(), "postgresql": pg, "gunicorn": gunicorn,
            "wrk": (wrk[0] if wrk else "wrk").split(" [")[0], "load": " ".join(
                f"{x:.1f}" for x in os.getloadavg())}


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="per measured run (default 20)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--profile-requests", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100,
                        help="reports per request for the batch endpoint (default 100; 0: skip)")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for another run")
    parser.add_argument("--reuse-db", action="store_true", help="use bench_intake if it exists")
    parser.add_argument("--profile-only", action="store_true",
                        help="only the in-process profile (no gunicorn, no wrk); implies "
                             "--reuse-db and --keep-db, for quick iterations")
    args = parser.parse_args()
    if not (1 <= args.seconds <= 300 and 1 <= args.connections <= 64 and 1 <= args.workers <= 16):
        parser.error("--seconds 1..300, --connections 1..64, --workers 1..16")

    if args.profile_only:
        args.reuse_db = args.keep_db = True
    wrk = "" if args.profile_only else ensure_wrk()
    log("load average at the start: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    media = tempfile.mkdtemp(prefix="bench_intake_media_")
    reuse = args.reuse_db and database_exists()
    if not reuse:
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin_sql(f"CREATE DATABASE {DB}")
    setup_django(f"{SERVER}/{DB}", media)
    proc = None
    try:
        if not reuse:
            log("migrating and loading the full demo city, standards and organisation …")
            load_data()
        else:
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)  # code may have moved on
        requests = reporters_and_points(4000, seed=2016)
        flat, standard, token = requests["flat"], requests["standard"], requests["baseline_token"]
        log(f"{len(flat)} flat-process and {len(standard)} standard-process report bodies")
        from django.db import connections

        from citygrid.cases.models import Case, CaseEvent

        if args.profile_only:
            prof = profile(flat[-(args.profile_requests + 10):], args.profile_requests)
            print_profile(prof)
            std = profile(standard[-(args.profile_requests + 10):], args.profile_requests)
            print("\nStandard process:")
            print_profile(std)
            return
        before = Case.objects.count()
        connections.close_all()
        port = free_port()
        proc = start_gunicorn(port, args.workers, media, f"{SERVER}/{DB}",
                              ready_path="/api/v1/openapi.json", backlog=256, timeout=60)
        log(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}")
        url = f"http://127.0.0.1:{port}"
        tmp = Path(tempfile.mkdtemp(prefix="bench_intake_lua_"))
        scripts = {"baseline": tmp / "baseline.lua", "flat": tmp / "flat.lua",
                   "standard": tmp / "standard.lua", "batch": tmp / "batch.lua"}
        write_lua(scripts["baseline"], None, token)  # type: ignore[arg-type]
        write_lua(scripts["flat"], flat)
        write_lua(scripts["standard"], standard)
        if args.batch:
            write_lua(scripts["batch"], batches_of(flat, args.batch, 60), endpoint="/api/v1/cases/batch")
        log("warming up (5 s each) …")
        run_wrk(wrk, url, scripts["baseline"], 5, args.connections)
        run_wrk(wrk, url, scripts["flat"], 5, args.connections)
        results = {}
        for name in ("baseline", "flat", "standard", "batch")[:4 if args.batch else 3]:
            log(f"measuring {name} for {args.seconds} s with {args.connections} connections …")
            pids = server_pids(proc.pid)
            cpu_before = server_cpu(pids)
            results[name] = run_wrk(wrk, url, scripts[name], args.seconds, args.connections)
            cpu = server_cpu(pids) - cpu_before
            results[name]["cpu_ms"] = cpu * 1000 / max(results[name]["requests"], 1)
            if name == "batch":
                results[name]["cases_per_s"] = results[name]["rps"] * args.batch
            log(f"  {results[name]}")
        stop(proc)
        proc = None
        cases, events = Case.objects.count() - before, CaseEvent.objects.count()
        log(f"cases written by the run: {cases} ({events} events in the database)")
        log(f"profiling {args.profile_requests} intake requests in-process …")
        prof = profile(flat[-(args.profile_requests + 10):], args.profile_requests)
        prof["standard"] = profile(standard[-(args.profile_requests + 10):], args.profile_requests)
        report(results, prof, machine(), args, cases)
    finally:
        if proc is not None:
            stop(proc)
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        shutil.rmtree(media, ignore_errors=True)


def report(results: dict[str, dict[str, float]], prof: dict[str, Any], m: dict[str, str],
           args: argparse.Namespace, cases: int) -> None:
    b, f, s = results["baseline"], results["flat"], results["standard"]
    print()
    print(f"**Date:** {dt.date.today()}. **Machine:** {m['cpu']}, {m['cores']} cores (shared; load "
          f"average at the end {m['load']}), Python {m['python']}, Django {m['django']}, "
          f"PostgreSQL {m['postgresql']}, {m['gunicorn']} ({args.workers} sync workers, "
          f"persistent connections), {m['wrk']} on the same machine ({args.connections} "
          f"connections, {args.seconds} s per run).")
    print()
    print("| request | requests/s | p50 | p99 | server CPU / request | requests/s per server CPU core | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    rows = (("`GET /api/v1/auth/tokens` (baseline: token auth + 1 query)", b),
            ("`POST /api/v1/cases`, flat process (filed + dispatched, 3 events)", f),
            ("`POST /api/v1/cases`, standard process (1 event)", s),
            *([(f"`POST /api/v1/cases/batch`, {args.batch} flat-process reports per request",
                results["batch"])] if "batch" in results else []))
    for label, r in rows:
        print(f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
              f"{r['cpu_ms']:.1f} ms | {1000 / r['cpu_ms']:.0f} | "
              f"{r['non2xx'] + r['socket_errors']} |")
    print()
    print("- Server CPU = gunicorn workers + their PostgreSQL backends (user + system time from "
          "/proc), per request: the measure that holds on a shared machine. Two idle cores "
          f"would give at most {2000 / f['cpu_ms']:.0f} flat / {2000 / s['cpu_ms']:.0f} standard "
          "cases/s (load generator and WAL writer aside).")
    print(f"- Baseline / flat intake: {b['rps'] / f['rps']:.1f}× by throughput, "
          f"{f['cpu_ms'] / b['cpu_ms']:.1f}× by server CPU; goal 1,000 cases/s: "
          f"{f['rps'] / 1000:.0%} of it (flat), {s['rps'] / 1000:.0%} (standard). "
          f"{cases} cases written in the run.")
    if "batch" in results:
        r = results["batch"]
        print(f"- Batch intake ({args.batch} flat reports a request, one transaction): "
              f"**{r['cases_per_s']:.0f} cases/s**, {r['cpu_ms'] / args.batch:.2f} ms server CPU "
              f"per case ({f['cpu_ms'] / (r['cpu_ms'] / args.batch):.1f}× less than one report a "
              f"request); goal 1,000 cases/s: {r['cases_per_s'] / 1000:.0%} of it.")
    print(f"- Standard intake in-process: {prof['standard']['ms_per_request']:.1f} ms, "
          f"{prof['standard']['queries']} SQL statements.")
    print_profile(prof)


def print_profile(prof: dict[str, Any]) -> None:
    print(f"- One intake in-process (no HTTP): {prof['ms_per_request']:.1f} ms wall, "
          f"{prof['app_cpu_ms']:.1f} ms app CPU, "
          f"{prof['queries']} SQL statements (status {prof['status']}): "
          + ", ".join(f"{k} {v}" for k, v in sorted(
              {x: prof['kinds'].count(x) for x in set(prof['kinds'])}.items())))
    print("- Statements by table: " + ", ".join(f"{k} {v}" for k, v in prof["tables"]))
    print("- Where the time goes (cumulative share of one request, cProfile):")
    for label, share in prof["shares"].items():
        print(f"  - {label}: {share:.0%}")
    print()
    print("Top functions by own time:")
    print(prof["top"])
    print("citygrid functions by cumulative time:")
    print(prof["ours"])


if __name__ == "__main__":
    main()
