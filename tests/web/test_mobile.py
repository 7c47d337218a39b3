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


def test_the_strings_come_from_the_catalogue_of_each_language(client) -> None:
    """app.js translates with gettext(); /m/jsi18n/<language>/ is Django's JavaScriptCatalog of
    djangojs.po, one URL per language so that the worker caches both for offline use."""
    chinese = client.get("/m/jsi18n/zh-hans/")
    assert chinese.status_code == 200
    assert chinese["Content-Type"].startswith("text/javascript")
    text = chinese.content.decode()
    assert "globals.gettext = django.gettext" in text
    assert '"Report a problem": "\\u4e0a\\u62a5\\u95ee\\u9898"' in text  # 上报问题
    assert '"d": ' not in text and '"time unit\\u0004d": "\\u5929"' in text  # pgettext: 天
    english = client.get("/m/jsi18n/en/").content.decode()
    assert "Report a problem" not in english  # English is the source: gettext returns the msgid
    assert client.get("/m/jsi18n/fr/").status_code == 404
    shell = json.loads(re.search(r"^const SHELL = (.*);$", client.get("/m/sw.js").content.decode(),
                                 re.M).group(1))
    assert {"/m/jsi18n/zh-hans/", "/m/jsi18n/en/"} <= set(shell)


def test_the_shell_loads_the_catalogue_of_its_language_before_the_app(client, people) -> None:  # noqa: F811
    client.force_login(people["city_inspector_1"])
    page = client.get("/m/").content.decode()
    assert page.index('src="/m/jsi18n/zh-hans/"') < page.index("web/mobile/app.js")
    client.post("/i18n/setlang/", {"language": "en", "next": "/m/"})
    assert 'src="/m/jsi18n/en/"' in client.get("/m/").content.decode()


def test_every_string_of_the_app_has_its_chinese(settings) -> None:
    """Each gettext() text in app.js is in djangojs.po with a translation (no untranslated UI)."""
    source = (mobile_views.Path(mobile_views.__file__).parent / "static" / "web" / "mobile"
              / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'(?<!p)gettext\("((?:[^"\\]|\\.)*)"', source))
    used |= set(re.findall(r'pgettext\("[^"]*", "((?:[^"\\]|\\.)*)"', source))
    po = (mobile_views.LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "djangojs.po").read_text(encoding="utf-8")
    translated = dict(re.findall(r'^msgid "((?:[^"\\]|\\.)*)"\n(?:msgid_plural .*\n)?msgstr(?:\[0\])? "(.+)"$',
                                 po, re.M))
    assert len(used) > 100
    assert sorted(used - set(translated)) == []
