"""Support for the API fuzz tests (tests/security/test_fuzz_api.py).

- `DjangoWSGI`: the Django app as a WSGI callable for schemathesis' in-process transport, run
  the way Django's test client runs it (no connection closing between requests, so every
  request sees the test's transaction), remembering the exception behind any 500.
- `load_world`: the small demo city with its standard, calendars, organisation and inventory,
  a case in each state that has operations of its own, collaboration dossiers and a meeting,
  the public services and a public request, plus one user holding every role over the whole
  city with an API token and a session: fuzzed requests then reach the operations' logic
  instead of stopping at 401/403/404. Committed once per module (a few seconds).
- `World.values` / `World.body_values`: identifiers and field values that exist in that world,
  which the fuzzers mix into the generated ones.
"""

from __future__ import annotations

import io
import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import got_request_exception
from django.http import HttpResponseBase
from django.test.client import ClientHandler

OPEN311_DOCUMENT = Path(__file__).resolve().parents[2] / "citygrid" / "exchange" / "open311_openapi.yaml"
FUZZ_USERNAME = "fuzz_city"
# Roles held over the whole city; handler and department head over every department.
AREA_ROLES = ("administrator", "leader", "shift_leader", "intake_operator", "dispatcher",
              "city_inspector", "district_inspector", "street_staff")
DEPARTMENT_ROLES = ("handler", "department_head", "collaboration_coordinator")


class DjangoWSGI:
    """Django as a WSGI app for in-process fuzzing; `errors` collects unhandled exceptions."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)
        self.errors: list[str] = []

    def _record(self, sender: Any, request: WSGIRequest | None = None, **kwargs: Any) -> None:
        import traceback

        self.errors.append("".join(traceback.format_exception(*sys.exc_info())))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")  # as every WSGI server sets it
        got_request_exception.connect(self._record)
        try:
            response: HttpResponseBase = self.handler(environ)
        finally:
            got_request_exception.disconnect(self._record)
        headers = list(response.items())
        headers += [("Set-Cookie", c.output(header="").strip()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        if response.streaming:
            return [b"".join(response.streaming_content)]  # type: ignore[attr-defined]
        return [response.content]


@dataclass
class World:
    token: str
    user_id: int
    values: dict[str, list[Any]] = field(default_factory=dict)
    api_key: str = ""
    session: str = ""  # the fuzz user's session cookie, for the routers that take only that
    body_values: dict[str, list[Any]] = field(default_factory=dict)

    def cookies(self) -> dict[str, str]:
        from django.conf import settings

        return {settings.SESSION_COOKIE_NAME: self.session}


# Case scenarios of the cases demo: one case in each state that has operations of its own.
CASE_SCRIPTS: list[tuple[str, list[str]]] = [
    ("standard", []), ("standard", ["file"]), ("standard", ["file", "dispatch"]),
    ("standard", ["file", "dispatch", "accept"]),
    ("standard", ["file", "dispatch", "accept", "request_postponement"]),
    ("standard", ["file", "dispatch", "accept", "suspend"]),
    ("standard", ["file", "dispatch", "accept", "feedback"]),
    ("standard", ["file", "dispatch", "accept", "feedback", "check_pass"]),
    ("standard", ["file", "dispatch", "accept", "feedback", "check_pass", "close"]),
    ("standard", ["reject"]), ("standard", ["file", "void"]),
    ("standard", ["file", "dispatch", "send_to_collaboration"]),
    ("public_report", []), ("flat", []), ("flat", ["feedback"]),
]


def load_world() -> World:
    """Builds the committed fuzzing world (a few seconds); the caller flushes the database
    afterwards. The small demo city, calendars, standard, organisation, inventory, a case in
    each state, a collaboration dossier and meeting, the public services and one request."""
    from django.core.management import call_command

    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.exchange.actions import Contact, issue_api_key, submit_public_request
    from citygrid.exchange.demo import load_services
    from citygrid.exchange.models import PublicService
    from citygrid.inventory.demo import load_demo as inventory
    from citygrid.org.demo import load_demo as org
    from citygrid.space.demo import load_city
    from citygrid.space.geocoding import invalidate_index

    call_command("flush", interactive=False, verbosity=0)
    invalidate_index()
    load_city("small")
    out = io.StringIO()
    calendars(out)
    catalog(out)
    org(out, size="small")
    inventory(out, size="small")
    _cases()
    load_services(out)
    service = PublicService.objects.order_by("service_code").first()
    assert service is not None
    case = _cases_demo().report("standard", _districts()[0], 99)
    submit_public_request(service=service, lon=case.lon, lat=case.lat, channel="open311",
                          description="fuzz", contact=Contact(name="fuzz"))
    _, api_key = issue_api_key(None, name="fuzz client")
    user_id, token = _fuzz_user()
    return World(token=token, user_id=user_id, values=_values(user_id), api_key=api_key,
                 session=_session(user_id), body_values=_body_values(api_key))


def _body_values(api_key: str) -> dict[str, list[Any]]:
    """Existing values by body field name; `point` fills lon/lat (or Open311's lat/long) and
    `class` fills kind/category_code, which belong together."""
    from citygrid.cases.models import Case
    from citygrid.exchange.models import PublicService
    from citygrid.org.models import Department, Role

    cases = Case.objects.order_by("number")
    departments = list(Department.objects.order_by("code").values_list("code", flat=True)[:8])
    return {
        "point": list(cases.values_list("lon", "lat")[:4]),
        "class": list(cases.values_list("kind", "category__code").distinct()[:4]),
        "source": ["city_inspector", "hotline"],
        "crs": ["wgs84"],
        "role": list(Role.values),
        "department": departments,
        "owner": departments,
        "departments": [departments[:2]],
        "duplicate_of": list(cases.values_list("number", flat=True)[:3]),
        "extension": ["2 working days"],
        "api_key": [api_key],
        "service_code": list(PublicService.objects.order_by("service_code")
                             .values_list("service_code", flat=True)[:3]),
    }


def _session(user_id: int) -> str:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _districts() -> list[Any]:
    from citygrid.cases.demo import _districts

    return _districts()


def _cases_demo() -> Any:
    from citygrid.cases.demo import Demo

    return Demo(random.Random(2016))


def _cases() -> None:
    from citygrid.cases.demo import _emergency_rules
    from citygrid.collab.demo import Demo as CollabDemo
    from citygrid.collab.demo import _districts as collab_districts

    districts = _districts()
    _emergency_rules(districts)
    demo = _cases_demo()
    for n, (process, script) in enumerate(CASE_SCRIPTS):
        demo.run(process, script, districts[0], n)
    CollabDemo(random.Random(19)).meeting(collab_districts("small")[0], hold=False)


def _fuzz_user() -> tuple[int, str]:
    from citygrid.accounts.actions import issue_token
    from citygrid.org import actions
    from citygrid.org.models import Department
    from citygrid.space.models import Area

    city = Area.objects.get(level="city")
    departments = list(Department.objects.filter(parent__isnull=True))
    person = actions.save_person(None, username=FUZZ_USERNAME, display_name="模糊测试员",
                                 department=Department.objects.get(code="CITY-SUP"))
    for role in AREA_ROLES:
        actions.assign_role(None, person, role, areas=[city])
    for role in DEPARTMENT_ROLES:
        actions.assign_role(None, person, role, departments=departments)
    _, key = issue_token(person.user, "fuzzer")
    return person.user.pk, key


def _values(user_id: int) -> dict[str, list[Any]]:
    """Existing identifiers by path parameter name (a few of each, in a stable order); names
    joined by "+" give sets of parameters that belong together."""
    from citygrid.accounts.models import ApiToken
    from citygrid.assess.models import AssessmentRun
    from citygrid.cases.models import Case, Photo
    from citygrid.catalog.models import Category, Standard
    from citygrid.collab.models import Dossier, Invitation, Meeting
    from citygrid.exchange.models import PublicRequest, PublicService
    from citygrid.inventory.models import Component
    from citygrid.org.models import Role
    from citygrid.space.models import Area, UnitGrid

    def first(qs: Any, n: int = 4) -> list[Any]:
        return list(qs[:n])

    numbers: list[str] = []
    for state in Case.objects.order_by("state").values_list("state", flat=True).distinct():
        numbers += first(Case.objects.filter(state=state).order_by("number")
                         .values_list("number", flat=True), 2)
    codes = (first(Area.objects.order_by("level", "code").values_list("code", flat=True), 6)
             + first(UnitGrid.objects.order_by("code").values_list("code", flat=True), 3)
             + first(Component.objects.order_by("code").values_list("code", flat=True), 3))
    return {
        "number": numbers,
        "case": numbers,
        "code": codes,
        "standard_id": first(Standard.objects.order_by("pk").values_list("pk", flat=True)),
        "category_id": first(Category.objects.order_by("pk").values_list("pk", flat=True), 6),
        "token_id": first(ApiToken.objects.filter(user_id=user_id).values_list("pk", flat=True)),
        "photo_id": first(Photo.objects.order_by("pk").values_list("pk", flat=True)),
        "role": list(Role.values),
        "run_id": first(AssessmentRun.objects.order_by("pk").values_list("pk", flat=True)),
        "dossier_id": first(Dossier.objects.order_by("pk").values_list("pk", flat=True), 6),
        "invitation_id": first(Invitation.objects.order_by("pk").values_list("pk", flat=True), 6),
        "meeting_id": first(Meeting.objects.order_by("pk").values_list("pk", flat=True)),
        "service_code": first(PublicService.objects.order_by("service_code")
                              .values_list("service_code", flat=True), 6),
        "service_request_id": first(PublicRequest.objects.order_by("pk")
                                    .values_list("case__number", flat=True)),
        "token": first(PublicRequest.objects.order_by("pk").values_list("token", flat=True)),
        "format": ["json", "xml"],
        "number+photo_id": [{"number": n, "photo_id": p} for n, p in
                            Photo.objects.order_by("pk").values_list("case__number", "pk")[:4]],
    }
