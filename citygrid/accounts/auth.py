"""Authentication for the API: a bearer token (mobile apps, programs) or the Django session
(the pages), tried in that order. Use `auth=API_AUTH` on a router or operation.

Session requests must pass Django's CSRF check on unsafe methods, as with ninja's
`django_auth`; the difference is only in the answers: no credentials at all is 401
`unauthenticated` (not a CSRF 403), and a failed CSRF check is 403 `csrf_failed`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from ninja.utils import check_csrf

from citygrid.accounts.actions import use_token
from citygrid.core.errors import PermissionDenied


class TokenAuth(HttpBearer):
    """`Authorization: Bearer cg_…` with a token from `POST /api/v1/auth/token`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = use_token(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


class CsrfSessionAuth(SessionAuth):
    """The Django session, with CSRF enforced on unsafe methods for signed-in users."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied("The CSRF check failed: send the X-CSRFToken header with the "
                                   "csrftoken cookie's value.", code="csrf_failed")
        return request.COOKIES.get(self.param_name)


API_AUTH: list[Any] = [TokenAuth(), CsrfSessionAuth()]
