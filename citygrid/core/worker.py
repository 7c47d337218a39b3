"""Tasks whose worker died (issue 10, item 4b).

django-tasks' database backend marks a task RUNNING when a worker claims it and never looks at
it again. A worker killed in the middle of a task (SIGKILL, the OOM killer, a power cut) leaves
it RUNNING for ever: the case sweeper waits for it ("still RUNNING; is the worker running?") and
sweeps no more, and a monthly assessment run stays "running" (ensure_last_month sees it and
requests no other).

Our worker (`citygrid db_worker`, core's override of django-tasks-db's command) is named
`host/pid/start`, the process's start time from /proc, so that any process on the same host can
tell whether the worker that claimed a task still lives. `recover_lost_tasks()` puts the task of
a dead worker back in the queue; the next worker runs it again from the start. Every task we
enqueue is idempotent (each sweep and each run repeats its work in one transaction, or skips
what is done), so running a task again completes it and doubles nothing. A task whose worker
died `MAX_ATTEMPTS` times (one that kills its worker every time) is marked failed instead.

Workers started with their own `--worker-id`, and those on other hosts, are left alone: only a
worker on their own host can see whether they live. The worker runs the recovery when it starts,
and the case sweeper at every tick.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

logger = logging.getLogger("citygrid.core.worker")

MAX_ATTEMPTS = 3
_PROC = Path("/proc")


class WorkerLost(Exception):
    """Recorded on a task whose worker died while running it, MAX_ATTEMPTS times."""


def _host() -> str:
    return socket.gethostname().replace("/", "-")[:40] or "localhost"


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), "" where /proc is missing,
    None when no such process runs (or only its zombie)."""
    if not _PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return ""
        return ""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the fields after the command name (field 2)
    return None if fields[0] in ("Z", "X") else fields[19]  # a zombie is dead; field 22: start


def worker_id(pid: int | None = None) -> str:
    """This process's worker id (or that of process `pid` on this host)."""
    pid = os.getpid() if pid is None else pid
    return f"{_host()}/{pid}/{_started(pid) or ''}"


def is_lost(worker: str) -> bool:
    """True when `worker` is one of ours on this host and its process is gone (or its pid now
    belongs to another process). Unknown ids and other hosts: False."""
    parts = worker.split("/")
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return False
    started = _started(int(parts[1]))
    return started is None or (started != "" and started != parts[2])


@dataclass
class Recovered:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.requeued or self.failed)


def recover_lost_tasks(max_attempts: int = MAX_ATTEMPTS) -> Recovered:
    """Puts back in the queue every RUNNING task whose worker on this host died; fails it
    instead once `max_attempts` workers died running it."""
    from django_tasks_db.models import DBTaskResult

    done = Recovered()
    for task in DBTaskResult.objects.running().only("id", "worker_ids", "started_at", "task_path"):
        last = task.worker_ids[-1] if task.worker_ids else ""
        if not is_lost(str(last)):
            continue
        claim = DBTaskResult.objects.filter(pk=task.pk, status="RUNNING", started_at=task.started_at)
        if len(task.worker_ids) >= max_attempts:
            if claim.update(status="FAILED", finished_at=timezone.now(),
                            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                            traceback=f"WorkerLost: worker {last} died while running this task "
                                      f"({len(task.worker_ids)} attempts)\n"):
                done.failed.append(str(task.pk))
                logger.error("task %s (%s): %d workers died running it; marked failed", task.pk,
                             task.task_path, len(task.worker_ids))
        elif claim.update(status="READY", started_at=None):
            done.requeued.append(str(task.pk))
            logger.warning("task %s (%s): worker %s died running it; queued again", task.pk,
                           task.task_path, last)
    return done
