"""API tokens: issue, use, list, revoke, expire; nothing of the key stored but its hash."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from citygrid.accounts import actions
from citygrid.accounts.models import ApiToken
from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed


@pytest.fixture
def user(db: None, settings: Any, django_user_model: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user("zhang", password="correct horse")


def login(username: str, password: str, device: str = "华为 Mate 60") -> Any:
    body = {"username": username, "password": password, "device": device}
    return Client().post("/api/v1/auth/token", json.dumps(body), content_type="application/json")


def bearer(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_login_issues_a_token_shown_once_and_stored_as_a_hash(user):
    response = login("zhang", "correct horse")
    assert response.status_code == 201
    body = response.json()
    key = body["token"]
    assert key.startswith("cg_") and len(key) > 40 and body["expires_at"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (user, "华为 Mate 60", key[:11])
    assert key not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert token.key_hash == actions.hash_key(key)
    listed = bearer(key).get("/api/v1/auth/tokens")
    assert listed.status_code == 200
    assert [t["prefix"] for t in listed.json()] == [key[:11]]
    assert "token" not in listed.json()[0] and "key_hash" not in listed.json()[0]


def test_wrong_password_unknown_user_and_inactive_user_look_the_same(user, django_user_model):
    django_user_model.objects.create_user("li", password="pw-li-123", is_active=False)
    answers = [login("zhang", "wrong"), login("nobody", "whatever"), login("li", "pw-li-123")]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert answers[0].json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("body,field", [
    ({"username": "zhang", "password": "correct horse"}, "device"),
    ({"username": "zhang", "password": "correct horse", "device": ""}, "device"),
    ({"username": "zhang", "password": "correct horse", "device": "x" * 101}, "device"),
    ({"password": "correct horse", "device": "p"}, "username"),
])
def test_bad_login_requests_are_422(user, body, field):
    response = Client().post("/api/v1/auth/token", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"][-1] == field


def test_blank_device_name_from_an_action_caller(user):
    with pytest.raises(ValidationFailed) as caught:
        actions.issue_token(user, "   ")
    assert caught.value.details == {"field": "device"}


def test_revoked_token_stops_working(user):
    token, key = actions.issue_token(user, "phone")
    phone = bearer(key)
    assert phone.get("/api/v1/auth/tokens").status_code == 200
    response = phone.delete(f"/api/v1/auth/tokens/{token.pk}")
    assert response.status_code == 200 and response.json()["revoked_at"]
    refused = phone.get("/api/v1/auth/tokens")
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated")
    token.refresh_from_db()
    first_revoked = token.revoked_at
    actions.revoke_token(user, token.pk)  # twice is harmless, the first time stays
    token.refresh_from_db()
    assert token.revoked_at == first_revoked


def test_one_may_not_revoke_or_see_anothers_token(user, django_user_model):
    other = django_user_model.objects.create_user("wang", password="x")
    theirs, _ = actions.issue_token(other, "their phone")
    _, key = actions.issue_token(user, "my phone")
    response = bearer(key).delete(f"/api/v1/auth/tokens/{theirs.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "token_not_found")
    assert [t["name"] for t in bearer(key).get("/api/v1/auth/tokens").json()] == ["my phone"]
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    with pytest.raises(NotFound):
        actions.revoke_token(user, theirs.pk)


def test_expired_token_and_inactive_user_are_refused(user, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 30
    issued_at = timezone.now() - timedelta(days=31)
    token, key = actions.issue_token(user, "old phone", now=issued_at)
    assert token.expires_at == issued_at + timedelta(days=30)
    assert actions.use_token(key) is None
    assert bearer(key).get("/api/v1/auth/tokens").status_code == 401
    _, fresh = actions.issue_token(user, "new phone")
    assert actions.use_token(fresh) is not None
    user.is_active = False
    user.save()
    assert actions.use_token(fresh) is None


def test_tokens_may_never_expire(user, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 0
    token, key = actions.issue_token(user, "kiosk")
    assert token.expires_at is None
    assert actions.use_token(key, now=timezone.now() + timedelta(days=3650)) is not None


def test_last_use_is_written_at_most_once_a_minute(user):
    token, key = actions.issue_token(user, "phone")
    start = timezone.now()
    actions.use_token(key, now=start)
    token.refresh_from_db()
    assert token.last_used_at == start
    actions.use_token(key, now=start + timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + timedelta(seconds=61)
    actions.use_token(key, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


@pytest.mark.parametrize("key", ["", "cg_", "cg_unknown", "Token abc", "x" * 500])
def test_unknown_keys_are_refused(user, key):
    actions.issue_token(user, "phone")
    assert actions.use_token(key) is None


def test_anonymous_gets_no_token(db):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        actions.issue_token(AnonymousUser(), "phone")


def test_admin_lists_tokens_without_keys_and_revokes(user, django_user_model):
    admin_user = django_user_model.objects.create_superuser("admin", "a@example.org", "pw")
    token, key = actions.issue_token(user, "phone")
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/accounts/apitoken/")
    assert page.status_code == 200
    html = page.content.decode()
    assert token.prefix in html and key not in html and token.key_hash not in html
    detail = browser.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert detail.status_code == 200 and token.key_hash not in detail.content.decode()
    response = browser.post("/admin/accounts/apitoken/", {
        "action": "revoke", "_selected_action": [str(token.pk)]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert actions.use_token(key) is None


def test_nul_characters_are_refused_not_crashing(user):
    response = login("zh\x00ang", "correct horse")
    assert response.status_code == 422


def test_repeated_failures_are_throttled(user, settings):
    settings.API_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert login("zhang", "wrong").status_code == 401
    blocked = login("zhang", "correct horse")  # even the right password waits now
    assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_attempts")
    assert not ApiToken.objects.exists()
    assert login("Zhang", "wrong").status_code == 429  # usernames are counted case-insensitively
    assert login("someone-else", "wrong").status_code == 401  # another name from the same address


def test_a_success_does_not_count_as_a_failure(user, settings):
    settings.API_LOGIN_MAX_FAILURES = 2
    for _ in range(4):
        assert login("zhang", "correct horse").status_code == 201


def test_behind_a_proxy_failures_count_per_client_not_per_proxy(user, settings):
    settings.API_LOGIN_MAX_FAILURES = 2
    settings.PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="10.0.0.1")  # every request arrives from the proxy

    def attempt(address: str, password: str) -> int:
        return client.post("/api/v1/auth/token", json.dumps(
            {"username": "zhang", "password": password, "device": "phone"}),
            content_type="application/json", HTTP_X_FORWARDED_FOR=address).status_code

    assert [attempt("203.0.113.7", "wrong") for _ in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.9", "correct horse") == 201  # another client is not locked out
