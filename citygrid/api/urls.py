"""The one NinjaAPI at /api/v1/. Every router is added here, before `api.urls` is read."""

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from citygrid.api.openapi import CitygridAPI
from citygrid.core.errors import DomainError

api = CitygridAPI(
    title="citygrid API",
    version="1",
    description="Digital city management: geocoding, areas and grids, classes, organisation.",
    urls_namespace="api-v1",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [
        {"loc": [str(p) for p in err.get("loc", [])], "message": str(err.get("msg", ""))}
        for err in exc.errors
    ]
    body: dict[str, object] = {"code": "invalid_request", "message": "The request is malformed."}
    if details and details[0]["loc"]:
        body["field"] = details[0]["loc"][-1]
    body["details"] = details
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "unauthenticated", "message": "Log in or send valid credentials."}
    return api.create_response(request, body, status=401)


def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A value no schema refused but Python's dates (0001-01-01 at +14:00 in UTC) or the
    # database (PostgreSQL: an offset beyond ±15:59, NUL) cannot hold: bad input, not a 500.
    body = {"code": "invalid_value", "message": "A value is out of the range that can be stored."}
    return api.create_response(request, body, status=422)


api.add_exception_handler(DataError, _out_of_range)
api.add_exception_handler(OverflowError, _out_of_range)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's only HttpError: a body that is not JSON (or form data) at all
    code = "malformed_body" if exc.status_code == 400 else f"http_{exc.status_code}"
    body = {"code": code, "message": str(exc)}
    return api.create_response(request, body, status=exc.status_code)


# Each app's router, in the order their endpoints appear in the OpenAPI document.
ROUTER_MODULES = [
    "citygrid.space.api",
    "citygrid.space.api_geocode",
    "citygrid.calendars.api",
    "citygrid.catalog.api",
    "citygrid.org.api",
    "citygrid.inventory.api",
    "citygrid.accounts.api",
    "citygrid.cases.api",
]


def _add_routers() -> None:
    from importlib import import_module

    for module_name in ROUTER_MODULES:
        api.add_router("/", import_module(module_name).router)

    from citygrid.assess.api import router as assess_router; api.add_router("/", assess_router)  # noqa: E702, I001
    from citygrid.collab.api import router as collab_router; api.add_router("/", collab_router)  # noqa: E702, I001


_add_routers()
