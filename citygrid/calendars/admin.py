"""Admin for working calendars, date overrides and confirmed years (zh-Hans first)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citygrid.calendars import actions
from citygrid.calendars.models import (
    ConfirmedYear,
    DateOverride,
    OverridePeriod,
    WeeklyPeriod,
    WorkingCalendar,
    periods_overlap,
)
from citygrid.calendars.services import years_needing_attention
from citygrid.core.errors import DomainError


class ProvisionalYearBanner:
    """Shows a warning on every calendars admin page while a year's schedule is unknown."""

    def _warn(self, request: HttpRequest) -> None:
        for year in years_needing_attention():
            messages.warning(request, gettext(
                "The official holiday schedule for %(year)s is not in the holidays package and has "
                "not been confirmed: deadlines in %(year)s are provisional. Enter that year's holidays "
                "and make-up working days as date overrides (for all calendars), then confirm the year "
                "under Confirmed years."
            ) % {"year": year})

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "GET":
            self._warn(request)
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def changeform_view(self, request: HttpRequest, object_id: Any = None, form_url: str = "",
                        extra_context: Any = None) -> HttpResponse:
        if request.method == "GET":
            self._warn(request)
        return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]


class PeriodFormSet(BaseInlineFormSet):
    """Refuses overlapping periods among the rows of one form (per weekday if there is one)."""

    def clean(self) -> None:
        super().clean()
        seen: list[tuple[Any, Any, Any]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("start") is None or data.get("end") is None:
                continue
            key = data.get("weekday")
            for other_key, start, end in seen:
                if other_key == key and periods_overlap(data["start"], data["end"], start, end):
                    raise forms.ValidationError(gettext("Two periods of the same day overlap."),
                                                code="overlap")
            seen.append((key, data["start"], data["end"]))


class InlinePeriodForm(forms.ModelForm):
    def _post_clean(self) -> None:
        self.instance.check_overlaps_in_db = False  # PeriodFormSet checks the rows together
        super()._post_clean()


class WeeklyPeriodInline(admin.TabularInline):
    model = WeeklyPeriod
    form = InlinePeriodForm
    formset = PeriodFormSet
    extra = 0
    fields = ["weekday", "start", "end"]


class OverridePeriodInline(admin.TabularInline):
    model = OverridePeriod
    form = InlinePeriodForm
    formset = PeriodFormSet
    extra = 0
    fields = ["start", "end"]


class DateOverrideInline(admin.TabularInline):
    model = DateOverride
    extra = 0
    fields = ["date", "kind", "note"]
    show_change_link = True


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(ProvisionalYearBanner, admin.ModelAdmin):
    list_display = ["name", "title", "timezone", "works_on_holidays", "is_default", "updated_at"]
    search_fields = ["name", "title"]
    inlines = [WeeklyPeriodInline, DateOverrideInline]
    fields = ["name", "title", "description", "timezone", "works_on_holidays", "is_default"]


@admin.register(DateOverride)
class DateOverrideAdmin(ProvisionalYearBanner, admin.ModelAdmin):
    list_display = ["date", "kind", "calendar", "note", "updated_at"]
    list_filter = ["kind", "calendar"]
    date_hierarchy = "date"
    search_fields = ["note"]
    inlines = [OverridePeriodInline]
    fields = ["date", "calendar", "kind", "note"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if obj.kind != "custom" and obj.periods.exists():
            obj.periods.all().delete()
            messages.info(request, gettext("Periods are used only by custom overrides; they were removed."))


@admin.register(ConfirmedYear)
class ConfirmedYearAdmin(ProvisionalYearBanner, admin.ModelAdmin):
    list_display = ["year", "is_confirmed_display", "confirmed_by", "confirmed_at", "note"]
    fields = ["year", "note", "confirmed_by", "confirmed_at"]
    readonly_fields = ["confirmed_by", "confirmed_at"]
    actions = ["confirm_year", "withdraw_confirmation"]

    @admin.display(boolean=True, description=_("confirmed"))
    def is_confirmed_display(self, obj: ConfirmedYear) -> bool:
        return obj.is_confirmed

    @admin.action(description=_("Confirm year (its overrides match the official schedule)"),
                  permissions=["change"])
    def confirm_year(self, request: HttpRequest, queryset: QuerySet[ConfirmedYear]) -> None:
        try:
            done = actions.confirm_years(request.user, queryset.values_list("year", flat=True))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        years = ", ".join(str(row.year) for row in done)
        self.message_user(request, gettext("Confirmed: %(years)s") % {"years": years}, messages.SUCCESS)

    @admin.action(description=_("Withdraw confirmation"), permissions=["change"])
    def withdraw_confirmation(self, request: HttpRequest, queryset: QuerySet[ConfirmedYear]) -> None:
        try:
            count = actions.withdraw_confirmation(request.user, queryset.values_list("year", flat=True))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, gettext("Withdrawn: %(count)d") % {"count": count}, messages.WARNING)
