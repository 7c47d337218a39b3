"""Durations with a unit, as the standards write time limits ("2 working hours")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class Unit(StrEnum):
    MINUTES = "minutes"  # clock minutes
    HOURS = "hours"  # clock hours
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"

    @property
    def counts_working_time(self) -> bool:
        return self in (Unit.WORKING_HOURS, Unit.WORKING_DAYS)


# Accepted spellings, singular or plural, English or Chinese, lower-cased.
_UNIT_WORDS: dict[str, Unit] = {
    "minute": Unit.MINUTES, "minutes": Unit.MINUTES, "min": Unit.MINUTES, "mins": Unit.MINUTES,
    "分钟": Unit.MINUTES,
    "hour": Unit.HOURS, "hours": Unit.HOURS, "h": Unit.HOURS, "clock hour": Unit.HOURS,
    "clock hours": Unit.HOURS, "小时": Unit.HOURS, "自然时": Unit.HOURS,
    "working hour": Unit.WORKING_HOURS, "working hours": Unit.WORKING_HOURS,
    "工作时": Unit.WORKING_HOURS, "工作小时": Unit.WORKING_HOURS,
    "working day": Unit.WORKING_DAYS, "working days": Unit.WORKING_DAYS, "工作日": Unit.WORKING_DAYS,
    "calendar day": Unit.CALENDAR_DAYS, "calendar days": Unit.CALENDAR_DAYS, "day": Unit.CALENDAR_DAYS,
    "days": Unit.CALENDAR_DAYS, "自然日": Unit.CALENDAR_DAYS, "天": Unit.CALENDAR_DAYS,
}

_DURATION_RE = re.compile(r"^\s*(?P<sign>[-+−]\s*)?(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>.+?)\s*$")


class DurationError(ValueError):
    """A duration that cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class Duration:
    amount: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise DurationError(f"a duration cannot be negative: {self.amount}")

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.unit.value.replace('_', ' ')}"


def parse_unit(text: str) -> Unit:
    key = " ".join(text.strip().lower().replace("_", " ").split())
    try:
        return _UNIT_WORDS[key]
    except KeyError:
        accepted = "minutes, hours, working hours, working days, calendar days"
        raise DurationError(f"unknown unit {text!r}; accepted: {accepted}") from None


def parse_duration(text: str) -> Duration:
    """Read "1 working day", "30 minutes", "2.5 working hours", "4 工作时"."""
    match = _DURATION_RE.match(text)
    if not match:
        raise DurationError(f"cannot read {text!r} as a duration; write e.g. '1 working day'")
    if match["sign"] and match["sign"].strip() in "-−":
        raise DurationError(f"a duration cannot be negative: {text.strip()!r}")
    try:
        amount = Decimal(match["amount"])
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise DurationError(f"bad amount in {text!r}") from None
    return Duration(amount, parse_unit(match["unit"]))
