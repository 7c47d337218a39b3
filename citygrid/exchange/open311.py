"""Open311 GeoReport v2 endpoints: thin views that parse, call a selector or action, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from citygrid.core.errors import DomainError, NotFound, PermissionDenied
from citygrid.exchange import actions, limits, selectors
from citygrid.exchange.domain.rules import (
    RuleError,
    attribute_defs,
    check_attributes,
    coarsen,
    date_window,
    parse_attribute_fields,
    parse_coordinate,
    present,
    split_list,
)
from citygrid.exchange.formats import error, iso, render
from citygrid.exchange.models import PublicRequest, PublicService
from citygrid.space.models import Area

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_LIMIT = 1000
CONTACT_LIMITS = {"first_name": 100, "last_name": 100, "phone": 40, "device_id": 200,
                  "account_id": 200, "email": 254, "address_string": 300, "address_id": 64}

View = Callable[..., HttpResponse]


def request_limit() -> int:
    return int(getattr(settings, "EXCHANGE_OPEN311_LIMIT", DEFAULT_LIMIT))


def _language(params: QueryDict) -> str:
    wanted = (present(params, "locale") or translation.get_language() or "zh-hans").lower()
    return "en" if wanted.startswith("en") else "zh-hans"


def endpoint(*methods: str) -> Callable[[View], View]:
    """Method check, format, language, rate limit and the spec's error format for a view."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str | None = None, **kwargs: Any) -> HttpResponse:
            fmt = fmt or "xml"  # XML is the format the specification requires
            if request.method not in methods:
                response = error(fmt, 405, f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            params = request.POST if request.method == "POST" else request.GET
            if request.method == "GET" and limits.exceeded(request, "open311_read"):
                return _too_many(fmt, "open311_read")
            with translation.override(_language(params)):
                try:
                    return view(request, fmt, params, **kwargs)
                except RuleError as exc:
                    return error(fmt, 400, str(exc))
                except PermissionDenied as exc:
                    return error(fmt, 403, exc.message)
                except NotFound as exc:
                    return error(fmt, 404, exc.message)
                except DomainError as exc:
                    return error(fmt, 400, exc.message)
        return wrapper
    return decorate


def _too_many(fmt: str, name: str) -> HttpResponse:
    return error(fmt, 429, f"Too many requests: at most {limits.rate_text(name)}. Try again later.")


def _city(params: QueryDict) -> Area | None:
    """The city `jurisdiction_id` names; optional while the server hosts one city."""
    code = present(params, "jurisdiction_id")
    if code is not None:
        city = selectors.cities().filter(code=code).first()
        if city is None:
            raise NotFound(f"jurisdiction_id {code} not found.", code="jurisdiction_not_found")
        return city
    hosted = list(selectors.cities()[:2])
    if len(hosted) > 1:
        raise RuleError("jurisdiction_id is required: this server hosts several cities.")
    return hosted[0] if hosted else None


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _service_json(service: PublicService) -> dict[str, Any]:
    english = _english()
    return {
        "service_code": service.service_code,
        "service_name": service.name_en if english else service.name,
        "description": (service.description_en if english else service.description) or "",
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": service.keywords,
        "group": service.group_en if english else service.group,
    }


def _notice() -> str:
    return _("An inspector verifies public reports on site before a case is filed.")


def _request_json(row: PublicRequest) -> dict[str, Any]:
    case = row.case
    lon, lat = coarsen(case.lon, case.lat)
    english = _english()
    return {
        "service_request_id": case.number,
        "status": "open" if selectors.is_open(case) else "closed",
        "status_notes": str(selectors.PUBLIC_STATE.get(case.state, "")),
        "service_name": row.service.name_en if english else row.service.name,
        "service_code": row.service.service_code,
        "description": selectors.public_description(row),
        "agency_responsible": selectors.agency(case),
        "service_notice": _notice(),
        "requested_datetime": iso(case.created_at),
        "updated_datetime": iso(case.updated_at),
        "expected_datetime": iso(selectors.expected(case)),
        "address": selectors.public_place(case),
        "address_id": "",
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": row.media_url,
    }


@csrf_exempt
def unknown(request: HttpRequest) -> HttpResponse:
    """Any other path under /open311/v2/ (an unknown resource or format): 404 in the
    specification's error format rather than an HTML page."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    return error(fmt, 404, "No such resource; see discovery.json for the endpoints.")


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    contact = str(getattr(settings, "EXCHANGE_CONTACT", "") or "")
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "json"})).rsplit("/", 1)[0]
    changeset = iso(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    data = {
        "changeset": changeset,
        "contact": contact,
        "key_service": _("API keys are issued by the platform's administrators") +
        (f": {contact}" if contact else "."),
        "endpoints": [{
            "specification": SPEC_URL, "url": base, "changeset": changeset,
            "type": "production", "formats": ["text/xml", "application/json"],
        }],
    }
    return render(data, fmt, "discovery")


@endpoint("GET")
def services(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    city = _city(params)
    return render([_service_json(s) for s in selectors.services_for(city)], fmt, "services")


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, params: QueryDict,
                       service_code: str) -> HttpResponse:
    city = _city(params)
    service = selectors.service_by_code(service_code, city)
    attributes = []
    for d in attribute_defs(service.attributes, translation.get_language() or ""):
        item: dict[str, Any] = {
            "variable": d.variable, "code": d.code, "datatype": d.datatype,
            "required": d.required, "datatype_description": d.datatype_description,
            "order": d.order, "description": d.description,
        }
        if d.datatype in ("singlevaluelist", "multivaluelist"):
            item["values"] = [{"key": k, "name": n} for k, n in d.values]
        attributes.append(item)
    return render({"service_code": service.service_code, "attributes": attributes}, fmt,
                  "service_definition")


@endpoint("GET", "POST")
def requests_(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt, params)
    city = _city(params)
    rows = selectors.public_requests(city)
    ids = split_list(present(params, "service_request_id"))
    if ids:  # overrides every other filter
        rows = rows.filter(case__number__in=ids)
    else:
        codes = split_list(present(params, "service_code"))
        if codes:
            rows = rows.filter(service__service_code__in=codes)
        statuses = split_list(present(params, "status"))
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise RuleError(f"status must be open or closed, not {bad[0]}.")
        if len(set(statuses)) == 1:
            from citygrid.cases.models import FINAL_STATES

            if statuses[0] == "open":
                rows = rows.exclude(case__state__in=FINAL_STATES)
            else:
                rows = rows.filter(case__state__in=FINAL_STATES)
        start, end = date_window(present(params, "start_date"), present(params, "end_date"),
                                 timezone.now())
        rows = rows.filter(case__created_at__gte=start, case__created_at__lte=end)
    rows = rows.order_by("-case__created_at", "-id")[:request_limit()]
    return render([_request_json(r) for r in rows], fmt, "service_requests")


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, params: QueryDict,
                   service_request_id: str) -> HttpResponse:
    city = _city(params)
    row = selectors.public_requests(city).filter(case__number=service_request_id).first()
    if row is None:
        raise NotFound(f"service_request_id {service_request_id} not found.",
                       code="request_not_found")
    return render([_request_json(row)], fmt, "service_requests")


@endpoint("GET")
def token_detail(request: HttpRequest, fmt: str, params: QueryDict, token: str) -> HttpResponse:
    city = _city(params)
    row = selectors.public_requests(city).filter(token=token).first()
    if row is None:
        raise NotFound(f"token {token} not found.", code="token_not_found")
    return render([{"service_request_id": row.case.number, "token": row.token}], fmt,
                  "service_requests")


def _api_key_value(request: HttpRequest) -> str | None:
    return present(request.POST, "api_key") or present(request.GET, "api_key")


def _create(request: HttpRequest, fmt: str, params: QueryDict) -> HttpResponse:
    if limits.exceeded(request, "open311_write_ip"):
        return _too_many(fmt, "open311_write_ip")
    key = actions.use_api_key(_api_key_value(request))
    if limits.exceeded(request, "open311_write_key", key=lambda group, req: f"key{key.pk}"):
        return _too_many(fmt, "open311_write_key")
    city = _city(params)
    code = present(params, "service_code")
    if code is None:
        raise RuleError("service_code is required.")
    service = selectors.services_for(city).filter(service_code=code).first()
    if service is None:
        raise RuleError(f"service_code {code} not found.")
    lon, lat = _location(params)
    description = present(params, "description") or ""
    if len(description) > actions.DESCRIPTION_LIMIT:
        raise RuleError(f"description is longer than {actions.DESCRIPTION_LIMIT} characters.")
    for field, limit in CONTACT_LIMITS.items():
        if len(present(params, field) or "") > limit:
            raise RuleError(f"{field} is longer than {limit} characters.")
    submitted = parse_attribute_fields((k, v) for k, values in params.lists() for v in values)
    values = check_attributes(attribute_defs(service.attributes), submitted)
    email = present(params, "email") or ""
    media_url = present(params, "media_url") or ""
    _check(EmailValidator(), email, "email is not a valid e-mail address.")
    _check(URLValidator(schemes=["http", "https"]), media_url, "media_url is not an http(s) URL.")
    name = " ".join(p for p in (present(params, "first_name"), present(params, "last_name")) if p)
    contact = actions.Contact(name=name, email=email, phone=present(params, "phone") or "",
                              device_id=present(params, "device_id") or "",
                              account_id=present(params, "account_id") or "")
    media = request.FILES.getlist("media")
    try:
        row = actions.submit_public_request(
            service=service, lon=lon, lat=lat, channel="open311", description=description,
            attributes=values, contact=contact, api_key=key, photos=media, media_url=media_url,
            address_string=present(params, "address_string") or "",
            address_id=present(params, "address_id") or "",
        )
    except NotFound as exc:  # e.g. outside the area under supervision: a bad request here
        raise RuleError(exc.message) from None
    answer = {"service_request_id": row.case.number, "service_notice": _notice(),
              "account_id": contact.account_id or None, "token": row.token}
    return render([answer], fmt, "service_requests")


def _check(validator: Callable[[str], None], value: str, message: str) -> None:
    if not value:
        return
    try:
        validator(value)
    except ValidationError:
        raise RuleError(message) from None


def _location(params: QueryDict) -> tuple[float, float]:
    """lat/long; else address_id as a unit grid code or a component code. An address_string
    alone cannot be placed (there is no street-address geocoder)."""
    lat_text, long_text = present(params, "lat"), present(params, "long")
    if lat_text is not None or long_text is not None:
        lat = parse_coordinate(lat_text, "lat", -90, 90)
        lon = parse_coordinate(long_text, "long", -180, 180)
        return lon, lat
    address_id = present(params, "address_id")
    if address_id is not None:
        return _place_of(address_id)
    if present(params, "address_string") is not None:
        raise RuleError("address_string alone cannot be placed on the map here; "
                        "send lat and long (address_string is kept as the address).")
    raise RuleError("A location is required: lat and long, or address_id.")


def _place_of(address_id: str) -> tuple[float, float]:
    from citygrid.inventory.models import Component
    from citygrid.space.selectors import grid_by_code

    component = Component.objects.filter(code=address_id).only("lon", "lat").first()
    if component is not None:
        return component.lon, component.lat
    try:
        grid = grid_by_code(address_id)
    except NotFound:
        raise RuleError(f"address_id {address_id} is neither a unit grid nor a component code.") from None
    point = grid.shape.representative_point()
    return float(point.x), float(point.y)
