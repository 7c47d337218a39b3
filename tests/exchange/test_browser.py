"""The public report and status pages in a real browser (Debian's Chromium via Playwright),
on a phone-sized screen."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_page
from tests.cases.conftest import png

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("EXCHANGE_SCREENSHOTS")  # a folder: save what the phone showed


def shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def phone(live_server: Any) -> Any:
    with chromium_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                       has_touch=True, device_scale_factor=2) as page:
        yield page


def test_report_and_follow_on_a_phone(phone: Any, live_server: Any, demo_small_tx: Any) -> None:
    from playwright.sync_api import expect

    from citygrid.exchange.demo import load_services
    from citygrid.exchange.models import PublicRequest
    from citygrid.space.models import UnitGrid

    load_services(io.StringIO())
    grid = UnitGrid.objects.filter(valid_to__isnull=True,
                                   community__code__startswith="510104002").order_by("code").first()
    point = grid.shape.representative_point()

    phone.goto(live_server.url + "/public/")
    expect(phone.locator("#pick-map")).to_have_attribute("data-status", "ready")
    phone.select_option("#id_service", "E06010")
    # zoom to the place, then tap the map where it is
    xy = phone.evaluate(
        """([lat, lon]) => { const m = document.getElementById('pick-map').leafletMap;
             m.setView([lat, lon], 17, {animate: false});
             const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }""",
        [point.y, point.x])
    phone.locator("#pick-map").tap(position={"x": xy[0], "y": xy[1]})
    expect(phone.locator("#pick-map")).to_have_attribute("data-status", "picked")
    assert abs(float(phone.input_value("#id_lat")) - point.y) < 0.0002
    phone.set_input_files("#id_photo", files=[{"name": "p.png", "mimeType": "image/png",
                                               "buffer": png(320, 240)}])
    phone.fill("#id_description", "人行道上有一堆垃圾")
    phone.fill("#id_phone", "13500001234")
    shot(phone, "report")
    phone.locator("button[type=submit].primary").click()

    code = phone.locator("[data-testid=tracking-code]")
    expect(code).to_be_visible()
    row = PublicRequest.objects.get()
    assert code.inner_text().strip() == row.tracking_code
    expect(phone.locator("[data-testid=timeline] li")).to_have_count(1)
    shot(phone, "status")
    assert "13500001234" not in phone.content()
    # the page fits the phone's width
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    phone.goto(live_server.url + "/public/track/")
    phone.fill("#code", row.tracking_code.lower().replace("-", ""))
    phone.locator("button[type=submit].primary").click()
    expect(phone.locator("[data-testid=status]")).to_be_visible()
    assert phone.url.endswith(f"/public/track/{row.tracking_code}/")

    phone.goto(live_server.url + "/public/map/")
    expect(phone.locator("#problem-map")).to_have_attribute("data-status", "ready")
    expect(phone.locator("#problem-map")).to_have_attribute("data-count", "1")
    shot(phone, "map")
    assert phone.js_errors == []
