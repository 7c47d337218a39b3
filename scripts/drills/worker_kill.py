"""Drill (issue 10, item 4b): the background worker is killed (SIGKILL) in the middle of a
periodic job; the next worker completes it and nothing is done twice.

    .venv/bin/python scripts/drills/worker_kill.py [--cases 20000] [--keep-db]
    make drill-worker-kill

PostgreSQL only (it watches pg_stat_activity). It creates the scratch database
`drill_worker_kill` on 127.0.0.1:5432 (DRILL_PG_DSN overrides the server; nothing else on that
server is touched), migrates it, loads the small demo city and organisation, writes --cases
cases over the last 70 days (citygrid.assess.bulk: some of them handling and overdue), builds the
assessment facts, and then runs the real processes: `citygrid case_sweeper --interval 1`
(enqueues the periodic tasks every second) and `citygrid db_worker`.

To kill a worker *inside* a job at a known point, with no hook in the code, the drill holds a
row lock that the job needs, waits until pg_stat_activity shows the worker's backend waiting
for it inside its open transaction, SIGKILLs the worker, and lets the lock go:
1. the reminder sweep (send_reminders_task): blocked in the traffic-light UPDATE of a case that
   turns red; worker 1 is killed there;
2. last month's assessment run (housekeeping_task -> ensure_last_month -> generate_run_task):
   held first where it rebuilds the facts (a lock on a fact row), so that the drill can then lock
   the run's own row, and let go; the worker rebuilds the facts, opens the results' transaction,
   writes the first subject kind's results and blocks in the progress UPDATE of the run: worker
   2 is killed there, inside that transaction;
3. worker 3 is started and runs until the month's run is done and the sweeper has swept again.

It passes when: every case that turned red was reminded exactly once; exactly one run of the
month exists, done, with exactly the results a fresh computation gives; the facts count
every case once; both killed tasks were completed; one generation task was enqueued; no task is
left running. It prints PASS or FAIL with the counts and exits 0 or 1. Logs of each process
stay in --log-dir (a new temporary directory by default).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

from common import (  # noqa: E402
    BIN,
    load_small_city,
    log,
    psycopg_kwargs,
    start,
    stop,
    url_of,
    verdict,
    wait_for,
)

SERVER = os.environ.get("DRILL_PG_DSN", "postgres://postgres@127.0.0.1:5432")
DB = "drill_worker_kill"
WORKER_APP = "drill-worker"
REMINDER = re.compile(r"^case (\S+) turned (red|yellow); reminder to", re.MULTILINE)


@dataclass
class Outcome:
    passed: bool
    report: str
    counts: dict[str, Any] = field(default_factory=dict)


def prepare(cases: int) -> None:
    """The small city (unless there), `cases` more cases over the last 70 days, the facts."""
    from citygrid.assess.bulk import bulk_generate
    from citygrid.assess.facts import refresh_facts

    if load_small_city():
        log("small city, calendars, standard and organisation loaded")
    bulk_generate(cases=cases, days=70, seed=7)
    log(f"{cases} bulk cases written")
    refresh_facts()


class Drill:
    def __init__(self, settings: dict[str, Any], timeout: float, log_dir: Path) -> None:
        import psycopg

        self.settings, self.timeout, self.log_dir = settings, timeout, log_dir
        self.watch = psycopg.connect(**psycopg_kwargs(settings), autocommit=True)
        self.lock = psycopg.connect(**psycopg_kwargs(settings))  # hold the row locks
        self.lock2 = psycopg.connect(**psycopg_kwargs(settings))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.problems: list[str] = []
        self.counts: dict[str, Any] = {}

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)
        self.lock.close()
        self.lock2.close()
        self.watch.close()

    def start(self, name: str, *args: str, app: str) -> subprocess.Popen[bytes]:
        env = {"DATABASE_URL": url_of(self.settings, application_name=app), "DEBUG": "0",
               "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "citygrid.settings"}
        proc = start(name, [str(BIN / "citygrid"), *args], env, self.log_dir)
        self.procs.append(proc)
        return proc

    def worker(self, n: int) -> subprocess.Popen[bytes]:
        return self.start(f"worker-{n}", "db_worker", "--no-reload", "--no-startup-delay",
                          "--interval", "0.2", app=WORKER_APP)

    def blocked(self, statement: str, table: str) -> tuple[Any, ...] | None:
        """The worker's backend waiting for a lock inside its transaction, in `statement`."""
        return self.watch.execute(
            "SELECT pid, xact_start FROM pg_stat_activity WHERE application_name = %s "
            "AND wait_event_type = 'Lock' AND xact_start IS NOT NULL AND query ILIKE %s",
            (WORKER_APP, f'{statement}%"{table}"%')).fetchone()

    def worker_backends(self) -> int:
        row = self.watch.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                 (WORKER_APP,)).fetchone()
        return int(row[0]) if row else 0

    def wait_blocked(self, statement: str, table: str, what: str) -> tuple[Any, ...]:
        return wait_for(f"the worker blocked in {what}", lambda: self.blocked(statement, table),
                        self.timeout)

    def kill_inside(self, proc: subprocess.Popen[bytes], statement: str, table: str, what: str,
                    lock: Any) -> None:
        found = self.wait_blocked(statement, table, what)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        lock.rollback()  # lets the dead worker's backend notice, abort and roll back
        wait_for("the killed worker's backend to end", lambda: self.worker_backends() == 0,
                 self.timeout)
        log(f"worker SIGKILLed inside {what} (its transaction open since "
            f"{found[1].astimezone():%H:%M:%S.%f})")


def run(settings: dict[str, Any], *, timeout: float = 60, log_dir: Path) -> Outcome:
    """The drill against a migrated, prepared PostgreSQL database (Django set up on it)."""
    from django.db import connection
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from citygrid.assess.domain.periods import period_of
    from citygrid.assess.models import AssessmentRun, CaseFact
    from citygrid.cases.actions import about_to_rise
    from citygrid.cases.models import Case

    if connection.vendor != "postgresql":
        raise SystemExit("the worker-kill drill needs PostgreSQL (it watches pg_stat_activity)")
    DBTaskResult.objects.all().delete()
    month = period_of("month", timezone.localdate().replace(day=1) - timedelta(days=1))
    AssessmentRun.objects.filter(period_kind="month", period_start=month.start).delete()
    rising = about_to_rise(timezone.now())
    red = sorted(pk for pk, level in rising.items() if level == "red")
    if not red:
        raise SystemExit("no case turns red in this data: nothing for the sweep to do")
    expected = dict(Case.objects.filter(pk__in=list(rising)).values_list("number", "pk"))
    drill = Drill(settings, timeout, log_dir)
    started = time.monotonic()
    try:
        _phases(drill, red[0], month)
    except TimeoutError as exc:
        drill.problems.append(str(exc))
    finally:
        drill.close()
    _check(drill, expected, month, Case, AssessmentRun, CaseFact, DBTaskResult)
    drill.counts["seconds"] = round(time.monotonic() - started, 1)
    report = verdict("worker-kill drill", drill.problems, drill.counts)
    return Outcome(not drill.problems, report, drill.counts)


def _phases(drill: Drill, victim: int, month: Any) -> None:
    from citygrid.assess.models import AssessmentRun, CaseFact, RunStatus
    from citygrid.cases.models import Case

    def month_run() -> Any:
        return AssessmentRun.objects.filter(period_kind="month", period_start=month.start,
                                            scope__isnull=True).first()

    # 1. the reminder sweep, killed inside its UPDATE
    drill.lock.execute(f'SELECT id FROM "{Case._meta.db_table}" WHERE id = %s FOR UPDATE', (victim,))
    drill.start("sweeper", "case_sweeper", "--interval", "1", app="drill-sweeper")
    drill.kill_inside(drill.worker(1), "UPDATE", Case._meta.db_table, "the reminder sweep",
                      drill.lock)
    drill.counts["red_after_kill_1"] = Case.objects.filter(pk=victim, overdue_level="red").count()
    # 2. last month's assessment run: held at the facts, then killed inside the results
    facts, runs = CaseFact._meta.db_table, AssessmentRun._meta.db_table
    drill.lock.execute(f'SELECT 1 FROM "{facts}" LIMIT 1 FOR UPDATE')
    worker = drill.worker(2)
    drill.wait_blocked("DELETE", facts, "the monthly run's rebuilding of the facts")
    run = month_run()
    drill.lock2.execute(f'SELECT id FROM "{runs}" WHERE id = %s FOR UPDATE', (run.pk,))
    drill.lock.rollback()
    drill.kill_inside(worker, "UPDATE", runs, "the monthly run's results transaction", drill.lock2)
    killed = month_run()
    drill.counts["run_after_kill_2"] = f"{killed.status}" if killed else "none"
    drill.counts["results_after_kill_2"] = killed.results.count() if killed else 0
    # 3. the next worker completes both
    drill.worker(3)
    wait_for("the month's assessment run to be done",
             lambda: (r := month_run()) is not None and r.status == RunStatus.DONE, drill.timeout, 0.2)
    wait_for("the sweeper to sweep again after the killed sweep",
             lambda: _tasks("send_reminders_task").filter(status="SUCCESSFUL").count() >= 2,
             drill.timeout, 0.2)


def _tasks(name: str) -> Any:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__endswith=f".{name}")


def _check(drill: Drill, expected: dict[str, int], month: Any, Case: Any, AssessmentRun: Any,
           CaseFact: Any, DBTaskResult: Any) -> None:
    from citygrid.assess.services import KINDS, Filters, assess_kind, method_for

    reminded = Counter(m.group(1) for path in sorted(drill.log_dir.glob("worker-*.log"))
                       for m in REMINDER.finditer(path.read_text(errors="replace")))
    doubled = sorted(n for n, c in reminded.items() if c > 1)
    lost = sorted(set(expected) - set(reminded))
    runs = list(AssessmentRun.objects.filter(period_kind="month", period_start=month.start,
                                             scope__isnull=True))
    run = runs[0] if runs else None
    results = run.results.count() if run else 0
    want = 0
    if run is not None:
        config = method_for(run.period_start)[1]
        filters = Filters(run.period_start, run.period_end)
        want = sum(len(assess_kind(kind, filters, config)) for kind in KINDS)
    cases = Case.objects.count()
    facts = CaseFact.objects.count()
    killed = [t for t in DBTaskResult.objects.all() if len(t.worker_ids) > 1]
    c = drill.counts
    c.update(cases=cases, to_remind=len(expected), reminders=sum(reminded.values()),
             reminders_doubled=len(doubled), reminders_lost=len(lost), month_runs=len(runs),
             run_status=run.status if run else "none", results=results, expected_results=want,
             facts=facts, tasks_run_again=len(killed),
             tasks_run_again_done=sum(t.status == "SUCCESSFUL" for t in killed),
             generation_tasks=_tasks("generate_run_task").count(),
             tasks_left_running=DBTaskResult.objects.filter(status="RUNNING").count())
    p = drill.problems
    if c.get("red_after_kill_1"):
        p.append("the killed sweep's UPDATE was committed")
    if doubled:
        p.append(f"reminded more than once: {doubled[:5]}")
    if lost:
        p.append(f"never reminded: {lost[:5]}")
    if len(runs) != 1 or c["run_status"] != "done":
        p.append(f"{len(runs)} runs of {month.start:%Y-%m}, status {c['run_status']} (want 1, done)")
    if results != want or not want:
        p.append(f"{results} assessment results, a fresh computation gives {want}")
    if facts != cases:
        p.append(f"{facts} facts for {cases} cases")
    if c["tasks_run_again"] != 2 or c["tasks_run_again_done"] != 2:
        p.append(f"{c['tasks_run_again_done']} of {c['tasks_run_again']} killed tasks completed "
                 "by a later worker (want 2 of 2)")
    if c["generation_tasks"] != 1:
        p.append(f"{c['generation_tasks']} generation tasks enqueued (want 1)")
    if c["tasks_left_running"]:
        p.append(f"{c['tasks_left_running']} tasks left RUNNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=120, help="seconds per wait")
    parser.add_argument("--log-dir", type=Path, default=None)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    import psycopg

    def admin(sql: str) -> None:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f"DROP DATABASE IF EXISTS {DB}")
    admin(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygrid.settings")
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="drill-worker-kill-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    outcome = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0, interactive=False)
        t = time.monotonic()
        prepare(args.cases)
        log(f"prepared in {time.monotonic() - t:.0f} s; processes log to {log_dir}")
        outcome = run(connection.settings_dict, timeout=args.timeout, log_dir=log_dir)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    print(outcome.report, flush=True)
    sys.exit(0 if outcome.passed else 1)


if __name__ == "__main__":
    main()
