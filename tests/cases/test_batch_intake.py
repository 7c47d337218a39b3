"""Batch intake (POST /api/v1/cases/batch): each report of a batch becomes exactly the case a
single report would, a bad report is refused alone with its error, keys make retries safe."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from citygrid.accounts.actions import issue_token
from citygrid.cases import actions
from citygrid.cases.history import check_case_chain
from citygrid.cases.models import Case, CaseCopy, CaseEvent

from .test_flows import FLAT_COMMUNITY, SANITATION_COMMUNITY, STANDARD_STREET, trail

QINGYANG_STREET = "510105001"


def client_of(user: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user, 'batch test')[1]}")


def body(place: Any, area: str, code: str = "06002", **kw: Any) -> dict[str, Any]:
    lon, lat = place(area)
    return {"source": kw.pop("source", "city_inspector"), "kind": kw.pop("kind", "event"),
            "category_code": code, "lon": lon, "lat": lat, **kw}


def post(client: Client, reports: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/cases/batch", json.dumps({"reports": reports}),
                       content_type="application/json")


COMPARED = ("process", "state", "step", "version", "urgency", "holder_department_id",
            "routed_department_id", "grid_id", "community_id", "street_id", "district_id",
            "step_limit", "overall_limit", "overdue_level", "deadline_provisional")


def test_each_report_becomes_the_case_a_single_report_makes(people, place):
    inspector = people["city_inspector_1"]
    reports = [body(place, STANDARD_STREET, description="店面无证装修"),
               body(place, FLAT_COMMUNITY, code="06007"),
               body(place, SANITATION_COMMUNITY),
               body(place, STANDARD_STREET, code="0100201")]
    response = post(client_of(inspector), reports)
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["created"], out["existing"], out["refused"]) == (4, 0, 0)
    batch = [Case.objects.get(number=r["case"]["number"]) for r in out["results"]]
    single = [actions.report_case(inspector, **r) for r in reports]
    assert [c.process for c in batch] == ["standard", "flat", "sanitation_patrol",
                                          "manhole_cover_emergency"]
    for b, s in zip(batch, single, strict=True):
        for field in COMPARED:
            assert getattr(b, field) == getattr(s, field), field
        # same clock on both sides up to the seconds between them: compare the trails
        assert trail(b) == trail(s)
        assert sorted(CaseCopy.objects.filter(case=b).values_list("department__code", "kind")) == \
            sorted(CaseCopy.objects.filter(case=s).values_list("department__code", "kind"))
        assert check_case_chain(b) is None
    assert out["results"][1]["case"]["state"] == "handling"
    assert out["results"][0]["case"]["grid"] == batch[0].grid.code


def test_numbers_are_consecutive_per_district_and_day(people, place):
    reports = [body(place, STANDARD_STREET) for _ in range(5)]
    reports.insert(2, body(place, QINGYANG_STREET))
    out = post(client_of(people["city_inspector_1"]), reports).json()
    numbers = [r["case"]["number"] for r in out["results"]]
    jinjiang = [n for n in numbers if n.startswith("510104")]
    assert [int(n[-5:]) for n in jinjiang] == [1, 2, 3, 4, 5]
    assert numbers[2].startswith("510105") and numbers[2].endswith("00001")
    single = actions.report_case(people["city_inspector_1"], **body(place, STANDARD_STREET))
    assert single.number.endswith("00006")


def test_a_bad_report_is_refused_alone_and_leaves_nothing(people, place):
    reports = [body(place, STANDARD_STREET),
               body(place, STANDARD_STREET, code="99999"),
               {**body(place, STANDARD_STREET), "lon": 10.0, "lat": 10.0},
               body(place, STANDARD_STREET, urgency="emergency"),
               body(place, STANDARD_STREET, code="01", kind="component"),
               body(place, STANDARD_STREET, source="street_staff")]
    out = post(client_of(people["city_inspector_1"]), reports).json()
    codes = [(r.get("error") or {}).get("code") for r in out["results"]]
    statuses = [r["status"] for r in out["results"]]
    assert statuses[0] == 201 and all(400 <= s < 500 for s in statuses[1:]), out
    assert codes[1:] == ["category_not_found", "outside_coverage", "urgency_not_allowed",
                         "category_too_coarse", "role_not_allowed"]
    assert out["results"][3]["error"]["field"] == "urgency"
    assert (out["created"], out["refused"]) == (1, 5)
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


def test_a_report_outside_the_reporters_scope_is_refused(people, place):
    inspector = people["district_inspector_jinjiang"]
    reports = [body(place, STANDARD_STREET, source="district_inspector"),
               body(place, QINGYANG_STREET, source="district_inspector")]
    out = post(client_of(inspector), reports).json()
    assert [r["status"] for r in out["results"]] == [201, 403]
    assert out["results"][1]["error"]["code"] == "out_of_scope"
    assert Case.objects.filter(district__code="510105").count() == 0


def test_a_resent_batch_creates_nothing_and_answers_the_same_cases(people, place):
    client = client_of(people["city_inspector_1"])
    reports = [body(place, STANDARD_STREET, idempotency_key=f"phone-3:{i}") for i in range(3)]
    first = post(client, reports).json()
    again = post(client, reports + [body(place, STANDARD_STREET, idempotency_key="phone-3:9")]).json()
    assert (again["created"], again["existing"]) == (1, 3)
    assert [r["case"]["number"] for r in again["results"][:3]] == \
        [r["case"]["number"] for r in first["results"]]
    assert [r["status"] for r in again["results"]] == [200, 200, 200, 201]
    assert Case.objects.count() == 4
    # the single endpoint knows the batch's keys too
    single = client.post("/api/v1/cases", json.dumps(reports[0]), content_type="application/json")
    assert single.status_code == 200 and single.json()["number"] == first["results"][0]["case"]["number"]


def test_a_key_twice_in_one_batch_is_refused(people, place):
    reports = [body(place, STANDARD_STREET, idempotency_key="k"),
               body(place, STANDARD_STREET, idempotency_key="k")]
    out = post(client_of(people["city_inspector_1"]), reports).json()
    assert [r["status"] for r in out["results"]] == [201, 422]
    assert out["results"][1]["error"]["code"] == "duplicate_idempotency_key"
    assert Case.objects.count() == 1


@pytest.mark.parametrize("count", [0, actions.MAX_BATCH + 1])
def test_batch_size_is_bounded(people, place, count):
    reports = [body(place, STANDARD_STREET)] * count
    response = post(client_of(people["city_inspector_1"]), reports)
    assert response.status_code == 422
    assert Case.objects.count() == 0


def test_a_malformed_report_rejects_the_batch_with_its_place(people, place):
    reports = [body(place, STANDARD_STREET), {**body(place, STANDARD_STREET), "lat": "north"}]
    response = post(client_of(people["city_inspector_1"]), reports)
    assert response.status_code == 422
    assert "reports" in json.dumps(response.json()) and Case.objects.count() == 0


def test_batches_need_a_signed_in_reporter(place, people):
    assert post(Client(), [body(place, STANDARD_STREET)]).status_code == 401
    with pytest.raises(Exception) as err:
        actions.report_cases(None, [])  # type: ignore[arg-type]
    assert getattr(err.value, "code", "") == "not_authenticated"
