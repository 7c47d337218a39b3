"""The authorization matrix (tests/security/authz_matrix.py), checked two ways:

- completeness: every URL pattern (pages, Open311, the API's own pages; the admin as one row)
  and every django-ninja operation under /api/v1/ has a row, and every row still exists;
- answers: for each row, every principal in every scope the row names makes the real request
  (Django test client, the real database, the data of tests/security/authz_fixtures.py) and
  gets the declared answer. All cells of a row run in one test, each in a rolled-back
  savepoint; a failure lists every cell that differs.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import messages
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.cases import conftest as cases_conftest
from tests.security.authz_fixtures import PASSWORD, PLACES, World, build_world
from tests.security.authz_matrix import (
    ANONYMOUS,
    DONE,
    KNOWN_HOLES,
    LOGIN,
    OK,
    OTHER_DISTRICT,
    OWN,
    REDIRECT,
    REFUSED,
    REPORT_SOURCE,
    ROWS,
    Answer,
    Row,
    visible,
)

FMT = r"(?:\.(?P<fmt>json|xml))?"
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


# --- Completeness ----------------------------------------------------------------------------


def route_key(route: str) -> str:
    """A resolver route as the table writes it: regex routes without anchors, the Open311
    format suffix as {.fmt} and named groups as <name>."""
    route = route.replace(FMT, "{.fmt}").replace("^", "").replace("$", "")
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def page_routes() -> set[str]:
    """Every Django route but the admin's and the ninja operations'."""
    found = set()
    for route, pattern in _walk(get_resolver()):
        if route.startswith("admin/"):
            continue
        if getattr(pattern.callback, "__module__", "").startswith("ninja.operation"):
            continue
        found.add(route_key(route))
    return found


def api_operations() -> set[str]:
    """"METHOD api/v1/path" for every operation of every router of the NinjaAPI."""
    from citygrid.api.urls import api

    found = set()
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                found |= {f"{method} api/v1{path}" for method in operation.methods}
    return found


def test_the_table_names_every_route_and_nothing_else() -> None:
    pages = page_routes()
    declared_pages = {row.route for row in ROWS if not row.api}
    operations = api_operations()
    declared_operations = {row.key for row in ROWS if row.api}
    problems = [f"route without a row: {r}" for r in sorted(pages - declared_pages - {"admin/"})]
    problems += [f"row for a route that no longer exists: {r}"
                 for r in sorted(declared_pages - pages - {"admin/"})]
    problems += [f"API operation without a row: {k}" for k in sorted(operations - declared_operations)]
    problems += [f"row for an API operation that no longer exists: {k}"
                 for k in sorted(declared_operations - operations)]
    admin_routes = [route for route, _ in _walk(get_resolver()) if route.startswith("admin/")]
    if admin_routes and "admin/" not in declared_pages:
        problems.append("the admin site has no row")
    assert not problems, "\n".join(problems)


def test_the_completeness_check_sees_every_kind_of_route() -> None:
    """The walk finds page, regex (Open311) and API routes, so a missing one would be named."""
    pages = page_routes()
    assert {"cases/<str:number>/", "open311/v2/requests/<service_request_id>{.fmt}",
            "api/v1/docs"} <= pages
    assert "POST api/v1/cases/{number}/file" in api_operations()
    assert len({row.id for row in ROWS}) == len(ROWS), "two rows make the same request"


# --- The world -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("authz-media")))
    media.enable()
    try:
        with django_db_blocker.unblock():
            cases_conftest._flush()
            built = build_world()
        yield built
    finally:
        with django_db_blocker.unblock():
            cases_conftest._flush()
        media.disable()


class Context(dict[str, Any]):
    """The placeholders of one cell."""

    def __init__(self, world: World, row: Row, principal: str, scope: str | None) -> None:
        where = scope or OWN
        place = PLACES[where]
        lon, lat = world.points[where]
        state = row.sees.split(":", 1)[1] if row.sees and row.sees.startswith("case:") else "handling"
        now = timezone.now()
        super().__init__(
            lon=lon, lat=lat, bbox=f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}",
            dept=place.department, dept_id=world.department_ids[where], sibling=place.sibling,
            foreign=place.foreign, community=place.community,
            district=place.district, district_id=world.district_ids[where],
            source=REPORT_SOURCE.get(principal, "city_inspector"), version=world.versions[(state, where)],
            day=timezone.localdate().isoformat(), future=(now + timedelta(days=5)).isoformat(),
            grid=world.grid, standard=world.standard, category=world.category,
            component=world.components[where], photo=world.photos[where],
            token=world.tokens.get(principal, world.other_token) if where == OWN else world.other_token,
            dossier=world.dossiers[where], invitation=world.invitations[where],
            meeting=world.meetings[where], run=world.run, password=PASSWORD, nonce=uuid.uuid4().hex,
            service=world.service_code, api_key=world.api_key, o311request=world.open311_request,
            o311token=world.open311_token, tracking=world.tracking_code,
            **{f"number:{s}": n for (s, sc), n in world.cases.items() if sc == where},
        )
        self.photo_bytes = world.photo_bytes

    def fill(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if value == "@photo":
            return SimpleUploadedFile("p.png", self.photo_bytes, content_type="image/png")
        if not isinstance(value, str):
            return value
        whole = re.fullmatch(r"\{([\w:]+)\}", value)
        if whole:
            return self[whole.group(1)]
        return re.sub(r"\{([\w:]+)\}", lambda m: str(self[m.group(1)]), value)


def outcome(response: HttpResponse) -> Answer:
    code = response.status_code
    if 200 <= code < 300:
        return OK
    if code != 302:
        return code
    if response["Location"].split("?")[0].endswith(LOGIN_PATHS):
        return LOGIN
    request = getattr(response, "wsgi_request", None)
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    levels = {m.level for m in queued}
    if any(level >= messages.ERROR for level in levels):
        return REFUSED
    return DONE if messages.SUCCESS in levels else REDIRECT


def request(world: World, row: Row, principal: str, scope: str | None) -> tuple[Answer, HttpResponse]:
    """One cell: the request in a savepoint that is rolled back afterwards."""
    ctx = Context(world, row, principal, scope)
    path = ctx.fill(row.path)
    client = world.client(principal)
    cache.clear()  # rate limits and sign-in counters
    with transaction.atomic():
        if row.method in ("GET", "DELETE"):
            response = client.generic(row.method, path)
        elif row.encoding == "json":
            response = client.post(path, json.dumps(ctx.fill(row.body or {})),
                                   content_type="application/json")
        else:
            response = client.post(path, {k: ctx.fill(v) for k, v in (row.body or {}).items()})
        transaction.set_rollback(True)
    got = outcome(response)
    if row.answer_in and response.status_code == 200:
        found: Any = response.json()
        for part in row.answer_in.split("."):
            found = found[int(part)] if part.isdigit() else found[part]
        got = OK if 200 <= int(found) < 300 else int(found)
    return got, response


def markers(world: World, lists: str) -> dict[str, str]:
    """For each scope, a text that appears in a list exactly when that scope's object does."""
    from tests.security.authz_matrix import SCOPES

    if lists == "meeting":
        return {scope: f"authz {scope}" for scope in SCOPES}
    state = lists.split(":", 1)[1] if lists.startswith("case:") else "in_collaboration"
    return {scope: world.cases[(state, scope)] for scope in SCOPES}


def check_list(world: World, row: Row, principal: str, response: HttpResponse) -> list[str]:
    assert row.lists is not None
    content = response.content.decode()
    shown = {scope for scope, marker in markers(world, row.lists).items() if marker in content}
    expected = set(visible(row.lists, principal))
    if shown == expected:
        return []
    return [f"{principal:26s} lists {sorted(shown)}, expected {sorted(expected)}"]


def _params() -> list[Any]:
    params = []
    for row in ROWS:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_HOLES[row.id])] if row.id in KNOWN_HOLES else []
        params.append(pytest.param(row, id=row.id, marks=marks))
    return params


@pytest.mark.parametrize("row", _params())
def test_every_principal_gets_the_declared_answer(row: Row, world: World, db: None) -> None:
    failures = []
    for principal in row.principals:
        for scope in row.scopes or (None,):
            expected = row.expected(principal, scope)
            got, response = request(world, row, principal, scope)
            if got != expected:
                detail = response.content[:160].decode(errors="replace").replace("\n", " ")
                failures.append(f"{principal:26s} {scope or '-':16s} expected {expected}, got {got}: {detail}")
            elif row.lists and got == OK:
                failures += check_list(world, row, principal, response)
    assert not failures, f"{row.key} ({row.path}):\n" + "\n".join(failures)


def test_matrix_cells_are_independent(world: World, db: None) -> None:
    """A write in one cell is rolled back before the next: filing the same case twice works."""
    row = next(r for r in ROWS if r.key == "POST api/v1/cases/{number}/file")
    first, _ = request(world, row, "shift_leader", OWN)
    second, _ = request(world, row, "shift_leader", OWN)
    assert first == second == OK
    assert request(world, row, "shift_leader", OTHER_DISTRICT)[0] == 404
    assert request(world, row, ANONYMOUS, OWN)[0] == 401


@pytest.mark.parametrize("username,status", [("leader_city", 202), ("shift_leader_city", 202),
                                             ("administrator_city", 202), ("city_inspector_1", 403),
                                             ("handler_power", 403)])
def test_the_city_centre_generates_the_assessment(world: World, db: None, username: str,
                                                  status: int) -> None:
    """The rows' principals are Jinjiang's; the city's own centre roles may generate a run,
    other users whose scope is the whole city may not."""
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    body = json.dumps({"period": "month", "day": timezone.localdate().isoformat()})
    response = client.post("/api/v1/assessment/runs", body, content_type="application/json")
    assert response.status_code == status, response.content


def test_people_phones_are_masked_without_the_contact_permission(world: World, db: None) -> None:
    """The people list shows a phone in full only to users with org.view_person_contact (the
    organisation's maintainers), as the people export does."""
    from citygrid.org.models import Person

    Person.objects.filter(user__username="handler_jinjiang_hw").update(phone="13812345678")
    phones = {}
    for principal in ("handler", "dispatcher", "superuser"):
        listed = world.client(principal).get("/api/v1/people").json()
        phones[principal] = next(p["phone"] for p in listed if p["username"] == "handler_jinjiang_hw")
    assert phones == {"handler": "138****5678", "dispatcher": "13812345678",
                      "superuser": "13812345678"}
