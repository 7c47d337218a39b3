"""Counting failed sign-ins and locking out (MLPS 2.0: 登录失败处理).

Failures are counted in the Django cache per username (case-insensitive) and per client address,
each within LOGIN_FAILURE_WINDOW seconds. LOGIN_MAX_FAILURES failures for a username, or
LOGIN_MAX_FAILURES_PER_ADDRESS from one address, lock that username or address for
LOGIN_LOCKOUT_MINUTES; during the lockout even the right password is refused. A success clears
the username's count. Several app processes need a shared cache (CACHE_BACKEND=db or redis).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Lock:
    scope: str  # "username" or "address"
    seconds: int


def _key(kind: str, scope: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"security:{kind}:{scope}:{digest}"


def _scopes(username: str, address: str | None) -> list[tuple[str, str, int]]:
    scopes = []
    if username:
        scopes.append(("username", username.casefold(), int(settings.LOGIN_MAX_FAILURES)))
    if address:
        scopes.append(("address", address, int(settings.LOGIN_MAX_FAILURES_PER_ADDRESS)))
    return scopes


def lockout_seconds() -> int:
    return int(settings.LOGIN_LOCKOUT_MINUTES) * 60


def locked(username: str, address: str | None) -> Lock | None:
    """The lock that applies to this username or address now, if any."""
    for scope, value, _limit in _scopes(username, address):
        until = cache.get(_key("lock", scope, value))
        if until is not None:
            return Lock(scope, max(int(until - time.time()), 1))
    return None


def count_failure(username: str, address: str | None) -> list[Lock]:
    """Count one failure; returns the locks this failure started (empty if none)."""
    window = int(settings.LOGIN_FAILURE_WINDOW)
    started = []
    for scope, value, limit in _scopes(username, address):
        key = _key("fail", scope, value)
        if cache.add(key, 1, window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, window)
                count = 1
        if limit > 0 and count >= limit:
            seconds = lockout_seconds()
            if cache.add(_key("lock", scope, value), time.time() + seconds, seconds):
                started.append(Lock(scope, seconds))
            cache.delete(key)
    return started


def clear_failures(username: str) -> None:
    cache.delete(_key("fail", "username", username.casefold()))


def unlock(username: str = "", address: str | None = None) -> None:
    """Lift a lockout early (the `unlock_login` command, for the help desk)."""
    for scope, value, _limit in _scopes(username, address):
        cache.delete_many([_key("lock", scope, value), _key("fail", scope, value)])
