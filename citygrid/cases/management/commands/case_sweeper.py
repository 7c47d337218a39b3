"""Enqueue the periodic case sweeps (`citygrid.cases.tasks.PERIODIC_TASKS`: traffic lights and
reminders, then the collaboration sweep) every interval; the background worker
(`citygrid db_worker`) runs them. `--once` runs them here and now instead.

Django's tasks API has no scheduler; this small loop is it. It survives errors (logs them and
tries again at the next tick), does not pile up work while the worker is down (a sweep still
waiting in the queue is not enqueued again), puts back in the queue the tasks of workers that
died on this host (citygrid.core.worker), and stops cleanly on SIGTERM or SIGINT.
Run exactly one sweeper per database.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

logger = logging.getLogger("citygrid.cases.sweeper")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise CommandError(f"--interval must be a positive number of seconds, not {text!r}",
                           returncode=2)
    return value


class Command(BaseCommand):
    help = "Enqueue the case sweep (overdue levels, reminders) every interval; --once runs it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", default="60",
                            help="seconds between sweeps (default 60)")
        parser.add_argument("--once", action="store_true",
                            help="run one sweep in this process (no worker needed) and exit")
        parser.add_argument("--now", default="",
                            help="with --once: sweep as of this ISO 8601 time (replays, tests)")
        parser.add_argument("--count", type=int, default=0,
                            help="stop after enqueueing this many sweeps (default: run until stopped)")

    def handle(self, *args: Any, **opts: Any) -> None:
        interval = _positive(str(opts["interval"]))
        if opts["count"] < 0:
            raise CommandError("--count must be zero (no limit) or more", returncode=2)
        if opts["now"] and not opts["once"]:
            raise CommandError("--now goes with --once", returncode=2)
        if opts["once"]:
            self._once(opts["now"])
            return
        self._loop(interval, opts["count"])

    def _once(self, now: str) -> None:
        from citygrid.cases.tasks import collaboration_sweep_task, sweep, when

        try:
            at = when(now)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        result = sweep(at).as_dict()
        self.stdout.write("sweep: {changed} levels changed, {reminded} reminders "
                          "({yellow} yellow, {red} red)".format(**result))
        try:
            sent = collaboration_sweep_task.call(at.isoformat())
        except Exception as exc:  # the level sweep is done and committed; say what failed
            logger.exception("case_sweeper: the collaboration sweep failed")
            raise CommandError(f"the collaboration sweep failed: {exc}", returncode=1) from None
        self.stdout.write(f"collaboration: {sent} cases sent to the platform")

    def _loop(self, interval: float, count: int) -> None:
        from citygrid.cases.tasks import PERIODIC_TASKS

        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            logger.info("case_sweeper: %s, stopping", signal.strsignal(signum))
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        names = ", ".join(t.name for t in PERIODIC_TASKS)
        self.stdout.write(f"case_sweeper: enqueueing {names} every {interval:g} s (the worker "
                          "runs them); SIGTERM or Ctrl+C stops.")
        pending: dict[str, Any] = {}
        ticks = 0
        try:
            while not stop.is_set():
                close_old_connections()
                self._recover()
                for periodic in PERIODIC_TASKS:
                    self._tick(periodic, pending)
                ticks += 1
                if count and ticks >= count:
                    break
                stop.wait(interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"case_sweeper: stopped after {ticks} sweeps.")

    @staticmethod
    def _recover() -> None:
        """Tasks left RUNNING by a dead worker on this host go back in the queue (otherwise the
        sweeper would wait for a killed sweep for ever); see citygrid.core.worker."""
        from citygrid.core.worker import recover_lost_tasks

        try:
            recover_lost_tasks()
        except Exception:  # the next tick tries again
            logger.exception("case_sweeper: could not recover the tasks of dead workers")

    @staticmethod
    def _tick(periodic: Any, pending: dict[str, Any]) -> None:
        """Enqueue one task unless its last run still waits; a failure is logged, not fatal."""
        name = periodic.name
        try:
            last = pending.get(name)
            if last is not None and not last.is_finished:
                last.refresh()
            if last is not None and not last.is_finished:
                logger.warning("case_sweeper: the last %s (%s) is still %s; is the worker "
                               "running?", name, last.id, last.status)
                return
            pending[name] = periodic.enqueue()
            logger.info("case_sweeper: enqueued %s %s", name, pending[name].id)
        except Exception:  # a tick that fails must not end the sweeper
            logger.exception("case_sweeper: could not enqueue %s; retrying next time", name)
            pending.pop(name, None)
