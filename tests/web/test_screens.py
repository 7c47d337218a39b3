"""Screens: the live map's JSON (scoping, clustering), the big screen's figures, the street
platform (403 for others), the desk's change token, and the pages rendering."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from citygrid.cases import actions
from citygrid.cases.domain.map_cells import cell_box, cell_of
from citygrid.cases.models import FINAL_STATES, Case, CaseEvent
from citygrid.core.memo import remembering
from citygrid.web import selectors
from tests.web import demo_fixtures

# The case tests' fixtures, re-exported for this module (committed demo data per module).
_demo_committed = demo_fixtures._demo_committed
_demo_plan = demo_fixtures._demo_plan
demo_small = demo_fixtures.demo_small
people = demo_fixtures.people
place = demo_fixtures.place
photo = demo_fixtures.photo

STANDARD_STREET = "510104002"  # event 06 → standard process
FLAT_COMMUNITY = "510104001002"  # street staff of 510104001 self-handle event 06 here
QINGYANG_STREET = "510105002"
WHOLE_WORLD = "-180,-90,180,90"


def _report(people, place, who: str, area: str, code: str = "06002", source: str = "city_inspector",
            **kw: Any) -> Case:
    lon, lat = place(area)
    return actions.report_case(people[who], source=source, kind="event", category_code=code,
                               lon=lon, lat=lat, **kw)


@pytest.fixture
def cases(people, place, photo) -> dict[str, Any]:
    jj = [_report(people, place, "city_inspector_1", STANDARD_STREET) for _ in range(3)]
    filed = actions.file_case(people["intake_operator_jinjiang"], jj[0].pk)
    actions.dispatch_case(people["dispatcher_jinjiang"], filed.pk, department="510104-HW")
    actions.file_case(people["intake_operator_jinjiang"], jj[1].pk)
    own = _report(people, place, "street_staff_jinjiang", FLAT_COMMUNITY, code="06007",
                  source="street_staff")
    upward = _report(people, place, "street_staff_jinjiang", FLAT_COMMUNITY, code="06001",
                     source="street_staff")
    actions.return_case(people["street_staff_jinjiang"], upward.pk, reason="不属本街道", role="street_staff")
    done = _report(people, place, "street_staff_jinjiang", FLAT_COMMUNITY, code="06007",
                   source="street_staff")
    actions.feedback_case(people["street_staff_jinjiang"], done.pk, after_photo=photo, role="street_staff")
    actions.close_case(people["shift_leader_jinjiang"], done.pk)
    qy = [_report(people, place, "city_inspector_1", QINGYANG_STREET) for _ in range(2)]
    return {"jinjiang": jj, "own": own, "upward": upward, "done": done, "qingyang": qy}


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def get_json(client: Client, url: str, status: int = 200) -> Any:
    resp = client.get(url)
    assert resp.status_code == status, resp.content
    return resp.json()


# ---- live map JSON ---------------------------------------------------------------------------

def test_a_qingyang_user_never_gets_jinjiang_cases(client, people, cases) -> None:
    login(client, people["dispatcher_qingyang"])
    body = get_json(client, f"/live/cases.json?bbox={WHOLE_WORLD}&zoom=18")
    numbers = {c["number"] for c in body["cases"]}
    assert numbers == {c.number for c in cases["qingyang"]}
    assert all(n.startswith("510105") for n in numbers)
    clusters = get_json(client, f"/live/cases.json?bbox={WHOLE_WORLD}&zoom=10")
    assert clusters["mode"] == "clusters" and clusters["total"] == 2
    # Asking for Jinjiang explicitly gives nothing either.
    body = get_json(client, f"/live/cases.json?bbox={WHOLE_WORLD}&zoom=18&district=510104")
    assert body["cases"] == []


def test_cluster_counts_add_up_to_the_cases_in_the_cells_that_meet_the_box(client, people, cases) -> None:
    user = people["leader_jinjiang"]
    login(client, user)
    visible = selectors.filtered_cases(user, selectors.CaseFilters())
    points = list(visible.values_list("lon", "lat"))
    lons = sorted(lon for lon, _lat in points)
    lats = sorted(lat for _lon, lat in points)
    assert len(lons) >= 6
    # A box around part of the cases: the counts must match a direct count of the cells
    # (64 px at the zoom) that meet it.
    bbox = (lons[0] - 1e-6, lats[0] - 1e-6, lons[len(lons) // 2] + 1e-6, lats[-1] + 1e-6)
    for zoom in (8, 11, 13, 15):
        box = cell_box(bbox, zoom + 2)
        expected = sum(box.x0 <= cell_of(lon, box.scale) <= box.x1
                       and box.y0 <= cell_of(lat, box.scale) <= box.y1 for lon, lat in points)
        assert expected >= selectors.in_bbox(visible, bbox).count() > 0
        body = get_json(client, "/live/cases.json?bbox=" + ",".join(map(str, bbox)) + f"&zoom={zoom}")
        assert body["mode"] == "clusters"
        assert sum(c["n"] for c in body["clusters"]) == body["total"] == expected
        assert all(c["red"] + c["yellow"] + c["green"] <= c["n"] for c in body["clusters"])
    at_low_zoom = get_json(client, "/live/cases.json?bbox=" + ",".join(map(str, bbox)) + "&zoom=8")
    assert len(at_low_zoom["clusters"]) < len(points)  # nearby cases do cluster
    single = get_json(client, "/live/cases.json?bbox=" + ",".join(map(str, bbox)) + "&zoom=17")
    assert single["mode"] == "cases"
    assert len(single["cases"]) == selectors.in_bbox(visible, bbox).count()


def test_filters_and_heat(client, people, cases) -> None:
    login(client, people["leader_jinjiang"])
    base = f"/live/cases.json?bbox={WHOLE_WORLD}&zoom=18"
    to_dispatch = get_json(client, base + "&state=to_dispatch")["cases"]
    assert {c["number"] for c in to_dispatch} == {cases["jinjiang"][1].number, cases["upward"].number}
    open_only = get_json(client, base + "&open=1")["cases"]
    assert cases["done"].number not in {c["number"] for c in open_only}
    assert all(c["state"] not in FINAL_STATES for c in open_only)
    by_source = get_json(client, base + "&source=street_staff")["cases"]
    assert len(by_source) == 3
    by_class = get_json(client, base + "&major=event:06&period=today")["cases"]
    assert len(by_class) == 6
    assert get_json(client, base + "&major=component:01")["cases"] == []
    heat = get_json(client, f"/live/cases.json?bbox={WHOLE_WORLD}&zoom=12&heat=1&period=7d")
    assert heat["mode"] == "heat" and heat["total"] == 6
    assert heat["max"] == max(c["n"] for c in heat["cells"])
    (south, west), (north, east) = heat["cells"][0]["bounds"]
    assert south < north and west < east


@pytest.mark.parametrize("query, field", [
    ("bbox=1,2,3&zoom=5", "bbox"),
    ("bbox=10,20,5,30&zoom=5", "bbox"),
    ("bbox=a,b,c,d&zoom=5", "bbox"),
    ("bbox=1,2,3,4&zoom=x", "zoom"),
    ("bbox=1,2,3,4&zoom=40", "zoom"),
    ("bbox=1,2,3,4&zoom=5&state=nope", "state"),
    ("bbox=1,2,3,4&zoom=5&period=forever", "period"),
    ("bbox=1,2,3,4&zoom=5&source=x", "source"),
    ("bbox=1,2,3,4&zoom=5&major=eventcomponent06", "major"),
    ("bbox=1,2,3,4&zoom=5&district=x", "district"),
])
def test_bad_queries_get_422(client, people, demo_small, query: str, field: str) -> None:
    login(client, people["leader_jinjiang"])
    body = get_json(client, "/live/cases.json?" + query, status=422)
    assert body["code"] == "invalid_request" and body["details"][0]["field"] == field


def test_json_endpoints_need_a_login(client, demo_small) -> None:
    for url in ("/live/cases.json?bbox=1,2,3,4&zoom=3", "/screen/data.json", "/live/token.json"):
        assert get_json(client, url, status=403)["code"] == "not_authenticated"


# ---- big screen ------------------------------------------------------------------------------

def test_big_screen_figures_equal_direct_counts(client, people, cases) -> None:
    user = people["leader_jinjiang"]
    login(client, user)
    data = get_json(client, "/screen/data.json")
    from citygrid.cases.selectors import visible_cases

    visible = visible_cases(user)
    ids = visible.values("id")
    today = selectors._today_start()
    events = CaseEvent.objects.filter(case__in=ids, at__gte=today)
    assert data["today"]["reported"] == visible.filter(created_at__gte=today).count() == 6
    assert data["today"]["filed"] == events.filter(operation="file").values("case").distinct().count()
    assert data["today"]["dispatched"] == events.filter(
        operation__in=["dispatch", "redispatch"]).values("case").distinct().count()
    assert data["today"]["closed"] == events.filter(operation="close").count() == 1
    assert data["open"] == visible.exclude(state__in=FINAL_STATES).count() == 5
    assert data["overdue"] == visible.exclude(state__in=FINAL_STATES).filter(overdue_level="red").count()
    assert data["closed_month"] == 1 and data["on_time_month"] == 1 and data["on_time_rate"] == 100.0
    assert {r["code"]: r["total"] for r in data["by_district"]} == {"510104": 6}
    assert sum(r["total"] for r in data["by_class"]) == 6
    assert data["by_class"][0]["code"] == "06" and data["by_class"][0]["name"] != "06"
    assert len(data["events"]) == min(20, events.count())
    assert set(data["events"][0]) == {"operation", "number", "district", "at", "to_state"}
    assert all(e["number"].startswith("510104") for e in data["events"])


def test_big_screen_of_a_city_leader_sees_both_districts(client, people, cases) -> None:
    login(client, people["coordinator_city"])
    data = get_json(client, "/screen/data.json")
    codes = {r["code"] for r in data["by_district"]}
    assert codes <= {"510104", "510105"}
    qy = get_json(Client(), "/screen/data.json", status=403)
    assert qy["code"] == "not_authenticated"


# ---- pages -----------------------------------------------------------------------------------

def _json_script(html: str, element_id: str) -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_pages_render_in_chinese(client, people, cases) -> None:
    login(client, people["leader_jinjiang"])
    live = client.get("/live/")
    assert live.status_code == 200
    html = live.content.decode()
    assert "web/screen/live.js" in html and "vendor/leaflet/leaflet.js" in html
    config = _json_script(html, "live-config")
    assert config["casesUrl"] == "/live/cases.json" and config["pollSeconds"] == 15
    assert 'value="510104"' in html and 'value="510105"' not in html  # district filter is scoped
    screen = client.get("/screen/")
    assert screen.status_code == 200
    html = screen.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and 'id="chart-district"' in html
    assert _json_script(html, "screen-config")["dataUrl"] == "/screen/data.json"
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_pages_need_a_login(client, demo_small) -> None:
    for url in ("/live/", "/screen/", "/street/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp["Location"]


# ---- street platform -------------------------------------------------------------------------

def test_street_platform_for_street_staff(client, people, cases) -> None:
    login(client, people["street_staff_jinjiang"])
    resp = client.get("/street/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert _json_script(html, "street-config")["street"]["code"] == "510104001"
    self_part = html.split('id="street-self"')[1].split('id="upward-title"')[0]
    upward_part = html.split('id="street-upward"')[1].split('id="staff-title"')[0]
    assert cases["own"].number in self_part and cases["upward"].number not in self_part
    assert cases["upward"].number in upward_part and cases["own"].number not in upward_part
    assert cases["done"].number not in html  # closed: in the results, not in the lists
    results = selectors.street_results(people["street_staff_jinjiang"],
                                       cases["own"].street)
    assert results["reported"] == 3 and results["self_handled"] == 2
    assert results["closed"] == 1 and results["closed_on_time"] == 1
    assert results["on_time_rate"] == 100.0
    assert 'data-figure="reported">3<' in html
    # Staff: the people of the street office; street staff see no phone numbers.
    staff = selectors.street_staff(people["street_staff_jinjiang"], cases["own"].street)
    assert staff and all(p["phone"] is None for p in staff)


def test_street_platform_refuses_non_street_users(client, people, demo_small) -> None:
    for username in ("dispatcher_jinjiang", "city_inspector_1", "handler_jinjiang_hw"):
        login(client, people[username])
        resp = client.get("/street/")
        assert resp.status_code == 403, username
        assert "街道" in resp.content.decode()


def test_phone_numbers_only_for_roles_that_may_see_them(people, demo_small) -> None:
    from citygrid.space.models import Area

    street = Area.objects.get(code="510104001")
    head = selectors.street_staff(people["department_head_jinjiang"], street)
    assert all(p["phone"] is None for p in selectors.street_staff(people["street_staff_jinjiang"], street))
    assert all(p["phone"] is not None for p in head)


def test_time_left_text() -> None:
    from citygrid.web.screen_views import time_left

    assert time_left(None) == "—"
    assert "2" in time_left(2 * 3600 + 300) and "5" in time_left(2 * 3600 + 300)
    assert time_left(-600) != time_left(600)


# ---- desk change token -----------------------------------------------------------------------

def test_queue_token_changes_when_the_queue_changes(client, people, place) -> None:
    dispatcher = people["dispatcher_jinjiang"]
    login(client, dispatcher)
    first = get_json(client, "/live/token.json?role=dispatcher")
    assert first == get_json(client, "/live/token.json?role=dispatcher")  # stable while nothing changes
    case = _report(people, place, "city_inspector_1", STANDARD_STREET)
    assert get_json(client, "/live/token.json?role=dispatcher") == first  # not in this queue yet
    actions.file_case(people["intake_operator_jinjiang"], case.pk)
    second = get_json(client, "/live/token.json?role=dispatcher")
    assert second["token"] != first["token"] and second["count"] == first["count"] + 1
    # A Qingyang case changes nothing for the Jinjiang dispatcher.
    qy = _report(people, place, "city_inspector_1", QINGYANG_STREET)
    actions.file_case(people["intake_operator_qingyang"], qy.pk)
    assert get_json(client, "/live/token.json?role=dispatcher") == second
    assert get_json(client, "/live/token.json?role=shift_leader", status=403)["code"] == "role_not_held"
    assert "token" in get_json(client, "/live/token.json")
    everything = get_json(client, "/live/token.json?role=all")
    from citygrid.cases.selectors import visible_cases

    assert everything["count"] == visible_cases(dispatcher).count()
    actions.urge_case(dispatcher, case.pk)  # changes the case, not the queue's membership
    assert get_json(client, "/live/token.json?role=dispatcher")["token"] != second["token"]
    assert get_json(client, "/live/token.json?role=all")["token"] != everything["token"]


# ---- efficiency: a fixed number of queries, whatever the number of cases ----------------------

def test_big_screen_and_clusters_take_a_fixed_number_of_queries(
        people, cases, django_assert_max_num_queries) -> None:
    user = people["leader_jinjiang"]
    with remembering(), django_assert_max_num_queries(12):  # as in a request (the memo)
        # scoping (~4), kept counts (watermark, reports, closings), live cases, today's
        # events, latest events, district and class names
        data = selectors.screen_figures(user)
    assert data["today"]["reported"] == 6
    filters = selectors.CaseFilters(open_only=True)
    with remembering(), django_assert_max_num_queries(6):  # as in a request (the memo)
        # scoping (3) + one GROUP BY of counts, one of traffic lights
        body = selectors.map_cases(user, filters, (-180, -90, 180, 90), 10)
    assert body["total"] == 5
    with remembering(), django_assert_max_num_queries(5):
        assert selectors.heat_cells(user, filters, (-180, -90, 180, 90), 12)["total"] == 5
