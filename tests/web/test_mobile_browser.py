"""The mobile app in a real browser at phone size (390×844): Debian's Chromium driven by
Playwright against a live server, with the phone's GPS position set in the browser context.
Each test writes screenshots to docs/screens/mobile-<name>.png (shown in docs/screens.md)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.cases.conftest import demo_small_tx, png  # noqa: F401

PHONE = {"width": 390, "height": 844}
SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"

STANDARD_STREET = "510104002"  # event 06 → standard process
FLAT_COMMUNITY = "510104001002"  # event 06 → flat process, held by the street office 510104001-JD

# Playwright's sync API runs an event loop in this thread; let the fixtures use the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


def _point(area_code: str) -> tuple[float, float, str]:
    """(lon, lat, grid code) of a point inside the first grid of the area."""
    from citygrid.space.models import Area, UnitGrid

    area = Area.objects.get(code=area_code)
    if area.level != "community":
        area = Area.objects.filter(code__startswith=area_code, level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=area, valid_to__isnull=True).order_by("code").first()
    p = grid.shape.representative_point()
    return float(p.x), float(p.y), grid.code


def _shot(page: Any, name: str, full_page: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENS / f"mobile-{name}.png"), full_page=full_page)


@pytest.fixture
def phone(live_server) -> Iterator[Callable[..., Any]]:
    """phone(username, lon=, lat=) → a logged-in page at phone size with that GPS position."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from citygrid.org.demo import DEMO_PASSWORD

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def open_phone(username: str, lon: float = 104.06, lat: float = 30.66) -> Any:
            context = browser.new_context(
                viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                locale="zh-CN", geolocation={"longitude": lon, "latitude": lat},
                permissions=["geolocation"])
            page = context.new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.js_errors = errors  # type: ignore[attr-defined]
            page.goto(live_server.url + "/m/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("form.stacked-form button.primary")
            page.wait_for_url("**/m/")
            page.wait_for_selector("#m-view[data-status=ready]")
            return page

        try:
            yield open_phone
        finally:
            browser.close()
            # The connection the test opened while Playwright's loop ran is left open otherwise,
            # and PostgreSQL then refuses to drop the test database at the end of the run.
            connections.close_all()


def _class_name(code: str) -> str:
    from citygrid.catalog.models import Category

    return Category.objects.filter(code=code).order_by("-id").values_list("name", flat=True).first()


def _fill_report(page: Any, code: str, grid: str, photos: int = 1, wait_place: bool = True,
                 query: str | None = None) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#r-map")).to_have_attribute("data-status", "ready")
    if wait_place:
        expect(page.locator("#r-place")).to_have_attribute("data-grid", grid)
    page.set_input_files("#r-photos", files=[
        {"name": f"p{i}.png", "mimeType": "image/png", "buffer": png(2400, 1800 if i == 0 else 600)}
        for i in range(photos)])
    expect(page.locator("#r-preview img")).to_have_count(photos)
    name = _class_name(code)
    page.fill("#r-class-q", query or name[:2])  # by default a Chinese substring of the class name
    page.locator(f'#r-class-results button[data-code="{code}"]').click()
    expect(page.locator("#r-chosen")).to_have_attribute("data-code", code)
    page.fill("#r-description", "人行道有垃圾堆放")


def test_inspector_reports_with_photos_and_gps_position(phone, demo_small_tx) -> None:  # noqa: F811
    from PIL import Image
    from playwright.sync_api import expect

    from citygrid.cases.models import Case

    lon, lat, grid = _point(STANDARD_STREET)
    page = phone("city_inspector_1", lon=lon, lat=lat)
    _shot(page, "home-inspector")
    page.click('a[href="#report/city_inspector"]')
    _fill_report(page, "06002", grid, photos=2)
    assert abs(float(page.input_value("#r-lon")) - lon) < 1e-5
    # Correct the GPS position by dragging the marker a little.
    page.locator("#r-map").scroll_into_view_if_needed()
    box = page.locator("#r-map .leaflet-marker-icon").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 6
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 24, y + 8, steps=6)
    page.mouse.up()
    expect(page.locator("#r-lon")).not_to_have_value(f"{lon:.6f}")
    dragged_lon, dragged_lat = float(page.input_value("#r-lon")), float(page.input_value("#r-lat"))
    assert dragged_lon > lon and dragged_lat < lat
    page.locator("#r-description").blur()
    _shot(page, "inspector-report", full_page=True)
    page.click("#r-submit")

    sent = page.locator("#r-sent")
    expect(sent).to_be_visible()
    number = sent.get_attribute("data-number")
    case = Case.objects.get(number=number)
    assert (case.reporter.username, case.source, case.category.code) == ("city_inspector_1", "city_inspector", "06002")
    assert abs(case.lon - dragged_lon) < 2e-6 and abs(case.lat - dragged_lat) < 2e-6
    assert case.description == "人行道有垃圾堆放" and case.idempotency_key
    photos = list(case.photos.order_by("id"))
    assert [p.kind for p in photos] == ["before", "before"]
    sizes = []
    for p in photos:
        assert p.content_type == "image/jpeg"
        with Image.open(p.file.path) as image:
            sizes.append(image.size)
    assert sizes[0] == (2000, 1500)  # downscaled on the phone to at most 2000 px
    assert sizes[1] == (2000, 500)
    expect(page.locator("#m-outbox")).to_be_hidden()

    # The class is now among the recent ones for the next report; search by pinyin initials.
    page.click("#r-sent a[href='#report/city_inspector']")
    expect(page.locator('#r-recent button[data-code="06002"]')).to_be_visible()
    assert _class_name("06002") == "店面无证装修"
    page.fill("#r-class-q", "dmwzzx")
    expect(page.locator("#r-class-results button").first).to_have_attribute("data-code", "06002")
    page.fill("#r-class-q", "wsjg")  # 污水井盖 (component) and 污水井盖异常 (event)
    expect(page.locator('#r-class-results button[data-code="01002"]')).to_have_count(2)
    assert all("污水井盖" in n for n in page.locator("#r-class-results button").all_inner_texts())
    assert page.js_errors == []  # type: ignore[attr-defined]


def _flat_case() -> Any:
    from django.contrib.auth.models import User

    from citygrid.cases import actions

    lon, lat, _ = _point(FLAT_COMMUNITY)
    return actions.report_case(User.objects.get(username="city_inspector_1"), source="city_inspector",
                               kind="event", category_code="06002", lon=lon, lat=lat,
                               address="东大街 9 号", photos=[png(640, 480, "blue")])


def test_flat_process_handler_feeds_back_and_shift_leader_closes(phone, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    case = _flat_case()
    rework = _flat_case()
    assert (case.process, case.state, case.holder_department.code) == ("flat", "handling", "510104001-JD")

    # The street office's handler feeds back with an after photo.
    page = phone("street_staff_jinjiang")
    page.click('a[href="#tasks/handler/all"]')
    item = page.locator(f'li[data-number="{case.number}"]')
    expect(item).to_be_visible()
    expect(item.locator(".light")).to_have_attribute("data-light", "green")
    expect(item.locator(".left")).to_contain_text("剩余")
    _shot(page, "handler-tasks")
    item.locator("a").click()
    expect(page.locator("#case-state")).to_have_text("处置中")
    expect(page.locator("#case-navigate")).to_have_attribute("href", f"geo:{case.lat},{case.lon}?q={case.lat},{case.lon}")
    for op in ("feedback", "return", "request_postponement"):
        expect(page.locator(f'#case-ops button[data-op="{op}"]')).to_be_visible()
    page.click('#case-ops button[data-op="feedback"]')
    page.set_input_files("#op-after-photo", files=[
        {"name": "after.png", "mimeType": "image/png", "buffer": png(640, 480, "green")}])
    expect(page.locator("#op-after-preview img")).to_have_count(1)
    page.fill("#op-note", "已清理")
    _shot(page, "handler-feedback")
    page.click('form[data-op="feedback"] button[type=submit]')
    expect(page.locator(f'li[data-number="{rework.number}"]')).to_be_visible()
    expect(page.locator(f'li[data-number="{case.number}"]')).to_have_count(0)
    case.refresh_from_db()
    assert case.state == "to_close"
    assert case.photos.filter(kind="after").count() == 1
    for_rework = page  # the same handler asks for more time, then feeds back the second case
    for_rework.locator(f'li[data-number="{rework.number}"] a').click()
    for_rework.click('#case-ops button[data-op="request_postponement"]')
    for_rework.select_option("#op-extension", "2 working days")
    for_rework.fill("#op-reason", "需协调环卫车辆")
    for_rework.click('form[data-op="request_postponement"] button[type=submit]')
    expect(for_rework.locator("#m-toast")).to_contain_text("操作成功：申请延期")
    rework.refresh_from_db()
    assert rework.state == "postponement_requested"
    for_rework.locator(f'li[data-number="{rework.number}"] a').click()
    for_rework.click('#case-ops button[data-op="feedback"]')
    for_rework.set_input_files("#op-after-photo", files=[
        {"name": "after.png", "mimeType": "image/png", "buffer": png(640, 480, "gray")}])
    expect(for_rework.locator("#op-after-preview img")).to_have_count(1)
    for_rework.click('form[data-op="feedback"] button[type=submit]')
    expect(for_rework.locator(".m-empty")).to_have_text("暂无任务")
    assert page.js_errors == []  # type: ignore[attr-defined]

    # The shift leader sees before and after side by side and closes in a few taps.
    leader = phone("shift_leader_jinjiang")
    leader.click('a[href="#tasks/shift_leader/to_close"]')
    leader.locator(f'li[data-number="{case.number}"] a').click()
    expect(leader.locator('#case-photos figure[data-kind="before"] img')).to_have_count(1)
    expect(leader.locator('#case-photos figure[data-kind="after"] img')).to_have_count(1)
    leader.wait_for_function("() => [...document.querySelectorAll('#case-photos img')].every(i => i.complete && i.naturalWidth > 0)")
    _shot(leader, "shift-leader-review")
    leader.click('#case-ops button[data-op="close"]')
    leader.click('form[data-op="close"] button[type=submit]')
    expect(leader.locator(f'li[data-number="{rework.number}"]')).to_be_visible()
    case.refresh_from_db()
    assert case.state == "closed"

    # …and sends the other back for rework with a reason.
    leader.locator(f'li[data-number="{rework.number}"] a').click()
    leader.click('#case-ops button[data-op="check_fail"]')
    leader.fill("#op-reason", "垃圾未清理干净")
    leader.click('form[data-op="check_fail"] button[type=submit]')
    expect(leader.locator(".m-empty")).to_have_text("暂无任务")
    rework.refresh_from_db()
    assert (rework.state, rework.rework_count) == ("handling", 1)
    assert leader.js_errors == []  # type: ignore[attr-defined]


def test_street_staff_report_and_handle_in_one_flow(phone, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from citygrid.cases.models import Case

    lon, lat, grid = _point(FLAT_COMMUNITY)
    page = phone("street_staff_jinjiang", lon=lon, lat=lat)
    page.click('a[href="#report/street_staff"]')
    _fill_report(page, "06002", grid)
    page.click("#r-submit")
    sent = page.locator("#r-sent")
    expect(sent).to_have_attribute("data-process", "street_self_handle")
    expect(sent).to_contain_text("本街道自处案件")
    case = Case.objects.get(number=sent.get_attribute("data-number"))
    assert (case.source, case.reporter_role, case.holder_department.code) == (
        "street_staff", "street_staff", "510104001-JD")
    page.click("#r-open")
    page.click('#case-ops button[data-op="feedback"]')
    page.set_input_files("#op-after-photo", files=[
        {"name": "after.png", "mimeType": "image/png", "buffer": png(640, 480, "green")}])
    expect(page.locator("#op-after-preview img")).to_have_count(1)
    _shot(page, "street-self-handle")
    page.click('form[data-op="feedback"] button[type=submit]')
    expect(page.locator("#m-toast")).to_contain_text("操作成功：处置反馈")
    case.refresh_from_db()
    assert (case.state, case.process) == ("to_close", "street_self_handle")

    # Outside their street the server refuses (their role covers their street only): the report
    # is not lost but kept in the outbox with the server's reason, to retry or delete.
    other_lon, other_lat, other_grid = _point(STANDARD_STREET)
    page.context.set_geolocation({"longitude": other_lon, "latitude": other_lat})
    page.goto(page.url.split("#")[0] + "#report/street_staff")
    page.reload()
    _fill_report(page, "06002", other_grid)
    page.click("#r-submit")
    expect(page.locator("#m-toast")).to_contain_text("does not cover")
    expect(page.locator("body")).to_have_attribute("data-outbox", "1")
    page.click("#m-outbox")
    expect(page.locator("#outbox-list li")).to_have_count(1)
    expect(page.locator("#outbox-list li")).to_contain_text("服务器拒绝")
    _shot(page, "outbox")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#outbox-list li button.danger")
    expect(page.locator("body")).to_have_attribute("data-outbox", "0")
    assert Case.objects.filter(street__code=STANDARD_STREET).count() == 0
    assert page.js_errors == []  # type: ignore[attr-defined]


def _standard_cases() -> tuple[Any, Any]:
    """A hotline report waiting for verification, and a handled case waiting for the check."""
    from django.contrib.auth.models import User

    from citygrid.cases import actions

    def user(name: str) -> Any:
        return User.objects.get(username=name)

    lon, lat, _ = _point(STANDARD_STREET)
    public = actions.report_case(user("intake_operator_jinjiang"), source="hotline", kind="event",
                                 category_code="06002", lon=lon, lat=lat, address="东大街 3 号")
    handled = actions.report_case(user("city_inspector_1"), source="city_inspector", kind="event",
                                  category_code="06002", lon=lon, lat=lat, photos=[png(640, 480, "blue")])
    actions.file_case(user("intake_operator_jinjiang"), handled.pk)
    actions.dispatch_case(user("dispatcher_jinjiang"), handled.pk, department="510104-HW")
    actions.accept_case(user("handler_jinjiang_hw"), handled.pk)
    handled = actions.feedback_case(user("handler_jinjiang_hw"), handled.pk,
                                    after_photo=png(640, 480, "green"))
    return public, handled


def test_inspector_verifies_and_checks_on_site(phone, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    public, handled = _standard_cases()
    assert (public.state, handled.state) == ("to_verify", "to_check")
    page = phone("district_inspector_jinjiang")
    tiles = page.locator('ul[data-role="district_inspector"]')
    expect(tiles.locator('a[href="#tasks/district_inspector/to_verify"] .count')).to_have_text("1")
    expect(tiles.locator('a[href="#tasks/district_inspector/to_check"] .count')).to_have_text("1")

    page.click('a[href="#tasks/district_inspector/to_verify"]')
    page.locator(f'li[data-number="{public.number}"] a').click()
    expect(page.locator("#case-navigate")).to_have_attribute("href", f"geo:{public.lat},{public.lon}?q={public.lat},{public.lon}")
    expect(page.locator('#case-ops button[data-op="reject"]')).to_be_visible()
    page.click('#case-ops button[data-op="verify"]')
    page.fill("#op-note", "现场属实")
    page.click('form[data-op="verify"] button[type=submit]')
    expect(page.locator("#m-toast")).to_contain_text("操作成功：核实属实")
    public.refresh_from_db()
    assert public.state == "to_file"

    page.click("#m-back")
    page.click('a[href="#tasks/district_inspector/to_check"]')
    page.locator(f'li[data-number="{handled.number}"] a').click()
    expect(page.locator('#case-photos figure[data-kind="after"] img')).to_have_count(1)
    page.wait_for_function("() => [...document.querySelectorAll('#case-photos img')].every(i => i.complete && i.naturalWidth > 0)")
    _shot(page, "inspector-check")
    page.click('#case-ops button[data-op="check_pass"]')
    page.click('form[data-op="check_pass"] button[type=submit]')
    expect(page.locator("#m-toast")).to_contain_text("操作成功：核查通过")
    handled.refresh_from_db()
    assert handled.state == "to_close"
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_offline_report_is_kept_and_sent_once_when_the_network_returns(phone, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from citygrid.cases.models import Case

    lon, lat, grid = _point(STANDARD_STREET)
    page = phone("city_inspector_1", lon=lon, lat=lat)
    # The service worker caches the shell: the report form then opens with no network at all.
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.goto(page.url.split("#")[0] + "#report/city_inspector")
    expect(page.locator("#r-map")).to_have_attribute("data-status", "ready")
    page.wait_for_function("() => localStorage.getItem('cg.m.classes') !== null")

    page.context.set_offline(True)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-online", "false")
    _fill_report(page, "06002", grid, wait_place=False)
    page.click("#r-submit")
    queued = page.locator("#r-queued")
    expect(queued).to_be_visible()
    key = queued.get_attribute("data-key")
    expect(page.locator("body")).to_have_attribute("data-outbox", "1")
    expect(page.locator("#m-outbox")).to_be_visible()
    _shot(page, "offline-queued")
    assert Case.objects.filter(idempotency_key=key).count() == 0

    page.context.set_offline(False)
    expect(page.locator("body")).to_have_attribute("data-outbox", "0", timeout=30_000)
    expect(page.locator("#r-sent")).to_be_visible()
    # Sending again (a second flush, a retry after a lost answer) creates nothing more.
    page.evaluate("() => window.citygridMobile.flush()")
    cases = Case.objects.filter(idempotency_key=key)
    assert cases.count() == 1
    case = cases.get()
    assert (case.reporter.username, case.grid.code, case.photos.count()) == ("city_inspector_1", grid, 1)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_a_report_is_only_ever_sent_by_its_reporter(phone, demo_small_tx) -> None:  # noqa: F811
    """Reports kept offline belong to who made them: another user logging in on the same phone
    does not send them; their reporter does, on the next login."""
    from playwright.sync_api import expect

    from citygrid.cases.models import Case

    lon, lat, grid = _point(STANDARD_STREET)
    page = phone("city_inspector_1", lon=lon, lat=lat)
    page.click('a[href="#report/city_inspector"]')
    expect(page.locator("#r-place")).to_have_attribute("data-grid", grid)
    page.context.set_offline(True)
    _fill_report(page, "06002", grid, wait_place=False)
    page.click("#r-submit")
    key = page.locator("#r-queued").get_attribute("data-key")
    # Back online but the sending fails until the reporter has logged out (confirming the warning).
    page.route("**/api/v1/cases/with-photos", lambda route: route.abort())
    page.context.set_offline(False)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#m-logout")
    page.wait_for_selector("input[name=username]")
    page.unroute("**/api/v1/cases/with-photos")
    sends: list[str] = []
    page.on("request", lambda request: sends.append(request.url) if "with-photos" in request.url else None)

    from citygrid.org.demo import DEMO_PASSWORD

    def login(username: str) -> None:
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form.stacked-form button.primary")
        page.wait_for_selector("#m-view[data-status=ready]")

    login("district_inspector_jinjiang")
    expect(page.locator("body")).to_have_attribute("data-outbox", "0")
    page.evaluate("() => window.citygridMobile.flush()")
    assert sends == [] and Case.objects.filter(idempotency_key=key).count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#m-logout")
    login("city_inspector_1")
    expect(page.locator("body")).to_have_attribute("data-outbox", "0", timeout=30_000)
    assert Case.objects.get(idempotency_key=key).reporter.username == "city_inspector_1"


def test_english_phone_screens(phone, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = phone("shift_leader_jinjiang")
    tile = page.locator('a[href="#tasks/shift_leader/to_close"]')
    # The strings come from the JavaScript catalogue of the shell's language (/m/jsi18n/<lang>/).
    expect(tile).to_contain_text("审核结案")
    expect(page.locator("#m-title")).to_have_text("数字城管")
    expect(page.locator(".m-section-title")).to_have_text("值班长")
    page.click("footer .m-lang button[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(tile).to_contain_text("Review and close")
    expect(page.locator("#m-title")).to_have_text("City management")
    expect(page.locator(".m-section-title")).to_have_text("Shift leader")
    page.click("footer .m-lang button[value=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(tile).to_contain_text("审核结案")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_a_component_nearby_can_be_picked(phone, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from citygrid.cases.models import Case
    from citygrid.catalog.models import Category
    from citygrid.inventory.actions import bump_inventory_revision
    from citygrid.inventory.models import Component
    from citygrid.inventory.nearby import invalidate_index
    from citygrid.space.models import UnitGrid

    lon, lat, grid = _point(STANDARD_STREET)
    manhole = Category.objects.get(code="01002", kind="component", standard__code="CD-2026-DEMO")
    Component.objects.create(code="51010400100000042", name="污水井盖", category=manhole,
                             lon=lon + 0.0001, lat=lat, grid=UnitGrid.objects.get(code=grid))
    bump_inventory_revision()
    invalidate_index()
    page = phone("city_inspector_1", lon=lon + 0.01, lat=lat)
    page.click('a[href="#report/city_inspector"]')
    expect(page.locator("#r-lon")).to_have_value(f"{lon + 0.01:.6f}")
    expect(page.locator("#r-component")).to_be_hidden()  # nothing within 50 m
    page.context.set_geolocation({"longitude": lon, "latitude": lat})
    page.click("#r-relocate")
    expect(page.locator("#r-lon")).to_have_value(f"{lon:.6f}")
    expect(page.locator("#r-component option[value='51010400100000042']")).to_have_count(1)
    # Picking the component chooses its class (a component class: 污水井盖).
    page.select_option("#r-component", "51010400100000042")
    expect(page.locator("#r-chosen")).to_have_attribute("data-code", "01002")
    expect(page.locator("#r-chosen")).to_have_attribute("data-kind", "component")
    page.set_input_files("#r-photos", files=[{"name": "p.png", "mimeType": "image/png", "buffer": png(800, 600)}])
    expect(page.locator("#r-preview img")).to_have_count(1)
    expect(page.locator("#r-component")).to_have_value("51010400100000042")
    page.click("#r-submit")
    number = page.locator("#r-sent").get_attribute("data-number")
    case = Case.objects.get(number=number)
    assert (case.component_id, case.kind, case.category.code) == ("51010400100000042", "component", "01002")

    # An event class takes no component: the picker goes away.
    page.click("#r-sent a[href='#report/city_inspector']")
    expect(page.locator("#r-component option[value='51010400100000042']")).to_have_count(1)
    page.locator('#r-recent button[data-code="01002"]').click()
    expect(page.locator("#r-component")).to_be_visible()
    page.fill("#r-class-q", "06002")
    page.locator('#r-class-results button[data-code="06002"]').click()
    expect(page.locator("#r-component")).to_be_hidden()
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_handler_accepts_and_returns_with_a_reason(phone, demo_small_tx) -> None:  # noqa: F811
    from django.contrib.auth.models import User
    from playwright.sync_api import expect

    from citygrid.cases import actions

    lon, lat, _ = _point(STANDARD_STREET)
    numbers = []
    for _i in range(2):
        case = actions.report_case(User.objects.get(username="city_inspector_1"), source="city_inspector",
                                   kind="event", category_code="06002", lon=lon, lat=lat)
        actions.file_case(User.objects.get(username="intake_operator_jinjiang"), case.pk)
        case = actions.dispatch_case(User.objects.get(username="dispatcher_jinjiang"), case.pk,
                                     department="510104-HW")
        assert case.state == "dispatched"
        numbers.append(case.number)
    page = phone("handler_jinjiang_hw")
    page.click('a[href="#tasks/handler/all"]')
    page.locator(f'li[data-number="{numbers[0]}"] a').click()
    expect(page.locator("#case-state")).to_have_text("已派遣")
    page.click('#case-ops button[data-op="accept"]')
    page.click('form[data-op="accept"] button[type=submit]')
    expect(page.locator("#m-toast")).to_contain_text("操作成功：签收")
    expect(page.locator(f'li[data-number="{numbers[0]}"]')).to_have_attribute("data-state", "handling")

    page.locator(f'li[data-number="{numbers[1]}"] a').click()
    page.click('#case-ops button[data-op="return"]')
    page.click('form[data-op="return"] button[type=submit]')  # no reason yet: not sent
    expect(page.locator("#op-reason")).to_be_focused()
    page.fill("#op-reason", "不属于本部门职责")
    page.click('form[data-op="return"] button[type=submit]')
    expect(page.locator("#m-toast")).to_contain_text("操作成功：回退")
    expect(page.locator(f'li[data-number="{numbers[1]}"]')).to_have_count(0)
    from citygrid.cases.models import Case

    assert Case.objects.get(number=numbers[1]).state == "to_dispatch"
    assert Case.objects.get(number=numbers[0]).state == "handling"
    assert page.js_errors == []  # type: ignore[attr-defined]
