"""Drill (issue 10, item 4a): PostgreSQL restarted in the middle of a stream of reports sent
with idempotency keys. After recovery every acknowledged report exists exactly once, and a client
that retried got the same case back.

    sudo .venv/bin/python scripts/drills/pg_restart.py [--reports 600] [--clients 4]
    make drill-pg-restart

It never touches the machine's PostgreSQL service: it starts a private cluster (initdb +
pg_ctl from /usr/lib/postgresql/*/bin, PGBIN overrides) in a temporary directory owned by the
`postgres` user (run as root: the cluster is run through `runuser -u postgres`; run as that user
it runs directly) on a free port with trust authentication, and removes it at the end.

1. migrates a database in it, loads the small demo city and organisation, issues API tokens to
   the two city inspectors, picks report points (the standard process: one history event; and
   the flat process: report, file and dispatch in one transaction);
2. starts gunicorn (2 sync workers, persistent connections CONN_MAX_AGE=600 with health checks,
   as in production) against it;
3. --clients threads POST /api/v1/cases, each report with its own Idempotency-Key. A client
   retries the same request with the same key after a connection error or a 5xx (after
   Retry-After on 503) until it gets an answer; after every tenth answer it sends the same
   request once more, as a phone does when the answer was lost;
4. after a third of the reports are acknowledged: `pg_ctl restart -m fast`; after two thirds:
   `pg_ctl restart -m immediate` (a crash: recovery replays the WAL);
5. checks, in the database: one case per acknowledged key and no case for any other key; every
   2xx answer for a key carried that case's number; each case has as many history events as its
   version, and `verify_history` finds every chain intact; no answer was a 500 (a lost database
   connection must answer 503 with Retry-After); the restarts were seen by the clients.

Prints PASS or FAIL with the counts and exits 0 or 1.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from common import (  # noqa: E402
    BIN,
    free_port,
    load_small_city,
    log,
    start,
    stop,
    verdict,
    wait_for,
)

DB = "drill"
STANDARD = ("event", "06002")  # street 510104002's communities: the standard process
FLAT = ("event", "06007")  # a district's first street, after its first community: flat process
GIVE_UP = 120.0  # seconds a client keeps retrying one report


class Cluster:
    """A private PostgreSQL cluster in a temporary directory owned by `postgres`."""

    def __init__(self, port: int) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        self.bin = Path(os.environ.get("PGBIN") or (Path(found[-1]).parent if found else ""))
        if not (self.bin / "pg_ctl").exists():
            raise SystemExit("pg_ctl not found (set PGBIN)")
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="drill-pg-"))
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)

    def pg(self, program: str, *args: str, timeout: float = 120) -> None:
        argv = [str(self.bin / program), *args]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"{program} {' '.join(args)}: {done.stdout}{done.stderr}")

    def init(self) -> None:
        self.pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                "-c shared_buffers=64MB -c max_connections=50", "start")

    def restart(self, mode: str) -> float:
        t = time.monotonic()
        self.pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "-t", "60",
                "restart")
        return time.monotonic() - t

    def remove(self, keep_logs: bool = False) -> None:
        """Stops the cluster and deletes it (keeping the logs beside it when asked)."""
        if (self.data / "postmaster.pid").exists():
            self.pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.data if keep_logs else self.dir, ignore_errors=True)


@dataclass
class Stream:
    """What the clients sent and were told."""

    answers: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # key -> failed tries
    statuses: Counter[str] = field(default_factory=Counter)
    no_retry_after: int = 0
    resent: int = 0
    unacknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # 4xx: a bug in the drill's data
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acknowledged(self) -> int:
        with self.lock:
            return len(self.answers)


def post(url: str, token: str, key: str, body: bytes) -> tuple[int, dict[str, Any], str | None]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            data = json.loads(text)
        except ValueError:
            data = {"raw": text[:200].decode(errors="replace")}
        return err.code, data, err.headers.get("Retry-After")


def send(stream: Stream, url: str, token: str, key: str, body: bytes, resend: bool) -> None:
    """One report: retried with the same key until answered (or GIVE_UP seconds)."""
    deadline = time.monotonic() + GIVE_UP
    while time.monotonic() < deadline:
        try:
            status, data, retry_after = post(url, token, key, body)
        except (OSError, ValueError) as exc:  # refused, reset, timed out, truncated
            with stream.lock:
                stream.statuses[f"connection error ({type(exc).__name__})"] += 1
                stream.failures[key] += 1
            time.sleep(0.3)
            continue
        with stream.lock:
            stream.statuses[str(status)] += 1
            if status in (200, 201):
                stream.answers[key].append((status, str(data.get("number"))))
            elif status >= 500:
                stream.failures[key] += 1
                stream.no_retry_after += status == 503 and retry_after is None
            else:
                stream.refused.append(f"{key}: {status} {data}")
        if status in (200, 201):
            if resend:  # the phone lost the answer and asks again
                with stream.lock:
                    stream.resent += 1
                send(stream, url, token, key, body, resend=False)
            return
        if status < 500:
            return
        time.sleep(min(float(retry_after or 0.3), 2.0))
    with stream.lock:
        stream.unacknowledged.append(key)


def points() -> list[tuple[tuple[str, str], float, float]]:
    from citygrid.space.models import Area, UnitGrid

    found = []
    for code in ("510104002",):
        for grid in UnitGrid.objects.filter(community__code__startswith=code, valid_to__isnull=True)[:40]:
            p = grid.shape.representative_point()
            found.append((STANDARD, float(p.x), float(p.y)))
    for district in Area.objects.filter(level="district").order_by("code"):
        first = district.children.order_by("code").first()
        communities = list(first.children.order_by("code"))[1:] if first else []
        for grid in UnitGrid.objects.filter(community__in=communities, valid_to__isnull=True)[:20]:
            p = grid.shape.representative_point()
            found.append((FLAT, float(p.x), float(p.y)))
    return found


def stream_reports(url: str, tokens: list[str], reports: int, clients: int, cluster: Cluster,
                   stream: Stream, restarts: list[str]) -> None:
    rng = random.Random(10)
    places = points()
    run = time.strftime("%H%M%S")
    jobs: list[tuple[str, str, bytes, bool]] = []
    for i in range(reports):
        (kind, code), lon, lat = rng.choice(places)
        body = json.dumps({"source": "city_inspector", "kind": kind, "category_code": code,
                           "lon": lon, "lat": lat, "address": "演练", "description": "数据库重启演练"})
        jobs.append((tokens[i % len(tokens)], f"drill-{run}-{i:05d}", body.encode(), i % 10 == 9))
    queue = list(reversed(jobs))
    taken = threading.Lock()

    def client() -> None:
        while True:
            with taken:
                if not queue:
                    return
                token, key, body, resend = queue.pop()
            send(stream, url, token, key, body, resend)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for mode, at in (("fast", reports // 3), ("immediate", 2 * reports // 3)):
        wait_for(f"{at} acknowledged reports", lambda at=at: stream.acknowledged >= at, GIVE_UP, 0.01)
        seconds = cluster.restart(mode)
        restarts.append(f"{mode} at {stream.acknowledged} acknowledged ({seconds:.1f} s)")
        log(f"PostgreSQL restarted (-m {mode}) in {seconds:.1f} s")
    for t in threads:
        t.join(timeout=GIVE_UP * 2)


def check(stream: Stream, restarts: list[str], prefix: str) -> tuple[list[str], dict[str, Any]]:
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Count

    from citygrid.cases.models import Case

    connections.close_all()  # the drill's own connection died with the restarts
    cases = {(r["idempotency_key"]): r for r in Case.objects.filter(
        idempotency_key__startswith=prefix).annotate(n_events=Count("events")).values(
        "idempotency_key", "reporter_id", "number", "version", "n_events")}
    per_key = Counter(Case.objects.filter(idempotency_key__startswith=prefix)
                      .values_list("reporter_id", "idempotency_key"))
    doubled = [k for k, n in per_key.items() if n > 1]
    acked = stream.answers
    missing = [k for k in acked if k not in cases]
    orphans = [k for k in cases if k not in acked]
    mismatched = [k for k, answers in acked.items()
                  if k in cases and {n for _, n in answers} != {cases[k]["number"]}]
    resent_not_200 = [k for k, answers in acked.items() if len(answers) > 1
                      and any(s != 200 for s, _ in answers[1:])]
    short_history = [k for k, c in cases.items() if c["n_events"] != c["version"]]
    out = io.StringIO()
    try:
        call_command("verify_history", stdout=out, stderr=out)
        history_ok = True
    except SystemExit:
        history_ok = False
    retried = [k for k in acked if stream.failures.get(k)]
    committed_unanswered = [k for k in retried if acked[k][0][0] == 200]
    server_errors = sum(n for s, n in stream.statuses.items() if s.isdigit() and int(s) >= 500
                        and s != "503")
    counts: dict[str, Any] = {
        "reports": len(acked) + len(stream.unacknowledged), "acknowledged": len(acked),
        "cases": len(cases), "doubled": len(doubled), "missing": len(missing),
        "orphans": len(orphans), "number_mismatch": len(mismatched),
        "retried_after_failure": len(retried), "committed_before_failure": len(committed_unanswered),
        "resent_after_answer": stream.resent, "events": sum(c["n_events"] for c in cases.values()),
        "history": "intact" if history_ok else "BROKEN",
        "answers": dict(sorted(stream.statuses.items())), "restarts": restarts}
    problems = []
    if stream.unacknowledged:
        problems.append(f"{len(stream.unacknowledged)} reports never acknowledged")
    if stream.refused:
        problems.append(f"{len(stream.refused)} refused with 4xx, e.g. {stream.refused[0]}")
    for name, keys in (("acknowledged but not stored", missing), ("stored twice", doubled),
                       ("stored without an acknowledgement", orphans),
                       ("answered with another case number", mismatched),
                       ("resent after an answer but not answered 200", resent_not_200),
                       ("with fewer history events than versions", short_history)):
        if keys:
            problems.append(f"{len(keys)} reports {name}: {keys[:3]}")
    if not history_ok:
        problems.append(f"verify_history: {out.getvalue().strip()}")
    if server_errors:
        problems.append(f"{server_errors} answers were 5xx other than 503")
    if stream.no_retry_after:
        problems.append(f"{stream.no_retry_after} answers 503 without Retry-After")
    if not retried:
        problems.append("no client saw the restarts (no failed attempt): nothing was tested")
    return problems, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="the private cluster's port (free one)")
    args = parser.parse_args()
    port = args.port or free_port()
    cluster = Cluster(port)
    gunicorn = None
    passed = False
    started = time.monotonic()
    try:
        cluster.init()
        log(f"private cluster on port {port} in {cluster.dir}")
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB}")
        url = f"postgres://postgres@127.0.0.1:{port}/{DB}"
        os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="citygrid.settings")
        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.core.management import call_command

        from citygrid.accounts.actions import issue_token

        call_command("migrate", verbosity=0, interactive=False)
        load_small_city()
        tokens = [issue_token(User.objects.get(username=u), "drill")[1]
                  for u in ("city_inspector_1", "city_inspector_2")]
        web = free_port()
        gunicorn = start("gunicorn", [
            str(BIN / "gunicorn"), "citygrid.wsgi:application", "--workers", "2",
            "--bind", f"127.0.0.1:{web}", "--timeout", "30", "--log-level", "warning"],
            {"DATABASE_URL": url, "CONN_MAX_AGE": "600", "DEBUG": "0", "LOG_LEVEL": "WARNING",
             "MEDIA_ROOT": str(cluster.dir / "media")}, cluster.dir)
        wait_for("gunicorn", lambda: _healthy(f"http://127.0.0.1:{web}/healthz"), 60, 0.5)
        log(f"ready in {time.monotonic() - started:.0f} s; streaming {args.reports} reports "
            f"from {args.clients} clients")
        stream, restarts = Stream(), []
        t = time.monotonic()
        stream_reports(f"http://127.0.0.1:{web}/api/v1/cases", tokens, args.reports, args.clients,
                       cluster, stream, restarts)
        seconds = time.monotonic() - t
        problems, counts = check(stream, restarts, "drill-")
        counts["stream_seconds"] = round(seconds, 1)
        passed = not problems
        print(verdict("pg-restart drill", problems, counts), flush=True)
        if not passed:
            print(f"  (gunicorn and PostgreSQL logs kept in {cluster.dir})")
    finally:
        if gunicorn is not None:
            stop(gunicorn)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        cluster.remove(keep_logs=not passed)
    sys.exit(0 if passed else 1)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
