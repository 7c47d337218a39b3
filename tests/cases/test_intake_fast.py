"""Intake in one pass (issue 4 performance): the case, its events and copies are written once,
with the deadlines of the final state; cached calendars, limits and rules follow every change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citygrid.calendars.domain.durations import Duration, Unit
from citygrid.calendars.models import DateOverride
from citygrid.calendars.services import compute_deadline
from citygrid.cases import actions
from citygrid.cases.history import check_case_chain
from citygrid.cases.models import Case, CaseCopy, CaseEvent
from citygrid.catalog.models import StepTimeLimit
from citygrid.org.models import Department, ResponsibilityRule

from .test_flows import FLAT_COMMUNITY, report

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = datetime(2026, 9, 29, 10, 0, tzinfo=CST)

    c = Clock()
    monkeypatch.setattr(actions, "now_", lambda: c.now)
    return c


def test_emergency_intake_writes_case_events_and_copies_once(people, place, clock):
    with CaptureQueriesContext(connection) as queries:
        case = report(people, place, code="0100201", description="井盖缺失")
    assert (case.process, case.state, case.version) == ("manhole_cover_emergency", "dispatched", 3)
    writes = [q["sql"].split()[0] + " " + q["sql"].split()[2] for q in queries.captured_queries
              if q["sql"].split()[0] in ("INSERT", "UPDATE")]
    assert writes.count('INSERT "cases_case"') == 1
    assert not [w for w in writes if w.startswith("UPDATE") and "cases_" in w]
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert [(e.seq, e.operation, e.to_state) for e in events] == [
        (1, "report", "to_file"), (2, "file", "to_dispatch"), (3, "dispatch", "dispatched")]
    assert check_case_chain(Case.objects.get(pk=case.pk)) is None
    stored = set(CaseCopy.objects.filter(case=case).values_list(
        "department__code", "kind", "event__operation"))
    assert {("510104-ZH", "alert", "dispatch"), ("CITY-SW", "copy", "dispatch")} <= stored
    assert {s[2] for s in stored} == {"dispatch"}
    # the copies the answer shows are those stored
    assert {(c.department.code, c.kind) for c in case.copies.all()} == {s[:2] for s in stored}
    fresh = Case.objects.get(pk=case.pk)
    for field in ("step", "step_limit", "step_deadline", "step_warn_at", "overall_limit",
                  "overall_deadline", "overall_warn_at", "overdue_level", "history_head",
                  "holder_department_id", "deadline_provisional"):
        assert getattr(fresh, field) == getattr(case, field), field
    assert fresh.overall_deadline is not None and fresh.step_deadline is not None


def test_flat_intake_deadlines_are_those_of_the_final_state(people, place, clock):
    case = report(people, place, area=FLAT_COMMUNITY, code="06007")
    assert (case.state, case.step) == ("handling", "handle")
    calendar = case.holder_department.calendar
    limit = Duration(Decimal(2), Unit.WORKING_DAYS)
    assert case.overall_limit == "2 working days"
    assert case.overall_deadline == compute_deadline(calendar, clock.now, limit).at


def test_calendar_changes_reach_the_next_case(people, place, clock):
    first = report(people, place, area=FLAT_COMMUNITY, code="06007")
    calendar = first.holder_department.calendar
    limit = Duration(Decimal(2), Unit.WORKING_DAYS)
    DateOverride.objects.create(date=date(2026, 9, 30), kind="holiday", note="for the test")
    second = report(people, place, area=FLAT_COMMUNITY, code="06007")
    assert second.overall_deadline == compute_deadline(calendar, clock.now, limit).at
    assert second.overall_deadline > first.overall_deadline


def test_step_limit_changes_reach_the_next_case(people, place, clock):
    first = report(people, place)
    assert first.step_limit == "30 minutes"
    StepTimeLimit.objects.filter(step="file", urgency="ordinary").update(amount=45)
    assert report(people, place).step_limit == "45 minutes"


def test_rule_changes_reach_the_next_case(people, place, clock):
    first = report(people, place, area=FLAT_COMMUNITY, code="06007")
    rule_code = CaseEvent.objects.get(case=first, seq=1).inputs["rule"]
    assert first.holder_department.code == "510104001-JD" and rule_code
    other = Department.objects.get(code="510104-HW")
    ResponsibilityRule.objects.filter(code=rule_code).update(department=other)
    second = report(people, place, area=FLAT_COMMUNITY, code="06007")
    assert second.holder_department.code == "510104-HW"


def test_numbers_follow_each_other(people, place, clock):
    a, b = report(people, place), report(people, place)
    assert a.number[:-5] == b.number[:-5] and int(b.number[-5:]) == int(a.number[-5:]) + 1
