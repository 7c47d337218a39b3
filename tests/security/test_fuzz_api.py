"""API fuzzing with schemathesis (docs/security.md, "API fuzzing"): the REST API
(/api/v1/openapi.json) and Open311 GeoReport v2 (citygrid/exchange/open311_openapi.yaml) get
generated requests, valid and invalid, from a user with every role across the small demo city.
Every answer must be a documented status, carry the documented content type and match its
schema; none may be a 5xx. Then: every documented error status is produced by some request,
and what the fuzzing found stays fixed."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.fuzz_support import OPEN311_DOCUMENT, DjangoWSGI, World, load_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
if os.environ.get("FUZZ_NEGATIVE") == "1":
    from schemathesis.specs.openapi.checks import negative_data_rejection

    CHECKS.append(negative_data_rejection)
# Generated requests per operation: few, so the suite stays short. FUZZ_EXAMPLES=200 and
# FUZZ_COVERAGE=1 (schemathesis' coverage phase: boundary and missing values) for a deep run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "") == "1"
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup: None, django_db_blocker: Any,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    media = tmp_path_factory.mktemp("fuzz-media")
    with override_settings(MEDIA_ROOT=str(media)):
        with django_db_blocker.unblock():
            world = load_world()
        yield world
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


APP = DjangoWSGI()
# Filled by `fuzz_app` from the world, read when examples are drawn.
REAL_VALUES: dict[str, list[Any]] = {}
REAL_BODY: dict[str, list[Any]] = {}


@pytest.fixture
def fuzz_app(fuzz_world: World, db: None) -> DjangoWSGI:
    REAL_VALUES.clear()
    REAL_VALUES.update(fuzz_world.values)
    REAL_BODY.clear()
    REAL_BODY.update(fuzz_world.body_values)
    return APP


def _real_path_parameters(names: list[str]) -> Any:
    together = REAL_VALUES.get("+".join(names)) if len(names) > 1 else None
    if together:
        return st.sampled_from(together)
    if not all(REAL_VALUES.get(n) for n in names):
        return st.nothing()
    return st.fixed_dictionaries({n: st.sampled_from(REAL_VALUES[n]) for n in names})


def _real_body(body: dict[str, Any]) -> Any:
    """`body` with the fields the world knows values for set to such values."""
    fields = {k: st.sampled_from(REAL_BODY[k]) for k in body if REAL_BODY.get(k)}
    if "lat" in body and ("lon" in body or "long" in body):
        fields["point"] = st.sampled_from(REAL_BODY["point"])
    if "kind" in body and "category_code" in body:
        fields["class"] = st.sampled_from(REAL_BODY["class"])

    def merge(real: dict[str, Any]) -> dict[str, Any]:
        merged = {**body, **real}
        if "point" in merged:
            lon, merged["lat"] = merged.pop("point")
            merged["long" if "long" in body else "lon"] = lon
        if "class" in merged:
            merged["kind"], merged["category_code"] = merged.pop("class")
        return merged

    return st.fixed_dictionaries(fields).map(merge)


def _mix_real_values(schema: Any) -> Any:
    """Half the path parameters and bodies name things that exist (cases, departments, places
    in the city, the API key …), so that operations reach their logic."""

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        if not path_parameters:
            return st.just(path_parameters)
        names = sorted(path_parameters)
        return st.one_of(_real_path_parameters(names), st.just(path_parameters))

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        if not isinstance(body, dict) or not body:
            return st.just(body)
        return st.one_of(_real_body(body), st.just(body))

    return schema


CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none",
                   "with-security-parameters": False, "no-shrink": True,
                   "allow-extra-parameters": False},
    "phases": {"coverage": {"enabled": COVERAGE}},
})
api = _mix_real_values(
    schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP, config=CONFIG))
open311 = _mix_real_values(
    schemathesis.openapi.from_path(str(OPEN311_DOCUMENT), config=CONFIG))
open311.app = APP


def _call(case: Any, app: DjangoWSGI, headers: dict[str, str],
          cookies: dict[str, str] | None = None) -> None:
    """One request in a savepoint rolled back afterwards: every request sees the same world."""
    cache.clear()  # rate-limit and sign-in counters
    app.errors.clear()
    started = time.perf_counter()
    with transaction.atomic():
        response = case.call(app=app, headers=headers, cookies=cookies)
        transaction.set_rollback(True)
    if os.environ.get("FUZZ_LOG"):  # a line per request, to see where the time goes
        with open(os.environ["FUZZ_LOG"], "a") as log:
            log.write(f"{time.perf_counter() - started:.3f}\t{response.status_code}\t"
                      f"{case.operation.label}\n")
    if app.errors:
        raise AssertionError(f"{case.method} {case.formatted_path} raised:\n{app.errors[0]}"
                             f"\nReproduce: {case.as_curl_command()}")
    case.validate_response(response, checks=CHECKS)


def _session_only(operation: Any) -> bool:
    """The organisation and inventory routers take the session only, not a token."""
    schemes = {name for r in operation.definition.raw.get("security") or [] for name in r}
    return bool(schemes) and "TokenAuth" not in schemes


@api.parametrize()
@FUZZ_SETTINGS
def test_api_fuzz(case: Any, fuzz_app: DjangoWSGI, fuzz_world: World) -> None:
    cookies = fuzz_world.cookies() if _session_only(case.operation) else None
    _call(case, fuzz_app, {"Authorization": f"Bearer {fuzz_world.token}"}, cookies)


@open311.parametrize()
@FUZZ_SETTINGS
def test_open311_fuzz(case: Any, fuzz_app: DjangoWSGI, fuzz_world: World) -> None:
    _call(case, fuzz_app, {})


# --- Every documented error answer is reachable -----------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request that should get a documented error answer."""

    status: int
    method: str
    path: str  # as the document names it
    url: str
    code: str  # the machine-readable code expected in the body
    client: str = "token"  # token | inspector | session | anonymous
    data: Any = None
    content_type: str = "application/json"


def _documented(document: dict[str, Any]) -> dict[tuple[str, str], set[int]]:
    return {(method.upper(), path): {int(s) for s in op.get("responses", {}) if str(s).isdigit()}
            for path, methods in document["paths"].items() for method, op in methods.items()}


def _domain_error_statuses() -> set[int]:
    """The statuses of every DomainError class (citygrid/core/errors.py and the apps' own)."""
    import citygrid.api.urls  # noqa: F401  (imports every router, hence every error class)
    from citygrid.core.errors import DomainError

    found, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls.status)
        todo += cls.__subclasses__()
    return found


def _api_probes(world: World) -> list[Probe]:
    from citygrid.cases.models import Case

    closed = Case.objects.filter(state="closed").order_by("number").first()
    open_ = Case.objects.filter(state="handling").order_by("number").first()
    assert closed is not None and open_ is not None
    n = "/api/v1/cases/{number}"
    return [
        Probe(400, "POST", "/api/v1/cases", "/api/v1/cases", "malformed_body", data="{"),
        Probe(401, "GET", "/api/v1/cases", "/api/v1/cases", "unauthenticated", "anonymous"),
        Probe(401, "POST", "/api/v1/auth/token", "/api/v1/auth/token", "invalid_credentials",
              "anonymous", {"username": "fuzz_city", "password": "wrong", "device": "x"}),
        Probe(403, "GET", "/api/v1/queues/{role}", "/api/v1/queues/dispatcher", "role_not_held",
              "inspector"),
        Probe(403, "POST", f"{n}/urge", f"/api/v1/cases/{open_.number}/urge", "csrf_failed",
              "session", {"message": "x"}),
        Probe(404, "GET", n, "/api/v1/cases/0", "case_not_found"),
        Probe(409, "POST", f"{n}/file", f"/api/v1/cases/{closed.number}/file",
              "operation_not_allowed_in_state", data={}),
        Probe(422, "GET", "/api/v1/catalog/standards/{standard_id}",
              "/api/v1/catalog/standards/x", "invalid_request", "anonymous"),
        Probe(422, "GET", "/api/v1/cases", "/api/v1/cases?sort=colour", "invalid_sort"),
        Probe(429, "POST", "/api/v1/auth/token", "/api/v1/auth/token", "too_many_attempts",
              "anonymous", {"username": "fuzz_city", "password": "wrong", "device": "x"}),
        Probe(503, "POST", "/api/v1/cases/with-photos", "/api/v1/cases/with-photos",
              "storage_unavailable", content_type="multipart", data={
                  "source": "city_inspector", "kind": "event", "category_code": "06002",
                  "lon": str(open_.lon), "lat": str(open_.lat)}),
    ]


def _client(kind: str, world: World) -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    from citygrid.accounts.actions import issue_token

    if kind == "token":
        return Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")
    if kind == "inspector":
        _, key = issue_token(User.objects.get(username="city_inspector_1"), "probe")
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client = Client(enforce_csrf_checks=True)
    if kind == "session":
        client.force_login(User.objects.get(pk=world.user_id))
    return client


def _send(probe: Probe, world: World) -> Any:
    import json

    client = _client(probe.client, world)
    if probe.method == "GET":
        return client.get(probe.url)
    if probe.content_type == "multipart":
        from tests.cases.conftest import png

        photo = SimpleUploadedFile("p.png", png(), content_type="image/png")
        return client.post(probe.url, {**probe.data, "photos": [photo]})
    body = probe.data if isinstance(probe.data, str) else json.dumps(probe.data)
    return client.generic(probe.method, probe.url, body, content_type=probe.content_type)


def test_every_documented_api_error_is_reachable(fuzz_app: DjangoWSGI, fuzz_world: World,
                                                settings: Any) -> None:
    from django.test import Client

    document = Client().get("/api/v1/openapi.json").json()
    documented = _documented(document)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "tests.security.storage.FullDiskStorage",
        "OPTIONS": {"location": settings.MEDIA_ROOT}}}
    settings.API_LOGIN_MAX_FAILURES = 1
    cache.clear()
    reached: set[int] = set()
    for probe in _api_probes(fuzz_world):
        assert probe.status in documented[(probe.method, probe.path)], probe
        response = _send(probe, fuzz_world)
        assert (response.status_code, response.json().get("code")) == (probe.status, probe.code), (
            probe, response.content[:300])
        reached.add(probe.status)
    errors = {s for statuses in documented.values() for s in statuses if s >= 400}
    assert errors == reached, f"documented but not reached: {errors - reached}"
    assert _domain_error_statuses() <= reached


def _open311_probes(world: World) -> list[Probe]:
    base = "/open311/v2"
    return [
        Probe(400, "GET", "/open311/v2/requests.{format}", f"{base}/requests.json?status=maybe",
              "400", "anonymous"),
        Probe(403, "POST", "/open311/v2/requests.{format}", f"{base}/requests.json", "403",
              "anonymous", "service_code=E06010&lat=30.66&long=104.06",
              "application/x-www-form-urlencoded"),
        Probe(404, "GET", "/open311/v2/services/{service_code}.{format}",
              f"{base}/services/NOPE.json", "404", "anonymous"),
        Probe(404, "GET", "/open311/v2/discovery.{format}", f"{base}/discovery.yaml", "404",
              "anonymous"),
        Probe(429, "GET", "/open311/v2/services.{format}", f"{base}/services.json", "429",
              "anonymous"),
    ]


def _open311_code(response: Any) -> str:
    """The `code` of the first error, from JSON or XML."""
    import xml.etree.ElementTree as ET

    if response["Content-Type"].startswith("application/json"):
        return str(response.json()[0]["code"])
    return ET.fromstring(response.content).findtext("error/code") or ""


def test_every_documented_open311_error_is_reachable(fuzz_app: DjangoWSGI, fuzz_world: World,
                                                    settings: Any) -> None:
    import yaml

    documented = _documented(yaml.safe_load(OPEN311_DOCUMENT.read_text()))
    reached: set[int] = set()
    for probe in _open311_probes(fuzz_world):
        assert probe.status in documented[(probe.method, probe.path)], probe
        cache.clear()
        settings.EXCHANGE_RATES = {"open311_read": "1/m"} if probe.status == 429 else {}
        if probe.status == 429:
            _send(probe, fuzz_world)
        response = _send(probe, fuzz_world)
        assert (response.status_code, _open311_code(response)) == (probe.status, probe.code), probe
        reached.add(probe.status)
    errors = {s for statuses in documented.values() for s in statuses if s >= 400}
    assert errors == reached, f"documented but not reached: {errors - reached}"
    wrong_method = _send(Probe(405, "PUT", "", "/open311/v2/requests.json", "405", "anonymous",
                               ""), fuzz_world)
    assert (wrong_method.status_code, wrong_method["Allow"]) == (405, "GET, POST")


# --- What the fuzzing found, pinned ------------------------------------------------------------


def _get(url: str, world: World) -> Any:
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {world.token}").get(url)


@pytest.mark.parametrize(("url", "status", "code"), [
    # a year of duty figures at most (0001-01-01 … 9999-12-31 ran for minutes, then overflowed)
    ("/api/v1/collab/duty?start=2020-01-01&end=2026-01-01", 422, "period_too_long"),
    ("/api/v1/collab/duty?start=9999-12-31&end=9999-12-31", 422, "invalid_period"),
    # the period before 0001-01-06 cannot be represented
    ("/api/v1/assessment/table?day=0001-01-06", 422, "invalid_period"),
    # "³".isdigit() is true, int("³") fails
    ("/api/v1/assessment/table?day=2026-01-06&district=%C2%B3", 422, "district_not_found"),
    # PostgreSQL text cannot hold NUL: refused before any query, on every database
    ("/api/v1/departments?kind=%00", 422, "invalid_request"),
    ("/api/v1/areas/51%00", 422, "invalid_request"),
])
def test_fuzzing_findings_are_4xx(url: str, status: int, code: str, fuzz_app: DjangoWSGI,
                                  fuzz_world: World) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {fuzz_world.token}")
    client.force_login(User.objects.get(pk=fuzz_world.user_id))  # /departments: session only
    response = client.get(url)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_nul_in_a_json_body_or_a_form_is_refused(fuzz_app: DjangoWSGI, fuzz_world: World) -> None:
    import json

    from django.test import Client

    from citygrid.collab.models import Dossier

    client = Client(HTTP_AUTHORIZATION=f"Bearer {fuzz_world.token}")
    dossier = Dossier.objects.order_by("pk").first()
    assert dossier is not None
    records = dossier.records.count()
    url = f"/api/v1/collab/dossiers/{dossier.pk}/comments"
    as_json = client.post(url, json.dumps({"text": "a\x00b"}), content_type="application/json")
    as_form = client.post(f"/api/v1/collab/dossiers/{dossier.pk}/visits", {"text": "a\x00b"})
    open311 = Client().post("/open311/v2/requests.json", {"api_key": fuzz_world.api_key,
                                                          "description": "a\x00b"})
    assert (as_json.status_code, as_json.json()["code"]) == (422, "invalid_request")
    assert (as_form.status_code, as_form.json()["code"]) == (422, "invalid_request")
    assert (open311.status_code, open311.json()[0]["code"]) == (400, 400)
    assert dossier.records.count() == records


@pytest.mark.postgres
def test_a_value_postgresql_cannot_store_is_a_4xx(fuzz_app: DjangoWSGI, fuzz_world: World) -> None:
    # Python takes a −21:08 offset; PostgreSQL does not ("time zone displacement out of range").
    response = _get("/api/v1/cases?created_from=0200-11-25T21%3A06%3A40-21%3A08", fuzz_world)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_value")


def test_sign_in_counters_take_any_username(fuzz_app: DjangoWSGI, fuzz_world: World) -> None:
    """A username with spaces or control characters makes no cache key memcached refuses."""
    from django.core.cache.backends.base import memcache_key_warnings
    from django.test import RequestFactory

    from citygrid.accounts.api import _failure_keys

    request = RequestFactory().post("/api/v1/auth/token")
    keys = [key for key, _ in _failure_keys(request, "张 三\x07" + "x" * 300)]
    assert [list(memcache_key_warnings(f":1:{key}")) for key in keys] == [[], []]


def test_a_token_request_gets_no_session(fuzz_app: DjangoWSGI, fuzz_world: World) -> None:
    """The idle-timeout clock made every token request a new session, with its cookie: a token
    turned into a session login that outlived the token's revocation."""
    from django.contrib.sessions.models import Session

    sessions = Session.objects.count()
    response = _get("/api/v1/auth/tokens", fuzz_world)
    assert response.status_code == 200
    assert ("sessionid" not in response.cookies, Session.objects.count()) == (True, sessions)


@pytest.mark.parametrize("query", [
    "start_date=9999-12-31T00:00:00Z", "end_date=0001-01-01T00:00:00Z",
    "start_date=2026-01-01T00:00:00-21:08", "created_from=x&start_date=0001-01-01T00:00:00%2B14:00",
])
def test_open311_dates_out_of_range_are_400(query: str, fuzz_app: DjangoWSGI,
                                            fuzz_world: World) -> None:
    from django.test import Client

    response = Client().get(f"/open311/v2/requests.json?{query}")
    assert (response.status_code, response.json()[0]["code"]) == (400, 400)


@pytest.mark.parametrize("url", [
    "/api/v1/cases?created_from=0001-01-01T00:00:00%2B14:00",
    "/api/v1/cases?created_to=9999-12-31T23:59:59-14:00",
    "/api/v1/route?kind=event&class=06002&lon=104.06&lat=30.66&at=0001-01-01T00:00:00%2B14:00",
])
def test_api_dates_at_the_ends_of_the_calendar_are_no_500(url: str, fuzz_app: DjangoWSGI,
                                                          fuzz_world: World) -> None:
    """In UTC these instants fall outside Python's years (SQLite: OverflowError, was a 500);
    PostgreSQL compares them as they are."""
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {fuzz_world.token}")
    client.force_login(User.objects.get(pk=fuzz_world.user_id))  # /route: session only
    response = client.get(url)
    assert response.status_code == 200 or (response.status_code, response.json()["code"]) == (
        422, "invalid_value"), response.content[:300]
