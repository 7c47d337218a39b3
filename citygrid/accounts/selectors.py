"""Reads of API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from citygrid.accounts.actions import AnyUser
from citygrid.accounts.models import ApiToken


def tokens_of(user: AnyUser) -> QuerySet[ApiToken]:
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-id")
