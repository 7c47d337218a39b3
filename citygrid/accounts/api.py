"""Token API: sign in for a token, list and revoke one's tokens (`/api/v1/auth/…`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import field_validator

from citygrid.accounts import actions, selectors
from citygrid.accounts.auth import API_AUTH
from citygrid.core.errors import DomainError
from citygrid.security.context import client_ip

router = Router(tags=["auth"])


class TokenRequest(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=4096)
    device: str = Field(..., min_length=1, max_length=100, description="what the token is for, e.g. the phone")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class TokenIssued(Schema):
    id: int
    token: str = Field(..., description="the key: shown this once, send it as `Authorization: Bearer …`")
    prefix: str
    name: str
    expires_at: datetime | None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    details: object | None = None


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def _failure_keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    """Cache keys counting failed sign-ins, with their limits: per address and username, and per
    address (`API_LOGIN_MAX_FAILURES`, default 10, and ten times that)."""
    limit = int(getattr(settings, "API_LOGIN_MAX_FAILURES", 10))
    # The client's address as the page sign-in counts it (behind PROXY_COUNT trusted proxies,
    # the address they saw): the proxy's own address would lock everyone out together.
    address = client_ip(request) or "unknown"
    # Hashed: a username may hold characters (spaces, controls) that memcached keys cannot.
    who = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    return [(f"login-fail:{address}:{who}", limit),
            (f"login-fail:{address}", limit * 10)]


def _check_attempts(request: HttpRequest, username: str) -> None:
    window = int(getattr(settings, "API_LOGIN_FAILURE_WINDOW", 900))
    for key, limit in _failure_keys(request, username):
        if int(cache.get(key, 0)) >= limit:
            raise TooManyAttempts(f"Too many failed sign-ins; try again in {window // 60} minutes.",
                                  details={"retry_after": window})


def _count_failure(request: HttpRequest, username: str) -> None:
    window = int(getattr(settings, "API_LOGIN_FAILURE_WINDOW", 900))
    for key, _ in _failure_keys(request, username):
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, window)


@router.post("/auth/token", auth=None,
             response={201: TokenIssued, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary="Sign in with username and password; get an API token")
def issue_token(request: HttpRequest, body: TokenRequest) -> Status[dict[str, object]]:
    # One answer for an unknown user, a wrong password and an inactive user (no enumeration);
    # Django's ModelBackend also hashes a dummy password for unknown users (same timing).
    _check_attempts(request, body.username)
    user = authenticate(request, username=body.username, password=body.password)
    if user is None or not user.is_active:
        _count_failure(request, body.username)
        raise InvalidCredentials("The username or password is wrong.")
    token, key = actions.issue_token(user, body.device)
    return Status(201, {"id": token.pk, "token": key, "prefix": token.prefix, "name": token.name,
                        "expires_at": token.expires_at})


@router.get("/auth/tokens", auth=API_AUTH, response=list[TokenOut], summary="My API tokens")
def list_tokens(request: HttpRequest) -> object:
    return list(selectors.tokens_of(request.auth))


@router.delete("/auth/tokens/{token_id}", auth=API_AUTH, response={200: TokenOut, 404: ErrorOut},
               summary="Revoke one of my API tokens")
def revoke_token(request: HttpRequest, token_id: int) -> object:
    return actions.revoke_token(request.auth, token_id)
