"""Open311 GeoReport v2 behaviours, in JSON and XML, and every error path."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

BASE = "/open311/v2"


def get_json(client: Any, path: str, expect: int = 200, **params: Any) -> Any:
    response = client.get(f"{BASE}/{path}.json", params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def get_xml(client: Any, path: str, expect: int = 200, **params: Any) -> ET.Element:
    response = client.get(f"{BASE}/{path}.xml", params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def post(client: Any, fmt: str = "json", query: str = "", **data: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}{query}", data)


def error_of(response: Any) -> tuple[int, str]:
    body = json.loads(response.content)
    assert isinstance(body, list) and set(body[0]) == {"code", "description"}
    return body[0]["code"], body[0]["description"]


@pytest.fixture
def point(place: Any) -> dict[str, str]:
    lon, lat = place("510104002")
    return {"lat": f"{lat:.6f}", "long": f"{lon:.6f}"}


def test_discovery(client: Any, services: Any) -> None:
    body = get_json(client, "discovery")
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = get_xml(client, "discovery")
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


def test_service_list_json_and_xml(client: Any, services: Any) -> None:
    body = get_json(client, "services")
    assert len(body) == len(services)
    first = next(s for s in body if s["service_code"] == "E06010")
    assert set(first) == {"service_code", "service_name", "description", "metadata", "type",
                          "keywords", "group"}
    assert first["service_name"] == "暴露垃圾" and first["group"] == "环境卫生"
    assert first["metadata"] is True and first["type"] == "realtime"
    plain = next(s for s in body if s["service_code"] == "E06013")
    assert plain["metadata"] is False
    english = get_json(client, "services", locale="en")
    assert next(s for s in english if s["service_code"] == "E06010")["group"] == "Cleanliness"
    root = get_xml(client, "services")
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    item = next(s for s in root.findall("service") if s.findtext("service_code") == "E06010")
    assert item.findtext("metadata") == "true" and item.findtext("keywords").startswith("垃圾")


def test_no_suffix_means_xml(client: Any, services: Any) -> None:
    response = client.get(f"{BASE}/services")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")


def test_service_definition(client: Any, services: Any) -> None:
    body = get_json(client, "services/E09009")
    assert body["service_code"] == "E09009"
    (attribute,) = body["attributes"]
    assert attribute["code"] == "blocking" and attribute["datatype"] == "multivaluelist"
    assert attribute["variable"] is True and attribute["required"] is False and attribute["order"] == 1
    assert {v["key"] for v in attribute["values"]} == {"sidewalk", "fire_lane", "entrance"}
    root = get_xml(client, "services/E01003")
    assert root.tag == "service_definition"
    attr = root.find("attributes/attribute")
    assert attr.findtext("required") == "true" and attr.findtext("datatype") == "singlevaluelist"
    assert [v.findtext("key") for v in attr.findall("values/value")] == ["missing", "broken", "moved"]
    number = get_json(client, "services/E01037")["attributes"][0]
    assert number["datatype"] == "number" and "values" not in number


def test_unknown_service_definition_is_404(client: Any, services: Any) -> None:
    response = client.get(f"{BASE}/services/NOPE.json")
    assert response.status_code == 404 and error_of(response)[0] == 404
    root = get_xml(client, "services/NOPE", expect=404)
    assert root.tag == "errors" and root.findtext("error/code") == "404"


def test_post_creates_a_public_report_case(client: Any, services: Any, api_key: str,
                                            point: dict[str, str]) -> None:
    from citygrid.cases.models import Case
    from citygrid.exchange.models import PublicRequest

    response = post(client, api_key=api_key, service_code="E09009", description="挡住人行道",
                    email="li@example.com", first_name="四", last_name="李", phone="13900000000",
                    device_id="dev-1", account_id="acc-9", media_url="https://example.com/p.jpg",
                    **{"attribute[blocking][]": ["sidewalk", "fire_lane"]}, **point)
    assert response.status_code == 200, response.content
    (answer,) = json.loads(response.content)
    assert answer["account_id"] == "acc-9" and answer["token"]
    case = Case.objects.get(number=answer["service_request_id"])
    assert case.source == "public" and case.reporter_role == "public"
    assert case.process == "public_report" and case.state == "to_verify"
    row = PublicRequest.objects.get(case=case)
    assert row.attributes == {"blocking": ["sidewalk", "fire_lane"]}
    assert row.media_url == "https://example.com/p.jpg" and row.channel == "open311"
    assert row.requester.name == "四 李" and row.requester.phone == "13900000000"
    assert row.requester.device_id == "dev-1" and row.requester.email == "li@example.com"


def test_post_xml_and_api_key_in_query(client: Any, services: Any, api_key: str,
                                       point: dict[str, str]) -> None:
    response = post(client, "xml", f"?api_key={api_key}", service_code="E06013", **point)
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id")
    assert root.findtext("request/service_notice")


def test_post_errors(client: Any, services: Any, api_key: str, point: dict[str, str]) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"service_code": "E06013", **point}, 403, "api_key"),
        ({"api_key": "", "service_code": "E06013", **point}, 403, "api_key"),
        ({"api_key": "wrong", "service_code": "E06013", **point}, 403, "not valid"),
        ({"api_key": api_key, **point}, 400, "service_code is required"),
        ({"api_key": api_key, "service_code": "", **point}, 400, "service_code is required"),
        ({"api_key": api_key, "service_code": "NOPE", **point}, 400, "NOPE"),
        ({"api_key": api_key, "service_code": "E06013"}, 400, "location"),
        ({"api_key": api_key, "service_code": "E06013", "lat": point["lat"]}, 400, "long"),
        ({"api_key": api_key, "service_code": "E06013", "lat": "x", "long": "1"}, 400, "lat"),
        ({"api_key": api_key, "service_code": "E06013", "lat": "95", "long": "104"}, 400, "lat"),
        ({"api_key": api_key, "service_code": "E06013", "lat": "10", "long": "10"}, 400, "supervision"),
        ({"api_key": api_key, "service_code": "E06013", "address_string": "春熙路 1 号"}, 400,
         "address_string"),
        ({"api_key": api_key, "service_code": "E06013", "address_id": "999"}, 400, "address_id"),
        ({"api_key": api_key, "service_code": "E06013", "description": "x" * 4001, **point}, 400,
         "4000"),
        ({"api_key": api_key, "service_code": "E01003", **point}, 400, "cover_state"),
        ({"api_key": api_key, "service_code": "E01003", "attribute[cover_state]": "gone", **point},
         400, "cover_state"),
        ({"api_key": api_key, "service_code": "E06013", "email": "not-mail", **point}, 400, "email"),
        ({"api_key": api_key, "service_code": "E06013", "media_url": "ftp://x/y", **point}, 400,
         "media_url"),
        ({"api_key": api_key, "service_code": "E06013", "jurisdiction_id": "999999", **point}, 404,
         "jurisdiction_id"),
    ]
    for data, status, text in cases:
        response = post(client, **data)
        assert response.status_code == status, (data, response.content)
        code, description = error_of(response)
        assert code == status and text in description, (data, description)
    xml = post(client, "xml", service_code="E06013", **point)
    root = ET.fromstring(xml.content)
    assert xml.status_code == 403 and root.findtext("error/code") == "403"
    from citygrid.exchange.models import PublicRequest

    assert not PublicRequest.objects.exists()  # nothing half-written


def test_description_of_4000_characters_is_kept(client: Any, services: Any, api_key: str,
                                                point: dict[str, str]) -> None:
    from citygrid.exchange.models import PublicRequest

    response = post(client, api_key=api_key, service_code="E06013", description="坑" * 4000, **point)
    assert response.status_code == 200, response.content
    assert len(PublicRequest.objects.get().description) == 4000


def test_address_id_grid_code(client: Any, services: Any, api_key: str) -> None:
    from citygrid.space.models import UnitGrid

    grid = UnitGrid.objects.filter(valid_to__isnull=True,
                                   community__code__startswith="510104002").first()
    response = post(client, api_key=api_key, service_code="E06013", address_id=grid.code,
                    address_string="某路口")
    assert response.status_code == 200, response.content


def test_revoked_key_is_refused(client: Any, services: Any, people: Any, point: dict[str, str]) -> None:
    from django.contrib.auth.models import User

    from citygrid.exchange.actions import issue_api_key, revoke_api_key

    admin = User.objects.create_superuser("root-exchange", password="x-very-long-pass")
    row, key = issue_api_key(admin, name="c")
    revoke_api_key(admin, row.pk)
    response = post(client, api_key=key, service_code="E06013", **point)
    assert response.status_code == 403


def test_get_requests_filters(client: Any, submit: Any) -> None:
    from citygrid.cases.actions import reject_case
    from citygrid.cases.models import Case

    first = submit("E06010")
    second = submit("E06013")
    third = submit("E06013")
    inspector = next(u for u in __import__("django.contrib.auth.models", fromlist=["User"]).User.objects.filter(
        username="district_inspector_jinjiang"))
    reject_case(inspector, third.case.pk, reason="不属实")
    all_ = get_json(client, "requests")
    assert [r["service_request_id"] for r in all_] == [third.case.number, second.case.number,
                                                       first.case.number]
    assert {r["status"] for r in all_} == {"open", "closed"}
    only = get_json(client, "requests", service_code="E06010")
    assert [r["service_request_id"] for r in only] == [first.case.number]
    both = get_json(client, "requests", service_code="E06010,E06013", status="open")
    assert {r["service_request_id"] for r in both} == {first.case.number, second.case.number}
    closed = get_json(client, "requests", status="closed")
    assert [r["service_request_id"] for r in closed] == [third.case.number]
    # empty parameters count as absent
    assert len(get_json(client, "requests", service_code="", status="", start_date="",
                        end_date="", service_request_id="")) == 3
    # an id list overrides every other filter
    ids = get_json(client, "requests", service_request_id=f"{first.case.number},{third.case.number}",
                   service_code="E06013", status="open")
    assert {r["service_request_id"] for r in ids} == {first.case.number, third.case.number}
    # the 90-day window
    old = timezone.now() - timedelta(days=120)
    Case.objects.filter(pk=first.case.pk).update(created_at=old)
    assert first.case.number not in {r["service_request_id"] for r in get_json(client, "requests")}
    window = get_json(client, "requests", start_date=(old - timedelta(days=1)).isoformat(),
                      end_date=(old + timedelta(days=1)).isoformat())
    assert [r["service_request_id"] for r in window] == [first.case.number]
    root = get_xml(client, "requests", status="open")
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [second.case.number]


def test_get_requests_errors(client: Any, services: Any) -> None:
    for params, text in [({"status": "pending"}, "status"),
                         ({"start_date": "yesterday"}, "start_date"),
                         ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
                          "90 days")]:
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code == 400 and text in error_of(response)[1]
    assert error_of(client.get(f"{BASE}/requests.json", {"jurisdiction_id": "1"}))[0] == 404


def test_single_request_and_fields(client: Any, submit: Any) -> None:
    row = submit("E06010", description="门口有垃圾，电话 13800138000", media_url="https://e.x/a.jpg",
                 attributes={"amount": "large"})
    (item,) = get_json(client, f"requests/{row.case.number}")
    assert item["service_request_id"] == row.case.number
    assert item["status"] == "open" and item["status_notes"]
    assert item["service_code"] == "E06010" and item["service_name"] == "暴露垃圾"
    assert item["requested_datetime"].endswith("+08:00")
    assert item["expected_datetime"] is None or item["expected_datetime"].endswith("+08:00")
    assert item["agency_responsible"]
    assert item["media_url"] == "https://e.x/a.jpg"
    assert "13800138000" not in item["description"]
    assert abs(item["lat"] - row.case.lat) <= 0.0005 + 1e-9
    root = get_xml(client, f"requests/{row.case.number}")
    assert root.tag == "service_requests" and root.findtext("request/status") == "open"
    response = client.get(f"{BASE}/requests/0000.json")
    assert response.status_code == 404 and error_of(response)[0] == 404
    assert get_xml(client, "requests/0000", expect=404).findtext("error/code") == "404"


def test_tokens(client: Any, submit: Any) -> None:
    row = submit()
    (item,) = get_json(client, f"tokens/{row.token}")
    assert item == {"service_request_id": row.case.number, "token": row.token}
    assert get_xml(client, f"tokens/{row.token}").findtext("request/token") == row.token
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404


def test_expected_datetime_and_agency_after_dispatch(client: Any, submit: Any, people: Any) -> None:
    from citygrid.cases.actions import dispatch_case, file_case, verify_case

    row = submit("E06010")
    verify_case(people["district_inspector_jinjiang"], row.case.pk)
    file_case(people["intake_operator_jinjiang"], row.case.pk)
    case = dispatch_case(people["dispatcher_jinjiang"], row.case.pk, department="510104-HW")
    (item,) = get_json(client, f"requests/{row.case.number}")
    assert item["agency_responsible"] == case.holder_department.name
    assert item["expected_datetime"] is not None
    assert item["status"] == "open"


def test_no_personal_data_in_open311_get(client: Any, submit: Any) -> None:
    row = submit("E06010", contact=__import__("citygrid.exchange.actions", fromlist=["Contact"]).Contact(
        name="王五", phone="13700001111", email="ww@example.com", device_id="DEV-SECRET",
        account_id="ACC-SECRET"), address_string="幸福小区 3 栋 2 单元 501")
    for path in ("requests", f"requests/{row.case.number}"):
        for fmt in ("json", "xml"):
            body = client.get(f"{BASE}/{path}.{fmt}").content.decode()
            for secret in ("王五", "13700001111", "ww@example.com", "DEV-SECRET", "ACC-SECRET",
                           "幸福小区", "公众 public", "public-reporter"):
                assert secret not in body, (path, fmt, secret)


def test_jurisdiction(client: Any, services: Any, submit: Any) -> None:
    from citygrid.space.models import Area

    row = submit()
    city = Area.objects.get(level="city")
    assert len(get_json(client, "requests", jurisdiction_id=city.code)) == 1
    assert len(get_json(client, "services", jurisdiction_id=city.code)) == len(services)
    response = client.get(f"{BASE}/services.json", {"jurisdiction_id": "000000"})
    assert response.status_code == 404
    # a second city: jurisdiction_id becomes required
    Area.objects.create(code="510200", name="第二城", level="city", **_geometry_of(city))
    response = client.get(f"{BASE}/requests.json")
    assert response.status_code == 400 and "jurisdiction_id" in error_of(response)[1]
    assert len(get_json(client, "requests", jurisdiction_id="510200")) == 0
    assert get_json(client, f"requests/{row.case.number}", jurisdiction_id=city.code)
    assert client.get(f"{BASE}/requests/{row.case.number}.json",
                      {"jurisdiction_id": "510200"}).status_code == 404


def _geometry_of(area: Any) -> dict[str, Any]:
    from citygrid.space.models import Area

    fields = [f.name for f in Area._meta.concrete_fields
              if f.name not in ("id", "code", "name", "level", "parent")]
    return {name: getattr(area, name) for name in fields}


def test_method_not_allowed(client: Any, services: Any) -> None:
    response = client.post(f"{BASE}/services.json")
    assert response.status_code == 405 and error_of(response)[0] == 405


def test_rate_limits(client: Any, services: Any, api_key: str, point: dict[str, str],
                     settings: Any) -> None:
    settings.EXCHANGE_RATES = {"open311_read": "3/m", "open311_write_ip": "100/m",
                               "open311_write_key": "1/m"}
    for _ in range(3):
        assert client.get(f"{BASE}/services.json").status_code == 200
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 429 and "Too many" in error_of(response)[1]
    assert post(client, api_key=api_key, service_code="E06013", **point).status_code == 200
    response = post(client, api_key=api_key, service_code="E06013", **point)
    assert response.status_code == 429 and "1 per minute" in error_of(response)[1]
    settings.EXCHANGE_RATES = {"open311_write_ip": "1/m"}
    from django.core.cache import cache

    cache.clear()
    assert post(client, api_key="x", service_code="E06013", **point).status_code == 403
    assert post(client, api_key=api_key, service_code="E06013", **point).status_code == 429


def test_open311_post_needs_no_csrf_token(services: Any, api_key: str, point: dict[str, str]) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{BASE}/requests.json", {"api_key": api_key, "service_code": "E06013",
                                                     **point})
    assert response.status_code == 200, response.content


def test_request_list_queries_do_not_grow(client: Any, submit: Any,
                                          django_assert_max_num_queries: Any) -> None:
    for _ in range(4):
        submit("E06010")
    with django_assert_max_num_queries(6):
        assert len(get_json(client, "requests")) == 4
