"""Admin for the audit log: read only, with filters, search and a CSV export for auditors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from citygrid.security.actions import mirror_admin_log, record_event
from citygrid.security.models import AuditAction, AuditEvent

CSV_COLUMNS = ["id", "at", "actor_name", "actor_id", "ip", "user_agent", "action", "object_type",
               "object_id", "summary", "changes"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The events as CSV lines (UTF-8 with a BOM first, so that Excel reads Chinese)."""
    import json

    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for e in events.iterator(chunk_size=2000):
        yield writer.writerow([e.pk, e.at.isoformat(), e.actor_name, e.actor_id or "", e.ip or "",
                               e.user_agent, e.action, e.object_type, e.object_id, e.summary,
                               json.dumps(e.changes, ensure_ascii=False, sort_keys=True)])


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_id", "summary", "ip")
    list_filter = ("action", ("at", admin.DateFieldListFilter), "object_type")
    search_fields = ("actor_name", "ip", "object_id", "summary", "user_agent")
    date_hierarchy = "at"
    fields = ("at", "actor_name", "actor_id", "ip", "user_agent", "action", "object_type",
              "object_id", "summary", "changes", "admin_log_id")
    readonly_fields = fields
    list_per_page = 100
    actions = None
    change_list_template = "security/auditevent_change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        export = path("export.csv", self.admin_site.admin_view(self.export_csv),
                      name="security_auditevent_export")
        return [export, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        mirror_admin_log()  # admin bulk deletions are logged without post_save: catch up
        return super().changelist_view(request, extra_context)

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """The events the change list shows with the same filters and search, as CSV."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        mirror_admin_log()
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request).order_by("at", "id")
        record_event(AuditAction.EXPORT, request=request, object_type="security.auditevent",
                     summary=f"audit log CSV, {events.count()} row(s)",
                     changes={"query": request.GET.urlencode()})
        name = f"audit-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


__all__ = ["AuditEventAdmin", "csv_lines"]
