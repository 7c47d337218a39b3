from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from citygrid.web.selectors import coverage_bounds
from citygrid.web.tiles import tile_layers

# Which level the map shows at which zoom: [min_zoom, max_zoom] inclusive.
MAP_LEVELS: list[dict[str, Any]] = [
    {"level": "district", "minZoom": 0, "maxZoom": 11},
    {"level": "street", "minZoom": 12, "maxZoom": 13},
    {"level": "community", "minZoom": 14, "maxZoom": 14},
    {"level": "grid", "minZoom": 15, "maxZoom": 19},
]
DEFAULT_ZOOM = 11


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def api_base() -> str:
    """The API prefix ("/api/v1/"), wherever the project mounts it."""
    return reverse("api-v1:openapi-json").rsplit("/", 1)[0] + "/"


def map_config(language: str) -> dict[str, Any]:
    """Everything map.js needs, passed to the page with json_script (never string-built)."""
    lat, lon = settings.MAP_CENTER
    return {
        "center": [lat, lon],
        "zoom": DEFAULT_ZOOM,
        "bounds": coverage_bounds(),
        "tiles": tile_layers(
            settings.MAP_TILE_PRESET,
            tianditu_key=settings.TIANDITU_KEY,
            custom_url=settings.MAP_TILE_URL,
            custom_attribution=settings.MAP_TILE_ATTRIBUTION,
            language=language,
        ),
        "levels": MAP_LEVELS,
        "api": api_base(),
    }


def map_labels() -> dict[str, str]:
    """UI strings for map.js, translated here so the JS holds no language."""
    return {
        "district": _("District"),
        "street": _("Street"),
        "community": _("Community"),
        "grid": _("Unit grid"),
        "city": _("City"),
        "code": _("Code"),
        "name": _("Name"),
        "area": _("Area"),
        "areaUnit": _("m²"),
        "gridCode": _("Grid code"),
        "loading": _("Loading…"),
        "tooMany": _("Too many features in view: zoom in to see them."),
        "loadFailed": _("Could not load the map data. Try again."),
        "outside": _("This place is outside the area under supervision."),
        "notFound": _("Not found."),
        "clickHint": _("Click a grid or an area to see its code and hierarchy."),
        "currentLevel": _("Showing"),
        "zoom": _("Zoom"),
        "close": _("Close"),
        "point": _("Point"),
    }


@require_safe
def map_page(request: HttpRequest) -> HttpResponse:
    context = {
        "map_config": map_config(get_language() or settings.LANGUAGE_CODE),
        "map_labels": map_labels(),
        "map_levels": MAP_LEVELS,
    }
    return render(request, "web/map.html", context)


@require_safe
def logged_out(request: HttpRequest) -> HttpResponse:
    """Where the header's logout form sends people (its `next`): a page that says so.
    (registration/logged_out.html would be shadowed by the admin's template of that name.)"""
    if request.user.is_authenticated:
        return redirect("web:map")
    return render(request, "web/logged_out.html")
