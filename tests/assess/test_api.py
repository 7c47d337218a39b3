import io
from datetime import date

import pytest
from openpyxl import load_workbook

from citygrid.assess.facts import refresh_facts
from citygrid.assess.models import AssessmentRun, RunStatus
from citygrid.assess.services import generate
from citygrid.assess.simulate import simulate
from citygrid.space.models import Area

START = date(2026, 3, 2)
Q = "/api/v1/assessment/table?kind=district&period=custom&day=2026-03-02&end=2026-03-03"


@pytest.fixture
def simulated(demo_small):
    truth = simulate(days=2, seed=5, per_day=3, start=START)
    refresh_facts(as_of=truth.as_of)
    return truth


def _login(client, user):
    client.force_login(user)
    return client


def test_city_sees_all_districts_district_sees_its_own(client, simulated, people):
    admin = people["coordinator_city"]
    admin.is_superuser = True
    admin.save()
    rows = _login(client, admin).get(Q).json()["rows"]
    assert len(rows) >= 2
    jinjiang = Area.objects.get(code="510104").id
    rows = _login(client, people["dispatcher_jinjiang"]).get(Q).json()["rows"]
    assert [r["subject_id"] for r in rows] == [jinjiang]
    got = client.get(Q + "&district=510105")
    assert got.status_code == 403 and got.json()["code"] == "out_of_scope"


def test_figures_match_truth_and_drill_down(client, simulated, people):
    client = _login(client, people["dispatcher_jinjiang"])
    row = client.get(Q).json()["rows"][0]
    assert row["figures"]["due_to_close"] == simulated.district[row["subject_id"]]["due_to_close"]
    for figure, value in row["figures"].items():
        got = client.get(f"/api/v1/assessment/cases?kind=district&period=custom&day=2026-03-02"
                         f"&end=2026-03-03&subject={row['subject_id']}&figure={figure}&limit=1000").json()
        assert got["total"] == value == len(got["cases"])


def test_xlsx_holds_the_figures(client, simulated, people):
    client = _login(client, people["dispatcher_jinjiang"])
    row = client.get(Q).json()["rows"][0]
    response = client.get(Q.replace("/table?", "/table.xlsx?"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    values = [c.value for c in sheet[2]]
    assert values[header.index("filed")] == row["figures"]["filed"]
    assert values[header.index("closed")] == row["figures"]["closed"]


def test_bad_input_gets_clear_errors(client, simulated, people):
    client = _login(client, people["dispatcher_jinjiang"])
    assert client.get(Q.replace("kind=district", "kind=mayor")).json()["code"] == "unknown_subject_kind"
    assert client.get(Q.replace("period=custom", "period=fortnight")).json()["code"] == "invalid_period"
    got = client.get("/api/v1/assessment/cases?kind=district&day=2026-03-02&subject=1&figure=nope")
    assert got.status_code == 422 and got.json()["code"] == "unknown_figure"
    assert client.post("/api/v1/assessment/runs", {"day": "2026-03-02"},
                       content_type="application/json").status_code == 403


def test_generate_run_stores_results(simulated):
    run = AssessmentRun.objects.create(period_kind="month", period_start=date(2026, 3, 1),
                                       period_end=date(2026, 3, 31))
    generate(run, refresh=False)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.progress == 100
    districts = run.results.filter(subject_kind="district")
    assert districts.count() >= 2
    total = sum(r.figures["filed"] for r in districts)
    assert total == sum(c["filed"] for c in simulated.district.values())
    assert run.results.filter(subject_kind="inspector").exists()
    assert all(r.grade in "ABCDE" for r in districts)


@pytest.mark.urls("tests.assess.urls")
def test_pages_render(client, simulated, people):
    client = _login(client, people["dispatcher_jinjiang"])
    page = client.get("/assess/?kind=district&period=month&day=2026-03-02")
    assert page.status_code == 200 and b"chart-trend" in page.content
    report = client.get("/assess/report/?kind=department&period=month&day=2026-03-02")
    assert report.status_code == 200 and b"assess/report.css" in report.content


H = "/api/v1/assessment/hotspots?period=custom&day=2026-03-02&end=2026-03-03"


def test_overview_shows_the_hotspot_map(client, simulated, people):
    page = _login(client, people["dispatcher_jinjiang"]).get("/assess/?period=month&day=2026-03-02")
    html = page.content.decode()
    assert page.status_code == 200
    for needle in ('id="hotspot-map"', 'id="hotspot-config"', "vendor/leaflet/leaflet.js",
                   "assess/hotspots.js"):
        assert needle in html
    assert "chart-hot" not in html


def test_hotspots_are_scoped_and_drill_down(client, simulated, people):
    from citygrid.assess.models import CaseFact

    admin = people["coordinator_city"]
    admin.is_superuser = True
    admin.save()
    everything = _login(client, admin).get(H).json()["features"]
    assert {f["properties"]["code"][:6] for f in everything} == {"510104", "510105"}
    client.logout()
    client = _login(client, people["dispatcher_jinjiang"])
    response = client.get(H)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/geo+json")
    mine = response.json()["features"]
    assert mine and {f["properties"]["code"][:6] for f in mine} == {"510104"}
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in mine)
    jinjiang = Area.objects.get(code="510104")
    reported = CaseFact.objects.filter(district_id=jinjiang.id, day__gte="2026-03-02",
                                       day__lte="2026-03-03").count()
    assert sum(f["properties"]["cases"] for f in mine) == reported
    top = mine[0]["properties"]
    got = client.get(H.replace("/hotspots?", "/hotspots/cases?") + f"&code={top['code']}").json()
    assert got["total"] == top["cases"] == len(got["cases"])
    grids = client.get(H + "&level=grid").json()["features"]
    assert sum(f["properties"]["cases"] for f in grids) == reported
    assert client.get(H + "&district=510105").json()["code"] == "out_of_scope"
    assert client.get(H + "&level=street").json()["code"] == "unknown_level"
    missing = client.get(H.replace("/hotspots?", "/hotspots/cases?") + "&code=999")
    assert missing.status_code == 404 and missing.json()["code"] == "place_not_found"
    assert client.get(H.replace("period=custom", "period=fortnight")).status_code == 422
    other = next(f for f in everything if f["properties"]["code"].startswith("510105"))
    got = client.get(H.replace("/hotspots?", "/hotspots/cases?") + f"&code={other['properties']['code']}")
    assert got.json()["total"] == 0  # another district's place: none of its cases are visible
