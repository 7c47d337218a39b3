"""Case lists through the API: every filter, pagination, sorting, the query count, and the
OpenAPI document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citygrid.cases import actions
from tests.cases.test_api import ok, token_client


@pytest.fixture
def cases(people, place) -> dict[str, Any]:
    """Six cases in different processes, states, areas and sources; keyed by a letter."""
    def report(who: str, area: str, code: str, source: str) -> Any:
        lon, lat = place(area)
        return actions.report_case(people[who], source=source, kind="event", category_code=code,
                                   lon=lon, lat=lat)

    return {
        "a": report("city_inspector_1", "510104002", "06002", "city_inspector"),  # standard, to_file
        "b": report("city_inspector_1", "510104001002", "06007", "city_inspector"),  # flat, handling
        "c": report("district_inspector_jinjiang", "510104001001", "06007", "district_inspector"),
        "d": report("city_inspector_1", "510104002", "0100201", "city_inspector"),  # manhole cover
        "e": report("city_inspector_1", "510105001", "06002", "city_inspector"),  # Qingyang
        "f": report("intake_operator_jinjiang", "510104002", "06002", "hotline"),  # to_verify
    }


@pytest.fixture
def admin_api(django_user_model) -> Client:
    return token_client(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))


def numbers(client: Client, query: str = "") -> set[str]:
    return {c["number"] for c in ok(client.get(f"/api/v1/cases?limit=200&{query}"))["items"]}


def test_every_filter(cases, admin_api):
    n = {k: v.number for k, v in cases.items()}
    assert {c.process for c in cases.values()} >= {"standard", "flat", "sanitation_patrol",
                                                    "manhole_cover_emergency", "public_report"}
    assert numbers(admin_api) == set(n.values())
    assert numbers(admin_api, "state=to_file") == {n["a"]} | ({n["e"]} if cases["e"].state == "to_file" else set())
    assert numbers(admin_api, "state=to_verify") == {n["f"]}
    assert numbers(admin_api, "state=handling,dispatched") == {
        n[k] for k in "bcde" if cases[k].state in ("handling", "dispatched")}
    assert numbers(admin_api, "open=false") == set()
    assert numbers(admin_api, "open=true") == set(n.values())
    assert numbers(admin_api, "process=flat") == {n[k] for k, c in cases.items() if c.process == "flat"}
    assert n["b"] in numbers(admin_api, "process=flat")
    assert numbers(admin_api, "process=sanitation_patrol,manhole_cover_emergency") == {
        n[k] for k, c in cases.items() if c.process in ("sanitation_patrol", "manhole_cover_emergency")}
    assert (cases["c"].process, cases["d"].process) == ("sanitation_patrol", "manhole_cover_emergency")
    assert numbers(admin_api, "step=handle") == {n[k] for k, c in cases.items() if c.step == "handle"}
    assert {n["b"], n["c"]} <= numbers(admin_api, "step=handle")
    assert numbers(admin_api, "holder=510104-HW") == {n["c"]}
    assert numbers(admin_api, "area=510104") == {n[k] for k in "abcdf"}
    assert numbers(admin_api, "area=510104001") == {n["b"], n["c"]}
    assert numbers(admin_api, "area=510104001001") == {n["c"]}
    assert numbers(admin_api, "area=510105") == {n["e"]}
    assert numbers(admin_api, f"area={cases['b'].grid.code}") == {n["b"]}
    assert numbers(admin_api, "kind=event") == set(n.values())
    assert numbers(admin_api, "kind=component") == set()
    assert numbers(admin_api, "category=0100201") == {n["d"]}
    assert numbers(admin_api, "category=06") == {n[k] for k in "abcef"}
    assert numbers(admin_api, "source=hotline") == {n["f"]}
    assert numbers(admin_api, "source=district_inspector,hotline") == {n["c"], n["f"]}
    assert numbers(admin_api, "needs_collaboration=true") == set()
    assert numbers(admin_api, "needs_collaboration=false") == set(n.values())
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert numbers(admin_api, f"created_from={tomorrow}") == set()
    assert numbers(admin_api, f"created_to={tomorrow}") == set(n.values())
    lon, lat = cases["a"].lon, cases["a"].lat
    box = f"{lon - 0.00001},{lat - 0.00001},{lon + 0.00001},{lat + 0.00001}"
    assert numbers(admin_api, f"bbox={box}") == {n["a"], n["d"], n["f"]}


def test_overdue_filter_follows_the_sweep(cases, admin_api):
    n = {k: v.number for k, v in cases.items()}
    actions.refresh_overdue_levels(timezone.now() + timedelta(days=400))
    red = numbers(admin_api, "overdue=red")
    assert red == set(n.values())  # every open case has a running limit, all long past
    assert numbers(admin_api, "overdue=green,yellow") == set()


@pytest.mark.parametrize("query,field", [
    ("state=sleeping", "state"), ("process=fast", "process"), ("step=nap", "step"),
    ("source=pigeon", "source"), ("overdue=blue", "overdue"), ("kind=thing", "kind"),
    ("area=999", "area"), ("bbox=1,2,3", "bbox"), ("bbox=104.1,30.7,104.0,30.6", "bbox"),
    ("sort=colour", "sort"), ("sort=--number", "sort"),
])
def test_bad_filters_name_the_field(admin_api, demo_small, query, field):
    response = admin_api.get(f"/api/v1/cases?{query}")
    assert response.status_code == 422
    assert response.json()["field"] == field


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("offset=-1", "offset"),
    ("created_from=yesterday", "created_from"), ("needs_collaboration=perhaps", "needs_collaboration"),
])
def test_bad_paging_is_422(admin_api, demo_small, query, field):
    response = admin_api.get(f"/api/v1/cases?{query}")
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "invalid_request" and error["details"][0]["loc"][-1] == field


def test_pagination_and_sorting(cases, admin_api):
    ordered = sorted(c.number for c in cases.values())
    first = ok(admin_api.get("/api/v1/cases?sort=number&limit=2"))
    assert (first["count"], first["limit"], first["offset"]) == (6, 2, 0)
    assert [c["number"] for c in first["items"]] == ordered[:2]
    last = ok(admin_api.get("/api/v1/cases?sort=number&limit=2&offset=4"))
    assert [c["number"] for c in last["items"]] == ordered[4:] and last["count"] == 6
    beyond = ok(admin_api.get("/api/v1/cases?sort=number&limit=2&offset=10"))
    assert (beyond["items"], beyond["count"]) == ([], 6)
    descending = ok(admin_api.get("/api/v1/cases?sort=-number"))
    assert [c["number"] for c in descending["items"]] == ordered[::-1]
    by_deadline = ok(admin_api.get("/api/v1/cases?sort=step_deadline"))["items"]
    deadlines = [c["step_deadline"] for c in by_deadline]
    dated = [d for d in deadlines if d is not None]
    assert dated == sorted(dated) and deadlines[:len(dated)] == dated  # nulls last
    newest = ok(admin_api.get("/api/v1/cases"))["items"]  # default: newest first
    created = [c["created_at"] for c in newest]
    assert created == sorted(created, reverse=True)


def test_list_queries_do_not_grow_with_the_page(people, place, cases):
    dispatcher = token_client(people["dispatcher_jinjiang"])

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            page = ok(dispatcher.get("/api/v1/cases?limit=100"))
        return len(captured.captured_queries), len(page["items"])

    count_queries()  # the token's first use is recorded once (last_used_at)
    before, shown_before = count_queries()
    lon, lat = place("510104002")
    for _ in range(4):
        actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                            category_code="06002", lon=lon, lat=lat)
    after, shown_after = count_queries()
    assert shown_after == shown_before + 4
    assert after == before


def test_openapi_lists_every_case_endpoint_with_its_request_schema(db):
    spec = Client().get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    operations = ["verify", "file", "reject", "merge", "dispatch", "return", "redispatch",
                  "accept", "feedback", "request-postponement", "approve-postponement",
                  "refuse-postponement", "suspend", "resume", "check", "close", "void", "urge",
                  "supervise", "reopen"]
    for name in operations:
        post = paths[f"/api/v1/cases/{{number}}/{name}"]["post"]
        content = post["requestBody"]["content"]
        media = "multipart/form-data" if name in ("feedback", "check") else "application/json"
        assert media in content, name
        assert content[media]["schema"], name
        assert post["security"], name
    for path, method in [("/api/v1/cases", "get"), ("/api/v1/cases", "post"),
                         ("/api/v1/cases/with-photos", "post"), ("/api/v1/cases/{number}", "get"),
                         ("/api/v1/cases/{number}/events", "get"), ("/api/v1/queues/{role}", "get"),
                         ("/api/v1/cases/{number}/photos/{photo_id}", "get"),
                         ("/api/v1/auth/token", "post"), ("/api/v1/auth/tokens", "get"),
                         ("/api/v1/auth/tokens/{token_id}", "delete")]:
        assert method in paths[path], (path, method)
    report = paths["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][report["$ref"].rsplit("/", 1)[-1]]
    assert {"source", "kind", "category_code", "lon", "lat"} <= set(schema["required"])
    dispatch = paths["/api/v1/cases/{number}/dispatch"]["post"]["requestBody"]["content"]["application/json"]
    fields = spec["components"]["schemas"][dispatch["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert {"expected_version", "role", "department", "copies", "note"} <= set(fields)
    list_params = {p["name"] for p in paths["/api/v1/cases"]["get"]["parameters"]}
    assert {"state", "process", "step", "holder", "area", "kind", "category", "source", "overdue",
            "needs_collaboration", "created_from", "created_to", "bbox", "sort", "limit",
            "offset"} <= list_params
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}
