"""Periodic sweeps run by the background worker (issue 4, item 5).

Django's tasks API has no scheduler: `citygrid case_sweeper` enqueues these tasks every
interval and the worker (`citygrid db_worker`) runs them.

- `refresh_overdue_levels_task` brings every open case's traffic light up to date (the
  action `refresh_overdue_levels`, four bulk UPDATEs).
- `send_reminders_task` does the same sweep and reminds the holders of the cases whose level
  rose to yellow or red during it. A reminder is emitted once, on the rise: the cases are
  picked before the sweep and confirmed after it, so a case already red is not reminded again.
- `collaboration_sweep_task` runs the collaboration platform's sweep (citygrid.collab).

Reminders are log records (logger "citygrid.cases.reminders") and a count. No action lets
the system record a reminder in the case history yet (`urge` is for people: dispatcher,
leader, shift leader); when the case engine offers one, `_remind` calls it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task

from citygrid.cases.actions import refresh_overdue_levels
from citygrid.cases.models import FINAL_STATES, Case, CaseState, OverdueLevel

logger = logging.getLogger("citygrid.cases.reminders")

_HANDLING = (CaseState.DISPATCHED, CaseState.HANDLING, CaseState.POSTPONEMENT_REQUESTED)


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


def _rising(now: datetime) -> dict[int, str]:
    """Open running cases whose level will rise to yellow or red at `now` (same predicates as
    the action's sweep): case id → level they will reach."""
    running = Case.objects.exclude(state__in=[*FINAL_STATES, CaseState.SUSPENDED])
    handling = Q(state__in=_HANDLING)
    red = Q(step_deadline__lt=now) | (handling & Q(overall_deadline__lt=now))
    yellow = Q(step_warn_at__lte=now) | (handling & Q(overall_warn_at__lte=now))
    rising: dict[int, str] = {}
    for pk in running.filter(red).exclude(overdue_level=OverdueLevel.RED).values_list("pk", flat=True):
        rising[pk] = OverdueLevel.RED
    lower = [OverdueLevel.NONE, OverdueLevel.GREEN]
    for pk in (running.filter(yellow).exclude(red).filter(overdue_level__in=lower)
               .values_list("pk", flat=True)):
        rising[pk] = OverdueLevel.YELLOW
    return rising


def _remind(reminder: Reminder) -> None:
    logger.warning("case %s turned %s; reminder to %s", reminder.number, reminder.level,
                   reminder.holder or "(no holder)")


def sweep(now: datetime | None = None) -> SweepResult:
    """Refresh the levels and remind the holders of the cases that turned yellow or red."""
    now = now or timezone.now()
    rising = _rising(now)
    result = SweepResult(changed=refresh_overdue_levels(now))
    if not rising:
        return result
    confirmed = (Case.objects.filter(pk__in=list(rising))
                 .values_list("pk", "number", "overdue_level", "holder_department__code"))
    for pk, number, level, holder in confirmed.order_by("pk"):
        if level == rising[pk]:  # someone else's sweep or an action may have got there first
            reminder = Reminder(pk, number, level, holder or "")
            _remind(reminder)
            result.reminders.append(reminder)
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
    the collaborating units' duty rollup for yesterday, and last month's assessment run."""
    today = timezone.localdate(when(now))
    done = {"duty_units": 0, "assessment_runs": 0}
    if apps.is_installed("citygrid.collab"):
        from citygrid.collab.actions import rollup_duty

        done["duty_units"] = int(rollup_duty(today - timedelta(days=1)))
    if apps.is_installed("citygrid.assess"):
        from citygrid.assess.tasks import ensure_last_month

        done["assessment_runs"] = int(ensure_last_month(today) is not None)
    return done


# What `citygrid case_sweeper` enqueues every interval, in this order.
PERIODIC_TASKS = (send_reminders_task, collaboration_sweep_task, housekeeping_task)
