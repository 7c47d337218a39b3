"""Security middleware: response headers (CSP, Permissions-Policy), the request context for the
audit log, the idle session timeout, and the lockout answer on the sign-in pages and API."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from citygrid.security import lockout
from citygrid.security.context import client_ip, current_request
from citygrid.security.domain.csp import build_policy, tile_origins

Handler = Callable[[HttpRequest], HttpResponse]
LAST_SEEN = "_security_last_seen"
TOUCH_EVERY = 60  # seconds: the session is written at most this often for the idle clock
PAGE_LOGINS = ("/accounts/login/", "/admin/login/")
API_LOGIN = "/api/v1/auth/token"


def content_security_policy(nonce: str) -> str:
    images = [*tile_origins(settings.MAP_TILE_PRESET, settings.MAP_TILE_URL),
              *getattr(settings, "CSP_EXTRA_IMG_SRC", [])]
    return build_policy(nonce=nonce, img_sources=images)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (with a per-response nonce, `request.csp_nonce`, for inline
    blocks that need one: `<script nonce="{{ request.csp_nonce }}">`) and Permissions-Policy.
    X-Frame-Options, Referrer-Policy, nosniff, HSTS come from Django's own middleware."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        if getattr(settings, "CSP_ENABLED", True):
            header = ("Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY
                      else "Content-Security-Policy")
            if header not in response:
                response[header] = content_security_policy(nonce)
        if getattr(settings, "PERMISSIONS_POLICY", "") and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


class IdleTimeoutMiddleware:
    """Signs out a session idle for more than SESSION_IDLE_TIMEOUT seconds (0: never); the
    absolute limit is SESSION_COOKIE_AGE. The next page then asks to sign in again."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout = int(getattr(settings, "SESSION_IDLE_TIMEOUT", 0))
        user = getattr(request, "user", None)
        if timeout > 0 and user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            seen = request.session.get(LAST_SEEN)
            if isinstance(seen, int | float) and now - seen > timeout:
                request.idle_logout = True  # type: ignore[attr-defined]
                logout(request)
            elif not isinstance(seen, int | float) or now - seen >= TOUCH_EVERY:
                request.session[LAST_SEEN] = int(now)
        response = self.get_response(request)
        # Just signed in: the clock starts now. Only for a session sign-in: a request signed
        # by an API token (request.user set by TokenAuth) must not get a session of its own.
        if (timeout > 0 and hasattr(request, "session") and request.user.is_authenticated
                and SESSION_KEY in request.session and LAST_SEEN not in request.session):
            request.session[LAST_SEEN] = int(time.time())
        return response


class LoginThrottleMiddleware:
    """Answers a sign-in attempt for a locked-out username or address with 429 and a clear
    message, before the password is checked (the backend refuses it anyway)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            if request.path in PAGE_LOGINS:
                lock = lockout.locked(request.POST.get("username", ""), client_ip(request))
                if lock is not None:
                    return self._page(request, lock)
            elif request.path == API_LOGIN:
                lock = lockout.locked(_json_username(request), client_ip(request))
                if lock is not None:
                    return _api_answer(lock)
        response = self.get_response(request)
        if request.method == "POST" and request.path in PAGE_LOGINS and response.status_code == 200:
            # the failure just counted may have started a lock: say so now, not on the next try
            lock = lockout.locked(request.POST.get("username", ""), client_ip(request))
            if lock is not None:
                return self._page(request, lock)
        return response

    def _page(self, request: HttpRequest, lock: lockout.Lock) -> HttpResponse:
        response = render(request, "security/locked.html",
                          {"message": lock_message(lock), "minutes": _minutes(lock)}, status=429)
        response["Retry-After"] = str(lock.seconds)
        return response


def _minutes(lock: lockout.Lock) -> int:
    return max(1, -(-lock.seconds // 60))


def lock_message(lock: lockout.Lock) -> str:
    if lock.scope == "username":
        return _("Too many failed sign-ins for this username: it is locked for %(minutes)d "
                 "more minute(s). Try again later or ask an administrator to unlock it.") % {
            "minutes": _minutes(lock)}
    return _("Too many failed sign-ins from your network address: it is locked for %(minutes)d "
             "more minute(s). Try again later.") % {"minutes": _minutes(lock)}


def _json_username(request: HttpRequest) -> str:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return ""
    name = body.get("username") if isinstance(body, dict) else None
    return name if isinstance(name, str) else ""


def _api_answer(lock: lockout.Lock) -> HttpResponse:
    response = JsonResponse({"code": "too_many_attempts", "message": lock_message(lock),
                             "details": {"retry_after": lock.seconds, "scope": lock.scope}},
                            status=429)
    response["Retry-After"] = str(lock.seconds)
    return response
