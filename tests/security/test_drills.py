"""Issue 10, items 4(a) and 4(b): the database lost under a request answers 503 (not 500), and a
task whose worker was killed is run again by the next worker, once. The drills themselves are in
scripts/drills/ (docs/drills.md); the worker-kill drill runs here on PostgreSQL."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, get_commands
from django.db import close_old_connections, connection
from django.test import Client

from citygrid.cases.tasks import send_reminders_task
from citygrid.core.worker import MAX_ATTEMPTS, is_lost, recover_lost_tasks, worker_id

DRILLS = Path(__file__).resolve().parents[2] / "scripts" / "drills"


def dead_worker() -> str:
    """The worker id a process had, once it has died (and been reaped)."""
    proc = subprocess.Popen(["sleep", "30"])
    name = worker_id(proc.pid)
    proc.kill()
    proc.wait()
    return name


def claimed_by(*workers: str) -> Any:
    """A queued sweep, claimed (RUNNING) by `workers` in turn, as django-tasks-db records it."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    result = send_reminders_task.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", started_at=timezone.now(),
                                                     worker_ids=list(workers))
    return DBTaskResult.objects.get(pk=result.id)


@pytest.fixture
def saved_signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers; pytest gets its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_the_task_of_a_dead_worker_is_queued_again(db):
    task = claimed_by(dead_worker())
    recovered = recover_lost_tasks()
    task.refresh_from_db()
    assert recovered.requeued == [str(task.pk)] and recovered.failed == []
    assert (task.status, task.started_at, len(task.worker_ids)) == ("READY", None, 1)


def test_live_and_unknown_workers_are_left_alone(db):
    tasks = [claimed_by(worker_id()), claimed_by("elsewhere/4242/1"), claimed_by("3f9a0c7e" * 4)]
    assert not recover_lost_tasks()
    assert {t.status for t in type(tasks[0]).objects.all()} == {"RUNNING"}


def test_a_reused_pid_or_a_zombie_is_a_dead_worker():
    me = worker_id().rsplit("/", 1)[0]
    assert not is_lost(worker_id()) and is_lost(f"{me}/1")  # same pid, another process's start
    proc = subprocess.Popen(["sleep", "30"])
    name = worker_id(proc.pid)
    assert not is_lost(name)
    proc.kill()
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # dead, left a zombie (not reaped)
    try:
        assert is_lost(name)
    finally:
        proc.wait()


def test_a_task_that_killed_its_worker_every_time_fails(db):
    task = claimed_by(*(dead_worker() for _ in range(MAX_ATTEMPTS)))
    assert recover_lost_tasks().failed == [str(task.pk)]
    task.refresh_from_db()
    assert task.status == "FAILED" and task.exception_class_path.endswith(".WorkerLost")
    assert f"{MAX_ATTEMPTS} attempts" in task.traceback


def test_db_worker_is_ours_and_runs_the_lost_task(transactional_db, saved_signals):
    assert get_commands()["db_worker"] == "citygrid.core"
    task = claimed_by(dead_worker())
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    assert task.worker_ids[-1] == worker_id()  # this process ran it, under its own name


def terminate_this_connection() -> None:
    """The server ends this test's database session, as a restart of PostgreSQL does."""
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"] or "postgres",
                         password=settings["PASSWORD"] or None, host=settings["HOST"] or "127.0.0.1",
                         port=int(settings["PORT"] or 5432), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.postgres
def test_a_lost_database_connection_answers_503_and_the_next_request_reconnects(transactional_db):
    from django.contrib.auth.models import User

    from citygrid.accounts.actions import issue_token

    _, key = issue_token(User.objects.create_user("zhang"), "phone")
    phone = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert Client().get("/api/v1/auth/tokens", **phone).status_code == 200
    terminate_this_connection()
    response = Client(raise_request_exception=False).get("/api/v1/auth/tokens", **phone)
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "storage_unavailable"
    assert response.json()["details"] == {"storage": "database"}
    assert int(response["Retry-After"]) > 0
    close_old_connections()  # what Django does after every request: drops the broken connection
    assert Client().get("/api/v1/auth/tokens", **phone).status_code == 200


@pytest.mark.postgres
def test_a_page_whose_session_cannot_be_read_answers_503(transactional_db):
    from django.contrib.auth.models import User

    browser = Client(raise_request_exception=False)
    browser.force_login(User.objects.create_user("zhang"))
    terminate_this_connection()
    response = browser.get("/")  # the session is read in a middleware, before any view
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("text/plain") and int(response["Retry-After"]) > 0
    close_old_connections()


def _drill() -> Any:
    spec = importlib.util.spec_from_file_location("worker_kill", DRILLS / "worker_kill.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("worker_kill", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
def test_worker_killed_inside_periodic_jobs_drill(transactional_db, tmp_path):
    """The drill of scripts/drills/worker_kill.py on a small database: the reminder sweep and
    last month's assessment run, each SIGKILLed inside its transaction, are completed by the
    next worker, and nothing is counted twice."""
    drill = _drill()
    drill.prepare(1000)
    outcome = drill.run(connection.settings_dict, timeout=40, log_dir=tmp_path)
    assert outcome.passed, outcome.report
    counts = outcome.counts
    assert counts["reminders"] == counts["to_remind"] > 0 and counts["reminders_doubled"] == 0
    assert (counts["month_runs"], counts["tasks_run_again_done"], counts["tasks_left_running"]) == (1, 2, 0)
    assert counts["results"] == counts["expected_results"] > 0
