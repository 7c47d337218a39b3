"""The only writers of the exchange app: API keys and public requests."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from citygrid.cases.actions import PhotoInput, report_case
from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from citygrid.exchange.domain.rules import new_tracking_code
from citygrid.exchange.models import ApiKey, Channel, PublicRequest, PublicRequester, PublicService

PUBLIC_USERNAME = "public-reporter"
CASE_DESCRIPTION_LIMIT = 2000  # report_case's limit; the full text stays on PublicRequest
DESCRIPTION_LIMIT = 4000  # Open311's limit
KEY_PREFIX_LENGTH = 8

AnyUser = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""

    def any(self) -> bool:
        return any((self.name, self.email, self.phone, self.device_id, self.account_id))


def _require_admin(actor: AnyUser) -> None:
    if not (getattr(actor, "is_active", False) and getattr(actor, "is_superuser", False)):
        raise PermissionDenied("Only administrators manage Open311 API keys.",
                               code="not_administrator")


def issue_api_key(actor: AnyUser | None, *, name: str, contact: str = "") -> tuple[ApiKey, str]:
    """A new key for an Open311 client; returns the row and the key (shown once, stored hashed).
    `actor` None is the system itself (the demo, commands); otherwise an administrator."""
    if actor is not None:
        _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("name is required.", code="missing_input", details={"field": "name"})
    if len(name) > 100 or len(contact) > 200:
        raise ValidationFailed("name or contact is too long.", code="too_long",
                               details={"field": "name" if len(name) > 100 else "contact"})
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiKey.objects.create(name=name, contact=contact.strip(), prefix=key[:KEY_PREFIX_LENGTH],
                                    key_hash=ApiKey.hash_key(key),
                                    created_by=actor if getattr(actor, "pk", None) else None)
    return row, key


def revoke_api_key(actor: AnyUser | None, key_id: int) -> ApiKey:
    """`actor` None is the system itself (commands); otherwise an administrator."""
    if actor is not None:
        _require_admin(actor)
    with transaction.atomic():
        row = ApiKey.objects.select_for_update().filter(pk=key_id).first()
        if row is None:
            raise NotFound(f"No API key {key_id}.", code="api_key_not_found")
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
    return row


def use_api_key(raw: str | None) -> ApiKey:
    """The active key matching `raw` (its last use recorded), or PermissionDenied."""
    if not raw:
        raise PermissionDenied("api_key is required to submit a request.", code="api_key_missing")
    row = ApiKey.objects.filter(key_hash=ApiKey.hash_key(raw), revoked_at__isnull=True).first()
    if row is None:
        raise PermissionDenied("api_key is not valid.", code="api_key_invalid")
    ApiKey.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row


def public_reporter() -> Any:
    """The system account public and Open311 reports are filed under (never signs in)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=PUBLIC_USERNAME).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = user_model(username=PUBLIC_USERNAME, first_name="公众", last_name="public",
                              is_active=True)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return user_model.objects.get(username=PUBLIC_USERNAME)


def submit_public_request(
    *, service: PublicService, lon: float, lat: float, channel: str, description: str = "",
    attributes: dict[str, Any] | None = None, contact: Contact = Contact(),
    api_key: ApiKey | None = None, photos: Sequence[PhotoInput] = (), media_url: str = "",
    address_string: str = "", address_id: str = "", idempotency_key: str | None = None,
) -> PublicRequest:
    """A public report becomes a case through the case engine (the `public_report` process
    where the rules give the standard one: an inspector verifies it on site before filing),
    with its own tracking code and the requester's contact data kept beside it.
    A retry with the same idempotency key returns the first request."""
    if channel not in Channel.values:
        raise ValidationFailed(f"Unknown channel {channel}.", code="invalid_channel")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_LIMIT:
        raise ValidationFailed(f"description is longer than {DESCRIPTION_LIMIT} characters.",
                               code="too_long", details={"field": "description"})
    if not service.active:
        raise NotFound(f"Service {service.service_code} is not offered.", code="service_not_found")
    reporter = public_reporter()
    key = None
    if idempotency_key:
        scope = f"key{api_key.pk}" if api_key is not None else channel
        key = f"{scope}:{idempotency_key}"[:100]
    with transaction.atomic():
        case = report_case(
            reporter, source="public", kind=service.kind, category_code=service.category_code,
            lon=lon, lat=lat, address=address_string[:300],
            description=description[:CASE_DESCRIPTION_LIMIT], photos=photos,
            idempotency_key=key, role="public",
        )
        existing = PublicRequest.objects.filter(case=case).first()
        if existing is not None:
            return existing
        request = PublicRequest.objects.create(
            case=case, service=service, channel=channel, api_key=api_key,
            tracking_code=_unique_tracking_code(), token=secrets.token_urlsafe(24),
            description=description, attributes=attributes or {}, media_url=media_url[:1000],
            address_string=address_string[:300], address_id=address_id[:64],
        )
        PublicRequester.objects.create(
            request=request, name=contact.name[:200], email=contact.email[:254],
            phone=contact.phone[:40], device_id=contact.device_id[:200],
            account_id=contact.account_id[:200],
        )
    return request


def _unique_tracking_code() -> str:
    while True:  # a collision is astronomically rare; check anyway
        code = new_tracking_code()
        if not PublicRequest.objects.filter(tracking_code=code).exists():
            return code
