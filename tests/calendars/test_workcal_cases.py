"""Fixed cases on the 2025–2026 official schedule (from the holidays package) and the rules."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta
from decimal import Decimal

import pytest

from citygrid.calendars.domain.durations import Duration, DurationError, Unit, parse_duration
from citygrid.calendars.domain.official import is_official_year, official_schedule
from citygrid.calendars.domain.workcal import (
    CalendarError,
    Period,
    WorkCalendar,
    add,
    elapsed,
    explain,
    parse_periods,
)

from .helpers import at, office, reference_elapsed, supervision


def plus(cal: WorkCalendar, start: str, limit: str, pauses=()) -> str:
    return add(cal, at(start), parse_duration(limit), pauses).strftime("%Y-%m-%d %H:%M")


def test_package_knows_the_2026_spring_festival_schedule() -> None:
    s = official_schedule(2026, 2026)
    off = {date(2026, 2, d) for d in range(15, 24)}
    weekend = {d for d in off if d.weekday() >= 5}
    assert off - weekend <= s.holidays
    assert {date(2026, 2, 14), date(2026, 2, 28)} <= s.makeup_days
    assert is_official_year(2025) and is_official_year(2026)
    assert not is_official_year(2027)


@pytest.mark.parametrize(("start", "limit", "expected"), [
    # 2026 Spring Festival: off 15–23 Feb, make-up working Saturdays 14 and 28 Feb.
    ("2026-02-13 16:00", "1 working day", "2026-02-14 16:00"),
    ("2026-02-13 16:00", "2 working days", "2026-02-24 16:00"),
    ("2026-02-14 17:00", "1 working hour", "2026-02-24 09:00"),
    ("2026-02-27 16:00", "1 working day", "2026-02-28 16:00"),
    ("2026-02-28 16:00", "1 working day", "2026-03-02 16:00"),
    ("2026-02-15 10:00", "3.5 working hours", "2026-02-24 12:00"),
    ("2026-02-15 10:00", "4 working hours", "2026-02-24 14:00"),
    # 2025 Spring Festival: off 28 Jan – 4 Feb, make-up Sunday 26 Jan and Saturday 8 Feb.
    ("2025-01-24 16:00", "1 working day", "2025-01-26 16:00"),
    ("2025-01-27 16:00", "1 working day", "2025-02-05 16:00"),
    ("2025-02-07 16:00", "1 working day", "2025-02-08 16:00"),
    # National Day 2025: off 1–8 Oct, make-up Sunday 28 Sep and Saturday 11 Oct.
    ("2025-09-26 16:00", "1 working day", "2025-09-28 16:00"),
    ("2025-09-30 16:00", "1 working day", "2025-10-09 16:00"),
    ("2025-10-10 16:00", "1 working day", "2025-10-11 16:00"),
    # National Day 2026: off 1–7 Oct, make-up Sunday 20 Sep and Saturday 10 Oct.
    ("2026-09-18 16:00", "1 working day", "2026-09-20 16:00"),
    ("2026-09-30 16:00", "1 working day", "2026-10-08 16:00"),
    ("2026-09-30 16:00", "3 working days", "2026-10-10 16:00"),
    # Ordinary weeks: same clock time on the next working day; periods and lunch.
    ("2026-03-06 16:00", "1 working day", "2026-03-09 16:00"),
    ("2026-03-02 08:30", "3.5 working hours", "2026-03-02 12:00"),  # stays at the period's end
    ("2026-03-02 08:30", "7.5 working hours", "2026-03-02 17:30"),
    ("2026-03-02 07:00", "1 working hour", "2026-03-02 09:30"),  # starts at the next period
    ("2026-03-02 12:30", "1 working hour", "2026-03-02 14:30"),
    ("2026-03-07 10:00", "1 working hour", "2026-03-09 09:30"),
    ("2026-03-02 09:00", "0 working hours", "2026-03-02 09:00"),
    ("2026-03-02 09:00", "90 minutes", "2026-03-02 10:30"),
    # Clock units ignore the calendar.
    ("2026-02-13 16:00", "30 minutes", "2026-02-13 16:30"),
    ("2026-02-13 16:00", "2 hours", "2026-02-13 18:00"),
    ("2026-02-13 16:00", "3 calendar days", "2026-02-16 16:00"),
    ("2026-02-13 16:00", "1.5 calendar days", "2026-02-15 04:00"),
])
def test_office_calendar(start: str, limit: str, expected: str) -> None:
    assert plus(office(), start, limit) == expected


@pytest.mark.parametrize(("start", "limit", "expected"), [
    ("2026-02-16 20:00", "2 working hours", "2026-02-17 09:00"),  # holidays worked (M-13)
    ("2026-02-16 20:00", "1 working day", "2026-02-17 20:00"),  # 1 working day = 13 hours
    ("2026-10-01 07:00", "13 working hours", "2026-10-01 21:00"),
    ("2026-10-01 21:00", "1 minute", "2026-10-01 21:01"),
])
def test_supervision_calendar(start: str, limit: str, expected: str) -> None:
    assert plus(supervision(), start, limit) == expected


def test_working_day_is_the_standard_day_length() -> None:
    assert office().working_day_length == timedelta(hours=7, minutes=30)
    assert supervision().working_day_length == timedelta(hours=13)
    one_day = plus(office(), "2026-03-03 10:00", "1 working day")
    hours = plus(office(), "2026-03-03 10:00", "7.5 working hours")
    assert one_day == hours == "2026-03-04 10:00"


def test_makeup_day_uses_the_standard_periods_even_with_other_saturday_hours() -> None:
    weekly = {wd: OFFICE for wd in range(5)} | {5: parse_periods("09:00-11:00")}
    cal = WorkCalendar(weekly=weekly, makeup_days=frozenset({date(2026, 2, 14)}))
    assert cal.day(date(2026, 2, 14)).periods == OFFICE
    assert cal.day(date(2026, 2, 21)).periods == parse_periods("09:00-11:00")


OFFICE = parse_periods("08:30-12:00, 13:30-17:30")


def test_overrides_win_and_can_close_a_day() -> None:
    base = office()
    cal = WorkCalendar(
        weekly=base.weekly, holidays=base.holidays, makeup_days=base.makeup_days,
        overrides={date(2026, 3, 3): (), date(2026, 3, 4): parse_periods("14:00-15:00"),
                   date(2026, 2, 17): parse_periods("09:00-10:00")},
    )
    assert plus(cal, "2026-03-02 17:00", "1 working hour") == "2026-03-04 14:30"
    assert plus(cal, "2026-02-16 08:00", "0.5 working hours") == "2026-02-17 09:30"
    assert cal.day(date(2026, 3, 3)).kind == "closed (override)"


def test_pauses_stop_the_clock_for_clock_units_too() -> None:
    pause = [(at("2026-03-02 10:00"), at("2026-03-02 11:00"))]
    assert plus(office(), "2026-03-02 09:00", "2 hours", pause) == "2026-03-02 12:00"
    assert plus(office(), "2026-03-02 09:00", "2 working hours", pause) == "2026-03-02 12:00"
    # a pause over the lunch break costs nothing
    lunch = [(at("2026-03-02 12:00"), at("2026-03-02 13:30"))]
    assert plus(office(), "2026-03-02 11:00", "2 working hours", lunch) == "2026-03-02 14:30"


def test_midnight_end_period() -> None:
    cal = WorkCalendar(weekly={wd: (Period(time(20), time(0)),) for wd in range(7)})
    assert plus(cal, "2026-03-02 22:00", "3 working hours") == "2026-03-03 21:00"
    assert plus(cal, "2026-03-02 22:00", "2 working hours") == "2026-03-03 00:00"
    assert elapsed(cal, at("2026-03-02 00:00"), at("2026-03-04 00:00")) == timedelta(hours=8)


def test_elapsed_counts_working_time_only() -> None:
    cal = office()
    assert elapsed(cal, at("2026-02-13 16:00"), at("2026-02-24 09:00")) == timedelta(hours=9, minutes=30)
    assert elapsed(cal, at("2026-02-24 09:00"), at("2026-02-13 16:00")) == -timedelta(hours=9, minutes=30)
    paused = [(at("2026-02-14 09:00"), at("2026-02-14 10:00"))]
    assert elapsed(cal, at("2026-02-13 16:00"), at("2026-02-24 09:00"), paused) == timedelta(hours=8, minutes=30)


def test_hundreds_of_working_days_agree_with_plain_summing() -> None:
    cal = office()
    start = at("2026-01-05 10:00")
    deadline = add(cal, start, Duration(Decimal(400), Unit.WORKING_DAYS))
    assert deadline.year == 2027
    assert elapsed(cal, start, deadline) == timedelta(hours=7.5 * 400)
    assert reference_elapsed(cal, start, deadline) == timedelta(hours=7.5 * 400)


def test_explain_lists_counted_periods_and_skipped_days() -> None:
    result = explain(office(), at("2026-02-13 16:00"), parse_duration("2 working days"))
    text = "\n".join(result.lines())
    assert "2026-02-14 08:30–12:00" in text and "make-up working day" in text
    assert "not worked: 2026-02-17 holiday (春节)" in text
    assert result.counted == timedelta(hours=15)
    assert result.deadline == at("2026-02-24 16:00")


@pytest.mark.parametrize("bad", [
    lambda: add(office(), at("2026-03-02 09:00").replace(tzinfo=None), parse_duration("1 hour")),
    lambda: add(office(), at("2026-03-02 09:00"), parse_duration("1 hour"),
                [(at("2026-03-02 10:00"), at("2026-03-02 09:00"))]),
    lambda: add(WorkCalendar(weekly={}), at("2026-03-02 09:00"), parse_duration("1 working hour")),
    lambda: add(office(), at("2026-03-02 09:00"), parse_duration("99999 working days")),
    lambda: parse_periods("08:30-08:00"),
    lambda: parse_periods("08:30-12:00, 11:00-13:00"),
    lambda: parse_periods("morning"),
])
def test_bad_input_is_refused(bad) -> None:
    with pytest.raises(CalendarError):
        bad()


@pytest.mark.parametrize(("text", "unit"), [
    ("1 working day", Unit.WORKING_DAYS), ("2 Working Days", Unit.WORKING_DAYS),
    ("1 working hour", Unit.WORKING_HOURS), ("3 hours", Unit.HOURS), ("1 hour", Unit.HOURS),
    ("5 minute", Unit.MINUTES), ("10 minutes", Unit.MINUTES), ("1 calendar day", Unit.CALENDAR_DAYS),
    ("2 calendar days", Unit.CALENDAR_DAYS), ("4 工作时", Unit.WORKING_HOURS),
])
def test_units_singular_or_plural(text: str, unit: Unit) -> None:
    assert parse_duration(text).unit is unit


@pytest.mark.parametrize("text", ["-1 working day", "1 fortnight", "", "working day"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_other_time_zone_and_offsets() -> None:
    """Any offset is accepted; the calendar's zone decides the working hours."""
    utc_start = at("2026-03-02 09:00").astimezone(UTC)
    assert utc_start.hour == 1
    assert add(office(), utc_start, parse_duration("1 working hour")) == at("2026-03-02 10:00")
