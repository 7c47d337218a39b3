"""The mobile app's server side: the shell, the manifest and the service worker."""

from __future__ import annotations

import json
import re

from django.contrib.staticfiles import finders

from citygrid.web import mobile_views
from tests.web import demo_fixtures

_demo_committed = demo_fixtures._demo_committed
_demo_plan = demo_fixtures._demo_plan
demo_small = demo_fixtures.demo_small
people = demo_fixtures.people


def _boot(response) -> dict:
    m = re.search(r'<script id="m-boot" type="application/json">(.*?)</script>', response.content.decode())
    assert m, "no boot data in the page"
    return json.loads(m.group(1))


def test_the_app_needs_a_login(client, demo_small) -> None:  # noqa: F811
    response = client.get("/m/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/m/"


def test_the_shell_knows_the_roles_and_sets_the_csrf_cookie(client, people) -> None:  # noqa: F811
    client.force_login(people["street_staff_jinjiang"])
    response = client.get("/m/")
    assert response.status_code == 200
    boot = _boot(response)
    assert boot["roles"] == ["street_staff", "handler"]
    assert boot["user"]["username"] == "street_staff_jinjiang"
    assert "网格员" in boot["user"]["name"]  # the person's display name, not the login
    assert boot["language"] == "zh-hans"
    assert boot["api"] == "/api/v1/" and boot["sw"] == "/m/sw.js"
    assert boot["city"] == "510100"  # the class search asks for this city's standard
    assert "csrftoken" in response.cookies
    assert 'rel="manifest" href="/m/manifest.webmanifest"' in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")

    client.force_login(people["shift_leader_jinjiang"])
    assert _boot(client.get("/m/"))["roles"] == ["shift_leader"]


def test_english_is_switchable(client, people) -> None:  # noqa: F811
    client.force_login(people["city_inspector_1"])
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/m/"})
    assert response["Location"] == "/m/"
    page = client.get("/m/")
    assert _boot(page)["language"] == "en"
    assert '<html lang="en">' in page.content.decode()


def test_the_service_worker_covers_the_app_and_lists_existing_files(client) -> None:
    response = client.get("/m/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/m/"
    assert response["Cache-Control"] == "no-cache"
    text = response.content.decode()
    version = re.search(r'^const VERSION = "([0-9a-f]{12})";$', text, re.M)
    assert version and version.group(1) == mobile_views.shell_version()
    shell = json.loads(re.search(r"^const SHELL = (.*);$", text, re.M).group(1))
    assert "/m/" in shell and "/static/web/mobile/app.js" in shell
    assert "/static/vendor/leaflet/leaflet.js" in shell
    for url in shell:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"{url} is cached by the worker but missing"
    assert "addEventListener(\"fetch\"" in text


def test_the_manifest_makes_an_installable_app(client) -> None:
    response = client.get("/m/manifest.webmanifest")
    assert response["Content-Type"].startswith("application/manifest+json")
    data = json.loads(response.content)
    assert data["name"] == "数字城管"
    assert (data["start_url"], data["scope"], data["display"]) == ("/m/", "/m/", "standalone")
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512", "any"} <= sizes
    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_the_shell_version_changes_with_the_files(tmp_path, settings) -> None:
    before = mobile_views._shell_digest.__wrapped__()
    assert re.fullmatch(r"[0-9a-f]{12}", before)
    extra = tmp_path / "static"
    (extra / "web" / "mobile").mkdir(parents=True)
    (extra / "web" / "mobile" / "app.js").write_text("/* a new release */")
    settings.STATICFILES_DIRS = [extra, *settings.STATICFILES_DIRS]
    finders.get_finder.cache_clear()
    try:
        assert mobile_views._shell_digest.__wrapped__() != before
    finally:
        finders.get_finder.cache_clear()
