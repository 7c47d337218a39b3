"""Pure arithmetic of the units' duty (M-21): presence spans merged into online intervals,
clipped to a day, and the shares of invitations answered each way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]


def merge(spans: Iterable[Interval], gap: timedelta = timedelta(0)) -> list[Interval]:
    """The union of `spans`, sorted; spans closer than `gap` join. Empty spans vanish."""
    ordered = sorted((a, b) for a, b in spans if b > a)
    merged: list[Interval] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1] + gap:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(spans: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of `spans` inside [start, end)."""
    parts = [(max(a, start), min(b, end)) for a, b in spans]
    return [(a, b) for a, b in parts if b > a]


def total(spans: Iterable[Interval]) -> timedelta:
    return sum((b - a for a, b in spans), timedelta(0))


def share(part: int | float, whole: int | float) -> float | None:
    """part / whole rounded to 4 places; None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return round(part / whole, 4)


@dataclass(frozen=True)
class AnswerCounts:
    invited: int
    accepted: int
    declined: int
    unanswered: int
    late: int  # answered after the due time, or unanswered past it

    @property
    def answered(self) -> int:
        return self.accepted + self.declined


def count_answers(answers: Iterable[tuple[str, datetime | None, datetime]],
                  now: datetime) -> AnswerCounts:
    """Counts from (answer, answered_at, due_at) rows; answer is accept, decline or ''."""
    invited = accepted = declined = unanswered = late = 0
    for answer, answered_at, due_at in answers:
        invited += 1
        if answer == "accept":
            accepted += 1
        elif answer == "decline":
            declined += 1
        else:
            unanswered += 1
        if (answered_at is not None and answered_at > due_at) or (answered_at is None and now > due_at):
            late += 1
    return AnswerCounts(invited, accepted, declined, unanswered, late)
