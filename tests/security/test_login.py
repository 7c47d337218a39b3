import json
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from citygrid.security.models import AuditAction, AuditEvent

from .conftest import PASSWORD


def page_login(client, username, password, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_lockout_after_repeated_failures_with_a_clear_message(user, settings, path):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15
    user.is_staff = True
    user.save()
    client = Client()
    for _ in range(2):
        assert page_login(client, "zhang", "wrong", path).status_code == 200
    third = page_login(client, "zhang", "wrong", path)
    assert third.status_code == 429  # the failure that starts the lock says so at once
    blocked = page_login(client, "ZHANG", PASSWORD, path)  # even the right password waits
    assert blocked.status_code == 429
    assert blocked["Retry-After"]
    text = blocked.content.decode()
    assert "15" in text and ("锁定" in text or "locked" in text)
    assert "_auth_user_id" not in client.session
    assert actions().count(AuditAction.LOCKOUT) == 1
    assert page_login(Client(), "someone-else", "wrong", path).status_code == 200  # others unaffected


def test_a_success_clears_the_count(user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(2):
        page_login(client, "zhang", "wrong")
    assert page_login(client, "zhang", PASSWORD).status_code == 302
    for _ in range(2):
        assert page_login(Client(), "zhang", "wrong").status_code == 200


def test_lockout_per_address(user, settings):
    settings.LOGIN_MAX_FAILURES = 100
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    client = Client(REMOTE_ADDR="10.1.2.3")
    for i in range(4):
        page_login(client, f"guess{i}", "wrong")
    assert page_login(client, "zhang", PASSWORD).status_code == 429
    assert page_login(Client(REMOTE_ADDR="10.9.9.9"), "zhang", PASSWORD).status_code == 302


def test_the_api_token_login_shares_the_accounting(user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.API_LOGIN_MAX_FAILURES = 50  # accounts' own throttle out of the way
    client = Client()

    def api(password):
        return client.post("/api/v1/auth/token", json.dumps(
            {"username": "zhang", "password": password, "device": "手机"}), content_type="application/json")

    assert api("wrong").status_code == 401
    assert api("wrong").status_code == 401
    blocked = api(PASSWORD)
    assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_attempts")
    assert page_login(Client(), "zhang", PASSWORD).status_code == 429  # the page login too


def test_sign_ins_and_outs_are_audited(user):
    client = Client(HTTP_USER_AGENT="pytest-agent", REMOTE_ADDR="10.0.0.7")
    page_login(client, "zhang", "wrong")
    page_login(client, "zhang", PASSWORD)
    client.post("/accounts/logout/")
    assert actions() == [AuditAction.LOGIN_FAILED, AuditAction.LOGIN, AuditAction.LOGOUT]
    failed, login, logout = AuditEvent.objects.order_by("id")
    assert (failed.actor_id, failed.actor_name, failed.ip) == (None, "zhang", "10.0.0.7")
    assert (login.actor_id, login.user_agent) == (user.pk, "pytest-agent")
    assert logout.actor_id == user.pk


def test_idle_sessions_are_signed_out(user, settings):
    from citygrid.security.middleware import LAST_SEEN

    settings.SESSION_IDLE_TIMEOUT = 60
    client = Client()
    page_login(client, "zhang", PASSWORD)
    assert client.get("/cases/").status_code == 200
    session = client.session
    session[LAST_SEEN] = session[LAST_SEEN] - 61
    session.save()
    answer = client.get("/cases/")
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
    assert AuditAction.IDLE_LOGOUT in actions()


def test_the_session_is_not_idle_within_the_timeout(user, settings):
    from citygrid.security.middleware import LAST_SEEN

    settings.SESSION_IDLE_TIMEOUT = 60
    client = Client()
    page_login(client, "zhang", PASSWORD)
    session = client.session
    session[LAST_SEEN] = session[LAST_SEEN] - 50
    session.save()
    assert client.get("/cases/").status_code == 200


@pytest.mark.parametrize("password, ok", [
    ("short1!", False),  # too short
    ("onlyletterslong", False),
    ("letters2026only", False),  # two classes
    ("城管-巡查员-2026", True),
    ("Gongcheng-2026!", True),
])
def test_password_policy(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_password_policy_speaks_chinese():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        validate_password("letters2026only")
    assert any("字母" in m for m in caught.value.messages)


def test_the_help_desk_can_unlock(user, settings):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        page_login(Client(), "zhang", "wrong")
    assert page_login(Client(), "zhang", PASSWORD).status_code == 429
    out = io.StringIO()
    call_command("unlock_login", "zhang", stdout=out)
    assert out.getvalue().startswith("unlocked username zhang")
    assert page_login(Client(), "zhang", PASSWORD).status_code == 302
    with pytest.raises(CommandError) as caught:
        call_command("unlock_login", "--address", "not-an-ip")
    assert caught.value.returncode == 2


def test_the_lockout_works_with_the_database_cache(tmp_path):
    """CACHE_BACKEND=db (shared by several processes): two processes see one count."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "CACHE_BACKEND": "db", "LOGIN_MAX_FAILURES": "2", "DJANGO_SETTINGS_MODULE": "citygrid.settings"}
    citygrid = str(Path(sys.executable).with_name("citygrid"))
    subprocess.run([citygrid, "createcachetable"], env=env, check=True, capture_output=True)
    code = ("import django; django.setup(); from citygrid.security import lockout; "
            "print(lockout.count_failure('zhang', None), lockout.locked('zhang', None))")
    outputs = [subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                              text=True).stdout.strip() for _ in range(2)]
    assert outputs[0] == "[] None"
    assert outputs[1].startswith("[Lock(scope='username'") and "Lock(scope='username'" in outputs[1].split("] ")[1]
