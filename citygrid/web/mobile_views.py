"""The mobile app (移动端, M-25): one installable web app (PWA) at /m/ for inspectors, handlers,
shift leaders and street staff. The pages are an app shell; every read and write goes through
the REST API (/api/v1/) with the session and the CSRF cookie. This module serves the shell, the
web app manifest and the service worker (from /m/ so that its scope covers the app)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

from citygrid.org.scoping import roles_of
from citygrid.web.views import api_base, map_config

# The roles the app has screens for, in the order its home screen lists them.
MOBILE_ROLES = ("city_inspector", "district_inspector", "street_staff", "handler",
                "department_head", "shift_leader")
# The static files of the app shell: the service worker caches them, and their content makes
# the cache version (a new deployment replaces the old cache).
SHELL_STATIC = (
    "web/mobile/app.js",
    "web/mobile/app.css",
    "web/mobile/icon.svg",
    "web/mobile/icon-192.png",
    "web/mobile/icon-512.png",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
)


# The app's UI strings: gettext() in app.js, the Chinese in locale/zh_Hans/LC_MESSAGES/djangojs.po,
# served per language by js_catalog (so that the worker can cache each language's catalogue).
JS_DOMAIN = "djangojs"
LOCALE_DIR = Path(__file__).parent / "locale"


def catalogue_urls() -> list[str]:
    return [reverse("web:m_jsi18n", args=[code]) for code, _name in settings.LANGUAGES]


@lru_cache(maxsize=1)
def _shell_digest() -> str:
    """A short hash of the shell's static files and the worker; changes when any of them does."""
    digest = hashlib.sha256()
    for name in (*SHELL_STATIC, "web/mobile/sw.js"):
        found = finders.find(name)
        if isinstance(found, str):
            digest.update(Path(found).read_bytes())
    templates = Path(__file__).parent / "templates" / "web" / "mobile"
    for template in sorted(templates.glob("*.html")):
        digest.update(template.read_bytes())
    for catalogue in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{JS_DOMAIN}.po")):
        digest.update(catalogue.read_bytes())
    return digest.hexdigest()[:12]


def shell_version() -> str:
    return _shell_digest() if not settings.DEBUG else _shell_digest.__wrapped__()


def _ordered_roles(user: Any) -> list[str]:
    held = roles_of(user)
    if getattr(user, "is_superuser", False):
        held = set(MOBILE_ROLES)
    return [r for r in MOBILE_ROLES if r in held]


def _city_code() -> str:
    """The city whose standard is in force for reports (a platform serves one city)."""
    from citygrid.space.models import Area

    return Area.objects.filter(level="city").order_by("code").values_list("code", flat=True).first() or ""


def _display_name(user: Any) -> str:
    from citygrid.org.models import Person

    person = Person.objects.filter(user_id=user.pk).values_list("display_name", "department__name").first()
    if person and person[0]:
        return f"{person[0]} · {person[1]}" if person[1] else str(person[0])
    return str(user.get_full_name() or user.get_username())


def boot_data(request: HttpRequest) -> dict[str, Any]:
    """What app.js needs at start, passed with json_script (the shell is cached for offline use,
    so this is what the app knew when it was last online)."""
    user = request.user
    language = get_language() or settings.LANGUAGE_CODE
    return {
        "user": {"username": user.get_username(), "name": _display_name(user)},
        "roles": _ordered_roles(user),
        "language": "en" if language.startswith("en") else "zh-hans",
        "api": api_base(),
        "city": _city_code(),
        "tiles": map_config(language)["tiles"],
        "center": list(settings.MAP_CENTER),
        "version": shell_version(),
        "sw": reverse("web:m_sw"),
        "login": reverse("login") + "?next=" + reverse("web:m_app"),
    }


@require_safe
@login_required
@ensure_csrf_cookie
@never_cache
def app(request: HttpRequest) -> HttpResponse:
    return render(request, "web/mobile/app.html", {"boot": boot_data(request)})


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker's source with its cache version and shell list prepended. Served from /m/ so its
    default scope is /m/; the header makes that explicit."""
    source = Path(__file__).parent / "static" / "web" / "mobile" / "sw.js"
    shell = [reverse("web:m_app"), reverse("web:m_manifest"), *catalogue_urls(),
             *[static(name) for name in SHELL_STATIC]]
    head = (f"const VERSION = {json.dumps(shell_version())};\n"
            f"const SHELL = {json.dumps(shell)};\n"
            f"const APP = {json.dumps(reverse('web:m_app'))};\n"
            f"const API = {json.dumps(api_base())};\n")
    response = HttpResponse(head + source.read_text(encoding="utf-8"),
                            content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("web:m_app")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def js_catalog(request: HttpRequest, language: str) -> HttpResponse:
    """The app's strings in one language (Django's JavaScriptCatalog: gettext, ngettext,
    pgettext, interpolate). The language is in the URL, not taken from the session, so that
    the service worker keeps one copy per language and the app works offline in either."""
    if language not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    view = JavaScriptCatalog.as_view(domain=JS_DOMAIN, packages=["citygrid.web"])
    with translation.override(language):
        response = view(request)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    app_url = reverse("web:m_app")
    data = {
        "name": "数字城管",
        "short_name": "数字城管",
        "description": "数字化城市管理移动端：上报、核实、核查、处置、审核",
        "lang": "zh-Hans",
        "start_url": app_url,
        "scope": app_url,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#1d4f91",
        "icons": [
            {"src": static("web/mobile/icon.svg"), "sizes": "any", "type": "image/svg+xml",
             "purpose": "any"},
            {"src": static("web/mobile/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("web/mobile/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
    }
    return HttpResponse(json.dumps(data, ensure_ascii=False),
                        content_type="application/manifest+json; charset=utf-8")


urlpatterns = [
    path("", app, name="m_app"),
    path("sw.js", service_worker, name="m_sw"),
    path("manifest.webmanifest", manifest, name="m_manifest"),
    path("jsi18n/<str:language>/", js_catalog, name="m_jsi18n"),
]
