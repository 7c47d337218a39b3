"""Django's ModelBackend that refuses a locked-out username or address before checking the
password, so that every way of signing in (pages, admin, API token) honours the lockout."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from citygrid.security import lockout
from citygrid.security.context import client_ip


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        name = username if username is not None else kwargs.get("username", "")
        if request is not None and lockout.locked(str(name or ""), client_ip(request)):
            request.login_locked = True  # type: ignore[attr-defined]
            raise PermissionDenied("locked out")  # authenticate() stops here and returns None
        return super().authenticate(request, username=username, password=password, **kwargs)
