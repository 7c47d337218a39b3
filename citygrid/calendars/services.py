"""Deadlines on working calendars, for every other app.

    from citygrid.calendars.services import compute_deadline, default_calendar, working_elapsed
    deadline = compute_deadline(None, reported_at, Duration(Decimal(2), Unit.WORKING_HOURS))
    deadline.at, deadline.provisional

The pure calendar built from the database is cached per calendar and per process; every call
reads the calendar's rows (a few small queries) and rebuilds only when they differ from the
rows the cached calendar came from, so any edit is seen by the next call in every process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from citygrid.calendars.domain.durations import Duration, DurationError, parse_duration
from citygrid.calendars.domain.official import is_official_year, official_schedule
from citygrid.calendars.domain.workcal import (
    CalendarError,
    Pause,
    Period,
    WorkCalendar,
    elapsed,
    explain,
)
from citygrid.calendars.models import (
    ConfirmedYear,
    DateOverride,
    OverrideKind,
    OverridePeriod,
    WeeklyPeriod,
    WorkingCalendar,
)
from citygrid.core.errors import NotFound, ValidationFailed

OFFICIAL_FIRST_YEAR = 2001
OFFICIAL_YEARS_AHEAD = 10  # the package's estimates are used this far ahead of today


@dataclass(frozen=True)
class Deadline:
    at: datetime
    provisional: bool
    provisional_years: tuple[int, ...]
    explanation: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Calendars


def default_calendar() -> WorkingCalendar:
    """The default calendar; the office calendar is created if there is none."""
    found = WorkingCalendar.objects.filter(is_default=True).first()
    if found is not None:
        return found
    from citygrid.calendars.actions import ensure_office_calendar

    return ensure_office_calendar()


def get_calendar(name: str) -> WorkingCalendar:
    try:
        return WorkingCalendar.objects.get(name=name)
    except WorkingCalendar.DoesNotExist:
        names = ", ".join(WorkingCalendar.objects.values_list("name", flat=True)) or "none"
        raise NotFound(
            f"no working calendar named {name!r} (calendars: {names})",
            code="calendar_not_found", details={"calendar": name},
        ) from None


def unconfirmed_years(years: Sequence[int]) -> tuple[int, ...]:
    """The years among `years` with no official schedule in the package and none confirmed."""
    missing = [y for y in sorted(set(years)) if not is_official_year(y)]
    if not missing:
        return ()
    confirmed = set(
        ConfirmedYear.objects.filter(year__in=missing, confirmed_at__isnull=False).values_list("year", flat=True)
    )
    return tuple(y for y in missing if y not in confirmed)


def years_needing_attention(today: date | None = None) -> tuple[int, ...]:
    """This year and next, where their official schedule is unknown and unconfirmed."""
    today = today or timezone.localdate()
    return unconfirmed_years([today.year, today.year + 1])


# ---------------------------------------------------------------------------------------
# Deadlines


def compute_deadline(
    calendar: WorkingCalendar | None, start: datetime, duration: Duration, pauses: Sequence[Pause] = ()
) -> Deadline:
    """`start` + `duration` on `calendar` (the default one if None), clock stopped in `pauses`.

    A `start` without a time zone is read in the calendar's time zone. The deadline is
    provisional when it counts working time across a year whose official holiday schedule
    is neither in the `holidays` package nor confirmed by an administrator.
    """
    calendar = calendar or default_calendar()
    cal = work_calendar(calendar)
    start = _aware(start, cal)
    try:
        result = explain(cal, start, duration, [(_aware(a, cal), _aware(b, cal)) for a, b in pauses])
    except CalendarError as exc:
        raise ValidationFailed(str(exc), code=exc.code) from None
    years: tuple[int, ...] = ()
    if duration.unit.counts_working_time and _depends_on_official_schedule(cal):
        first, last = start.astimezone(cal.tz).year, result.deadline.year
        years = unconfirmed_years(list(range(first, last + 1)))
    lines = result.lines()
    if years:
        lines.append(provisional_reason(years))
    return Deadline(at=result.deadline, provisional=bool(years), provisional_years=years, explanation=lines)


def working_elapsed(
    calendar: WorkingCalendar | None, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Working time between two instants on `calendar`, less the pauses."""
    cal = work_calendar(calendar or default_calendar())
    try:
        return elapsed(cal, _aware(start, cal), _aware(end, cal),
                       [(_aware(a, cal), _aware(b, cal)) for a, b in pauses])
    except CalendarError as exc:
        raise ValidationFailed(str(exc), code=exc.code) from None


def provisional_reason(years: Sequence[int]) -> str:
    listed = ", ".join(str(y) for y in years)
    return (
        f"PROVISIONAL: the official holiday schedule for {listed} is not in the holidays package "
        "and no administrator has confirmed it; enter that year's date overrides and confirm the year."
    )


def parse_limit(text: str) -> Duration:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ValidationFailed(str(exc), code="invalid_limit", details={"limit": text}) from None


def parse_start(text: str) -> datetime:
    """Read an ISO 8601 instant; '+' turned into a space by a URL query is put back."""
    candidates = [text.strip()]
    head, sep, tail = text.strip().rpartition(" ")
    if sep and "T" in head and tail[:2].isdigit():
        candidates.append(f"{head}+{tail}")
    for candidate in candidates:
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if 1900 <= parsed.year <= 2200:
            return parsed
    raise ValidationFailed(
        f"cannot read {text!r} as a date and time; write ISO 8601, e.g. 2026-02-13T16:00+08:00",
        code="invalid_start", details={"start": text},
    )


def _aware(dt: datetime, cal: WorkCalendar) -> datetime:
    return dt.replace(tzinfo=cal.tz) if dt.tzinfo is None or dt.utcoffset() is None else dt


def _depends_on_official_schedule(cal: WorkCalendar) -> bool:
    worked_every_day = all(cal.weekly.get(wd) for wd in range(7))
    return not (cal.works_on_holidays and worked_every_day)


# ---------------------------------------------------------------------------------------
# The pure calendar, built from the rows and cached


_cache: dict[int, tuple[tuple[Any, ...], WorkCalendar]] = {}
_cache_lock = threading.Lock()


def work_calendar(calendar: WorkingCalendar) -> WorkCalendar:
    """The pure calendar for a `WorkingCalendar` row, rebuilt only when its rows changed.

    The rows are read on every call (a handful of small queries) and compared with those the
    cached calendar was built from: any change, however it was written, is seen at once.
    """
    rows = _rows(calendar.pk)
    with _cache_lock:
        hit = _cache.get(calendar.pk)
    if hit is not None and hit[0] == rows:
        return hit[1]
    built = _build(rows)
    with _cache_lock:
        _cache[calendar.pk] = (rows, built)
    return built


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _rows(calendar_id: int) -> tuple[Any, ...]:
    head = WorkingCalendar.objects.filter(pk=calendar_id).values_list(
        "name", "timezone", "works_on_holidays").first()
    if head is None:
        raise NotFound(f"working calendar {calendar_id} no longer exists", code="calendar_not_found")
    weekly = tuple(WeeklyPeriod.objects.filter(calendar_id=calendar_id).order_by("weekday", "start")
                   .values_list("weekday", "start", "end"))
    overrides = tuple(DateOverride.objects.filter(Q(calendar_id=calendar_id) | Q(calendar__isnull=True))
                      .order_by("date", "calendar_id").values_list("calendar_id", "date", "kind", "note"))
    periods = tuple(OverridePeriod.objects.filter(override__calendar_id=calendar_id)
                    .order_by("override__date", "start").values_list("override__date", "start", "end"))
    # the official years used move with today's date
    return (timezone.localdate().year, head, weekly, overrides, periods)


def _build(rows: tuple[Any, ...]) -> WorkCalendar:
    this_year, (name, tz_name, works_on_holidays), weekly_rows, override_rows, period_rows = rows
    weekly: dict[int, list[Period]] = {}
    for weekday, start, end in weekly_rows:
        weekly.setdefault(weekday, []).append(Period(start, end))
    official = official_schedule(OFFICIAL_FIRST_YEAR, this_year + OFFICIAL_YEARS_AHEAD)
    holidays = set(official.holidays)
    makeup = set(official.makeup_days)
    notes = dict(official.names)
    labels = dict(OverrideKind.choices)
    for calendar_id, day, kind, note in override_rows:
        if calendar_id is not None:
            continue
        holidays.discard(day)
        makeup.discard(day)
        if kind == OverrideKind.HOLIDAY:
            holidays.add(day)
        elif day.weekday() >= 5:
            makeup.add(day)
        notes[day] = note or str(labels[kind])
    base = WorkCalendar(
        weekly={wd: tuple(ps) for wd, ps in weekly.items()},
        holidays=frozenset(holidays), makeup_days=frozenset(makeup),
        works_on_holidays=works_on_holidays, tz=ZoneInfo(tz_name), name=name, notes=notes,
    )
    custom: dict[date, list[Period]] = {}
    for day, start, end in period_rows:
        custom.setdefault(day, []).append(Period(start, end))
    overrides: dict[date, tuple[Period, ...]] = {}
    for calendar_id, day, kind, note in override_rows:
        if calendar_id is None:
            continue
        if kind == OverrideKind.HOLIDAY:
            overrides[day] = ()
        elif kind == OverrideKind.WORKING_DAY:
            overrides[day] = base.standard_periods
        else:
            overrides[day] = tuple(custom.get(day, ()))
        notes[day] = note or str(labels[kind])
    return WorkCalendar(
        weekly=base.weekly, holidays=base.holidays, makeup_days=base.makeup_days, overrides=overrides,
        works_on_holidays=base.works_on_holidays, tz=base.tz, name=base.name, notes=notes,
    )
