"""Public pages: report a problem, follow it by its tracking code, see open problems on a map.
Nothing here shows a person's name, phone, e-mail or exact home position."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from citygrid.core.errors import DomainError, NotFound
from citygrid.exchange import actions, limits, selectors
from citygrid.exchange.forms import ReportForm
from citygrid.web.views import map_config

PHOTO_ERRORS = ("invalid_photo", "photo_too_large", "photo_dimensions")


def _map_context() -> dict[str, Any]:
    return {"map_config": map_config(get_language() or settings.LANGUAGE_CODE)}


def _too_many(request: HttpRequest, template: str, name: str,
              context: dict[str, Any]) -> HttpResponse:
    message = _("Too many requests from your network: at most %(rate)s. Please try again later.") % {
        "rate": limits.rate_text(name)}
    return render(request, template, {**context, "limit_message": message}, status=429)


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    services = list(selectors.services_for(None))
    if request.method != "POST":
        form = ReportForm(services=services, initial={"nonce": secrets.token_urlsafe(16)})
        return render(request, "exchange/report.html", {"form": form, **_map_context()})
    form = ReportForm(request.POST, request.FILES, services=services)
    context = {"form": form, **_map_context()}
    if limits.exceeded(request, "web_report"):
        return _too_many(request, "exchange/report.html", "web_report", context)
    if form.is_valid():
        data = form.cleaned_data
        photo = data.get("photo")
        try:
            row = actions.submit_public_request(
                service=form.services[data["service"]], lon=data["lon"], lat=data["lat"],
                channel="web", description=data.get("description") or "",
                contact=actions.Contact(name=data.get("name") or "", phone=data.get("phone") or "",
                                        email=data.get("email") or ""),
                photos=[photo] if photo else [], idempotency_key=data.get("nonce") or None,
            )
        except DomainError as exc:
            form.add_error("photo" if exc.code in PHOTO_ERRORS else None, _public_message(exc))
        else:
            return redirect(reverse("public:track", args=[row.tracking_code]) + "?new=1")
    return render(request, "exchange/report.html", context, status=400)


def _public_message(exc: DomainError) -> str:
    if exc.code in ("outside_coverage", "invalid_coordinates"):
        return _("This place is outside the area under supervision. Mark a place in the city.")
    if exc.code in PHOTO_ERRORS:
        return _("The photo was not accepted: %(reason)s") % {"reason": exc.message}
    return exc.message


@require_safe
def track_lookup(request: HttpRequest) -> HttpResponse:
    code = (request.GET.get("code") or "").strip()
    if not code:
        return render(request, "exchange/track_lookup.html", {})
    if limits.exceeded(request, "web_track"):
        return _too_many(request, "exchange/track_lookup.html", "web_track", {"code": code})
    try:
        row = selectors.request_by_tracking_code(code)
    except NotFound:
        return render(request, "exchange/track_lookup.html",
                      {"code": code, "not_found": True}, status=404)
    return redirect("public:track", row.tracking_code)


@require_safe
def track(request: HttpRequest, code: str) -> HttpResponse:
    if limits.exceeded(request, "web_track"):
        return _too_many(request, "exchange/track_lookup.html", "web_track", {"code": code})
    try:
        row = selectors.request_by_tracking_code(code)
    except NotFound:
        return render(request, "exchange/track_lookup.html",
                      {"code": code, "not_found": True}, status=404)
    english = (get_language() or "").startswith("en")
    case = row.case
    context = {
        "row": row,
        "new": request.GET.get("new") == "1",
        "service_name": row.service.name_en if english else row.service.name,
        "state": selectors.PUBLIC_STATE.get(case.state, ""),
        "is_open": selectors.is_open(case),
        "place": selectors.public_place(case),
        "agency": selectors.agency(case),
        "expected": selectors.expected(case),
        "description": selectors.public_description(row),
        "timeline": selectors.public_timeline(row),
    }
    return render(request, "exchange/track.html", context)


@require_safe
def problem_map(request: HttpRequest) -> HttpResponse:
    return render(request, "exchange/map.html", _map_context())


@require_safe
def problem_map_data(request: HttpRequest) -> JsonResponse:
    if limits.exceeded(request, "open311_read"):
        return JsonResponse({"code": "too_many_requests", "message": _(
            "Too many requests. Please try again later.")}, status=429)
    english = (get_language() or "").startswith("en")
    features = []
    for cell in selectors.open_problems():
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [cell["lon"], cell["lat"]]},
            "properties": {"service_code": cell["service_code"],
                           "name": cell["name_en"] if english else cell["name"],
                           "count": cell["count"]},
        })
    return JsonResponse({"type": "FeatureCollection", "features": features},
                        json_dumps_params={"ensure_ascii": False})
