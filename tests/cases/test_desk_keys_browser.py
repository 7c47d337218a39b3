"""The desk's keyboard shortcuts (citygrid/cases/static/cases/desk-keys.js) in a real browser:
Debian's Chromium driven by Playwright against a live server. A dispatcher works the queue and
a case with the keyboard only: help overlay, moving through the list, the filter, opening a
case, opening the dispatch panel by its key, submitting with Ctrl+Enter, back to the queue; and
no shortcut fires while they type in a field. Writes docs/screens/desk-keys-*.png."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import chromium_page

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
STANDARD_STREET = "510104002"  # event 06 here → the standard process, routed to 510104-HW


def _cases_to_dispatch(n: int) -> list[str]:
    from django.contrib.auth.models import User

    from citygrid.cases import actions
    from citygrid.space.models import Area, UnitGrid

    community = Area.objects.filter(parent__code=STANDARD_STREET, level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=community, valid_to__isnull=True).order_by("code").first()
    point = grid.shape.representative_point()
    inspector = User.objects.get(username="city_inspector_1")
    operator = User.objects.get(username="intake_operator_jinjiang")
    numbers = []
    for i in range(n):
        case = actions.report_case(inspector, source="city_inspector", kind="event",
                                   category_code="06002", lon=point.x, lat=point.y,
                                   address=f"东大街 {i + 1} 号")
        numbers.append(actions.file_case(operator, case.pk).number)
    return numbers


def test_the_desk_is_worked_with_the_keyboard(live_server, demo_small_tx) -> None:
    from playwright.sync_api import expect

    from citygrid.cases.models import Case
    from citygrid.cases.views import OPERATION_KEYS
    from citygrid.org.demo import DEMO_PASSWORD

    # One key per operation, none taken by the pages' own keys.
    keys = list(OPERATION_KEYS.values())
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {"j", "k", "u", "/", "?"}

    numbers = _cases_to_dispatch(3)
    with chromium_page(viewport={"width": 1280, "height": 900}, locale="zh-CN") as page:
        page.goto(live_server.url + "/cases/")
        page.fill("input[name=username]", "dispatcher_jinjiang")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form.stacked-form button.primary")
        expect(page.locator("html")).to_have_attribute("data-keys", "ready")
        expect(page.locator("#queue-results tr[data-number]")).to_have_count(3)
        order = page.locator("#queue-results tr[data-number]").evaluate_all(
            "rows => rows.map(r => r.dataset.number)")
        assert sorted(order) == sorted(numbers)
        row = lambda i: page.locator(f'#queue-results tr[data-number="{order[i]}"]')  # noqa: E731

        # What the shortcuts are is said to assistive technology too.
        expect(page.locator("#id_q")).to_have_attribute("aria-keyshortcuts", "/")
        expect(page.locator('a[data-key="n"]')).to_have_attribute("aria-keyshortcuts", "n")

        # ? opens the help (in the page's language); Escape closes it.
        page.keyboard.press("?")
        help_dialog = page.locator("#keys-help")
        expect(help_dialog).to_be_visible()
        expect(help_dialog).to_contain_text("键盘快捷键")
        expect(help_dialog).to_contain_text("列表中的下一件")
        page.keyboard.press("Escape")
        expect(help_dialog).to_be_hidden()

        # j / k / arrows move through the list; the current row is marked and its link focused.
        page.keyboard.press("j")
        expect(row(0)).to_have_class(re.compile(r"\bkb-current\b"))
        expect(row(0).locator("a").first).to_be_focused()
        page.keyboard.press("j")
        expect(row(1)).to_have_attribute("aria-current", "true")
        expect(row(0)).not_to_have_attribute("aria-current", "true")
        page.keyboard.press("k")
        expect(row(0)).to_have_attribute("aria-current", "true")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(row(2)).to_have_attribute("aria-current", "true")
        page.keyboard.press("ArrowUp")
        expect(row(1)).to_have_attribute("aria-current", "true")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "desk-keys-queue.png"))

        # / goes to the filter; typing there moves nothing; Escape leaves the field.
        page.keyboard.press("/")
        expect(page.locator("#id_q")).to_be_focused()
        page.keyboard.type("jk?")
        expect(page.locator("#id_q")).to_have_value("jk?")
        expect(row(1)).to_have_attribute("aria-current", "true")
        expect(help_dialog).to_be_hidden()
        page.keyboard.press("Escape")
        expect(page.locator("#id_q")).not_to_be_focused()

        # Enter opens the marked case.
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/cases/{order[1]}/")
        expect(page.locator("#case-state")).to_have_text("待派遣")
        expect(page.locator("html")).to_have_attribute("data-keys", "ready")
        dispatch = page.locator('details[data-op="dispatch"]')
        expect(dispatch).to_have_attribute("data-key", "d")
        expect(dispatch.locator("summary")).to_have_attribute("aria-keyshortcuts", "d")
        expect(dispatch.locator("summary kbd")).to_have_text("d")
        page.keyboard.press("?")
        expect(help_dialog.locator('dd[data-op="dispatch"]')).to_be_visible()
        page.screenshot(path=str(SCREENS / "desk-keys-help.png"))
        page.keyboard.press("Escape")

        # d opens the dispatch panel at its first field; Escape closes it again.
        page.keyboard.press("d")
        expect(dispatch).to_have_attribute("open", "")
        expect(dispatch.locator("select[name=dispatch-department]")).to_be_focused()
        page.keyboard.press("Escape")
        expect(dispatch).not_to_have_attribute("open", "")
        expect(dispatch.locator("summary")).to_be_focused()
        page.keyboard.press("d")
        expect(dispatch).to_have_attribute("open", "")

        # Typing in the note fires nothing (u would leave the page, x would open reject).
        note = dispatch.locator("textarea[name=dispatch-note]")
        note.focus()
        page.keyboard.type("urgent fix due")
        expect(note).to_have_value("urgent fix due")
        assert page.url.endswith(f"/cases/{order[1]}/")
        assert page.locator("details.op[open]").count() == 1
        # Ctrl+Enter submits the open form.
        page.keyboard.press("Control+Enter")
        expect(page.locator("#case-state")).to_have_text("已派遣")
        case = Case.objects.get(number=order[1])
        assert case.state == "dispatched" and case.holder_department.code == "510104-HW"
        assert case.events.order_by("-seq").first().inputs.get("note") == "urgent fix due"

        # u goes back to the queue, where the dispatched case is gone.
        page.keyboard.press("u")
        page.wait_for_url("**/cases/")
        expect(page.locator("#queue-results tr[data-number]")).to_have_count(2)
        # ] goes to the next role tab ("all I may see"), where it still shows.
        page.keyboard.press("]")
        expect(page.locator('nav.tabs a[aria-current="page"]')).to_have_attribute("href", re.compile(r"role=all"))
        expect(page.locator(f'#queue-results tr[data-number="{order[1]}"]')).to_have_count(1)
        assert page.js_errors == []  # type: ignore[attr-defined]
