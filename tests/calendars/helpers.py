"""Calendars built directly from the pure module, for the pure tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from citygrid.calendars.domain.official import official_schedule
from citygrid.calendars.domain.workcal import DEFAULT_TZ, WorkCalendar, parse_periods

TZ = DEFAULT_TZ
OFFICE_PERIODS = parse_periods("08:30-12:00, 13:30-17:30")


def office() -> WorkCalendar:
    official = official_schedule(2024, 2028)
    return WorkCalendar(
        weekly={wd: OFFICE_PERIODS for wd in range(5)},
        holidays=official.holidays, makeup_days=official.makeup_days, notes=official.names, name="office",
    )


def supervision() -> WorkCalendar:
    official = official_schedule(2024, 2028)
    return WorkCalendar(
        weekly={wd: parse_periods("08:00-21:00") for wd in range(7)},
        holidays=official.holidays, makeup_days=official.makeup_days, works_on_holidays=True,
        name="supervision",
    )


def at(text: str) -> datetime:
    """A Shanghai instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def reference_elapsed(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time by plain day-by-day summing (no week skipping), to check the fast path."""
    total = timedelta(0)
    d: date = start.astimezone(cal.tz).date()
    while d <= end.astimezone(cal.tz).date():
        for p in cal.day(d).periods:
            a = datetime.combine(d, p.start, tzinfo=cal.tz)
            b = datetime.combine(d + timedelta(days=1) if p.end.hour == p.end.minute == 0 else d,
                                 p.end, tzinfo=cal.tz)
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        d += timedelta(days=1)
    return total
