"""Calendars from the database: defaults, overrides, cache, provisional years, validation."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from citygrid.calendars import actions
from citygrid.calendars.checks import check_official_years
from citygrid.calendars.domain.durations import parse_duration
from citygrid.calendars.models import (
    ConfirmedYear,
    DateOverride,
    OverridePeriod,
    WeeklyPeriod,
    WorkingCalendar,
)
from citygrid.calendars.services import (
    compute_deadline,
    default_calendar,
    get_calendar,
    working_elapsed,
    years_needing_attention,
)
from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed

from .helpers import at

pytestmark = pytest.mark.django_db


def deadline(limit: str, start: str, calendar: WorkingCalendar | None = None) -> str:
    return compute_deadline(calendar, at(start), parse_duration(limit)).at.strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser("calendar-admin", "a@example.org", "pw-123456-x")


def test_default_calendar_is_the_office_calendar_created_on_demand() -> None:
    assert not WorkingCalendar.objects.exists()
    cal = default_calendar()
    assert (cal.name, cal.is_default, cal.works_on_holidays) == ("office", True, False)
    assert cal.periods.count() == 10
    assert default_calendar().pk == cal.pk
    assert WorkingCalendar.objects.count() == 1
    assert deadline("1 working day", "2026-02-13 16:00") == "2026-02-14 16:00"


def test_get_calendar_unknown_name() -> None:
    with pytest.raises(NotFound) as exc:
        get_calendar("nope")
    assert exc.value.code == "calendar_not_found"


def test_supervision_calendar_works_on_holidays() -> None:
    sup = actions.ensure_supervision_calendar()
    assert deadline("2 working hours", "2026-02-16 20:00", sup) == "2026-02-17 09:00"
    assert deadline("1 working day", "2026-10-01 08:00", sup) == "2026-10-01 21:00"


def test_2027_is_provisional_until_confirmed(admin_user) -> None:
    result = compute_deadline(None, at("2027-02-04 16:00"), parse_duration("2 working days"))
    assert result.provisional and result.provisional_years == (2027,)
    assert any(line.startswith("PROVISIONAL") for line in result.explanation)
    crossing = compute_deadline(None, at("2026-12-31 16:00"), parse_duration("2 working days"))
    assert crossing.provisional_years == (2027,)
    assert not compute_deadline(None, at("2026-02-13 16:00"), parse_duration("1 working day")).provisional
    # clock units and the supervision calendar do not depend on the official schedule
    assert not compute_deadline(None, at("2027-02-04 16:00"), parse_duration("3 hours")).provisional
    sup = actions.ensure_supervision_calendar()
    assert not compute_deadline(sup, at("2027-02-04 16:00"), parse_duration("2 working days")).provisional

    ConfirmedYear.objects.create(year=2027, note="entered, not yet confirmed")
    assert compute_deadline(None, at("2027-02-04 16:00"), parse_duration("1 working day")).provisional
    actions.confirm_years(admin_user, [2027], note="国办发明电")
    row = ConfirmedYear.objects.get(year=2027)
    assert row.confirmed_by == admin_user and row.is_confirmed and row.note == "国办发明电"
    assert not compute_deadline(None, at("2027-02-04 16:00"), parse_duration("1 working day")).provisional
    actions.withdraw_confirmation(admin_user, [2027])
    assert compute_deadline(None, at("2027-02-04 16:00"), parse_duration("1 working day")).provisional


def test_only_permitted_users_confirm_years() -> None:
    clerk = get_user_model().objects.create_user("clerk", password="pw-123456-x")
    with pytest.raises(PermissionDenied):
        actions.confirm_years(clerk, [2027])
    assert not ConfirmedYear.objects.exists()


def test_system_check_warns_about_unconfirmed_years(admin_user) -> None:
    assert years_needing_attention(date(2026, 11, 26)) == (2027,)
    assert years_needing_attention(date(2025, 6, 1)) == ()
    pending = years_needing_attention()
    warnings = check_official_years()
    assert [w.id for w in warnings] == ["calendars.W001"] * len(pending)
    actions.confirm_years(admin_user, pending or [2027])
    assert check_official_years() == []


def test_global_overrides_correct_the_official_schedule() -> None:
    office = default_calendar()
    # an estimated 2027 holiday turned into a working day, and a Saturday made a make-up day
    assert deadline("1 working day", "2027-02-04 16:00") == "2027-02-11 16:00"
    DateOverride.objects.create(date=date(2027, 2, 10), kind="working_day", note="not a holiday")
    assert deadline("1 working day", "2027-02-04 16:00") == "2027-02-10 16:00"
    DateOverride.objects.create(date=date(2027, 2, 6), kind="holiday")
    DateOverride.objects.create(date=date(2027, 2, 20), kind="working_day", note="调休上班")
    assert deadline("1 working day", "2027-02-19 16:00", office) == "2027-02-20 16:00"
    DateOverride.objects.create(date=date(2027, 3, 1), kind="holiday", note="local holiday")
    assert deadline("1 working day", "2027-02-26 16:00", office) == "2027-03-02 16:00"


def test_calendar_overrides_and_cache_invalidation() -> None:
    office = default_calendar()
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    closed = DateOverride.objects.create(calendar=office, date=date(2026, 3, 3), kind="holiday")
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-04 09:00"
    closed.kind = "custom"
    closed.save()
    OverridePeriod.objects.create(override=closed, start=time(14), end=time(16))
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 14:30"
    closed.periods.all().delete()
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-04 09:00"
    closed.delete()
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    # weekly periods changed: 1 working day becomes 8 hours
    WeeklyPeriod.objects.filter(calendar=office, start=time(13, 30)).update(end=time(18))
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-02 18:00"
    WeeklyPeriod.objects.filter(calendar=office, weekday=1).delete()
    assert deadline("1 working hour", "2026-03-02 17:30") == "2026-03-04 09:00"
    WorkingCalendar.objects.filter(pk=office.pk).update(timezone="UTC")
    assert compute_deadline(office, datetime.fromisoformat("2026-03-02T18:00+00:00"),
                            parse_duration("1 working hour")).at.isoformat() == "2026-03-04T09:30:00+00:00"


def test_working_elapsed_and_pauses() -> None:
    start, end = at("2026-02-13 16:00"), at("2026-02-24 09:00")
    assert working_elapsed(None, start, end).total_seconds() == 9.5 * 3600
    pause = [(at("2026-02-14 09:00"), at("2026-02-14 10:00"))]
    assert working_elapsed(None, start, end, pause).total_seconds() == 8.5 * 3600
    paused = compute_deadline(None, start, parse_duration("1 working day"), pause)
    assert paused.at == at("2026-02-14 17:00")
    with pytest.raises(ValidationFailed) as exc:
        working_elapsed(None, start, end, [(end, start)])
    assert exc.value.code == "invalid_pause"


def test_naive_start_is_read_in_the_calendar_zone() -> None:
    naive = datetime(2026, 2, 13, 16, 0)
    assert compute_deadline(None, naive, parse_duration("1 working day")).at == at("2026-02-14 16:00")


def test_weekly_period_validation() -> None:
    office = default_calendar()
    with pytest.raises(ValidationError):
        WeeklyPeriod(calendar=office, weekday=0, start=time(12), end=time(9)).full_clean()
    with pytest.raises(ValidationError) as exc:
        WeeklyPeriod(calendar=office, weekday=0, start=time(11), end=time(14)).full_clean()
    assert [e.code for e in exc.value.error_dict["__all__"]] == ["overlap"]
    WeeklyPeriod(calendar=office, weekday=0, start=time(18), end=time(0)).full_clean()  # to midnight
    WeeklyPeriod(calendar=office, weekday=5, start=time(11), end=time(14)).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        WeeklyPeriod.objects.create(calendar=office, weekday=6, start=time(12), end=time(9))


def test_override_validation() -> None:
    with pytest.raises(ValidationError):
        DateOverride(date=date(2027, 1, 2), kind="custom").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        DateOverride.objects.create(date=date(2027, 1, 2), kind="custom")
    DateOverride.objects.create(date=date(2027, 1, 2), kind="holiday")
    with pytest.raises(ValidationError):
        DateOverride(date=date(2027, 1, 2), kind="working_day").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        DateOverride.objects.create(date=date(2027, 1, 2), kind="working_day")
    ov = DateOverride.objects.create(calendar=default_calendar(), date=date(2027, 1, 2), kind="custom")
    OverridePeriod.objects.create(override=ov, start=time(9), end=time(12))
    with pytest.raises(ValidationError):
        OverridePeriod(override=ov, start=time(11), end=time(13)).full_clean()


def test_calendar_validation() -> None:
    with pytest.raises(ValidationError):
        WorkingCalendar(name="x", timezone="Mars/Olympus").full_clean()
    default_calendar()
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingCalendar.objects.create(name="second", is_default=True)


def test_no_working_time_is_a_clear_error() -> None:
    empty = WorkingCalendar.objects.create(name="empty")
    with pytest.raises(ValidationFailed) as exc:
        compute_deadline(empty, at("2026-03-02 09:00"), parse_duration("1 working hour"))
    assert exc.value.code == "no_working_time"


def test_demo_is_idempotent() -> None:
    import io

    from citygrid.calendars.demo import load_demo

    load_demo(io.StringIO(), size="small")
    load_demo(io.StringIO())
    assert sorted(WorkingCalendar.objects.values_list("name", flat=True)) == ["office", "supervision"]
    assert WeeklyPeriod.objects.filter(calendar__name="supervision").count() == 7
    assert get_calendar("office").is_default
