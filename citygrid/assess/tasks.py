"""Monthly generation in the background worker (`citygrid db_worker` runs it)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django_tasks import task

from citygrid.assess.domain.periods import period_of
from citygrid.assess.models import AssessmentRun
from citygrid.assess.services import generate


@task()
def generate_run_task(run_id: int) -> dict[str, object]:
    run = AssessmentRun.objects.get(pk=run_id)
    generate(run)
    return {"run": run.pk, "status": run.status, "results": run.results.count()}


def request_run(period_kind: str, day: date, *, user: object = None, scope_id: int | None = None,
                enqueue: bool = True) -> AssessmentRun:
    """Creates a queued run of the period containing `day` and hands it to the worker."""
    period = period_of(period_kind, day)
    run = AssessmentRun.objects.create(
        period_kind=period.kind.value, period_start=period.start, period_end=period.end,
        scope_id=scope_id, requested_by=user if getattr(user, "is_authenticated", False) else None)
    if enqueue:
        generate_run_task.enqueue(run.pk)
    return run


def request_last_month(enqueue: bool = True) -> AssessmentRun:
    """What a monthly schedule calls on the 1st: the month just ended."""
    return request_run("month", timezone.localdate().replace(day=1) - timedelta(days=1),
                       enqueue=enqueue)


def ensure_last_month(today: date | None = None, enqueue: bool = True) -> AssessmentRun | None:
    """Requests last month's city-wide run unless one exists already: safe to call often
    (the case sweeper does, every interval), so the month is generated once, early on the 1st."""
    today = today or timezone.localdate()
    period = period_of("month", today.replace(day=1) - timedelta(days=1))
    exists = AssessmentRun.objects.filter(
        period_kind=period.kind.value, period_start=period.start, scope__isnull=True).exists()
    if exists:
        return None
    return request_run("month", period.start, enqueue=enqueue)
