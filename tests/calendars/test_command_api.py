"""`citygrid deadline` and GET /api/v1/calendars/deadline."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from citygrid.calendars import actions
from citygrid.calendars.models import ConfirmedYear

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("deadline", *args, stdout=out)
    return out.getvalue()


def test_command_prints_iso_deadline() -> None:
    out = run("--start", "2026-02-13T16:00+08:00", "--limit", "1 working day")
    assert out.strip() == "2026-02-14T16:00:00+08:00"
    assert run("--start", "2026-02-13T16:00+08:00", "--limit", "2 working days").strip() == (
        "2026-02-24T16:00:00+08:00")
    assert run("--start", "2026-02-13T08:00Z", "--limit", "30 minutes").strip() == "2026-02-13T16:30:00+08:00"


def test_command_explain_and_calendar() -> None:
    actions.ensure_supervision_calendar()
    out = run("--start", "2026-02-13T16:00+08:00", "--limit", "1 working day", "--explain")
    assert out.splitlines()[0] == "2026-02-14T16:00:00+08:00"
    assert "2026-02-14 08:30–12:00" in out and "make-up working day" in out
    out = run("--start", "2026-02-16T20:00+08:00", "--limit", "2 working hours", "--calendar", "supervision")
    assert out.strip() == "2026-02-17T09:00:00+08:00"


def test_command_marks_provisional_years() -> None:
    out = run("--start", "2027-02-04T16:00+08:00", "--limit", "1 working day", "--explain")
    assert "PROVISIONAL" in out and "2027" in out
    out = run("--start", "2027-02-04T16:00+08:00", "--limit", "1 working day")
    assert "PROVISIONAL" in out
    ConfirmedYear.objects.create(year=2027)
    from django.utils import timezone

    ConfirmedYear.objects.filter(year=2027).update(confirmed_at=timezone.now())
    assert "PROVISIONAL" not in run("--start", "2027-02-04T16:00+08:00", "--limit", "1 working day")


@pytest.mark.parametrize(("args", "words"), [
    (["--start", "2026-02-30T16:00+08:00", "--limit", "1 working day"], "cannot read"),
    (["--start", "yesterday", "--limit", "1 working day"], "ISO 8601"),
    (["--start", "2026-02-13T16:00+08:00", "--limit", "1 fortnight"], "unknown unit"),
    (["--start", "2026-02-13T16:00+08:00", "--limit", "-1 working day"], "negative"),
    (["--start", "2026-02-13T16:00+08:00", "--limit", "1 working day", "--calendar", "nope"], "nope"),
    (["--start", "2026-02-13T16:00+08:00", "--limit", "99999 working days"], "100 years"),
])
def test_command_bad_input_exits_2(args: list[str], words: str) -> None:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    assert words in str(exc.value)


def test_command_line_exit_code_and_stderr() -> None:
    """The real console script: message on stderr, exit status 2 (fails before any query)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "citygrid.settings"}
    for args in (["--start", "nonsense", "--limit", "1 working day"], ["--limit", "1 working day"]):
        proc = subprocess.run([sys.executable, "-m", "citygrid.cli", "deadline", *args],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        assert "start" in proc.stderr


URL = "/api/v1/calendars/deadline"


def test_api_deadline(client) -> None:
    response = client.get(URL, {"start": "2026-02-13T16:00+08:00", "limit": "1 working day"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["deadline"] == "2026-02-14T16:00:00+08:00"
    assert body["provisional"] is False and body["provisional_years"] == []
    assert any("make-up working day" in line for line in body["explanation"])
    # a '+' left unencoded in the query string arrives as a space
    response = client.get(f"{URL}?start=2026-02-13T16:00+08:00&limit=1+working+day")
    assert response.json()["deadline"] == "2026-02-14T16:00:00+08:00"


def test_api_provisional_and_calendar(client) -> None:
    body = client.get(URL, {"start": "2027-02-04T16:00+08:00", "limit": "2 working days"}).json()
    assert body["provisional"] is True and body["provisional_years"] == [2027]
    actions.ensure_supervision_calendar()
    body = client.get(URL, {"start": "2027-02-04T16:00+08:00", "limit": "2 working days",
                            "calendar": "supervision"}).json()
    assert body["provisional"] is False and body["deadline"] == "2027-02-06T16:00:00+08:00"


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"start": "2026-02-30T16:00", "limit": "1 working day"}, 422, "invalid_start"),
    ({"start": "2026-02-13T16:00", "limit": "1 eon"}, 422, "invalid_limit"),
    ({"start": "2026-02-13T16:00", "limit": "-2 hours"}, 422, "invalid_limit"),
    ({"start": "2026-02-13T16:00"}, 422, "invalid_request"),
    ({"start": "2026-02-13T16:00", "limit": "1 hour", "calendar": "nope"}, 404, "calendar_not_found"),
    ({"start": "2026-02-13T16:00", "limit": "999999999 working days"}, 422, "duration_too_long"),
])
def test_api_bad_input(client, params: dict[str, str], status: int, code: str) -> None:
    response = client.get(URL, params)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
