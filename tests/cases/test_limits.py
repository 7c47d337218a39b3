"""Time limits on the right calendars, across holidays and suspensions; traffic lights."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from citygrid.calendars.domain.durations import Duration, Unit
from citygrid.calendars.services import compute_deadline, get_calendar, working_elapsed
from citygrid.cases import actions
from citygrid.cases.models import Case, CasePause

from .test_flows import report

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch):
    """Set the time the actions record: clock.set(datetime)."""

    class Clock:
        now = datetime(2026, 9, 29, 10, 0, tzinfo=CST)

        def set(self, when):
            self.now = when

    c = Clock()
    monkeypatch.setattr(actions, "now_", lambda: c.now)
    return c


def dispatched(people, place, clock, at, code="06002"):
    clock.set(at)
    case = report(people, place, code=code)
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    return actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")


def test_centre_steps_count_on_the_supervision_calendar(people, place, clock):
    clock.set(datetime(2026, 10, 1, 20, 50, tzinfo=CST))  # National Day, 10 minutes before 21:00
    case = report(people, place)
    supervision = get_calendar("supervision")
    expected = compute_deadline(supervision, clock.now, Duration(Decimal(30), Unit.MINUTES)).at
    assert case.step == "file" and case.step_deadline == expected
    assert case.step_limit == "30 minutes"


def test_handling_limit_skips_the_national_day_holidays(people, place, clock):
    start = datetime(2026, 9, 30, 16, 0, tzinfo=CST)
    case = dispatched(people, place, clock, start)
    assert case.overall_limit == "2 working days"
    expected = compute_deadline(None, start, Duration(Decimal(2), Unit.WORKING_DAYS)).at
    assert case.overall_deadline == expected
    assert case.overall_deadline.astimezone(CST).date() > date(2026, 10, 7)  # not during the holidays
    clock.set(start + timedelta(minutes=5))
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    assert case.step == "handle"
    assert case.step_deadline == compute_deadline(None, clock.now, Duration(Decimal(2), Unit.WORKING_DAYS)).at


def test_the_clock_stops_while_suspended(people, place, clock):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CST)  # a Monday
    case = dispatched(people, place, clock, start)
    clock.set(start + timedelta(minutes=10))
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    accepted_at, before = case.step_started_at, case.step_deadline
    overall_before = case.overall_deadline
    suspended_at = datetime(2026, 11, 2, 14, 0, tzinfo=CST)
    clock.set(suspended_at)
    case = actions.suspend_case(people["shift_leader_jinjiang"], case.pk, reason="待资金到位")
    assert case.state == "suspended" and case.suspended
    resumed_at = datetime(2026, 11, 9, 11, 0, tzinfo=CST)  # a week later
    clock.set(resumed_at)
    case = actions.resume_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "handling" and not case.suspended
    pause = CasePause.objects.get(case=case)
    assert (pause.start, pause.end) == (suspended_at, resumed_at)
    two_days = Duration(Decimal(2), Unit.WORKING_DAYS)
    pauses = [(suspended_at, resumed_at)]
    assert case.step_deadline == compute_deadline(None, accepted_at, two_days, pauses).at
    assert case.overall_deadline == compute_deadline(None, start, two_days, pauses).at
    assert case.step_deadline > before and case.overall_deadline > overall_before
    # the working time left after resuming is what was left when suspended
    left_then = working_elapsed(None, suspended_at, before)
    left_now = working_elapsed(None, resumed_at, case.step_deadline)
    assert left_then == left_now


def test_suspended_cases_keep_their_level(people, place, clock):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    case = dispatched(people, place, clock, start)
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    case = actions.suspend_case(people["shift_leader_jinjiang"], case.pk, reason="r")
    assert actions.refresh_overdue_levels(start + timedelta(days=60)) == 0
    assert Case.objects.get(pk=case.pk).overdue_level == "green"


def test_traffic_lights(people, place, clock):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    case = dispatched(people, place, clock, start)
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)  # 2 working days
    assert case.overdue_level == "green"
    total = working_elapsed(None, case.step_started_at, case.step_deadline)
    assert working_elapsed(None, case.step_started_at, case.step_warn_at) == pytest.approx(
        total * 0.8, abs=timedelta(seconds=1))

    def level_at(when):
        actions.refresh_overdue_levels(when)
        return Case.objects.get(pk=case.pk).overdue_level

    assert level_at(case.step_warn_at - timedelta(minutes=1)) == "green"
    assert level_at(case.step_warn_at) == "yellow"
    assert level_at(case.step_deadline) == "yellow"
    assert level_at(case.step_deadline + timedelta(seconds=1)) == "red"
    assert actions.refresh_overdue_levels(case.step_deadline + timedelta(seconds=2)) == 0
    assert actions.level_of(Case.objects.get(pk=case.pk), case.step_warn_at) == "yellow"


def test_the_handling_deadline_counts_while_with_the_department(people, place, clock):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    case = dispatched(people, place, clock, start)
    clock.set(start + timedelta(minutes=1))
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    # the step (from acceptance) is later than the handling deadline (from dispatch): red
    # comes from the overall deadline first
    actions.refresh_overdue_levels(case.overall_deadline + timedelta(seconds=30))
    assert case.step_deadline > case.overall_deadline + timedelta(seconds=30)
    assert Case.objects.get(pk=case.pk).overdue_level == "red"


def test_closed_cases_have_no_level(people, place, clock, photo):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    case = dispatched(people, place, clock, start)
    case = actions.void_case(people["shift_leader_jinjiang"], case.pk, reason="误报")
    actions.refresh_overdue_levels(start + timedelta(days=30))
    assert Case.objects.get(pk=case.pk).overdue_level == "none"


def test_postponement_adds_working_time_after_the_deadline(people, place, clock):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    case = dispatched(people, place, clock, start)
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    before = case.step_deadline
    case = actions.request_postponement(people["handler_jinjiang_hw"], case.pk, reason="r",
                                        extension="1 工作日")
    case = actions.approve_postponement(people["dispatcher_jinjiang"], case.pk)
    assert case.step_deadline == compute_deadline(None, before, Duration(Decimal(1), Unit.WORKING_DAYS)).at


def test_emergency_limits_are_minutes(people, place, clock):
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=CST))
    case = report(people, place, code="0100201")
    assert case.urgency == "emergency"
    assert case.step == "accept"
    assert case.step_deadline - case.step_started_at == timedelta(minutes=5)  # urgent accept limit
    assert case.overall_deadline - case.overall_started_at == timedelta(hours=2)
