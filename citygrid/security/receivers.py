"""Audit records from Django's auth signals, the admin's LogEntry and API token rows.

These receivers only record what happened (and count failed sign-ins for the lockout); they
decide nothing about the operation itself, which is why signals are acceptable here (DESIGN.md
forbids business rules in signals, not observation). Auth signals are the one place every
sign-in path passes through (pages, admin, API token), including paths added later.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.http import HttpRequest

from citygrid.security import lockout
from citygrid.security.actions import mirror_admin_log, record_event
from citygrid.security.context import client_ip
from citygrid.security.models import AuditAction


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    lockout.clear_failures(user.get_username())
    via = "api" if request is not None and request.path.startswith("/api/") else "session"
    record_event(AuditAction.LOGIN, request=request, user=user, summary=via)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                    **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    address = client_ip(request)
    if request is not None and getattr(request, "login_locked", False):
        record_event(AuditAction.LOGIN_FAILED, request=request, username=username,
                     summary="refused: locked out")
        return
    started = lockout.count_failure(username, address)
    record_event(AuditAction.LOGIN_FAILED, request=request, username=username)
    for lock in started:
        record_event(AuditAction.LOCKOUT, request=request, username=username,
                     summary=f"{lock.scope} locked for {lock.seconds} s",
                     changes={"scope": lock.scope, "seconds": lock.seconds,
                              "address": address})


def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    idle = request is not None and getattr(request, "idle_logout", False)
    record_event(AuditAction.IDLE_LOGOUT if idle else AuditAction.LOGOUT, request=request, user=user)


def on_log_entry(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        mirror_admin_log()


def on_token_saved(sender: Any, instance: Any, created: bool, update_fields: Any = None,
                   **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if created:
        record_event(AuditAction.TOKEN_ISSUED, user=instance.user, object_type="accounts.apitoken",
                     object_id=instance.pk, summary=f"{instance.name} ({instance.prefix}…)")
    elif instance.revoked_at is not None and (update_fields is None or "revoked_at" in update_fields):
        record_event(AuditAction.TOKEN_REVOKED, object_type="accounts.apitoken",
                     object_id=instance.pk, summary=f"{instance.name} ({instance.prefix}…)",
                     changes={"owner": instance.user.get_username()})


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="security.login")
    user_login_failed.connect(on_login_failed, dispatch_uid="security.login_failed")
    user_logged_out.connect(on_logout, dispatch_uid="security.logout")
    post_save.connect(on_log_entry, sender=LogEntry, dispatch_uid="security.admin_log")
    from django.apps import apps

    if apps.is_installed("citygrid.accounts"):
        post_save.connect(on_token_saved, sender="accounts.ApiToken", dispatch_uid="security.token")
