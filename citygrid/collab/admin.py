"""Admin for the platform's records: read-mostly (the actions are the writers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from citygrid.collab.models import (
    AgendaItem,
    Decision,
    Dossier,
    DutyDay,
    Invitation,
    Meeting,
    PresenceSpan,
    Record,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    can_delete = False
    readonly_fields = ["department", "invited_at", "due_at", "answer", "reason", "answered_by",
                       "answered_at"]
    fields = readonly_fields


@admin.register(Dossier)
class DossierAdmin(ReadOnly):
    list_display = ["case", "entry", "status", "coordinator", "opened_at", "closed_at"]
    list_filter = ["status", "entry"]
    search_fields = ["case__number"]
    inlines = [InvitationInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnly):
    list_display = ["dossier", "owner", "via", "rule", "decided_by", "decided_at"]
    list_filter = ["via"]


@admin.register(Record)
class RecordAdmin(ReadOnly):
    list_display = ["dossier", "kind", "author", "department", "at"]
    list_filter = ["kind"]


class AgendaInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    can_delete = False
    readonly_fields = ["dossier", "position"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnly):
    list_display = ["title", "scheduled_at", "status", "held_at"]
    list_filter = ["status"]
    inlines = [AgendaInline]


@admin.register(DutyDay)
class DutyDayAdmin(ReadOnly):
    list_display = ["department", "day", "online_minutes", "working_minutes", "first_seen",
                    "last_seen"]
    list_filter = ["day"]


@admin.register(PresenceSpan)
class PresenceSpanAdmin(ReadOnly):
    list_display = ["person", "department", "start", "end"]
