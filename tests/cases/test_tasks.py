"""The periodic sweep: traffic lights change as time passes, reminders on the rise, the tasks
through the immediate backend, and the case_sweeper command."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from citygrid.cases import actions
from citygrid.cases.models import Case, Reminder
from citygrid.cases.tasks import refresh_overdue_levels_task, send_reminders_task, sweep, when

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STANDARD_STREET = "510104002"


@pytest.fixture
def case(people, place):
    lon, lat = place(STANDARD_STREET)
    return actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                               category_code="06002", lon=lon, lat=lat)


def test_the_sweep_changes_levels_as_time_passes(case, caplog):
    assert case.overdue_level == "green" and case.step_warn_at < case.step_deadline
    result = sweep(case.step_started_at + timedelta(seconds=1))
    assert (result.changed, result.reminders) == (0, [])

    with caplog.at_level(logging.WARNING, logger="citygrid.cases.reminders"):
        result = sweep(case.step_warn_at + timedelta(seconds=1))
    case.refresh_from_db()
    assert case.overdue_level == "yellow"
    assert [(r.number, r.level, r.holder) for r in result.reminders] == [
        (case.number, "yellow", "510104-ZH")]
    assert case.number in caplog.text and "yellow" in caplog.text

    again = sweep(case.step_warn_at + timedelta(seconds=2))  # reminded once, on the rise
    assert (again.changed, again.reminders) == (0, [])

    result = sweep(case.step_deadline + timedelta(seconds=1))
    case.refresh_from_db()
    assert case.overdue_level == "red"
    assert result.as_dict() == {"changed": 1, "reminded": 1, "yellow": 0, "red": 1}


def test_a_case_that_jumps_straight_to_red_gets_one_red_reminder(case):
    result = sweep(case.step_deadline + timedelta(hours=1))
    assert [r.level for r in result.reminders] == ["red"]


def test_a_rise_is_recorded_with_the_level_and_survives_a_failed_delivery(case):
    def broken(row):
        raise ConnectionError("SMS gateway down")

    later = case.step_deadline + timedelta(minutes=5)
    actions.refresh_overdue_levels(later)  # the level changes and the rise is recorded at once
    assert Case.objects.get(pk=case.pk).overdue_level == "red"
    assert list(Reminder.objects.values_list("case_id", "level", "delivered_at")) == [
        (case.pk, "red", None)]
    with pytest.raises(ConnectionError):
        actions.deliver_reminders(broken)
    assert Reminder.objects.get().delivered_at is None  # not lost: still to deliver
    actions.refresh_overdue_levels(later + timedelta(minutes=1))  # a repeated sweep
    assert Reminder.objects.count() == 1  # not recorded twice
    result = sweep(later + timedelta(minutes=2))
    assert [(r.number, r.level) for r in result.reminders] == [(case.number, "red")]
    assert Reminder.objects.get().delivered_at is not None
    assert sweep(later + timedelta(minutes=3)).reminders == []


def test_a_new_step_can_be_reminded_again(case, people):
    sweep(case.step_deadline + timedelta(minutes=1))
    case = actions.file_case(people["intake_operator_jinjiang"], case.pk)
    result = sweep(case.step_deadline + timedelta(minutes=1))
    assert [r.level for r in result.reminders] == ["red"]
    assert Reminder.objects.filter(case=case).count() == 2


def test_reminders_in_the_admin_are_scoped(case, people, client):
    sweep(case.step_deadline + timedelta(minutes=1))
    for name, seen in (("administrator_city", True),):
        user = people[name]
        user.is_staff = True
        user.save()
        client.force_login(user)
        page = client.get("/admin/cases/reminder/")
        assert page.status_code == 200 and (case.number in page.content.decode()) is seen


def test_final_cases_get_no_reminders(case, people):
    actions.reject_case(people["intake_operator_jinjiang"], case.pk, reason="不属实")
    result = sweep(case.step_deadline + timedelta(days=30))
    assert result.reminders == []
    assert Case.objects.get(pk=case.pk).overdue_level == "none"


@override_settings(TASKS=IMMEDIATE)
def test_the_tasks_run_through_the_backend(case):
    at = (case.step_warn_at + timedelta(seconds=1)).isoformat()
    result = refresh_overdue_levels_task.enqueue(now=at)
    assert result.status == "SUCCESSFUL" and result.return_value == 1
    assert Case.objects.get(pk=case.pk).overdue_level == "yellow"

    later = (case.step_deadline + timedelta(seconds=1)).isoformat()
    result = send_reminders_task.enqueue(now=later)
    assert result.status == "SUCCESSFUL"
    # the yellow rise the plain refresh recorded is delivered now, with the red one
    assert result.return_value == {"changed": 1, "reminded": 2, "yellow": 1, "red": 1}


def test_when_reads_iso_times_and_refuses_others():
    assert when("2026-11-27T10:00:00+08:00").utcoffset() == timedelta(hours=8)
    assert when("2026-11-27T10:00:00").tzinfo is not None
    with pytest.raises(ValueError):
        when("yesterday")


def test_sweeper_once(case):
    out = io.StringIO()
    at = (case.step_deadline + timedelta(minutes=1)).isoformat()
    call_command("case_sweeper", "--once", "--now", at, stdout=out)
    assert "1 levels changed, 1 reminders (0 yellow, 1 red)" in out.getvalue()
    assert "collaboration: 0 cases sent to the platform" in out.getvalue()
    assert Case.objects.get(pk=case.pk).overdue_level == "red"


@override_settings(TASKS=IMMEDIATE)
def test_sweeper_loop_enqueues_and_stops(case, caplog):
    out = io.StringIO()
    with caplog.at_level(logging.INFO, logger="citygrid.cases.sweeper"):
        call_command("case_sweeper", "--interval", "0.01", "--count", "2", stdout=out)
    assert "stopped after 2 sweeps" in out.getvalue()
    enqueued = [r.getMessage() for r in caplog.records if "enqueued" in r.getMessage()]
    from citygrid.cases.tasks import PERIODIC_TASKS

    assert len(enqueued) == 2 * len(PERIODIC_TASKS)  # every periodic task, twice
    assert sum("send_reminders_task" in m for m in enqueued) == 2


@override_settings(TASKS=IMMEDIATE)
def test_the_collaboration_sweep_task_sends_cases_returned_twice(case, people):
    from citygrid.cases.tasks import collaboration_sweep_task

    actions.file_case(people["intake_operator_jinjiang"], case.pk)
    for _ in range(2):
        actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-SZ")
        actions.return_case(people["handler_jinjiang_sz"], case.pk, reason="不属市政")
    assert Case.objects.get(pk=case.pk).needs_collaboration
    result = collaboration_sweep_task.enqueue()
    assert result.status == "SUCCESSFUL" and result.return_value == 1
    assert Case.objects.get(pk=case.pk).state == "in_collaboration"


@pytest.mark.parametrize("args", [["--interval", "0"], ["--interval", "soon"],
                                  ["--count", "-1"], ["--now", "2026-01-01T00:00:00"],
                                  ["--once", "--now", "yesterday"]])
def test_sweeper_bad_arguments_exit_2(db, args):
    with pytest.raises(CommandError) as info:
        call_command("case_sweeper", *args)
    assert info.value.returncode == 2


def test_housekeeping_requests_last_month_once_and_rolls_up_duty(demo_small, settings):
    """The sweeper enqueues housekeeping every interval: the month's run is requested once."""
    from citygrid.assess.models import AssessmentRun
    from citygrid.cases.tasks import housekeeping_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    first = housekeeping_task.call(now="2026-12-01T09:00:00+08:00")
    again = housekeeping_task.call(now="2026-12-01T09:01:00+08:00")
    assert first["assessment_runs"] == 1 and again["assessment_runs"] == 0
    runs = AssessmentRun.objects.filter(period_kind="month", scope__isnull=True)
    assert [(r.period_start.isoformat(), r.period_end.isoformat()) for r in runs] == [
        ("2026-11-01", "2026-11-30")]
    assert first["duty_units"] >= 0
    assert first["map_cells"] >= 0 and again["map_cells"] == 0  # counted once a day
