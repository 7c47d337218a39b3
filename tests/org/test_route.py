"""The rule tester: service, API and CLI answer who handles, by when, and why."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from citygrid.core.errors import NotFound
from citygrid.org import actions
from citygrid.org.domain.routing import MatchStatus
from citygrid.org.models import Department, ResponsibilityRule
from citygrid.org.services import route, rule_conflicts
from tests.org.conftest import point_in, user

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")
WED_10 = datetime(2026, 3, 4, 10, 0, tzinfo=CST)  # an ordinary working Wednesday


def test_missing_sewer_manhole_cover_reported_now(org_city: Any) -> None:
    lon, lat = point_in(org_city, "510104002001")
    answer = route("01002", "component", lon, lat, at=WED_10)
    assert answer.status is MatchStatus.MATCHED
    assert answer.department.code == "510104-SZ" and answer.level == "district"
    assert [d.code for d in answer.copies] == ["CITY-SW"]
    assert answer.rule is not None and answer.rule.code == "510104-component-01002"
    assert str(answer.specificity) == "(3, 2, 0, 0)"
    assert any(a["rule"] == "510104-component-01" and "less specific category" in a["why_not"]
               for a in answer.alternatives)
    assert str(answer.handling_limit) == "1 working days"
    assert answer.calendar_name == "office"
    assert answer.deadline.at == datetime(2026, 3, 5, 10, 0, tzinfo=CST)
    assert not answer.deadline.provisional
    assert {k: str(v) for k, v in answer.step_limits.items()} == {"file": "30 minutes", "dispatch": "30 minutes"}
    data = answer.as_dict()
    assert data["department"]["code"] == "510104-SZ" and data["deadline"].startswith("2026-03-05T10:00")
    assert "510104-SZ" in answer.text()


def test_fine_class_emergency_process_and_clock_hours(org_city: Any) -> None:
    lon, lat = point_in(org_city, "510105001001")
    answer = route("0100201", "event", lon, lat, at=WED_10)
    assert answer.department.code == "510105-SZ"
    assert answer.process == "manhole_cover_emergency"
    assert answer.rule is not None and answer.rule.code == "510105-event-0100201"
    assert {d.code for d in answer.copies} == {"CITY-SW", "510105-ZH"}
    assert answer.deadline.at == WED_10 + timedelta(hours=4)


def test_street_and_community_rules_beat_district_rules(org_city: Any) -> None:
    street_point = point_in(org_city, "510104001002")  # first street, not its first community
    community_point = point_in(org_city, "510104001001")
    other_street = point_in(org_city, "510104002001")
    a = route("06001", "event", *street_point, at=WED_10)
    assert (a.department.code, a.process) == ("510104001-JD", "flat")
    b = route("06001", "event", *community_point, at=WED_10)
    assert (b.department.code, b.process) == ("510104-HW", "sanitation_patrol")
    c = route("06001", "event", *other_street, at=WED_10)
    assert (c.department.code, c.process) == ("510104-HW", "standard")


def test_time_window_and_source(org_city: Any) -> None:
    lon, lat = point_in(org_city, "510104002001")
    day = route("08001", "event", lon, lat, at=WED_10)
    night = route("08001", "event", lon, lat, at=WED_10.replace(hour=23))
    assert day.rule is not None and day.rule.code == "510104-event-08"
    assert night.rule is not None and night.rule.code == "510104-event-08-night"
    assert night.process == "emergency"


def test_no_rule_goes_to_the_collaboration_platform(org_city: Any) -> None:
    ResponsibilityRule.objects.filter(area__code="510104").update(active=False)
    answer = route("01002", "component", *point_in(org_city, "510104002001"), at=WED_10)
    assert answer.status is MatchStatus.NO_RULE
    assert answer.department.code == "CITY-COLLAB" and answer.rule is None
    assert answer.calendar_name == "supervision"


def test_conflict_is_reported_not_chosen(org_city: Any) -> None:
    original = ResponsibilityRule.objects.get(code="510104-component-01002")
    twin = ResponsibilityRule(code="twin", category=original.category, area=original.area,
                              department=Department.objects.get(code="510104-CGJ"))
    actions.save_rule(None, twin, grids=[], copies=[])
    answer = route("01002", "component", *point_in(org_city, "510104002001"), at=WED_10)
    assert answer.status is MatchStatus.CONFLICT
    assert answer.department.code == "CITY-COLLAB"
    assert set(answer.conflicting) == {"twin", "510104-component-01002"}
    found = rule_conflicts()
    assert len(found) == 1 and {found[0].first.label, found[0].second.label} == set(answer.conflicting)
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_rules")
    assert exit_info.value.code == 1


def test_route_errors(org_city: Any) -> None:
    lon, lat = point_in(org_city, "510104002001")
    with pytest.raises(NotFound) as e:
        route("99999", "component", lon, lat)
    assert e.value.code == "category_not_found"
    with pytest.raises(NotFound) as e:
        route("01002", "component", 100.0, 20.0)
    assert e.value.code == "outside_coverage"


def test_api_route(org_city: Any) -> None:
    lon, lat = point_in(org_city, "510104002001")
    client = Client()
    url = "/api/v1/route"
    query = {"kind": "component", "class": "01002", "lon": lon, "lat": lat, "at": "2026-03-04T10:00+08:00"}
    assert client.get(url, query).status_code == 401
    client.force_login(user("dispatcher_jinjiang"))
    ok = client.get(url, query)
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["department"]["code"] == "510104-SZ" and body["rule"]["code"] == "510104-component-01002"
    assert body["deadline"].startswith("2026-03-05T10:00") and body["handling_limit"] == "1 working days"
    assert body["reasons"] and body["alternatives"]
    unknown = client.get(url, {**query, "class": "99999"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "category_not_found")
    outside = client.get(url, {**query, "lon": 100, "lat": 20})
    assert (outside.status_code, outside.json()["code"]) == (404, "outside_coverage")
    bad = client.get(url, {**query, "lon": "east"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")
    missing = client.get(url, {"lon": lon, "lat": lat})
    assert missing.status_code == 422
    naive = client.get(url, {**query, "at": "2026-03-04T10:00"})
    assert naive.status_code == 422
    kind = client.get(url, {**query, "kind": "thing"})
    assert (kind.status_code, kind.json()["code"]) == (422, "invalid_route_request")


def test_cli_route(org_city: Any, capsys: pytest.CaptureFixture[str]) -> None:
    lon, lat = point_in(org_city, "510104002001")
    call_command("route", "--class", "01002", "--lon", str(lon), "--lat", str(lat),
                 "--at", "2026-03-04T10:00+08:00")
    out = capsys.readouterr().out
    assert "510104-SZ" in out and "2026-03-05T10:00" in out and "510104-component-01002" in out
    for args in (["--class", "99999", "--lon", str(lon), "--lat", str(lat)],
                 ["--class", "01002", "--lon", "100", "--lat", "20"],
                 ["--class", "01002", "--lon", "x", "--lat", str(lat)],
                 ["--class", "01002", "--lon", str(lon), "--lat", str(lat), "--at", "yesterday"],
                 ["--class", "01002", "--lon", str(lon), "--lat", str(lat), "--source", "pigeon"]):
        with pytest.raises(CommandError) as e:
            call_command("route", *args)
        assert e.value.returncode == 2


def test_admin_tester_page(org_city: Any) -> None:
    lon, lat = point_in(org_city, "510104002001")
    client = Client()
    client.force_login(user("dispatcher_jinjiang"))
    page = client.get("/admin/org/responsibilityrule/tester/", {
        "kind": "component", "category": "01002", "lon": lon, "lat": lat, "at": "2026-03-04 10:00",
        "urgency": "ordinary", "source": ""})
    assert page.status_code == 200
    body = page.content.decode()
    assert "510104-SZ" in body and "510104-component-01002" in body
    assert client.get("/admin/org/responsibilityrule/conflicts/").status_code == 200
