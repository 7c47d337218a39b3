"""The hotspot map in a real browser: shaded places, a click lists the place's cases."""

import os
from datetime import date

import pytest

from tests.browser import chromium_page

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_hotspot_map_draws_places_and_lists_their_cases(live_server, demo_small_tx, client):
    from django.conf import settings
    from django.contrib.auth.models import User
    from playwright.sync_api import expect

    from citygrid.assess.facts import refresh_facts
    from citygrid.assess.simulate import simulate

    truth = simulate(days=2, seed=5, per_day=3, start=date(2026, 3, 2))
    refresh_facts(as_of=truth.as_of)
    client.force_login(User.objects.get(username="dispatcher_jinjiang"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with chromium_page(viewport={"width": 1280, "height": 900}, locale="en") as page:
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie,
                                   "url": live_server.url}])
        page.goto(live_server.url + "/assess/?period=month&day=2026-03-02")
        box = page.locator("#hotspot-map")
        expect(box).to_have_attribute("data-status", "ready")
        places = box.locator("path.leaflet-interactive")
        assert places.count() == int(box.get_attribute("data-features")) > 0
        places.first.click(force=True)
        links = box.locator(".hotspot-popup a")
        expect(links.first).to_have_attribute("href", "/cases/" + links.first.inner_text() + "/")
        page.select_option("#hotspot-level", "grid")
        expect(box).to_have_attribute("data-status", "ready")
        assert page.js_errors == []  # type: ignore[attr-defined]
