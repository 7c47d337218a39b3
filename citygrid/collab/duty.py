"""Collaborating units on duty (M-21): online time within working periods, answers to
invitations, response times, shares accepted / declined / resolved. For the assessment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from citygrid.cases.models import CaseState
from citygrid.collab.domain import duty
from citygrid.collab.models import Decision, Invitation, PresenceSpan
from citygrid.core.errors import ValidationFailed
from citygrid.org.models import Department

# The figures are counted day by day: a period is at most a year, within dates a local
# midnight can be stored for (found by the API fuzz tests: 0001-01-01 to 9999-12-31 ran for
# minutes, and the extreme dates overflowed).
MAX_PERIOD_DAYS = 366
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class DayFigures:
    department_id: int
    day: date
    working_minutes: int
    online_minutes: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass
class UnitDutyFigures:
    """One unit over a period. Shares are 0–1 (None when there is nothing to divide by);
    minutes are whole minutes; response times are working minutes on the unit's calendar."""

    department_code: str
    department_name: str
    working_minutes: int = 0
    online_minutes: int = 0
    online_share: float | None = None
    days: list[DayFigures] = field(default_factory=list)
    invited: int = 0
    accepted: int = 0
    declined: int = 0
    unanswered: int = 0
    late: int = 0
    mean_response_minutes: float | None = None
    accepted_share: float | None = None
    declined_share: float | None = None
    owned: int = 0  # decisions naming the unit as owner
    resolved: int = 0  # of those, cases closed since
    resolved_share: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["days"] = [{"day": d.day.isoformat(), "working_minutes": d.working_minutes,
                         "online_minutes": d.online_minutes} for d in self.days]
        return data


def _calendar(department: Department) -> Any:
    from citygrid.calendars.services import default_calendar

    return department.calendar if department.calendar_id else default_calendar()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _unit_days(department: Department, spans: list[duty.Interval], first: date,
               last: date) -> list[DayFigures]:
    from citygrid.calendars.services import working_elapsed

    calendar = _calendar(department)
    merged = duty.merge(spans)
    days = []
    day = first
    while day <= last:
        start, end = _day_bounds(day)
        inside = duty.clip(merged, start, end)
        online = sum((working_elapsed(calendar, a, b) for a, b in inside), timedelta(0))
        days.append(DayFigures(
            department.pk, day, _minutes(working_elapsed(calendar, start, end)), _minutes(online),
            inside[0][0] if inside else None, inside[-1][1] if inside else None))
        day += timedelta(days=1)
    return days


def _spans(first: date, last: date, departments: list[int] | None = None) -> dict[int, list[duty.Interval]]:
    start, _ = _day_bounds(first)
    _, end = _day_bounds(last)
    qs = PresenceSpan.objects.filter(start__lt=end, end__gt=start)
    if departments is not None:
        qs = qs.filter(department_id__in=departments)
    found: dict[int, list[duty.Interval]] = defaultdict(list)
    for dept_id, a, b in qs.values_list("department_id", "start", "end"):
        found[dept_id].append((a, b))
    return found


def day_figures(day: date) -> list[DayFigures]:
    """Each unit seen on `day`: its working minutes and minutes online within them."""
    spans = _spans(day, day)
    units = Department.objects.filter(pk__in=list(spans)).select_related("calendar")
    return [_unit_days(u, spans[u.pk], day, day)[0] for u in units]


def unit_duty_figures(period_start: date, period_end: date,
                      now: datetime | None = None) -> list[UnitDutyFigures]:
    """Every unit invited in the period or seen online in it (dates inclusive, local time),
    ordered by department code."""
    if not isinstance(period_start, date) or not isinstance(period_end, date) or period_start > period_end:
        raise ValidationFailed("period_start must be a date on or before period_end.",
                               code="invalid_period", details={"field": "period_start"})
    if period_start < FIRST_DAY or period_end > LAST_DAY:
        raise ValidationFailed(f"The period must lie between {FIRST_DAY} and {LAST_DAY}.",
                               code="invalid_period", details={"field": "period_start"})
    if (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed(f"The period is longer than {MAX_PERIOD_DAYS} days.",
                               code="period_too_long", details={"field": "period_end"})
    from citygrid.calendars.services import working_elapsed

    now = now or timezone.now()
    start, _ = _day_bounds(period_start)
    _, end = _day_bounds(period_end)
    spans = _spans(period_start, period_end)
    invitations = list(Invitation.objects.filter(invited_at__gte=start, invited_at__lt=end)
                       .values_list("department_id", "answer", "answered_at", "due_at", "invited_at"))
    decisions = list(Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
                     .values_list("owner_id", "dossier__case__state"))
    ids = set(spans) | {row[0] for row in invitations} | {row[0] for row in decisions}
    units = Department.objects.filter(pk__in=ids).select_related("calendar").order_by("code")
    result = []
    for unit in units:
        fig = UnitDutyFigures(unit.code, unit.name)
        fig.days = _unit_days(unit, spans.get(unit.pk, []), period_start, period_end)
        fig.working_minutes = sum(d.working_minutes for d in fig.days)
        fig.online_minutes = sum(d.online_minutes for d in fig.days)
        fig.online_share = duty.share(fig.online_minutes, fig.working_minutes)
        mine = [r for r in invitations if r[0] == unit.pk]
        counts = duty.count_answers(((r[1], r[2], r[3]) for r in mine), now)
        fig.invited, fig.accepted, fig.declined = counts.invited, counts.accepted, counts.declined
        fig.unanswered, fig.late = counts.unanswered, counts.late
        fig.accepted_share = duty.share(counts.accepted, counts.invited)
        fig.declined_share = duty.share(counts.declined, counts.invited)
        calendar = _calendar(unit)
        waits = [working_elapsed(calendar, r[4], r[2]).total_seconds() / 60 for r in mine if r[2]]
        fig.mean_response_minutes = round(sum(waits) / len(waits), 1) if waits else None
        owned = [r for r in decisions if r[0] == unit.pk]
        fig.owned = len(owned)
        fig.resolved = sum(1 for r in owned if r[1] == CaseState.CLOSED)
        fig.resolved_share = duty.share(fig.resolved, fig.owned)
        result.append(fig)
    return result
