"""Working-calendar arithmetic: add a duration to an instant, measure working time.

Pure and typed (no Django). All instants are timezone-aware; the calendar's own time zone
decides which local date and which clock times are working time.

One meaning of a working day, used everywhere: **1 working day = the length of the calendar's
standard working day in working time** (7.5 working hours for 08:30–12:00 + 13:30–17:30), and
it is counted exactly like working hours. So Friday 16:00 + 1 working day is 16:00 on the next
working day when the days are uniform.

Rules:
- a start outside working time begins counting at the next working period;
- a deadline that falls exactly at the end of a period stays there (12:00, not 13:30);
- pauses (suspension, postponement) stop the clock for every unit;
- minutes, hours and calendar days are clock time (calendar days on the local wall clock);
  working hours and working days count only working time.

Which periods a date has, first rule that applies:
1. a per-date override of this calendar (its own periods, or closed);
2. a holiday: closed, unless the calendar works on holidays (then rule 4);
3. a make-up working day (调休): the periods of the calendar's standard working day;
4. the weekly periods of its weekday.
The standard working day is the most common non-empty weekday schedule (ties: the earliest
weekday), i.e. Monday's periods for a Mon–Fri calendar.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from citygrid.calendars.domain.durations import Duration, Unit

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_ZERO = timedelta(0)
_DAY_SECONDS = 86400
HORIZON = timedelta(days=366 * 100)  # no deadline is searched further than this

Pause = tuple[datetime, datetime]


class CalendarError(ValueError):
    """A calendar or an argument that the arithmetic cannot work with; the message says why."""

    def __init__(self, message: str, code: str = "calendar_error") -> None:
        super().__init__(message)
        self.code = code


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True, slots=True)
class Period:
    """Working time on one day, from `start` to `end`; an end of 00:00 means midnight (24:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise CalendarError("period times must not carry a time zone")
        if self.start.microsecond or self.end.microsecond:
            raise CalendarError("period times are whole seconds")
        if self.start_seconds >= self.end_seconds:
            raise CalendarError(f"a period must start before it ends: {self}")

    @property
    def start_seconds(self) -> int:
        return _seconds(self.start)

    @property
    def end_seconds(self) -> int:
        return _DAY_SECONDS if self.end == time(0) else _seconds(self.end)

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=self.end_seconds - self.start_seconds)

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}–{end}"


def parse_periods(text: str) -> tuple[Period, ...]:
    """Read "08:30-12:00, 13:30-17:30" (an empty text is a closed day)."""
    periods: list[Period] = []
    for chunk in text.replace("，", ",").split(","):
        if not chunk.strip():
            continue
        parts = chunk.replace("–", "-").split("-")
        if len(parts) != 2:
            raise CalendarError(f"cannot read {chunk.strip()!r} as a period; write e.g. 08:30-12:00")
        try:
            start, end = (time.fromisoformat(p.strip()) for p in parts)
        except ValueError:
            raise CalendarError(f"cannot read {chunk.strip()!r} as a period; write e.g. 08:30-12:00") from None
        periods.append(Period(start, end))
    return check_periods(periods)


def check_periods(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Sort the periods of one day and refuse overlaps."""
    ordered = tuple(sorted(periods, key=lambda p: p.start_seconds))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start_seconds < before.end_seconds:
            raise CalendarError(f"periods {before} and {after} overlap")
    return ordered


@dataclass(frozen=True, slots=True)
class DaySchedule:
    day: date
    periods: tuple[Period, ...]
    kind: str  # "weekday", "rest day", "holiday", "make-up working day", "override", "holiday worked"
    note: str = ""

    @property
    def length(self) -> timedelta:
        return sum((p.length for p in self.periods), _ZERO)

    def describe(self) -> str:
        text = f"{self.day.isoformat()} {self.kind}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class WorkCalendar:
    """A working calendar: weekly periods, holidays, make-up working days, per-date overrides."""

    weekly: Mapping[int, tuple[Period, ...]]  # weekday (0 = Monday) -> periods
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    overrides: Mapping[date, tuple[Period, ...]] = field(default_factory=dict)  # () = closed
    works_on_holidays: bool = False
    tz: tzinfo = DEFAULT_TZ
    name: str = ""
    notes: Mapping[date, str] = field(default_factory=dict)  # labels for explanations

    def __post_init__(self) -> None:
        for weekday in self.weekly:
            if weekday not in range(7):
                raise CalendarError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
        for periods in (*self.weekly.values(), *self.overrides.values()):
            check_periods(periods)

    @cached_property
    def _weekly_sorted(self) -> tuple[tuple[Period, ...], ...]:
        return tuple(check_periods(self.weekly.get(wd, ())) for wd in range(7))

    @cached_property
    def standard_periods(self) -> tuple[Period, ...]:
        """The periods of the standard working day (see the module docstring)."""
        schedules = self._weekly_sorted
        counts = Counter(s for s in schedules if s)
        if not counts:
            return ()
        most = max(counts.values())
        return next(s for s in schedules if s and counts[s] == most)

    @cached_property
    def working_day_length(self) -> timedelta:
        return sum((p.length for p in self.standard_periods), _ZERO)

    @cached_property
    def _week_length(self) -> timedelta:
        return sum((p.length for day in self._weekly_sorted for p in day), _ZERO)

    @cached_property
    def _special_days(self) -> list[date]:
        days = set(self.makeup_days) | set(self.overrides)
        if not self.works_on_holidays:
            days |= self.holidays
        return sorted(days)

    @cached_property
    def _last_override_day(self) -> date | None:
        worked = [d for d, periods in self.overrides.items() if periods]
        return max(worked) if worked else None

    def day(self, d: date) -> DaySchedule:
        """The periods of a local date, and why."""
        note = self.notes.get(d, "")
        if d in self.overrides:
            periods = check_periods(self.overrides[d])
            return DaySchedule(d, periods, "override" if periods else "closed (override)", note)
        if d in self.holidays:
            if not self.works_on_holidays:
                return DaySchedule(d, (), "holiday", note)
            return DaySchedule(d, self._weekly_sorted[d.weekday()], "holiday worked", note)
        if d in self.makeup_days:
            return DaySchedule(d, self.standard_periods, "make-up working day", note)
        periods = self._weekly_sorted[d.weekday()]
        return DaySchedule(d, periods, "weekday" if periods else "rest day", note)

    def _plain_week(self, monday: date) -> bool:
        i = bisect.bisect_left(self._special_days, monday)
        return i == len(self._special_days) or self._special_days[i] >= monday + _WEEK

    def _check_can_work_after(self, d: date) -> None:
        if self._week_length or self.standard_periods:
            return
        last = self._last_override_day
        if last is None or d > last:
            raise CalendarError(
                f"calendar {self.name or '(unnamed)'} has no working time after {d}", "no_working_time"
            )


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time that was counted, in the calendar's time zone."""

    start: datetime
    end: datetime
    label: str
    counted: timedelta | None = None  # time counted inside the segment; None: all of it

    @property
    def length(self) -> timedelta:
        if self.counted is not None:
            return self.counted
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    def __str__(self) -> str:
        if self.start.date() == self.end.date():
            span = f"{self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"
        else:
            span = f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"
        return f"{span}  {_hours(self.length)}  {self.label}"


@dataclass(frozen=True, slots=True)
class Explanation:
    start: datetime
    deadline: datetime
    duration: Duration
    counted: timedelta
    segments: tuple[Segment, ...]
    skipped: tuple[str, ...]  # days not worked (holidays, closed overrides), for people
    paused: timedelta

    def lines(self) -> list[str]:
        out = [f"start {self.start.isoformat()} + {self.duration}"]
        if self.duration.unit.counts_working_time:
            out.append(f"counted {_hours(self.counted)} of working time")
        out.extend(str(s) for s in self.segments)
        out.extend(f"not worked: {s}" for s in self.skipped)
        if self.paused:
            out.append(f"paused: {_hours(self.paused)}")
        out.append(f"deadline {self.deadline.isoformat()}")
        return out


def _hours(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours}h{rest // 60:02d}m"


# ---------------------------------------------------------------------------------------
# Public functions


def add(
    cal: WorkCalendar, start: datetime, duration: Duration, pauses: Sequence[Pause] = ()
) -> datetime:
    """The instant `duration` after `start` on `cal`, the clock stopped during `pauses`."""
    return _add(cal, start, duration, _merge_pauses(pauses), None)


def add_working_time(
    cal: WorkCalendar, start: datetime, amount: timedelta, pauses: Sequence[Pause] = ()
) -> datetime:
    """The instant when `amount` of working time has passed since `start`."""
    _require_aware(start)
    if amount < _ZERO:
        raise CalendarError("a duration cannot be negative")
    return _add_working(cal, _utc(start), amount, _merge_pauses(pauses), None).astimezone(cal.tz)


def elapsed(
    cal: WorkCalendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Working time between two instants, less the pauses; negative when `end` < `start`."""
    _require_aware(start)
    _require_aware(end)
    a, b = _utc(start), _utc(end)
    if b < a:
        return -elapsed(cal, end, start, pauses)
    return _elapsed(cal, a, b, _merge_pauses(pauses))


def explain(
    cal: WorkCalendar, start: datetime, duration: Duration, pauses: Sequence[Pause] = ()
) -> Explanation:
    """`add`, with the periods counted and the days skipped, for people to check."""
    merged = _merge_pauses(pauses)
    record = _Record()
    deadline = _add(cal, start, duration, merged, record)
    paused = sum(
        (min(t1, _utc(deadline)) - max(t0, _utc(start)) for t0, t1 in merged
         if t1 > _utc(start) and t0 < _utc(deadline)),
        _ZERO,
    )
    return Explanation(
        start=start.astimezone(cal.tz), deadline=deadline, duration=duration,
        counted=sum((s.length for s in record.segments), _ZERO),
        segments=tuple(record.segments), skipped=tuple(record.skipped), paused=paused,
    )


def to_timedelta(cal: WorkCalendar, duration: Duration) -> timedelta:
    """The length of a duration: clock time, or working time for the working units."""
    unit_seconds = {
        Unit.MINUTES: Decimal(60),
        Unit.HOURS: Decimal(3600),
        Unit.WORKING_HOURS: Decimal(3600),
        Unit.CALENDAR_DAYS: Decimal(_DAY_SECONDS),
        Unit.WORKING_DAYS: Decimal(int(cal.working_day_length.total_seconds())),
    }[duration.unit]
    if duration.unit is Unit.WORKING_DAYS and not unit_seconds and duration.amount:
        raise CalendarError(
            f"calendar {cal.name or '(unnamed)'} has no standard working day", "no_working_time"
        )
    micro = (duration.amount * unit_seconds * 1_000_000).to_integral_value(ROUND_HALF_EVEN)
    try:
        amount = timedelta(microseconds=int(micro))
    except OverflowError:
        amount = HORIZON * 2
    if amount > HORIZON:
        raise CalendarError(f"{duration} is too long (more than 100 years)", "duration_too_long")
    return amount


# ---------------------------------------------------------------------------------------
# Internals: everything runs in UTC so that differences are true durations.


@dataclass
class _Record:
    segments: list[Segment] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise CalendarError(
            f"{dt.isoformat()} has no time zone; give an offset such as +08:00", "naive_datetime"
        )


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def _merge_pauses(pauses: Sequence[Pause]) -> list[Pause]:
    spans: list[Pause] = []
    for t0, t1 in pauses:
        _require_aware(t0)
        _require_aware(t1)
        if t1 < t0:
            raise CalendarError(
                f"a pause must not end before it starts: {t0.isoformat()} – {t1.isoformat()}", "invalid_pause"
            )
        if t1 > t0:
            spans.append((_utc(t0), _utc(t1)))
    spans.sort()
    merged: list[Pause] = []
    for t0, t1 in spans:
        if merged and t0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], t1))
        else:
            merged.append((t0, t1))
    return merged


def _minus_pauses(a: datetime, b: datetime, pauses: list[Pause]) -> Iterator[Pause]:
    """[a, b) without the pauses, as ordered pieces."""
    i = bisect.bisect_right(pauses, (a, a))
    if i > 0 and pauses[i - 1][1] > a:
        i -= 1
    cursor = a
    while i < len(pauses) and pauses[i][0] < b:
        t0, t1 = pauses[i]
        if t0 > cursor:
            yield cursor, t0
        cursor = max(cursor, t1)
        i += 1
    if cursor < b:
        yield cursor, b


def _overlaps_pause(a: datetime, b: datetime, pauses: list[Pause]) -> bool:
    return any(t0 < b and t1 > a for t0, t1 in pauses)


def _local_midnight(cal: WorkCalendar, d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=cal.tz).astimezone(UTC)


def _day_intervals(cal: WorkCalendar, sched: DaySchedule) -> Iterator[Pause]:
    for p in sched.periods:
        start = datetime.combine(sched.day, p.start, tzinfo=cal.tz)
        end = (
            datetime.combine(sched.day + _DAY, time(0), tzinfo=cal.tz)
            if p.end == time(0) else datetime.combine(sched.day, p.end, tzinfo=cal.tz)
        )
        yield _utc(start), _utc(end)


def _label(sched: DaySchedule) -> str:
    return f"{sched.kind} ({sched.note})" if sched.note else sched.kind


def _skippable_week(cal: WorkCalendar, monday: date, pauses: list[Pause]) -> Pause | None:
    """The UTC span of a week that holds no special day and no pause, else None."""
    if monday.weekday() != 0 or not cal._plain_week(monday):
        return None
    a, b = _local_midnight(cal, monday), _local_midnight(cal, monday + _WEEK)
    if b - a != _WEEK:  # a change of UTC offset inside the week
        return None
    if _overlaps_pause(a, b, pauses):
        return None
    return a, b


def _add(
    cal: WorkCalendar, start: datetime, duration: Duration, pauses: list[Pause], record: _Record | None
) -> datetime:
    _require_aware(start)
    amount = to_timedelta(cal, duration)
    begin = _utc(start)
    if duration.unit.counts_working_time:
        return _add_working(cal, begin, amount, pauses, record).astimezone(cal.tz)
    if duration.unit is Unit.CALENDAR_DAYS:
        wall = start.astimezone(cal.tz).replace(tzinfo=None) + amount  # local wall clock
        amount = _utc(wall.replace(tzinfo=cal.tz)) - begin
    return _add_clock(cal, begin, amount, pauses, record).astimezone(cal.tz)


def _add_clock(
    cal: WorkCalendar, begin: datetime, amount: timedelta, pauses: list[Pause], record: _Record | None
) -> datetime:
    remaining = amount
    cursor = begin
    for t0, t1 in pauses:
        if t1 <= cursor:
            continue
        if t0 > cursor:
            if remaining <= t0 - cursor:
                break
            _note(record, cal, cursor, t0, "clock time")
            remaining -= t0 - cursor
        cursor = max(cursor, t1)
    _note(record, cal, cursor, cursor + remaining, "clock time")
    return cursor + remaining


def _note(
    record: _Record | None, cal: WorkCalendar, a: datetime, b: datetime, label: str,
    counted: timedelta | None = None,
) -> None:
    if record is not None and b > a:
        record.segments.append(Segment(a.astimezone(cal.tz), b.astimezone(cal.tz), label, counted))


def _add_working(
    cal: WorkCalendar, begin: datetime, amount: timedelta, pauses: list[Pause], record: _Record | None
) -> datetime:
    if amount <= _ZERO:
        return begin
    remaining = amount
    d = begin.astimezone(cal.tz).date()
    stop = d + HORIZON
    first = True
    while True:
        cal._check_can_work_after(d)
        if d > stop:
            raise CalendarError("no deadline within 100 years on this calendar", "duration_too_long")
        week = None if first else _skippable_week(cal, d, pauses)
        if week is not None and remaining > cal._week_length:
            remaining -= cal._week_length
            _note(record, cal, week[0], week[1], "whole week of weekly periods", cal._week_length)
            d += _WEEK
            continue
        first = False
        sched = cal.day(d)
        if record is not None and not sched.periods and sched.kind != "rest day":
            record.skipped.append(sched.describe())
        for a, b in _day_intervals(cal, sched):
            for x, y in _minus_pauses(max(a, begin), b, pauses):
                if remaining <= y - x:
                    _note(record, cal, x, x + remaining, _label(sched))
                    return x + remaining
                _note(record, cal, x, y, _label(sched))
                remaining -= y - x
        d += _DAY


def _elapsed(cal: WorkCalendar, begin: datetime, end: datetime, pauses: list[Pause]) -> timedelta:
    total = _ZERO
    d = begin.astimezone(cal.tz).date()
    last = end.astimezone(cal.tz).date()
    first = True
    while d <= last:
        week = None if first else _skippable_week(cal, d, pauses)
        if week is not None and week[1] <= end:
            total += cal._week_length
            d += _WEEK
            continue
        first = False
        for a, b in _day_intervals(cal, cal.day(d)):
            for x, y in _minus_pauses(max(a, begin), min(b, end), pauses):
                total += y - x
        d += _DAY
    return total
