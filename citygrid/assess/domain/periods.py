"""Assessment periods: day, week, month, quarter, year or custom; the previous period (M-23)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """Local dates `start` … `end` inclusive."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == PeriodKind.YEAR:
            return f"{self.start:%Y}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == PeriodKind.DAY:
            return f"{self.start:%Y-%m-%d}"
        return f"{self.start:%Y-%m-%d}~{self.end:%Y-%m-%d}"


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def period_of(kind: str, day: date, end: date | None = None) -> Period:
    """The period of `kind` containing `day` (custom: `day` … `end`)."""
    try:
        k = PeriodKind(kind)
    except ValueError:
        raise PeriodError(f"unknown period kind {kind!r}; expected one of "
                          f"{[p.value for p in PeriodKind]}") from None
    if k == PeriodKind.DAY:
        return Period(k, day, day)
    if k == PeriodKind.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(k, start, start + timedelta(days=6))
    if k == PeriodKind.MONTH:
        return Period(k, day.replace(day=1), _month_end(day.year, day.month))
    if k == PeriodKind.QUARTER:
        first = (day.month - 1) // 3 * 3 + 1
        return Period(k, date(day.year, first, 1), _month_end(day.year, first + 2))
    if k == PeriodKind.YEAR:
        return Period(k, date(day.year, 1, 1), date(day.year, 12, 31))
    if end is None:
        raise PeriodError("a custom period needs an end date")
    if end < day:
        raise PeriodError("a period ends on or after its start")
    if (end - day).days > 3660:
        raise PeriodError("a custom period is at most ten years")
    return Period(k, day, end)


def previous(period: Period) -> Period:
    """The period of the same kind just before (custom: the same number of days before)."""
    if period.kind == PeriodKind.CUSTOM:
        return Period(period.kind, period.start - timedelta(days=period.days),
                      period.start - timedelta(days=1))
    return period_of(period.kind, period.start - timedelta(days=1))
