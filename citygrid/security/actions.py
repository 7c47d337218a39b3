"""Writing the audit log: the only code that creates AuditEvent rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from citygrid.security.context import client_ip, current_request
from citygrid.security.models import AuditAction, AuditEvent

ADMIN_ACTIONS = {ADDITION: AuditAction.ADMIN_ADD, CHANGE: AuditAction.ADMIN_CHANGE,
                 DELETION: AuditAction.ADMIN_DELETE}


def _user_fields(user: Any, fallback_name: str = "") -> tuple[int | None, str]:
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk, user.get_username()[:150]
    return None, fallback_name[:150]


def record_event(action: str, *, request: HttpRequest | None = None, user: Any = None,
                 username: str = "", object_type: str = "", object_id: object = "",
                 summary: str = "", changes: Mapping[str, Any] | None = None) -> AuditEvent:
    """Append one audit event. `request` defaults to the request being served (for IP and user
    agent); `user` defaults to its signed-in user; `username` names an actor without an account
    (a failed sign-in)."""
    request = request if request is not None else current_request.get()
    if user is None and request is not None:
        user = getattr(request, "user", None)
    actor_id, actor_name = _user_fields(user, username)
    agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    event = AuditEvent(at=timezone.now(), actor_id=actor_id, actor_name=actor_name,
                       ip=client_ip(request), user_agent=agent, action=action,
                       object_type=object_type[:100], object_id=str(object_id)[:64],
                       summary=summary[:500], changes=dict(changes or {}))
    with transaction.atomic():
        event.save(force_insert=True)
    return event


def mirror_admin_log() -> int:
    """Copy the admin's LogEntry rows not yet in the audit log (add, change, delete); returns
    how many. LogEntry rows vanish with their user (CASCADE); the copies stay."""
    last = (AuditEvent.objects.filter(admin_log_id__isnull=False)
            .order_by("-admin_log_id").values_list("admin_log_id", flat=True).first()) or 0
    entries = (LogEntry.objects.filter(pk__gt=last).select_related("user", "content_type")
               .order_by("pk"))
    request = current_request.get()
    rows = []
    for entry in entries.iterator(chunk_size=500):
        same_request = request is not None and getattr(request, "user", None) == entry.user
        rows.append(AuditEvent(
            at=entry.action_time, actor_id=entry.user_id, actor_name=entry.user.get_username()[:150],
            ip=client_ip(request) if same_request else None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300] if same_request and request else "",
            action=ADMIN_ACTIONS.get(entry.action_flag, AuditAction.ADMIN_CHANGE),
            object_type=(f"{entry.content_type.app_label}.{entry.content_type.model}"
                         if entry.content_type else ""),
            object_id=(entry.object_id or "")[:64], summary=entry.object_repr[:500],
            changes={"message": entry.get_change_message(),
                     "raw": _raw_message(entry.change_message)},
            admin_log_id=entry.pk,
        ))
    if rows:
        AuditEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _raw_message(message: str) -> Any:
    try:
        return json.loads(message) if message else []
    except ValueError:
        return message
