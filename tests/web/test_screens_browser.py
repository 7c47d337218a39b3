"""The screens in a real browser (Debian's Chromium, Playwright, a live server): the big screen
renders with data, the live map shows clusters and a heat map, the street platform shows its
grids and cases, the desk refreshes its queue on its own. Each writes docs/screens/screen-*.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.cases import conftest as cases_conftest
from tests.cases.conftest import png

demo_small_tx = cases_conftest.demo_small_tx  # the case tests' fixture, for this module

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screens"

# Playwright's sync API runs an event loop in this thread; let the fixtures use the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(live_server):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # The connection the test opened while Playwright's loop ran is left open otherwise,
            # and PostgreSQL then refuses to drop the test database at the end of the run.
            connections.close_all()


def open_page(browser, width: int = 1280, height: int = 800):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    # No network resource other than our server.
    page.outside = []  # type: ignore[attr-defined]
    page.on("request", lambda r: None if r.url.startswith(("http://localhost", "http://127.0.0.1", "data:"))
            else page.outside.append(r.url))  # type: ignore[attr-defined]
    return page


def log_in(page, live_server, username: str, path: str) -> None:
    from citygrid.org.demo import DEMO_PASSWORD

    page.goto(live_server.url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.stacked-form button.primary")
    page.wait_for_url(f"**{path}")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"screen-{name}.png"))


def _point(street_code: str, index: int = 0) -> tuple[float, float]:
    from citygrid.space.models import Area, UnitGrid

    street = Area.objects.get(code=street_code)
    community = Area.objects.filter(parent=street, level="community").order_by("code")[index]
    grids = UnitGrid.objects.filter(community=community, valid_to__isnull=True).order_by("code")
    point = grids[0].shape.representative_point()
    return float(point.x), float(point.y)


def some_cases() -> dict[str, Any]:
    """A few cases in Jinjiang through the actions: reported, filed, dispatched, closed."""
    from django.contrib.auth.models import User

    from citygrid.cases import actions

    user = {u.username: u for u in User.objects.all()}
    made = []
    for i in range(6):
        lon, lat = _point("510104002", i % 2)
        made.append(actions.report_case(user["city_inspector_1"], source="city_inspector", kind="event",
                                        category_code="06002", lon=lon, lat=lat))
    for case in made[:4]:
        actions.file_case(user["intake_operator_jinjiang"], case.pk)
    for case in made[:2]:
        actions.dispatch_case(user["dispatcher_jinjiang"], case.pk, department="510104-HW")
    lon, lat = _point("510104001", 1)
    own = actions.report_case(user["street_staff_jinjiang"], source="street_staff", kind="event",
                              category_code="06007", lon=lon, lat=lat)
    done = actions.report_case(user["street_staff_jinjiang"], source="street_staff", kind="event",
                               category_code="06007", lon=lon, lat=lat)
    actions.feedback_case(user["street_staff_jinjiang"], done.pk, after_photo=png(), role="street_staff")
    actions.close_case(user["shift_leader_jinjiang"], done.pk)
    return {"made": made, "own": own, "done": done}


def test_big_screen_renders_with_data(browser, live_server, demo_small_tx) -> None:
    from playwright.sync_api import expect

    some_cases()
    page = open_page(browser, 1920, 1080)
    log_in(page, live_server, "leader_jinjiang", "/screen/")
    expect(page.locator("#wall")).to_have_attribute("data-status", "ready")
    assert int(page.locator("#kpi-reported").inner_text()) == 8
    assert int(page.locator("#kpi-filed").inner_text()) > 0
    assert int(page.locator("#kpi-dispatched").inner_text()) > 0
    assert int(page.locator("#kpi-closed").inner_text()) == 1
    expect(page.locator("#kpi-ontime")).to_have_text("100.0%")
    expect(page.locator("#chart-district canvas")).to_have_count(1)
    expect(page.locator("#chart-class canvas")).to_have_count(1)
    expect(page.locator("#wall-events li").first).to_be_visible()
    expect(page.locator("#wall-map")).to_have_attribute("data-status", "ready")
    expect(page.locator("#wall-map .cg-cluster").first).to_be_visible()
    # The 1920×1080 stage fills this window exactly.
    box = page.locator("#wall").bounding_box()
    assert box is not None and round(box["width"]) == 1920 and round(box["height"]) == 1080
    page.wait_for_timeout(600)  # let ECharts finish its entry animation for the screenshot
    shot(page, "big-screen")
    # A smaller window scales the whole stage down.
    page.set_viewport_size({"width": 960, "height": 540})
    page.wait_for_function("() => document.getElementById('wall').getBoundingClientRect().width < 961")
    assert page.js_errors == []  # type: ignore[attr-defined]
    assert page.outside == []  # type: ignore[attr-defined]


def test_live_map_shows_clusters_and_a_heat_map(browser, live_server, demo_small_tx) -> None:
    from playwright.sync_api import expect

    cases = some_cases()
    page = open_page(browser)
    log_in(page, live_server, "leader_jinjiang", "/live/")
    live = page.locator("#live-map")
    expect(live).to_have_attribute("data-status", "ready")
    expect(live).to_have_attribute("data-mode", "clusters")
    expect(page.locator("#live-count")).to_have_text("7")  # open cases (the default filter)
    expect(page.locator("#live-map .cg-cluster").first).to_be_visible()
    total = sum(int(t) for t in page.locator("#live-map .cg-cluster-inner").all_inner_texts())
    assert total == 7
    shot(page, "live-map")

    page.uncheck("input[name=open]")
    expect(page.locator("#live-count")).to_have_text("8")
    page.check("input[name=mode][value=heat]")
    expect(live).to_have_attribute("data-mode", "heat")
    expect(page.locator("#live-map path.cg-heat").first).to_be_attached()
    expect(page.locator("#legend-heat")).to_be_visible()
    shot(page, "live-heat")

    # Single cases at high zoom, coloured; a popup links to the case.
    page.check("input[name=mode][value=cases]")
    page.check("input[name=colour][value=state]")
    own = cases["own"]
    page.evaluate("([lat, lon]) => window.citygridLive.map.setView([lat, lon], 18)", [own.lat, own.lon])
    expect(live).to_have_attribute("data-mode", "cases")
    expect(page.locator("#legend-state")).to_be_visible()
    expect(page.locator("#live-map path.cg-case").first).to_be_attached()
    assert page.js_errors == []  # type: ignore[attr-defined]
    assert page.outside == []  # type: ignore[attr-defined]


def test_street_platform_in_the_browser(browser, live_server, demo_small_tx) -> None:
    from playwright.sync_api import expect

    cases = some_cases()
    page = open_page(browser)
    log_in(page, live_server, "street_staff_jinjiang", "/street/")
    expect(page.locator("#street-map")).to_have_attribute("data-status", "ready")
    expect(page.locator(f'#street-self tr[data-number="{cases["own"].number}"]')).to_be_visible()
    expect(page.locator('#street-results [data-figure="closed_on_time"]')).to_have_text("1")
    expect(page.locator("#street-staff tbody tr").first).to_be_visible()
    expect(page.locator("#street-map path.leaflet-interactive, #street-map canvas").first).to_be_attached()
    shot(page, "street")

    other = open_page(browser)
    log_in(other, live_server, "dispatcher_jinjiang", "/cases/")
    resp = other.goto(live_server.url + "/street/")
    assert resp is not None and resp.status == 403
    expect(other.locator("#street-forbidden")).to_be_visible()
    assert page.js_errors == [] and other.js_errors == []  # type: ignore[attr-defined]


def test_desk_queue_refreshes_itself_when_a_case_arrives(browser, live_server, demo_small_tx) -> None:
    """desk-live.js on the dispatcher's queue: a newly filed case appears without a reload and
    long before the list's own 30-second refresh."""
    from django.contrib.auth.models import User
    from playwright.sync_api import expect

    from citygrid.cases import actions

    page = open_page(browser)
    log_in(page, live_server, "dispatcher_jinjiang", "/cases/")
    page.goto(live_server.url + "/cases/?role=dispatcher")
    expect(page.locator("#queue-results")).to_be_visible()
    # The script tag cases-web's queue template will carry (see docs/screens.md).
    page.evaluate("""() => new Promise(resolve => {
        const s = document.createElement("script");
        s.src = "/static/web/screen/desk-live.js";
        s.dataset.tokenUrl = "/live/token.json?role=dispatcher";
        s.dataset.seconds = "1";
        s.onload = resolve;
        document.body.appendChild(s);
    })""")
    page.wait_for_function("() => window.citygridDeskLive !== undefined")
    page.wait_for_timeout(1500)  # the first poll records the current token
    user = {u.username: u for u in User.objects.all()}
    lon, lat = _point("510104002")
    case = actions.report_case(user["city_inspector_1"], source="city_inspector", kind="event",
                               category_code="06002", lon=lon, lat=lat)
    actions.file_case(user["intake_operator_jinjiang"], case.pk)
    expect(page.locator(f'tr[data-number="{case.number}"]')).to_be_visible(timeout=15_000)
    assert page.js_errors == []  # type: ignore[attr-defined]
