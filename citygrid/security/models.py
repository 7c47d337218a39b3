"""The audit log: one append-only row per security-relevant event (MLPS 2.0 安全审计).

Rows are written only by `citygrid.security.actions.record_event` and never changed: `save()`
refuses updates, `delete()` refuses, and on PostgreSQL a trigger refuses UPDATE and DELETE
(migration 0002). The actor is kept by id and name without a foreign-key constraint, so that
deleting a user keeps the record of what they did.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("signed in")
    LOGIN_FAILED = "login_failed", _("sign-in failed")
    LOCKOUT = "lockout", _("locked out")
    LOGOUT = "logout", _("signed out")
    IDLE_LOGOUT = "idle_logout", _("signed out after inactivity")
    ADMIN_ADD = "admin_add", _("admin: added")
    ADMIN_CHANGE = "admin_change", _("admin: changed")
    ADMIN_DELETE = "admin_delete", _("admin: deleted")
    TOKEN_ISSUED = "token_issued", _("API token issued")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    EXPORT = "export", _("exported")
    RESTORE = "restore", _("database restored")


class AppendOnly(Exception):
    """An attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit events are never changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events are never deleted")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True,
                              blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+")
    actor_name = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    admin_log_id = models.BigIntegerField(_("admin log entry"), null=True, blank=True, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor_name", "at"], name="audit_actor_at"),
                   models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnly("audit events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit events are never deleted")
