"""Deadlines on working calendars, for every other app.

    from citygrid.calendars.services import compute_deadline, default_calendar, working_elapsed
    deadline = compute_deadline(None, reported_at, Duration(Decimal(2), Unit.WORKING_HOURS))
    deadline.at, deadline.provisional

The pure calendar built from the database is cached per calendar and per process, with the
token of `CalendarRevision` it was built at; database triggers give that row a new token on
every write to the calendar tables, so each call checks one small row (or none inside
`snapshot()`) and any edit is seen by the next call in every process. Without the triggers the
cache falls back to reading the calendar's rows on every call and comparing them.
"""

from __future__ import annotations

import contextvars
import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from citygrid.calendars.domain.durations import Duration, DurationError, parse_duration
from citygrid.calendars.domain.official import is_official_year, official_schedule
from citygrid.calendars.domain.workcal import (
    CalendarError,
    Pause,
    Period,
    WorkCalendar,
    add,
    elapsed,
    explain,
)
from citygrid.calendars.models import (
    CalendarRevision,
    ConfirmedYear,
    DateOverride,
    OverrideKind,
    OverridePeriod,
    WeeklyPeriod,
    WorkingCalendar,
)
from citygrid.core.errors import NotFound, ValidationFailed
from citygrid.core.memo import remembered

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
    found = remembered("default_calendar", lambda: _cached_row(
        "default", lambda: WorkingCalendar.objects.filter(is_default=True).first()))
    if found is not None:
        return found
    from citygrid.calendars.actions import ensure_office_calendar

    return ensure_office_calendar()


def find_calendar(name: str) -> WorkingCalendar | None:
    """The calendar of this name, or None (cached like the pure calendars)."""
    return remembered(("calendar", name), lambda: _cached_row(
        f"name:{name}", lambda: WorkingCalendar.objects.filter(name=name).first()))


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
    token = _revision_token()
    if token is not None:
        key = (token, tuple(missing))
        with _cache_lock:
            hit = _years_cache.get(key)
        if hit is None:
            hit = _unconfirmed(missing)
            with _cache_lock:
                _years_cache.clear()  # one entry per token is plenty
                _years_cache[key] = hit
        return hit
    return _unconfirmed(missing)


def _unconfirmed(missing: list[int]) -> tuple[int, ...]:
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
    calendar: WorkingCalendar | None, start: datetime, duration: Duration, pauses: Sequence[Pause] = (),
    *, explained: bool = True,
) -> Deadline:
    """`start` + `duration` on `calendar` (the default one if None), clock stopped in `pauses`.

    A `start` without a time zone is read in the calendar's time zone. The deadline is
    provisional when it counts working time across a year whose official holiday schedule
    is neither in the `holidays` package nor confirmed by an administrator.
    `explained=False` leaves out the explanation (for callers that only store the instant).
    """
    with snapshot():
        return _compute_deadline(calendar, start, duration, pauses, explained)


def _compute_deadline(
    calendar: WorkingCalendar | None, start: datetime, duration: Duration, pauses: Sequence[Pause],
    explained: bool = True,
) -> Deadline:
    calendar = calendar or default_calendar()
    cal = work_calendar(calendar)
    start = _aware(start, cal)
    aware_pauses = [(_aware(a, cal), _aware(b, cal)) for a, b in pauses]
    try:
        result = explain(cal, start, duration, aware_pauses) if explained else None
        at = result.deadline if result else add(cal, start, duration, aware_pauses)
    except CalendarError as exc:
        raise ValidationFailed(str(exc), code=exc.code) from None
    years: tuple[int, ...] = ()
    if duration.unit.counts_working_time and _depends_on_official_schedule(cal):
        first, last = start.astimezone(cal.tz).year, at.year
        years = unconfirmed_years(list(range(first, last + 1)))
    lines = result.lines() if result else []
    if years and result:
        lines.append(provisional_reason(years))
    return Deadline(at=at, provisional=bool(years), provisional_years=years, explanation=lines)


def working_elapsed(
    calendar: WorkingCalendar | None, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Working time between two instants on `calendar`, less the pauses."""
    with snapshot():
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


_cache: dict[int, tuple[Any, WorkCalendar]] = {}
_rows_cache: dict[str, tuple[Any, WorkingCalendar | None]] = {}
_years_cache: dict[tuple[int, tuple[int, ...]], tuple[int, ...]] = {}
_cache_lock = threading.Lock()
_triggers: dict[str, bool] = {}  # per database: are the revision triggers installed?
_pinned: contextvars.ContextVar[dict[str, int | None] | None] = contextvars.ContextVar(
    "calendars_pinned", default=None)


@contextmanager
def snapshot() -> Iterator[None]:
    """Within the block the calendar revision is read at most once. For code that does not
    change calendars itself (e.g. one case action); calendar edits committed by others
    meanwhile are seen by the next block."""
    if _pinned.get() is not None:
        yield
        return
    reset = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(reset)


def _revision_token() -> int | None:
    """The current token, or None when the triggers are missing (then nothing is cached by
    token)."""
    pinned = _pinned.get()
    if pinned is not None and "token" in pinned:
        return pinned["token"]
    token = _read_token() if _has_triggers() else None
    if pinned is not None:
        pinned["token"] = token
    return token


def _read_token() -> int | None:
    # Raw SQL: it runs once per request or per deadline; the ORM would add ~100 µs.
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('token')} FROM {quote(CalendarRevision._meta.db_table)} "
                       f"WHERE {quote('id')} = 1")
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _has_triggers() -> bool:
    name = str(connection.settings_dict.get("NAME"))
    found = _triggers.get(name)
    if found is None:
        if connection.vendor == "postgresql":
            sql = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'calendars_revision_%'"
            expected = 5
        elif connection.vendor == "sqlite":
            sql = ("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                   "AND name LIKE 'calendars_revision_%'")
            expected = 15
        else:
            sql, expected = "", -1
        count = -2
        if sql:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                count = int(cursor.fetchone()[0])
        found = count == expected
        if found:  # a database without them may get them by migrating: look again then
            _triggers[name] = found
    return found


def _cached_row(key: str, load: Any) -> WorkingCalendar | None:
    """A calendar row looked up by `load()`, cached by revision token; each caller gets its
    own copy."""
    token = _revision_token()
    if token is None:
        row: WorkingCalendar | None = load()
        return row
    with _cache_lock:
        hit = _rows_cache.get(key)
    if hit is None or hit[0] != token:
        hit = (token, load())
        with _cache_lock:
            _rows_cache[key] = hit
    return copy.copy(hit[1]) if hit[1] is not None else None


def work_calendar(calendar: WorkingCalendar) -> WorkCalendar:
    """The pure calendar for a `WorkingCalendar` row, rebuilt only when the calendar tables
    changed (the revision token moved; without the triggers: when its rows differ)."""
    token = _revision_token()
    if token is None:
        rows = _rows(calendar.pk)
        key: Any = ("rows", rows)
    else:
        rows, key = None, ("token", token, timezone.localdate().year)
    with _cache_lock:
        hit = _cache.get(calendar.pk)
    if hit is not None and hit[0] == key:
        return hit[1]
    built = _build(rows if rows is not None else _rows(calendar.pk))
    with _cache_lock:
        _cache[calendar.pk] = (key, built)
    return built


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _rows_cache.clear()
        _years_cache.clear()
        _triggers.clear()


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
