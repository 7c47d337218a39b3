"""The only code that changes calendar data (besides the admin's plain row edits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from citygrid.calendars.models import ConfirmedYear, WeeklyPeriod, WorkingCalendar
from citygrid.core.errors import PermissionDenied, ValidationFailed

OFFICE = "office"
SUPERVISION = "supervision"
OFFICE_PERIODS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
SUPERVISION_PERIODS = ((time(8, 0), time(21, 0)),)

User = AbstractBaseUser | AnonymousUser


def _ensure_calendar(
    name: str, title: str, description: str, weekdays: Iterable[int],
    periods: Sequence[tuple[time, time]], *, works_on_holidays: bool, default: bool,
) -> WorkingCalendar:
    existing = WorkingCalendar.objects.filter(name=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            make_default = default and not WorkingCalendar.objects.filter(is_default=True).exists()
            calendar = WorkingCalendar.objects.create(
                name=name, title=title, description=description,
                works_on_holidays=works_on_holidays, is_default=make_default,
            )
            WeeklyPeriod.objects.bulk_create(
                WeeklyPeriod(calendar=calendar, weekday=wd, start=a, end=b)
                for wd in weekdays for a, b in periods
            )
            return calendar
    except IntegrityError:  # another process created it (or the default) at the same moment
        return WorkingCalendar.objects.get(name=name)


def ensure_office_calendar() -> WorkingCalendar:
    """The default office calendar: official working days, 08:30–12:00 and 13:30–17:30."""
    return _ensure_calendar(
        OFFICE, "办公日历",
        "法定工作日（含调休上班日），上午 08:30–12:00，下午 13:30–17:30。",
        range(5), OFFICE_PERIODS, works_on_holidays=False, default=True,
    )


def ensure_supervision_calendar() -> WorkingCalendar:
    """Supervision hours (M-13): 08:00–21:00 every day, holidays included."""
    return _ensure_calendar(
        SUPERVISION, "监督日历",
        "监督时间每天 08:00–21:00，节假日照常（M-13）。",
        range(7), SUPERVISION_PERIODS, works_on_holidays=True, default=False,
    )


def _require(user: User, perm: str) -> None:
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied("you may not confirm calendar years", code="forbidden")


def confirm_years(user: User, years: Iterable[int], note: str = "") -> list[ConfirmedYear]:
    """Confirm that the overrides entered for these years match their official schedule."""
    _require(user, "calendars.change_confirmedyear")
    wanted = sorted(set(years))
    bad = [y for y in wanted if not 1900 <= y <= 2200]
    if bad:
        raise ValidationFailed(f"not a year: {bad}", code="invalid_year", details={"years": bad})
    now = timezone.now()
    confirmed = []
    with transaction.atomic():
        for year in wanted:
            row, _ = ConfirmedYear.objects.select_for_update().get_or_create(year=year)
            row.confirmed_by = user if isinstance(user, AbstractBaseUser) else None
            row.confirmed_at = now
            if note:
                row.note = note
            row.save()
            confirmed.append(row)
    return confirmed


def withdraw_confirmation(user: User, years: Iterable[int]) -> int:
    """Mark years as unconfirmed again: their deadlines become provisional."""
    _require(user, "calendars.change_confirmedyear")
    with transaction.atomic():
        return ConfirmedYear.objects.filter(year__in=list(years)).update(confirmed_by=None, confirmed_at=None)
