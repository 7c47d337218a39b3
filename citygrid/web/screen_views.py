"""Screens: the live case map (/live/), the big screen (/screen/), the street platform
(/street/) and the desk's change token (/live/token.json). Thin: parse, call
citygrid.web.selectors (scoped reads), render. Pages poll JSON endpoints; see docs/screens.md
for why polling rather than server-sent events."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from citygrid.web import selectors
from citygrid.web.selectors import ScreenQueryError
from citygrid.web.views import map_config

LIVE_POLL_SECONDS = 15
SCREEN_POLL_SECONDS = 30
DESK_POLL_SECONDS = 10

JsonView = Callable[[HttpRequest], JsonResponse]


def _json_login_required(view: JsonView) -> JsonView:
    """JSON endpoints answer 403 with a code instead of redirecting to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"code": "not_authenticated", "message": _("Log in first."),
                                 "details": {}}, status=403)
        return view(request)

    return wrapper


def _invalid(error: ScreenQueryError) -> JsonResponse:
    return JsonResponse({"code": "invalid_request", "message": error.message,
                         "details": [{"field": error.field, "message": error.message}]}, status=422)


def _state_labels() -> dict[str, str]:
    from citygrid.cases.models import CaseState

    return {value: str(label) for value, label in CaseState.choices}


def _level_labels() -> dict[str, str]:
    return {"none": _("No limit running"), "green": _("On time"), "yellow": _("Due soon"),
            "red": _("Overdue")}


def _operation_labels() -> dict[str, str]:
    from citygrid.cases.models import Operation

    return {value: str(label) for value, label in Operation.choices}


def _base_config() -> dict[str, Any]:
    config = map_config(get_language() or settings.LANGUAGE_CODE)
    return config


# ---- live case map ----------------------------------------------------------------------------

def _filter_options(request: HttpRequest) -> dict[str, Any]:
    from citygrid.catalog.models import Category
    from citygrid.catalog.selectors import active_standard
    from citygrid.org.models import Source
    from citygrid.org.scoping import visible_areas

    districts = visible_areas(request.user).filter(level="district").order_by("code")
    standard = active_standard()
    majors = (Category.objects.filter(standard=standard, level="major").order_by("kind", "code")
              if standard else Category.objects.none())
    return {
        "states": _state_labels().items(),
        "levels": [(k, v) for k, v in _level_labels().items() if k != "none"],
        "districts": [(a.code, a.name) for a in districts],
        "majors": [(f"{c.kind}:{c.code}", f"{c.code} {c.name}") for c in majors],
        "sources": [(value, str(label)) for value, label in Source.choices],
        "periods": [("", _("All time")), ("today", _("Today")), ("7d", _("Last 7 days")),
                    ("30d", _("Last 30 days")), ("90d", _("Last 90 days")),
                    ("365d", _("Last 365 days"))],
    }


@require_safe
@login_required
def live_page(request: HttpRequest) -> HttpResponse:
    config = _base_config()
    config.update({
        "casesUrl": reverse("web:live_cases"),
        "caseUrl": reverse("cases:detail", args=["NUMBER"]),
        "pollSeconds": LIVE_POLL_SECONDS,
        "clusterMaxZoom": selectors.MAX_CLUSTER_ZOOM,
    })
    labels = {
        "states": _state_labels(),
        "levels": _level_labels(),
        "cases": _("cases"),
        "loading": _("Loading…"),
        "loadFailed": _("Could not load the cases. Trying again shortly."),
        "truncated": _("Only the newest cases are shown: zoom in or narrow the filters."),
        "inView": _("Cases in view"),
        "updated": _("Updated"),
        "number": _("Number"),
        "state": _("State"),
        "class": _("Class"),
        "deadline": _("Step deadline"),
        "open": _("Open case"),
        "overdue": _("Overdue"),
        "dueSoon": _("Due soon"),
    }
    return render(request, "web/screen/live.html", {
        "live_config": config, "live_labels": labels, "options": _filter_options(request),
        "has_street": selectors.street_areas(request.user).exists(),
    })


@require_safe
@never_cache
@_json_login_required
def live_cases(request: HttpRequest) -> JsonResponse:
    """GET /live/cases.json?bbox=w,s,e,n&zoom=Z[&heat=1][&state=..&level=..&district=..
    &major=..&source=..&period=..&open=1] → clusters, single cases or heat cells."""
    try:
        bbox = selectors.parse_bbox(request.GET.get("bbox", ""))
        zoom = selectors.parse_zoom(request.GET.get("zoom", ""))
        filters = selectors.parse_filters(request.GET)
    except ScreenQueryError as error:
        return _invalid(error)
    if request.GET.get("heat") in ("1", "true"):
        body = selectors.heat_cells(request.user, filters, bbox, zoom)
    else:
        body = selectors.map_cases(request.user, filters, bbox, zoom)
    return JsonResponse(body)


# ---- big screen -------------------------------------------------------------------------------

@require_safe
@login_required
def screen_page(request: HttpRequest) -> HttpResponse:
    config = _base_config()
    config.update({
        "dataUrl": reverse("web:screen_data"),
        "casesUrl": reverse("web:live_cases"),
        "pollSeconds": SCREEN_POLL_SECONDS,
    })
    labels = {
        "operations": _operation_labels(),
        "states": _state_labels(),
        "cases": _("cases"),
        "total": _("Cases reported"),
        "open": _("Open"),
        "loadFailed": _("Could not refresh: showing the last figures."),
    }
    return render(request, "web/screen/screen.html", {
        "screen_config": config, "screen_labels": labels, "days": selectors.SCREEN_DAYS,
    })


@require_safe
@never_cache
@_json_login_required
def screen_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.screen_figures(request.user))


# ---- street platform (M-27) -------------------------------------------------------------------

def time_left(seconds: float | None) -> str:
    """"3 d 4 h", "2 h 5 min", "overdue 1 h 10 min"; "—" without a running deadline."""
    if seconds is None:
        return "—"
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    else:
        text = _("%(m)d min") % {"m": mins}
    return text if seconds >= 0 else _("overdue %(time)s") % {"time": text}


@require_safe
@login_required
def street_page(request: HttpRequest) -> HttpResponse:
    streets = list(selectors.street_areas(request.user))
    if not streets:
        return render(request, "web/screen/street_forbidden.html", status=403)
    wanted = request.GET.get("street", "")
    street = next((s for s in streets if s.code == wanted), streets[0])
    lists = selectors.street_case_lists(request.user, street)
    for row in lists["self_handled"] + lists["upward"]:
        row["left"] = time_left(row["seconds_left"])
    config = _base_config()
    config.update({
        "street": {"code": street.code, "name": street.name, "bbox": street.bbox},
        "casesUrl": reverse("web:live_cases"),
    })
    return render(request, "web/screen/street.html", {
        "street": street,
        "streets": streets,
        "lists": lists,
        "states": _state_labels(),
        "staff": selectors.street_staff(request.user, street),
        "results": selectors.street_results(request.user, street),
        "street_config": config,
    })


# ---- desk live updates ------------------------------------------------------------------------

@require_safe
@never_cache
@_json_login_required
def live_token(request: HttpRequest) -> JsonResponse:
    """GET /live/token.json[?role=R] → {"token", "count"}: changes when the queue changes.
    Without `role`, all the user's roles; role=all: every case the user may see."""
    from citygrid.org.scoping import is_superuser, roles_of

    held = roles_of(request.user)
    role = request.GET.get("role", "")
    if role and role != selectors.ALL_QUEUES and role not in held and not is_superuser(request.user):
        return JsonResponse({"code": "role_not_held", "message": _("You do not hold this role."),
                             "details": {"role": role}}, status=403)
    roles = [role] if role else sorted(held)
    return JsonResponse(selectors.queue_token(request.user, roles))
