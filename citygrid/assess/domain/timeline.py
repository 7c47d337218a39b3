"""Deadline arithmetic at bulk speed, for the simulator's bulk path (millions of cases).

`calendars.domain.workcal` computes one deadline in tens of microseconds by walking the
calendar day by day. `Timeline` lays one calendar's working periods over a span of dates once
(UTC microseconds, sorted, with running totals) and answers `add` and `elapsed` by binary
search in about a microsecond. `deadline` is the case engine's deadline and warning instant
(`cases.actions._deadline`: limit plus extensions, clock stopped in pauses, warning at 80 % of
the time counted). Results equal workcal's; tests/assess/test_bulk.py compares them on
thousands of random starts.

Instants are integers: microseconds since 1970-01-01 UTC.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from itertools import accumulate

from citygrid.calendars.domain.durations import Duration, Unit
from citygrid.calendars.domain.workcal import WorkCalendar

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Pause = tuple[int, int]
_SECONDS = {Unit.MINUTES: 60, Unit.HOURS: 3600, Unit.WORKING_HOURS: 3600, Unit.CALENDAR_DAYS: 86400}


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class Timeline:
    """The working periods of `cal` from `first` to `last` (local dates)."""

    def __init__(self, cal: WorkCalendar, first: date, last: date) -> None:
        self.cal = cal
        starts: list[int] = []
        ends: list[int] = []
        day = first
        while day <= last:
            for period in cal.day(day).periods:
                starts.append(micros(datetime.combine(day, time(0), cal.tz)) + period.start_seconds * US)
                ends.append(micros(datetime.combine(day, time(0), cal.tz)) + period.end_seconds * US)
            day += timedelta(days=1)
        self.starts, self.ends = starts, ends
        self.before = list(accumulate((b - a for a, b in zip(starts, ends, strict=True)), initial=0))
        self.day_seconds = int(cal.working_day_length.total_seconds())

    def total(self, t: int) -> int:
        """Working microseconds from the start of the span to `t`."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def reaching(self, amount: int) -> int:
        """The earliest instant at which `amount` (> 0) working microseconds have passed."""
        j = bisect.bisect_left(self.before, amount, 1)
        if j >= len(self.before):
            raise ValueError("the deadline lies beyond the timeline's span")
        return self.starts[j - 1] + amount - self.before[j - 1]

    def length(self, duration: Duration) -> int:
        """workcal.to_timedelta, in microseconds."""
        seconds = self.day_seconds if duration.unit is Unit.WORKING_DAYS else _SECONDS[duration.unit]
        return int((duration.amount * Decimal(seconds) * US).to_integral_value(ROUND_HALF_EVEN))

    def add(self, start: int, duration: Duration, pauses: Sequence[Pause] = ()) -> int:
        """workcal.add: `duration` after `start`, the clock stopped in `pauses` (sorted,
        not overlapping)."""
        return self.shift(start, self.part(duration), pauses)

    def part(self, duration: Duration) -> Part:
        return Part(self.length(duration), duration.unit.counts_working_time,
                    duration.unit is Unit.CALENDAR_DAYS)

    def shift(self, start: int, part: Part, pauses: Sequence[Pause] = ()) -> int:
        amount, working = part.amount, part.working
        if amount <= 0:
            return start
        if part.calendar_days:  # on the local wall clock
            wall = instant(start).astimezone(self.cal.tz).replace(tzinfo=None) + timedelta(microseconds=amount)
            amount = micros(wall.replace(tzinfo=self.cal.tz)) - start
        if not pauses:
            return self.reaching(self.total(start) + amount) if working else start + amount
        cursor, remaining = start, amount
        for p0, p1 in pauses:
            if p1 <= cursor:
                continue
            if p0 > cursor:
                available = self.total(p0) - self.total(cursor) if working else p0 - cursor
                if remaining <= available:
                    break
                remaining -= available
            cursor = max(cursor, p1)
        if not working:
            return cursor + remaining
        return self.reaching(self.total(cursor) + remaining)

    def elapsed(self, start: int, end: int, pauses: Sequence[Pause] = ()) -> int:
        """workcal.elapsed (start ≤ end): working microseconds between, less the pauses."""
        paused = sum(self.total(min(p1, end)) - self.total(max(p0, start))
                     for p0, p1 in pauses if p1 > start and p0 < end)
        return self.total(end) - self.total(start) - paused


def _share(value: float) -> Decimal:
    return Decimal(str(max(value, 0.0))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Part:
    """One duration on one timeline: its length, and how it counts."""

    amount: int
    working: bool
    calendar_days: bool = False


def due(line: Timeline, start: int, parts: Sequence[Part], pauses: Sequence[Pause] = ()) -> int:
    """The deadline alone (a limit and its extensions, one after the other)."""
    at = start
    for part in parts:
        at = line.shift(at, part, pauses)
    return at


def deadline(line: Timeline, start: int, durations: Sequence[Duration],
             pauses: Sequence[Pause] = ()) -> tuple[int, int]:
    """(deadline, turns yellow at) as the case engine computes them."""
    at = due(line, start, [line.part(d) for d in durations], pauses)
    if any(d.unit.counts_working_time for d in durations):
        total = line.elapsed(start, at, pauses) / US
        share = Duration(_share(total * 0.8 / 3600), Unit.WORKING_HOURS)
    else:
        paused = sum((min(b, at) - max(a, start)) / US for a, b in pauses if b > start and a < at)
        share = Duration(_share(((at - start) / US - paused) * 0.8 / 60), Unit.MINUTES)
    return at, min(line.add(start, share, pauses), at)
