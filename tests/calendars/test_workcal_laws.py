"""The laws of the calendar arithmetic, for random calendars, instants and durations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from citygrid.calendars.domain.durations import Duration, Unit
from citygrid.calendars.domain.workcal import (
    Period,
    WorkCalendar,
    add,
    add_working_time,
    elapsed,
)

from .helpers import TZ, office, reference_elapsed, supervision

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def day_periods(draw: st.DrawFn) -> tuple[Period, ...]:
    """0–3 non-overlapping periods on a 15-minute grid, possibly ending at midnight."""
    marks = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1]
    periods = []
    for a, b in zip(marks[::2], marks[1::2], strict=True):
        start = time(a // 4, a % 4 * 15)
        end = time(0) if b == 96 else time(b // 4, b % 4 * 15)
        if a < 96:
            periods.append(Period(start, end))
    return tuple(periods)


dates_2025_2027 = st.dates(date(2025, 1, 1), date(2027, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    kind = draw(st.sampled_from(["office", "supervision", "random"]))
    if kind == "office":
        return office()
    if kind == "supervision":
        return supervision()
    weekly = {wd: draw(day_periods()) for wd in range(7)}
    assume(any(weekly.values()))
    return WorkCalendar(
        weekly=weekly,
        holidays=frozenset(draw(st.sets(dates_2025_2027, max_size=20))),
        makeup_days=frozenset(draw(st.sets(dates_2025_2027, max_size=5))),
        overrides=draw(st.dictionaries(dates_2025_2027, day_periods(), max_size=5)),
        works_on_holidays=draw(st.booleans()),
    )


instants = st.datetimes(datetime(2025, 6, 1), datetime(2026, 12, 31)).map(
    lambda dt: dt.replace(second=0, microsecond=0, tzinfo=TZ)
)
working_amounts = st.integers(0, 60 * 24 * 40).map(lambda m: timedelta(minutes=m))


@SETTINGS
@given(calendars(), instants, working_amounts)
def test_adding_then_measuring_gives_back_the_duration(cal: WorkCalendar, start: datetime, d: timedelta) -> None:
    deadline = add_working_time(cal, start, d)
    assert deadline >= start
    assert elapsed(cal, start, deadline) == d
    assert reference_elapsed(cal, start, deadline) == d


@SETTINGS
@given(calendars(), instants, working_amounts, working_amounts)
def test_add_is_monotonic_in_the_duration(cal: WorkCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    small, large = sorted((a, b))
    assert add_working_time(cal, start, small) <= add_working_time(cal, start, large)


@SETTINGS
@given(calendars(), instants, instants, working_amounts)
def test_add_is_monotonic_in_the_start(cal: WorkCalendar, s1: datetime, s2: datetime, d: timedelta) -> None:
    early, late = sorted((s1, s2))
    assert add_working_time(cal, early, d) <= add_working_time(cal, late, d)


@SETTINGS
@given(calendars(), instants, working_amounts, working_amounts)
def test_add_composes(cal: WorkCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    assert add_working_time(cal, start, a + b) == add_working_time(cal, add_working_time(cal, start, a), b)


@SETTINGS
@given(calendars(), instants, st.integers(0, 30), st.integers(0, 30),
       st.sampled_from([Unit.WORKING_HOURS, Unit.WORKING_DAYS]))
def test_add_composes_for_working_units(
    cal: WorkCalendar, start: datetime, a: int, b: int, unit: Unit
) -> None:
    def dur(n: int) -> Duration:
        return Duration(Decimal(n), unit)

    assert add(cal, start, dur(a + b)) == add(cal, add(cal, start, dur(a)), dur(b))


@SETTINGS
@given(calendars(), instants, working_amounts, st.floats(0, 1, exclude_max=True),
       st.integers(0, 60 * 24 * 20))
def test_a_pause_shifts_the_deadline_by_its_working_length(
    cal: WorkCalendar, start: datetime, d: timedelta, where: float, minutes: int
) -> None:
    deadline = add_working_time(cal, start, d)
    assume(deadline > start)
    span_us = (deadline - start) // timedelta(microseconds=1)
    t0 = start + timedelta(microseconds=int(span_us * where))  # start <= t0 < deadline
    assume(t0 < deadline)
    t1 = t0 + timedelta(minutes=minutes)
    paused = add_working_time(cal, start, d, [(t0, t1)])
    assert paused == add_working_time(cal, start, d + elapsed(cal, t0, t1))
    assert elapsed(cal, start, paused, [(t0, t1)]) == d


@SETTINGS
@given(calendars(), instants, instants, instants)
def test_elapsed_is_additive(cal: WorkCalendar, a: datetime, b: datetime, c: datetime) -> None:
    assert elapsed(cal, a, c) == elapsed(cal, a, b) + elapsed(cal, b, c)


@SETTINGS
@given(calendars(), instants, instants, st.lists(st.tuples(instants, st.integers(0, 60 * 24 * 10)), max_size=3))
def test_elapsed_with_pauses_is_additive_and_never_more(
    cal: WorkCalendar, a: datetime, c: datetime, raw: list[tuple[datetime, int]]
) -> None:
    pauses = [(t, t + timedelta(minutes=m)) for t, m in raw]
    a, c = sorted((a, c))
    b = a + (c - a) / 2
    whole = elapsed(cal, a, c, pauses)
    assert whole == elapsed(cal, a, b, pauses) + elapsed(cal, b, c, pauses)
    assert timedelta(0) <= whole <= elapsed(cal, a, c)


@SETTINGS
@given(calendars(), instants, st.integers(0, 10 * 24 * 60), st.sampled_from([Unit.MINUTES, Unit.HOURS]))
def test_clock_units_ignore_the_calendar(cal: WorkCalendar, start: datetime, n: int, unit: Unit) -> None:
    step = timedelta(minutes=1) if unit is Unit.MINUTES else timedelta(hours=1)
    assert add(cal, start, Duration(Decimal(n), unit)) == start + n * step
