"""Abuse limits (django-ratelimit, on Django's cache). Rates are settings with sane defaults:
EXCHANGE_RATES = {"open311_read": "300/m", ...}. The counters live in the cache named by
django-ratelimit's RATELIMIT_USE_CACHE (default "default"); with several app processes that
cache must be shared (Redis or Memcached), otherwise each process counts on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

DEFAULT_RATES: dict[str, str] = {
    "open311_read": "300/m",      # GET per client IP
    "open311_write_ip": "60/h",   # POST requests per client IP
    "open311_write_key": "600/h",  # POST requests per API key
    "web_report": "10/h",         # public report form submissions per client IP
    "web_track": "60/m",          # status page look-ups per client IP
}


def rate(name: str) -> str:
    configured: dict[str, str] = getattr(settings, "EXCHANGE_RATES", {}) or {}
    return configured.get(name) or DEFAULT_RATES[name]


def rate_text(name: str) -> str:
    count, _, period = rate(name).partition("/")
    unit = {"s": "second", "m": "minute", "h": "hour", "d": "day"}.get(period[-1:], period)
    amount = period[:-1]
    return f"{count} per {amount + ' ' if amount else ''}{unit}{'s' if amount else ''}"


def exceeded(request: HttpRequest, name: str, key: str | Callable[[str, HttpRequest], Any] = "ip") -> bool:
    """Counts this request against the limit `name`; True when it is over."""
    return bool(is_ratelimited(request, group=f"exchange.{name}", key=key, rate=rate(name),
                               method=ALL, increment=True))
