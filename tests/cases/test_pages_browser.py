"""The case pages in a real browser: Debian's Chromium driven by Playwright against a live
server. A dispatcher logs in, opens the case waiting for dispatch, dispatches it and sees the
new state in the timeline."""

from __future__ import annotations

import os

import pytest

from tests.browser import chromium_page

# Playwright's sync API runs an event loop in this thread; let the fixtures use the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server):
    with chromium_page(viewport={"width": 1280, "height": 900}, locale="zh-CN") as page:
        yield page


def _case_to_dispatch():
    from django.contrib.auth.models import User

    from citygrid.cases import actions
    from citygrid.space.models import Area, UnitGrid

    street = Area.objects.get(code="510104002")
    community = Area.objects.filter(parent=street, level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=community, valid_to__isnull=True).order_by("code").first()
    point = grid.shape.representative_point()
    case = actions.report_case(User.objects.get(username="city_inspector_1"), source="city_inspector",
                               kind="event", category_code="06002", lon=point.x, lat=point.y,
                               address="东大街 1 号")
    return actions.file_case(User.objects.get(username="intake_operator_jinjiang"), case.pk)


def test_dispatcher_dispatches_a_case(page, live_server, demo_small_tx) -> None:
    from playwright.sync_api import expect

    from citygrid.cases.models import Case
    from citygrid.org.demo import DEMO_PASSWORD

    case = _case_to_dispatch()
    page.goto(live_server.url + "/cases/")
    page.fill("input[name=username]", "dispatcher_jinjiang")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.stacked-form button.primary")

    row = page.locator(f'tr[data-number="{case.number}"]')
    expect(row).to_be_visible()
    # The list refreshes itself (htmx, every 30 s): run one refresh now and see a new case come.
    later = _case_to_dispatch()
    assert page.locator(f'tr[data-number="{later.number}"]').count() == 0
    page.evaluate("""() => {
        const el = document.getElementById("queue-results");
        return htmx.ajax("GET", el.getAttribute("hx-get"), {target: el, swap: "outerHTML"});
    }""")
    expect(page.locator(f'tr[data-number="{later.number}"]')).to_be_visible()
    expect(page.locator("#queue-results")).to_have_attribute("hx-trigger", "every 30s")
    row.locator("a").first.click()
    expect(page.locator("#case-state")).to_have_text("待派遣")
    expect(page.locator("#case-map")).to_have_attribute("data-status", "ready")
    expect(page.locator(".chain-ok")).to_be_visible()

    panel = page.locator('details[data-op="dispatch"]')
    panel.locator("summary").click()
    expect(panel.locator("select[name=dispatch-department]")).to_have_value(
        str(case.routed_department_id))
    panel.locator("textarea[name=dispatch-note]").fill("请尽快处理")
    panel.locator("button[type=submit]").click()

    expect(page.locator("#case-state")).to_have_text("已派遣")
    last = page.locator("ol.timeline li").last
    expect(last).to_have_attribute("data-to", "dispatched")
    expect(last).to_contain_text("dispatcher_jinjiang")
    expect(last).to_contain_text("请尽快处理")
    expect(page.locator(".messages")).to_be_visible()
    assert Case.objects.get(pk=case.pk).state == "dispatched"
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_inspector_reports_a_case_with_a_photo(page, live_server, demo_small_tx) -> None:
    from playwright.sync_api import expect

    from citygrid.cases.models import Case
    from citygrid.org.demo import DEMO_PASSWORD
    from citygrid.space.models import Area, UnitGrid
    from tests.cases.conftest import png

    street = Area.objects.get(code="510104002")
    community = Area.objects.filter(parent=street, level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=community, valid_to__isnull=True).order_by("code").first()
    point = grid.shape.representative_point()

    page.goto(live_server.url + "/cases/new/")
    page.fill("input[name=username]", "city_inspector_1")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.stacked-form button.primary")
    expect(page.locator("#pick-map")).to_have_attribute("data-status", "ready")

    page.select_option("#id_kind", "event")
    page.select_option("#id_category_code", "06002")
    page.fill("#id_lon", f"{point.x:.7f}")
    page.fill("#id_lat", f"{point.y:.7f}")
    page.locator("#id_lat").dispatch_event("change")
    expect(page.locator("#geocode-result")).to_contain_text(grid.code)
    expect(page.locator("#geocode-result")).to_contain_text(street.name)
    page.fill("#id_address", "东大街 1 号")
    page.set_input_files("#id_photos", files=[
        {"name": "before.png", "mimeType": "image/png", "buffer": png(160, 120)}])
    expect(page.locator("#photo-preview img")).to_have_count(1)
    page.click("form.report-form button.primary")

    expect(page.locator("#case-state")).to_have_text("待立案")
    case = Case.objects.get(reporter__username="city_inspector_1")
    assert page.url.endswith(f"/cases/{case.number}/")
    expect(page.locator(".case-photos img")).to_have_count(1)
    assert page.js_errors == []  # type: ignore[attr-defined]
