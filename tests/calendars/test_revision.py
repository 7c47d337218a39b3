"""The calendar revision token: triggers on every calendar table, the cache it validates, and
the per-action snapshot (issue 4, intake performance)."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from citygrid.calendars import services
from citygrid.calendars.domain.durations import parse_duration
from citygrid.calendars.models import (
    CalendarRevision,
    ConfirmedYear,
    DateOverride,
    OverridePeriod,
    WeeklyPeriod,
    WorkingCalendar,
)
from citygrid.calendars.services import compute_deadline, default_calendar, find_calendar, snapshot

from .helpers import at

pytestmark = pytest.mark.django_db


def token() -> int:
    return CalendarRevision.objects.get(pk=1).token


def deadline(limit: str, start: str, calendar: WorkingCalendar | None = None) -> str:
    return compute_deadline(calendar, at(start), parse_duration(limit)).at.strftime("%Y-%m-%d %H:%M")


def test_every_kind_of_write_to_every_calendar_table_moves_the_token() -> None:
    assert services._has_triggers()
    office = default_calendar()
    seen = {token()}

    def moved() -> None:
        now = token()
        assert now not in seen
        seen.add(now)

    override = DateOverride.objects.create(calendar=office, date=date(2026, 3, 3), kind="custom")
    moved()
    OverridePeriod.objects.create(override=override, start=time(14), end=time(16))
    moved()
    WeeklyPeriod.objects.filter(calendar=office, weekday=0).update(end=time(18))
    moved()
    WeeklyPeriod.objects.bulk_create([WeeklyPeriod(calendar=office, weekday=5, start=time(9),
                                                    end=time(10))])
    moved()
    WorkingCalendar.objects.filter(pk=office.pk).update(title="Office")
    moved()
    ConfirmedYear.objects.create(year=2040)
    moved()
    override.delete()  # cascades to its periods
    moved()
    with connection.cursor() as cursor:  # even raw SQL
        cursor.execute("DELETE FROM calendars_weeklyperiod WHERE weekday = 5")
    moved()


def test_the_cache_is_checked_with_one_row_and_sees_every_change() -> None:
    office = default_calendar()
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    with CaptureQueriesContext(connection) as queries:
        assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    tables = [q["sql"] for q in queries.captured_queries]
    assert len(tables) == 1 and "calendars_calendarrevision" in tables[0]
    WeeklyPeriod.objects.filter(calendar=office, start=time(13, 30)).update(end=time(18))
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-02 18:00"
    DateOverride.objects.create(calendar=office, date=date(2026, 3, 3), kind="holiday")
    assert deadline("1 working hour", "2026-03-02 18:00") == "2026-03-04 09:30"


def test_a_rolled_back_change_leaves_no_stale_calendar() -> None:
    office = default_calendar()
    before = token()
    with pytest.raises(RuntimeError), transaction.atomic():
        DateOverride.objects.create(calendar=office, date=date(2026, 3, 3), kind="holiday")
        assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-04 09:00"
        raise RuntimeError("roll back")
    assert token() == before
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    # another change after the rollback gets a token of its own, never the rolled-back one
    DateOverride.objects.create(calendar=office, date=date(2026, 3, 3), kind="working_day")
    assert token() != before
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    WeeklyPeriod.objects.filter(calendar=office, weekday=1).delete()
    assert deadline("1 working hour", "2026-03-02 17:30") == "2026-03-03 09:30"  # its override


def test_snapshot_reads_the_revision_once() -> None:
    office = default_calendar()
    supervision = WorkingCalendar.objects.create(name="supervision", works_on_holidays=True)
    WeeklyPeriod.objects.bulk_create([WeeklyPeriod(calendar=supervision, weekday=d, start=time(8),
                                                    end=time(21)) for d in range(7)])
    deadline("1 working hour", "2026-03-02 17:00", office)
    deadline("1 working hour", "2026-03-02 17:00", supervision)
    find_calendar("supervision"), default_calendar()
    with CaptureQueriesContext(connection) as queries, snapshot():
        for _ in range(5):
            deadline("1 working hour", "2026-03-02 17:00", office)
            deadline("1 working hour", "2026-03-02 17:00", supervision)
            assert find_calendar("supervision").pk == supervision.pk
            assert default_calendar().pk == office.pk
    assert len(queries.captured_queries) == 1


def test_named_and_default_calendar_lookups_follow_changes() -> None:
    office = default_calendar()
    assert find_calendar("supervision") is None
    created = WorkingCalendar.objects.create(name="supervision", works_on_holidays=True)
    assert find_calendar("supervision").pk == created.pk
    WorkingCalendar.objects.filter(pk=office.pk).update(is_default=False)
    WorkingCalendar.objects.filter(pk=created.pk).update(is_default=True)
    assert default_calendar().pk == created.pk
    mine = find_calendar("supervision")
    mine.title = "changed in memory only"
    assert find_calendar("supervision").title == ""  # each caller gets its own copy


def test_without_triggers_the_rows_are_compared(monkeypatch) -> None:
    monkeypatch.setattr(services, "_has_triggers", lambda: False)
    office = default_calendar()
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-03 09:00"
    WeeklyPeriod.objects.filter(calendar=office, start=time(13, 30)).update(end=time(18))
    assert deadline("1 working hour", "2026-03-02 17:00") == "2026-03-02 18:00"
