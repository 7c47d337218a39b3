"""Events record the deadline of the step they end (counted on the working calendar), and
the assessment's on-time figures use it. Hand-computed with the small demo's step limits:
file, dispatch 30 clock minutes; accept 10 minutes; check 1 hour (urban); close 1 working
hour on the supervision calendar (08:00–21:00 every day)."""

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from citygrid.assess.facts import refresh_facts
from citygrid.assess.models import CaseFact
from citygrid.assess.simulate import SimClock
from citygrid.cases.demo import Demo, _districts
from citygrid.cases.history import check_case_chain

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


def _drive(process: str, start: datetime, steps: list[tuple[str, datetime]]):
    district = _districts()[0]
    clock = SimClock(start)
    with clock.running():
        demo = Demo(random.Random(1))
        case = demo.report(process, district, 1)
        for op, when in steps:
            clock.now = when
            case = demo.step(case, op, district, None)
    return case


def test_events_record_the_running_step_deadline(demo_small):
    case = _drive("standard", at(2, 9, 0), [
        ("file", at(2, 9, 20)), ("dispatch", at(2, 10, 0)), ("accept", at(2, 10, 5)),
        ("feedback", at(2, 20, 0)), ("check_pass", at(2, 20, 40)), ("close", at(3, 8, 30))])
    due = dict(case.events.values_list("operation", "step_due_at"))
    assert due["report"] is None  # no step ran before the report
    assert due["file"] == at(2, 9, 30)
    assert due["dispatch"] == at(2, 9, 50)  # 30 minutes after filing: dispatched 10 late
    assert due["accept"] == at(2, 10, 10)
    assert due["check_pass"] == at(2, 21, 0)
    # 1 working hour from 20:40: 20 minutes on Monday, 40 from 08:00 on Tuesday.
    assert due["close"] == at(3, 8, 40)
    assert check_case_chain(case) is None  # the hash chain does not cover the deadline

    refresh_facts(as_of=at(4, 0, 0))
    fact = CaseFact.objects.get(case_id=case.pk)
    assert fact.filed_on_time and fact.responded_on_time and fact.checked_on_time
    assert not fact.dispatched_on_time
    # Closed at 08:30 the next morning: on time on the supervision calendar (in clock
    # minutes it would be 11 h 50 min after the check).
    assert fact.close_step_on_time


def test_late_steps_by_the_recorded_deadline(demo_small):
    case = _drive("standard", at(2, 9, 0), [
        ("file", at(2, 9, 31)), ("dispatch", at(2, 9, 40)), ("accept", at(2, 9, 51)),
        ("feedback", at(2, 11, 0)), ("check_pass", at(2, 12, 1)), ("close", at(2, 13, 2))])
    refresh_facts(as_of=at(4, 0, 0))
    fact = CaseFact.objects.get(case_id=case.pk)
    assert (fact.filed_on_time, fact.dispatched_on_time, fact.responded_on_time,
            fact.checked_on_time, fact.close_step_on_time) == (False, True, False, False, False)


def test_steps_taken_by_the_system_in_the_same_action_have_no_deadline(demo_small):
    case = _drive("flat", at(2, 9, 0), [])
    due = dict(case.events.values_list("operation", "step_due_at"))
    assert set(due) == {"report", "file", "dispatch"} and set(due.values()) == {None}
    refresh_facts(as_of=at(4, 0, 0))
    fact = CaseFact.objects.get(case_id=case.pk)
    assert fact.filed_on_time and fact.dispatched_on_time
