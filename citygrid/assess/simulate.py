"""Case-flow simulator (issue 7, item 6): realistic histories through the real actions.

Simulated people (the org demo's inspectors, operators, dispatchers, handlers, shift leaders)
report and drive cases with a daily rhythm, handling delays, returns, reworks, postponements,
voids and overdue cases. The actions take no "now": they read `django.utils.timezone.now`
(via `citygrid.cases.actions.now_`), so the simulator patches that module attribute in its own
process only (`SimClock.running()`), and moves the clock forward between operations. Each case
is driven from its report to its last operation before the simulation ends.

Seeded (`random.Random(seed)`): the same seed on the same demo data gives the same histories.
The simulator records what it did (`Truth`): the figures the assessment must find.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from unittest import mock

from django.db import transaction
from django.utils import timezone

from citygrid.cases.demo import Demo, District, _districts
from citygrid.cases.domain.processes import ProcessName
from citygrid.cases.models import Case
from citygrid.core.errors import DomainError

# Minutes after the step started: the demo standard's step limits (clock minutes); a late step
# takes longer.
LIMITS = {"verify": 60, "file": 30, "dispatch": 30, "check": 60, "close": 30}


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    @contextmanager
    def running(self) -> Iterator[SimClock]:
        with mock.patch("django.utils.timezone.now", lambda: self.now):
            yield self


@dataclass
class Truth:
    """What was simulated, counted the way the assessment defines its figures."""

    as_of: datetime
    district: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    dispatcher: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    filer: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    department: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cases: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _script(rng: random.Random) -> list[str]:
    roll = rng.random()
    happy = ["file", "dispatch", "accept", "feedback", "check_pass", "close"]
    if roll < 0.05:
        return ["file", "dispatch", "accept", "feedback", "check_fail", "feedback", "check_pass", "close"]
    if roll < 0.09:
        return ["file", "dispatch", "return", "dispatch", "accept", "feedback", "check_pass", "close"]
    if roll < 0.12:
        return ["file", "dispatch", "accept", "request_postponement", "approve_postponement",
                "feedback", "check_pass", "close"]
    if roll < 0.14:
        return ["file", "void"]
    if roll < 0.15:
        return ["file", "dispatch", "accept", "suspend", "resume", "feedback", "check_pass", "close"]
    return happy


def _delay(rng: random.Random, op: str) -> timedelta:
    late = rng.random() < 0.1
    if op in LIMITS:
        limit = LIMITS[op]
        minutes = rng.randint(limit + 5, limit * 4) if late else rng.randint(1, limit - 1)
        return timedelta(minutes=minutes)
    if op == "feedback":
        return timedelta(days=rng.randint(6, 14)) if late else timedelta(minutes=rng.randint(60, 600))
    if op == "accept":
        return timedelta(minutes=rng.randint(5, 90))
    return timedelta(minutes=rng.randint(5, 120))


def _report_time(rng: random.Random, day: date) -> datetime:
    # Daily rhythm: supervision hours 08:00-21:00, more in the morning.
    hour = min(20, 8 + int(rng.triangular(0, 13, 2)))
    at = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)))
    return timezone.make_aware(at, timezone.get_current_timezone())


def simulate(*, days: int = 30, seed: int = 1, per_day: int = 10, start: date | None = None,
             progress: Any = None) -> Truth:
    """Simulates `days` days ending yesterday (or from `start`): `per_day` reports per district
    and day on average. Returns the truth; the simulation ends (as_of) after the last day."""
    rng = random.Random(seed)
    districts = _districts()
    if not districts:
        raise LookupError("load the demo city and organisation first (citygrid demo_setup)")
    first = start or (timezone.localdate() - timedelta(days=days))
    end = timezone.make_aware(datetime.combine(first + timedelta(days=days), time.min),
                              timezone.get_current_timezone())
    truth = Truth(as_of=end)
    clock = SimClock(end)
    with clock.running():
        demo = Demo(rng)
        for offset in range(days):
            day = first + timedelta(days=offset)
            for d in districts:
                for n in range(max(0, int(rng.gauss(per_day, per_day / 4)))):
                    _one(demo, d, n, _report_time(rng, day), end, clock, rng, truth)
            if progress:
                progress(offset + 1, days)
    return truth


def _one(demo: Demo, d: District, n: int, at: datetime, end: datetime, clock: SimClock,
         rng: random.Random, truth: Truth) -> None:
    clock.now = at
    script = _script(rng)
    public = rng.random() < 0.1
    process = ProcessName.PUBLIC_REPORT if public else ProcessName.STANDARD
    if public:
        script = ["verify", *script]
    try:
        with transaction.atomic():
            case = demo.report(process, d, rng.randint(0, 999) * 2 + (n % 2))
            for op in script:
                clock.now += _delay(rng, op)
                if clock.now >= end:
                    break
                case = demo.step(case, op, d, None)
                truth.operations[op] += 1
    except (DomainError, LookupError) as exc:
        truth.failures.append(f"{d.code} {process} {script}: {exc}")
        return
    truth.cases += 1
    _count(case, truth)


def _count(case: Case, truth: Truth) -> None:
    """Counts the case the way the assessment defines its figures (docs/assessment.md)."""
    events = list(case.events.order_by("seq"))
    at = {e.operation: e.at for e in events}
    first = {}
    for e in events:
        first.setdefault(e.operation, e)
    filed = "file" in at
    valid = filed and case.state not in ("voided", "merged")
    closed = case.state == "closed"
    deadline = case.overall_deadline
    region = truth.district[case.district_id]
    if filed:
        region["filed"] += 1
    if valid and (closed or (deadline is not None and deadline <= truth.as_of)):
        region["due_to_close"] += 1
        if closed:
            region["closed"] += 1
            if deadline is None or case.closed_at <= deadline:
                region["closed_on_time"] += 1
    if filed:
        filer = truth.filer[first["file"].actor_id]
        filer["filings"] += 1
        start = at.get("verify", case.created_at)
        if first["file"].at <= start + timedelta(minutes=LIMITS["file"]):
            filer["filed_on_time"] += 1
    if "dispatch" in first:
        dispatch = first["dispatch"]
        who = [e for e in events if e.operation == "dispatch"][-1].actor_id
        disp = truth.dispatcher[who]
        disp["dispatches_due"] += 1
        if dispatch.at <= first["file"].at + timedelta(minutes=LIMITS["dispatch"]):
            disp["dispatched_on_time"] += 1
        feedback = at.get("feedback")
        feedbacks = [e.at for e in events if e.operation == "feedback"]
        feedback = feedbacks[-1] if feedbacks else None
        if valid and (feedback is not None or (deadline is not None and deadline <= truth.as_of)):
            dept = truth.department[case.holder_department_id]
            dept["due_to_handle"] += 1
            if feedback is not None and (deadline is None or feedback <= deadline):
                dept["handled_on_time"] += 1
