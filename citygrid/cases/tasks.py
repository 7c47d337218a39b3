"""Periodic sweeps run by the background worker (issue 4, item 5).

Django's tasks API has no scheduler: `citygrid case_sweeper` enqueues these tasks every
interval and the worker (`citygrid db_worker`) runs them.

- `refresh_overdue_levels_task` brings every open case's traffic light up to date (the
  action `refresh_overdue_levels`, four bulk UPDATEs).
- `send_reminders_task` does the same sweep and reminds the holders of the cases whose level
  rose to yellow or red. The sweep records one `Reminder` row per rise in the transaction that
  changes the level (unique per rise, so never twice), and then delivers the undelivered rows
  and marks them; a worker killed in between leaves them for the next sweep (nothing lost).
- `collaboration_sweep_task` runs the collaboration platform's sweep (citygrid.collab).

Delivery is a log record (logger "citygrid.cases.reminders"); an SMS or push gateway plugs in
at `_remind`. Delivery is at least once: a worker killed after sending and before marking
sends that batch again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task

from citygrid.cases.actions import deliver_reminders, refresh_overdue_levels
from citygrid.cases.day_counts import refresh_day_counts
from citygrid.cases.map_cells import refresh_map_cells
from citygrid.cases.models import OverdueLevel
from citygrid.cases.models import Reminder as ReminderRow

logger = logging.getLogger("citygrid.cases.reminders")

@dataclass(frozen=True)
class Reminder:
    case_id: int
    number: str
    level: str
    holder: str  # holding department's code ("" when none)


@dataclass
class SweepResult:
    changed: int = 0
    reminders: list[Reminder] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        levels = [r.level for r in self.reminders]
        return {"changed": self.changed, "reminded": len(levels),
                "yellow": levels.count(OverdueLevel.YELLOW), "red": levels.count(OverdueLevel.RED)}


def when(now: str | None) -> datetime:
    """Tasks take JSON arguments: `now` is an ISO 8601 text (tests and replays), else now."""
    if not now:
        return timezone.now()
    parsed = parse_datetime(now)
    if parsed is None:
        raise ValueError(f"now must be an ISO 8601 date-time, not {now!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _remind(row: ReminderRow) -> None:
    logger.warning("case %s turned %s; reminder to %s", row.case.number, row.level,
                   row.holder_department.code if row.holder_department else "(no holder)")


def sweep(now: datetime | None = None) -> SweepResult:
    """Refresh the levels (recording a reminder for each rise to yellow or red in the same
    transaction), then deliver the reminders not yet delivered, older ones first."""
    now = now or timezone.now()
    result = SweepResult(changed=refresh_overdue_levels(now))
    for row in deliver_reminders(_remind):
        holder = row.holder_department.code if row.holder_department else ""
        result.reminders.append(Reminder(row.case_id, row.case.number, row.level, holder))
    return result


@task()
def refresh_overdue_levels_task(now: str | None = None) -> int:
    """Bring every open case's traffic-light level up to date; returns how many changed."""
    return refresh_overdue_levels(when(now))


@task()
def send_reminders_task(now: str | None = None) -> dict[str, int]:
    """Sweep the levels and remind the holders of cases that turned yellow or red."""
    return sweep(when(now)).as_dict()


@task()
def collaboration_sweep_task(now: str | None = None) -> int:
    """The collaboration platform's sweep (`citygrid.collab.actions.sweep_into_collaboration`:
    cases returned or bounced too often, or long overdue, go to the platform), when that app is
    installed; returns how many cases were sent in."""
    if not apps.is_installed("citygrid.collab"):
        return 0
    from citygrid.collab.actions import sweep_into_collaboration

    return int(sweep_into_collaboration(when(now)))


@task()
def housekeeping_task(now: str | None = None) -> dict[str, int]:
    """Daily and monthly jobs, each idempotent so the sweeper may enqueue this every interval:
    the live map's and the big screen's kept counts up to yesterday, the collaborating units' duty rollup for
    yesterday, and last month's assessment run."""
    today = timezone.localdate(when(now))
    done = {"duty_units": 0, "assessment_runs": 0,
            "map_cells": refresh_map_cells(today), "day_counts": refresh_day_counts(today)}
    if apps.is_installed("citygrid.collab"):
        from citygrid.collab.actions import rollup_duty

        done["duty_units"] = int(rollup_duty(today - timedelta(days=1)))
    if apps.is_installed("citygrid.assess"):
        from citygrid.assess.tasks import ensure_last_month

        done["assessment_runs"] = int(ensure_last_month(today) is not None)
    return done


# What `citygrid case_sweeper` enqueues every interval, in this order.
PERIODIC_TASKS = (send_reminders_task, collaboration_sweep_task, housekeeping_task)
