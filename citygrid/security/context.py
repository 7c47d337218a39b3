"""The request being served, for audit records written where no request is passed (model
signals of other apps). Set by SecurityHeadersMiddleware; per request, never shared."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or with PROXY_COUNT trusted proxies in front, the
    address those proxies saw (counted from the right of X-Forwarded-For, which a client can
    only prepend to)."""
    if request is None:
        return None
    proxies = int(getattr(settings, "PROXY_COUNT", 0))
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return valid_ip(hops[-proxies])
    return valid_ip(request.META.get("REMOTE_ADDR", ""))


def valid_ip(text: str) -> str | None:
    """The address in its normal form, or None if `text` is not an IP address."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None
