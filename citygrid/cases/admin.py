"""Read-only admin for cases: the case, its events (history), photos, copies and pauses.
Nothing here writes: cases change only through the actions; events never change. Staff see
the cases `selectors.visible_cases` gives them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from citygrid.cases.models import (
    Case,
    CaseCellCount,
    CaseCopy,
    CaseDayCount,
    CaseEvent,
    CasePause,
    Photo,
    Reminder,
)
from citygrid.cases.selectors import visible_cases


class ReadOnlyMixin:
    """Records written by actions only: staff view them (within their scope), nobody edits."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    fields = ("seq", "operation", "role", "actor_name", "at", "from_state", "to_state", "inputs",
              "short_hash")
    readonly_fields = fields
    ordering = ("seq",)
    extra = 0
    can_delete = False

    @admin.display(description=_("hash"))
    def short_hash(self, obj: CaseEvent) -> str:
        return obj.hash[:12]


class PhotoInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Photo
    fields = ("kind", "preview", "content_type", "width", "height", "size", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("photo"))
    def preview(self, obj: Photo) -> str:
        return format_html('<a href="{}"><img src="{}" style="max-height:80px"></a>',
                           obj.file.url, obj.file.url)


class CopyInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = CaseCopy
    fields = ("department", "kind", "sent_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class PauseInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = CasePause
    fields = ("kind", "start", "end")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("number", "process", "state", "category", "district", "holder_department",
                    "overdue_level", "step_deadline", "created_at")
    list_filter = ("state", "process", "source", "overdue_level", "urgency", "needs_collaboration")
    search_fields = ("number", "address", "description", "component_id")
    date_hierarchy = "created_at"
    list_select_related = ("category", "district", "holder_department")
    inlines = (EventInline, PhotoInline, CopyInline, PauseInline)
    fieldsets = (
        (None, {"fields": ("number", "process", "state", "version", "source", "kind", "category",
                           "urgency", "description", "reporter", "reporter_role")}),
        (_("Place"), {"fields": ("lon", "lat", "address", "grid", "community", "street",
                                 "district", "component_id")}),
        (_("Holder"), {"fields": ("holder_department", "holder_person", "routed_department")}),
        (_("Time limits"), {"fields": ("step", "step_started_at", "step_limit", "step_deadline",
                                       "overall_started_at", "overall_limit", "overall_deadline",
                                       "deadline_provisional", "overdue_level")}),
        (_("Flags"), {"fields": ("postponed", "pending_extension", "suspended", "rework_count",
                                 "return_count", "urge_count", "supervision_level",
                                 "needs_collaboration", "collaboration_reason", "duplicate_of")}),
        (_("Record"), {"fields": ("created_at", "updated_at", "closed_at", "history_head")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return visible_cases(request.user)


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("case", "seq", "operation", "role", "actor_name", "at", "from_state", "to_state")
    list_filter = ("operation", "role")
    search_fields = ("case__number",)
    date_hierarchy = "at"
    list_select_related = ("case",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return CaseEvent.objects.filter(case__in=visible_cases(request.user).values("id"))


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Reminders are written by the sweep and marked by delivery: read-only here."""

    list_display = ("case", "level", "holder_department", "created_at", "delivered_at")
    list_filter = ("level", ("delivered_at", admin.EmptyFieldListFilter))
    search_fields = ("case__number",)
    list_select_related = ("case", "holder_department")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reminder]:
        return Reminder.objects.filter(case__in=visible_cases(request.user).values("id"))


class KeptCountsAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Kept counts written by the housekeeping job: city-wide, so superusers only."""

    date_hierarchy = "day"
    list_select_related = ("district",)
    show_full_result_count = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(CaseCellCount)
class CaseCellCountAdmin(KeptCountsAdmin):
    """The live map's counts per cell and day (`refresh_map_cells`)."""

    list_display = ("scale", "bucket", "day", "cx", "cy", "district", "n")
    list_filter = ("scale", "bucket")


@admin.register(CaseDayCount)
class CaseDayCountAdmin(KeptCountsAdmin):
    """The big screen's counts per day, district and class (`refresh_day_counts`)."""

    list_display = ("day", "district", "kind", "major", "reported", "closed", "closed_on_time")
    list_filter = ("kind", "district")
