"""The catalog API is public (read-only) and answers bad input with coded 4xx errors."""

import pytest
from django.test import Client

from citygrid.calendars.domain.durations import parse_duration
from citygrid.catalog import actions
from citygrid.catalog.models import Standard
from tests.catalog.conftest import cat

pytestmark = pytest.mark.django_db
API = "/api/v1/catalog"


@pytest.fixture
def city(base: Standard) -> Standard:
    standard = actions.derive_standard(base, "CITY-1", "城市标准")
    actions.set_handling_limit(cat(standard, "01"), "ordinary", parse_duration("5 working days"))
    actions.set_handling_limit(cat(standard, "0101"), "urgent", parse_duration("2 hours"))
    actions.set_step_limit(standard, "check", "ordinary", "rural", parse_duration("2 hours"))
    actions.rename_category(cat(standard, "0101"), "暴露垃圾（城市）")
    return standard


def test_standards_list_and_active(client: Client, city: Standard) -> None:
    body = client.get(f"{API}/standards").json()
    by_code = {s["code"]: s for s in body}
    assert by_code["CITY-1"]["based_on"] == "BASE-1" and by_code["CITY-1"]["category_count"] == 8
    assert by_code["BASE-1"]["is_national"] and by_code["BASE-1"]["status"] == "active"
    assert client.get(f"{API}/standards/active").json()["code"] == "BASE-1"
    assert client.get(f"{API}/standards?status=draft").json()[0]["code"] == "CITY-1"
    missing = client.get(f"{API}/standards/active?city=999999")
    assert missing.status_code == 404 and missing.json()["code"] == "area_not_found"


def test_categories_filters(client: Client, city: Standard) -> None:
    url = f"{API}/standards/{city.pk}/categories"
    assert len(client.get(url).json()) == 8
    majors = client.get(url, {"kind": "event", "level": "major"}).json()
    assert [c["code"] for c in majors] == ["01", "02"]
    children = client.get(url, {"parent": "01", "kind": "event"}).json()
    assert [c["code"] for c in children] == ["0101", "0102", "0103"]
    assert children[0]["parent_code"] == "01"
    ambiguous = client.get(url, {"parent": "01"})
    assert ambiguous.status_code == 422 and ambiguous.json()["code"] == "ambiguous_code"
    assert client.get(url, {"q": "井盖"}).json()[0]["kind"] == "component"
    bad = client.get(url, {"kind": "thing"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert client.get(f"{API}/standards/99999/categories").json()["code"] == "standard_not_found"


def test_category_detail_with_limits_and_origin(client: Client, city: Standard) -> None:
    minor = cat(city, "0101")
    body = client.get(f"{API}/categories/{minor.pk}").json()
    assert body["name"] == "暴露垃圾（城市）" and body["standard"] == "CITY-1"
    assert body["limits"] == [{"urgency": "urgent", "amount": "2", "unit": "hours",
                               "text": "2 hours", "unit_uncertain": False, "note": ""}]
    assert body["effective_limits"] == {"ordinary": "5 working days", "urgent": "2 hours",
                                        "emergency": None}
    assert body["origins"][0]["relation"] == "renamed"
    assert body["origins"][0]["standard"] == "BASE-1"
    assert client.get(f"{API}/categories/0").status_code == 404


def test_step_limits(client: Client, city: Standard) -> None:
    body = client.get(f"{API}/standards/{city.pk}/step-limits", {"step": "check"}).json()
    assert body == [{"step": "check", "urgency": "ordinary", "area_type": "rural",
                     "amount": "2", "unit": "hours", "text": "2 hours", "note": ""}]
    assert client.get(f"{API}/standards/{city.pk}/step-limits", {"step": "file"}).json() == []


def test_no_write_endpoints(client: Client, city: Standard) -> None:
    response = client.post(f"{API}/standards", {}, content_type="application/json")
    assert response.status_code == 405
