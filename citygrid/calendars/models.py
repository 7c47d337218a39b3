"""Working calendars: weekly periods, per-date overrides, confirmed years.

The official holidays and make-up working days come from the `holidays` package (see
domain/official.py); the tables here hold what administrators add or correct.
"""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from citygrid.calendars.domain.workcal import CalendarError, Period

MIDNIGHT = time(0)
START_BEFORE_END = Q(start__lt=F("end")) | Q(end=MIDNIGHT)


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


def periods_overlap(a_start: time, a_end: time, b_start: time, b_end: time) -> bool:
    """Overlap of two periods of one day; an end of 00:00 means midnight (24:00)."""
    a1 = time.max if a_end == MIDNIGHT else a_end
    b1 = time.max if b_end == MIDNIGHT else b_end
    return a_start < b1 and b_start < a1


def check_period(start: time | None, end: time | None) -> None:
    if start is None or end is None:
        return
    try:
        Period(start, end)
    except CalendarError:
        raise ValidationError(
            _("A period must start before it ends (an end of 00:00 means midnight)."), code="period_order"
        ) from None


class WorkingCalendar(models.Model):
    name = models.SlugField(_("name"), max_length=50, unique=True,
                            help_text=_("Short name used by commands and the API, e.g. office."))
    title = models.CharField(_("title"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai",
                                validators=[validate_timezone])
    works_on_holidays = models.BooleanField(
        _("works on holidays"), default=False,
        help_text=_("Holidays are worked like the same weekday (e.g. supervision, M-13)."),
    )
    is_default = models.BooleanField(
        _("default calendar"), default=False,
        help_text=_("Used when no calendar is named. Only one calendar can be the default."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="calendars_one_default"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.name})" if self.title else self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyPeriod(models.Model):
    calendar = models.ForeignKey(WorkingCalendar, on_delete=models.CASCADE, related_name="periods",
                                 verbose_name=_("calendar"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("weekly working period")
        verbose_name_plural = _("weekly working periods")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=START_BEFORE_END, name="calendars_weekly_start_before_end"),
            models.UniqueConstraint(fields=["calendar", "weekday", "start"], name="calendars_weekly_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {Period(self.start, self.end)}"

    # The admin's inline formset checks all rows of a calendar together, with their new values.
    check_overlaps_in_db = True

    def clean(self) -> None:
        check_period(self.start, self.end)
        if not self.check_overlaps_in_db or self.calendar_id is None:
            return
        others = WeeklyPeriod.objects.filter(calendar_id=self.calendar_id, weekday=self.weekday)
        _refuse_overlap(self, others)


class OverrideKind(models.TextChoices):
    HOLIDAY = "holiday", _("holiday (not worked)")
    WORKING_DAY = "working_day", _("working day (standard periods)")
    CUSTOM = "custom", _("custom periods")


class DateOverride(models.Model):
    """An administrator's word on one date, for one calendar or (no calendar) for all.

    For all calendars, "holiday" and "working day" correct the official schedule (a calendar
    that works on holidays keeps working). For one calendar, "holiday" closes the date,
    "working day" gives it the calendar's standard periods and "custom" its own periods.
    """

    calendar = models.ForeignKey(
        WorkingCalendar, on_delete=models.CASCADE, related_name="overrides", null=True, blank=True,
        verbose_name=_("calendar"), help_text=_("Leave empty to change the official schedule for all calendars."),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=OverrideKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("date override")
        verbose_name_plural = _("date overrides")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendars_override_unique"),
            models.UniqueConstraint(fields=["date"], condition=Q(calendar__isnull=True),
                                    name="calendars_override_unique_global"),
            models.CheckConstraint(condition=~Q(kind="custom") | Q(calendar__isnull=False),
                                   name="calendars_custom_needs_calendar"),
        ]

    def __str__(self) -> str:
        scope = self.calendar.name if self.calendar_id else _("all calendars")
        return f"{self.date} {self.get_kind_display()} ({scope})"

    def clean(self) -> None:
        if self.kind == OverrideKind.CUSTOM and self.calendar_id is None:
            raise ValidationError(
                {"kind": _("Custom periods need a calendar; for all calendars use holiday or working day.")},
                code="custom_needs_calendar",
            )
        if self.date is not None and self.calendar_id is None:
            clash = DateOverride.objects.filter(calendar__isnull=True, date=self.date)
            if self.pk:
                clash = clash.exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError(
                    {"date": _("There is already an override of this date for all calendars.")},
                    code="unique",
                )


class OverridePeriod(models.Model):
    override = models.ForeignKey(DateOverride, on_delete=models.CASCADE, related_name="periods",
                                 verbose_name=_("date override"))
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("override period")
        verbose_name_plural = _("override periods")
        ordering = ["override", "start"]
        constraints = [
            models.CheckConstraint(condition=START_BEFORE_END, name="calendars_override_start_before_end"),
        ]

    def __str__(self) -> str:
        return str(Period(self.start, self.end))

    check_overlaps_in_db = True

    def clean(self) -> None:
        check_period(self.start, self.end)
        if not self.check_overlaps_in_db or self.override_id is None:
            return
        _refuse_overlap(self, OverridePeriod.objects.filter(override_id=self.override_id))


def _refuse_overlap(period: WeeklyPeriod | OverridePeriod, same_day: models.QuerySet[Any]) -> None:
    if period.start is None or period.end is None:
        return
    if period.pk:
        same_day = same_day.exclude(pk=period.pk)
    for other in same_day:
        if periods_overlap(period.start, period.end, other.start, other.end):
            raise ValidationError(
                _("This period overlaps %(other)s on the same day."),
                params={"other": str(other)}, code="overlap",
            )


class ConfirmedYear(models.Model):
    """A year whose official schedule an administrator has entered (as overrides) and confirmed.

    Needed only for years the `holidays` package has no published schedule for; until then,
    deadlines that cross the year are marked provisional.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True,
                            help_text=_("Source, e.g. the State Council notice on the holiday schedule."))

    class Meta:
        verbose_name = _("confirmed year")
        verbose_name_plural = _("confirmed years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class CalendarRevision(models.Model):
    """One row per database whose token changes with every write to the calendar tables.

    Database triggers (migration 0002) set a new token on every INSERT, UPDATE, DELETE (and on
    PostgreSQL TRUNCATE) of working calendars, weekly periods, date overrides, override periods
    and confirmed years, in the writing transaction, however the write was made (actions,
    admin, bulk updates, raw SQL). Each app process keeps the calendars it built with the token
    they were built at and checks this one row instead of re-reading the calendar tables.
    Tokens are never reused (a sequence on PostgreSQL, 63 random bits on SQLite), so a token
    seen inside a transaction that was rolled back cannot come back with other data.
    """

    token = models.BigIntegerField(_("token"), default=0)

    class Meta:
        verbose_name = _("calendar revision")
        verbose_name_plural = _("calendar revisions")

    def __str__(self) -> str:
        return f"calendar revision {self.token}"
