"""Issuing, using and revoking API tokens: the only code that writes ApiToken rows."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from citygrid.accounts.models import ApiToken
from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed

AnyUser = AbstractBaseUser | AnonymousUser

KEY_PREFIX = "cg_"
PREFIX_LENGTH = 11  # "cg_" + 8 characters: enough to tell tokens apart, useless to guess
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often
MAX_NAME = 100


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_lifetime() -> timedelta | None:
    """`API_TOKEN_LIFETIME_DAYS` (default 180; 0 = tokens never expire)."""
    days = int(getattr(settings, "API_TOKEN_LIFETIME_DAYS", 180))
    return timedelta(days=days) if days > 0 else None


def issue_token(user: AnyUser, name: str, *, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the plaintext key (shown once, never stored)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)):
        raise PermissionDenied("Only active users get tokens.", code="not_authenticated")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the device the token is for.", code="missing_input",
                               details={"field": "device"})
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"The device name is longer than {MAX_NAME} characters.",
                               code="too_long", details={"field": "device"})
    now = now or timezone.now()
    lifetime = token_lifetime()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user_id=user.pk, name=name, key_hash=hash_key(key), prefix=key[:PREFIX_LENGTH],
            created_at=now, expires_at=now + lifetime if lifetime else None,
        )
    return token, key


def revoke_token(user: AnyUser, token_id: int, *, any_user: bool = False,
                 now: datetime | None = None) -> ApiToken:
    """Revoke one of the user's own tokens (`any_user`: anyone's, for the admin, which checks its
    own permission first). Revoking twice is harmless."""
    with transaction.atomic():
        qs = ApiToken.objects.select_for_update()
        if not any_user:
            qs = qs.filter(user_id=user.pk)
        token = qs.filter(pk=token_id).first()
        if token is None:
            raise NotFound(f"You have no token {token_id}.", code="token_not_found",
                           details={"token": token_id})
        if token.revoked_at is None:
            token.revoked_at = now or timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def use_token(key: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token with this key (its user loaded), or None if unknown, revoked, expired or
    its user is inactive. Records the use at most once a minute, not on every request."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    now = now or timezone.now()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
