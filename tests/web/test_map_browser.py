"""The map in a real browser: Debian's Chromium driven by Playwright against a live server."""

import os

import pytest

from tests.browser import chromium_page
from tests.web.cities import a_known_grid, load_small_city

# Playwright's sync API runs an event loop in this thread; let the fixtures use the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server):
    with chromium_page(viewport={"width": 1280, "height": 800}, locale="zh-CN") as page:
        yield page


def test_click_a_grid_shows_its_code_and_community(page, live_server, transactional_db) -> None:
    from playwright.sync_api import expect

    load_small_city()
    grid = a_known_grid()

    page.goto(live_server.url + "/")
    expect(page.locator("#map")).to_have_attribute("data-level", "district")
    expect(page.locator("#map")).to_have_attribute("data-status", "ready")
    assert page.locator("#map .leaflet-overlay-pane canvas").count() == 1

    # Zoom to grid level, centred on a point well inside the known grid.
    page.evaluate("h => { window.location.hash = h; }", f"#17/{grid.lat:.7f}/{grid.lon:.7f}")
    expect(page.locator("#map")).to_have_attribute("data-level", "grid")
    expect(page.locator("#map")).to_have_attribute("data-status", "ready")
    expect(page.locator("#map-level-name")).to_have_text("单元网格")

    page.locator("#map").click()  # the centre of the map is inside the grid
    panel = page.locator("#info-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-status", "ready")
    expect(panel.locator("dd code").first).to_have_text(grid.code)
    expect(panel).to_contain_text(grid.community_name)
    assert len(grid.code) == 15
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_english_map_and_a_district_panel(page, live_server, transactional_db) -> None:
    from playwright.sync_api import expect

    plan = load_small_city()
    district = next(a for a in plan.areas if a.level == "district")
    point = district.geometry.representative_point()

    page.goto(live_server.url + "/")
    page.locator('.lang-switch button[value="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#map-level-name")).to_have_text("District")

    page.evaluate("h => { window.location.hash = h; }", f"#11/{point.y:.7f}/{point.x:.7f}")
    expect(page.locator("#map")).to_have_attribute("data-status", "ready")
    page.wait_for_function("() => location.hash.startsWith('#11/')")
    page.locator("#map").click()
    panel = page.locator("#info-panel")
    expect(panel).to_have_attribute("data-status", "ready")
    expect(page.locator("#info-title")).to_have_text(district.name)
    expect(panel).to_contain_text(district.code)
    expect(panel).to_contain_text("City")
    assert page.js_errors == []  # type: ignore[attr-defined]
