"""The standard process's main path (M-14, M-17, M-18) run from the screens, in one real browser
(Debian's Chromium driven by Playwright) against one live server: the intake operator files a
reported case on the desk, the dispatcher dispatches it on the desk, the handler returns it with
a reason on the phone (/m/), and the dispatcher dispatches it again, to another department.
After each step the case's state and holder are read from the page and from the database.
Writes docs/screens/path-*.png (shown in docs/screens.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_page
from tests.cases.conftest import demo_small_tx  # noqa: F401

# Playwright's sync API runs an event loop in this thread; let the fixtures use the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
STANDARD_STREET = "510104002"  # event 06002 here: the standard process, routed to 510104-HW
CENTRE, SANITATION, BUREAU = "510104-ZH", "510104-HW", "510104-CGJ"


def _reported_case() -> Any:
    """A case an inspector reported (the report itself is the mobile tests' subject)."""
    from django.contrib.auth.models import User

    from citygrid.cases import actions
    from citygrid.space.models import Area, UnitGrid

    community = Area.objects.filter(parent__code=STANDARD_STREET, level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=community, valid_to__isnull=True).order_by("code").first()
    point = grid.shape.representative_point()
    return actions.report_case(User.objects.get(username="city_inspector_1"), source="city_inspector",
                               kind="event", category_code="06002", lon=point.x, lat=point.y,
                               address="东大街 8 号", description="店面无证装修，占用人行道")


def _login(page: Any, base: str, path: str, username: str) -> None:
    from citygrid.org.demo import DEMO_PASSWORD

    page.goto(base + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.stacked-form button.primary")
    page.wait_for_url(f"**{path}")


def _new_page(browser: Any, **options: Any) -> Any:
    page = browser.new_context(**options).new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


def _shot(page: Any, name: str, top: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    if top:  # the case's head (state, holder) rather than the timeline the page jumped to
        page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENS / f"path-{name}.png"))


def _in_database(number: str) -> tuple[str, str, int]:
    from citygrid.cases.models import Case

    case = Case.objects.select_related("holder_department").get(number=number)
    return case.state, case.holder_department.code, case.return_count


def _desk_shows(page: Any, state: str, holder: str) -> None:
    """The detail page's state badge and holder (its department code and name)."""
    from playwright.sync_api import expect

    from citygrid.org.models import Department

    expect(page.locator("#case-state")).to_have_text(state)
    expect(page.locator("#case-holder")).to_have_attribute("data-department", holder)
    expect(page.locator("#case-holder")).to_contain_text(Department.objects.get(code=holder).name)


def _open_from_queue(page: Any, number: str) -> None:
    from playwright.sync_api import expect

    row = page.locator(f'#queue-results tr[data-number="{number}"]')
    expect(row).to_be_visible()
    row.locator("a").first.click()
    page.wait_for_url(f"**/cases/{number}/")


def _submit(page: Any, operation: str, fill: dict[str, str], select: dict[str, str] | None = None) -> None:
    panel = page.locator(f'details[data-op="{operation}"]')
    panel.locator("summary").click()
    for name, value in (select or {}).items():
        panel.locator(f"select[name={operation}-{name}]").select_option(value)
    for name, value in fill.items():
        panel.locator(f"textarea[name={operation}-{name}]").fill(value)
    panel.locator("button[type=submit]").click()


def test_file_dispatch_return_and_dispatch_again_from_the_screens(live_server, demo_small_tx) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from citygrid.cases.models import Case
    from citygrid.org.models import Department

    case = _reported_case()
    number = case.number
    assert _in_database(number) == ("to_file", CENTRE, 0)
    base = live_server.url
    with chromium_page(**DESK) as operator:
        browser = operator.context.browser

        # 1. The intake operator files the case on the desk.
        _login(operator, base, "/cases/", "intake_operator_jinjiang")
        _open_from_queue(operator, number)
        _desk_shows(operator, "待立案", CENTRE)
        _submit(operator, "file", {"note": "符合立案标准"})
        _desk_shows(operator, "待派遣", CENTRE)
        expect(operator.locator("ol.timeline li").last).to_have_attribute("data-operation", "file")
        _shot(operator, "1-operator-files", top=True)
        assert _in_database(number) == ("to_dispatch", CENTRE, 0)

        # 2. The dispatcher dispatches it to the department the rules suggest.
        dispatcher = _new_page(browser, **DESK)
        _login(dispatcher, base, "/cases/", "dispatcher_jinjiang")
        _open_from_queue(dispatcher, number)
        sanitation = Department.objects.get(code=SANITATION)
        expect(dispatcher.locator("select[name=dispatch-department]")).to_have_value(str(sanitation.pk))
        _submit(dispatcher, "dispatch", {"note": "请尽快处理"})
        _desk_shows(dispatcher, "已派遣", SANITATION)
        _shot(dispatcher, "2-dispatcher-dispatches", top=True)
        assert _in_database(number) == ("dispatched", SANITATION, 0)

        # 3. The department's handler returns it, with a reason, on the phone.
        handler = _new_page(browser, **PHONE)
        _login(handler, base, "/m/", "handler_jinjiang_hw")
        handler.wait_for_selector("#m-view[data-status=ready]")
        handler.click('a[href="#tasks/handler/all"]')
        handler.locator(f'li[data-number="{number}"] a').click()
        expect(handler.locator("#case-state")).to_have_text("已派遣")
        handler.click('#case-ops button[data-op="return"]')
        handler.fill("#op-reason", "不属于本部门职责：应由城市管理局处理")
        _shot(handler, "3-handler-returns")
        handler.click('form[data-op="return"] button[type=submit]')
        expect(handler.locator("#m-toast")).to_contain_text("操作成功：回退 · 待派遣")
        # Back on the department's list, which no longer holds the case.
        expect(handler.locator("#m-view[data-status=ready] ul.m-list")).to_be_attached()
        expect(handler.locator(f'li[data-number="{number}"]')).to_have_count(0)
        assert _in_database(number) == ("to_dispatch", CENTRE, 1)

        # 4. The dispatcher sees it back in the queue, with the reason, and dispatches it again.
        dispatcher.goto(base + "/cases/")
        row = dispatcher.locator(f'#queue-results tr[data-number="{number}"]')
        expect(row).to_contain_text("待派遣")
        expect(row).to_contain_text(Department.objects.get(code=CENTRE).name)
        _open_from_queue(dispatcher, number)
        _desk_shows(dispatcher, "待派遣", CENTRE)
        returned = dispatcher.locator("ol.timeline li").last
        expect(returned).to_have_attribute("data-operation", "return")
        expect(returned).to_contain_text("handler_jinjiang_hw")
        expect(returned).to_contain_text("不属于本部门职责")
        expect(dispatcher.locator(".flags")).to_contain_text("× 1")
        # After a return the case is the centre's again: it is dispatched anew (re-dispatch in
        # the process's sense, 改派, is for a case still with a department).
        assert dispatcher.locator('details[data-op="redispatch"]').count() == 0
        bureau = Department.objects.get(code=BUREAU)
        _submit(dispatcher, "dispatch", {"note": "改派城市管理局"}, {"department": str(bureau.pk)})
        _desk_shows(dispatcher, "已派遣", BUREAU)
        _shot(dispatcher, "4-dispatcher-dispatches-again")
        assert _in_database(number) == ("dispatched", BUREAU, 1)

        events = list(Case.objects.get(number=number).events.order_by("seq")
                      .values_list("operation", "role", "to_state"))
        assert events == [
            ("report", "city_inspector", "to_file"),
            ("file", "intake_operator", "to_dispatch"),
            ("dispatch", "dispatcher", "dispatched"),
            ("return", "handler", "to_dispatch"),
            ("dispatch", "dispatcher", "dispatched"),
        ]
        for page in (operator, dispatcher, handler):
            assert page.js_errors == []
