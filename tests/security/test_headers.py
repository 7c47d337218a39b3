"""Security headers on real pages, and the pages working under the CSP in a real browser."""

import os

import pytest
from django.db import connections
from django.test import Client

from tests.browser import CHROMIUM, CHROMIUM_ARGS

from .conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def csp(response) -> dict[str, str]:
    return dict(d.split(" ", 1) for d in response["Content-Security-Policy"].split("; "))


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/v1/docs"])
def test_every_page_gets_the_headers(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    policy = csp(response)
    assert policy["script-src"].startswith("'self' 'nonce-")
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "camera=(self)" in response["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response  # only behind TLS


def test_each_response_has_its_own_nonce(db):
    first, second = Client().get("/"), Client().get("/")
    assert csp(first)["script-src"] != csp(second)["script-src"]


def test_the_tile_host_is_allowed_for_images(db, settings):
    settings.MAP_TILE_PRESET = "tianditu"
    settings.TIANDITU_KEY = "k"
    assert "https://*.tianditu.gov.cn" in csp(Client().get("/"))["img-src"]
    settings.MAP_TILE_PRESET = "custom"
    settings.MAP_TILE_URL = "https://tiles.city.gov.cn/{z}/{x}/{y}.png"
    assert csp(Client().get("/"))["img-src"].endswith("https://tiles.city.gov.cn")


def test_report_only_mode(db, settings):
    settings.CSP_REPORT_ONLY = True
    response = Client().get("/")
    assert "Content-Security-Policy" not in response
    assert "frame-ancestors 'none'" in response["Content-Security-Policy-Report-Only"]


def test_behind_tls_hsts_redirect_and_secure_cookies(db, settings, user):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert client.get("/healthz").status_code in (200, 503)  # the load balancer's probe
    tls = client.post("/accounts/login/", {"username": "zhang", "password": PASSWORD},
                      HTTP_X_FORWARDED_PROTO="https")
    assert tls.status_code == 302
    assert tls["Strict-Transport-Security"] == "max-age=31536000"
    assert tls.cookies["sessionid"]["secure"]


def test_settings_from_the_environment():
    """BEHIND_TLS=1 turns the TLS settings on; the defaults are safe for a plain local run."""
    import subprocess
    import sys

    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='citygrid.settings'; "
            "from django.conf import settings as s; "
            "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
            "s.SESSION_COOKIE_AGE, s.SESSION_IDLE_TIMEOUT)")
    env = {**os.environ, "BEHIND_TLS": "1", "SESSION_IDLE_TIMEOUT": "600"}
    env.pop("SESSION_COOKIE_AGE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "31536000", "True", "28800", "600"]
    env.pop("BEHIND_TLS")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[:3] == ["False", "0", "False"]


VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '')));
"""


@pytest.fixture
def browser_page(live_server):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            page.set_default_timeout(20_000)
            page.add_init_script(VIOLATIONS)
            yield page
        finally:
            browser.close()
            connections.close_all()


@pytest.mark.browser
def test_the_map_works_under_the_policy(browser_page, live_server, transactional_db):
    from playwright.sync_api import expect

    from tests.web.cities import load_small_city

    load_small_city()
    browser_page.goto(live_server.url + "/")
    expect(browser_page.locator("#map")).to_have_attribute("data-status", "ready")
    assert browser_page.locator("#map .leaflet-overlay-pane canvas").count() == 1
    assert browser_page.evaluate("window.__csp") == []


@pytest.mark.browser
def test_sign_in_and_admin_work_under_the_policy(browser_page, live_server, transactional_db):
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", password=PASSWORD)
    page = browser_page
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    seen = {"admin": page.evaluate("window.__csp")}
    page.goto(live_server.url + "/admin/auth/user/1/change/")
    seen["user change"] = page.evaluate("window.__csp")
    page.goto(live_server.url + "/admin/security/auditevent/")
    seen["audit"] = page.evaluate("window.__csp")
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info")
    seen["api docs"] = page.evaluate("window.__csp")
    assert seen == {"admin": [], "user change": [], "audit": [], "api docs": []}


# Pages whose templates still carry inline <script>/<style> or on…= attributes, which the policy
# blocks (reported to their owners; remove a page from here once its template is fixed).
KNOWN_INLINE: set[str] = set()
PAGES = ["/", "/cases/", "/cases/new/", "/live/", "/screen/", "/street/", "/m/", "/assess/",
         "/assess/report/", "/collab/", "/public/", "/admin/"]


@pytest.mark.browser
def test_the_pages_raise_no_policy_violations(browser_page, live_server, transactional_db, settings,
                                              tmp_path):
    from django.contrib.auth.models import User

    from tests.security.test_backup import load_demo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_demo()
    User.objects.create_superuser("root", password=PASSWORD)
    page = browser_page
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state("networkidle")
    violations = {}
    for path in PAGES:
        answer = page.goto(live_server.url + path)
        assert answer is not None and answer.status < 500, path
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__csp")
        if found:
            violations[path] = found
    assert set(violations) == KNOWN_INLINE, violations
