"""NUL characters never reach the database from the API or Open311.

PostgreSQL text cannot hold U+0000: a query filter or a saved field with one fails with
DataError (a 500) on PostgreSQL and is stored silently on SQLite. Found by the API fuzz tests
(tests/security/test_fuzz_api.py), e.g. `GET /api/v1/departments?kind=%00`.

- `RejectNulMiddleware` answers a request under /api/ or /open311/ with one in its path, a
  query parameter (name or value) or a string of a JSON body, and an Open311 submission with
  one in a form field or file name, before a view runs: 422 `invalid_request` for the API, the
  specification's 400 for Open311.
- `NulRejectingParser` (the API's ninja parser) refuses one in the API's form fields and file
  names: 422 `invalid_request`. The middleware leaves those to it, since reading a multipart
  body there would keep ninja from reading a JSON body later.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser

NUL = "\x00"
API_PREFIX, OPEN311_PREFIX = "/api/", "/open311/"
MESSAGE = "Text must not contain NUL characters."


def _in_pairs(items: Iterable[tuple[str, list[Any]]]) -> str | None:
    for name, values in items:
        if NUL in name or any(isinstance(v, str) and NUL in v for v in values):
            return name
    return None


def _in_json(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(NUL in k or _in_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_in_json(v) for v in value)
    return False


def _json_body(request: HttpRequest) -> str | None:
    body = request.body  # read here, it stays readable for ninja
    if b"\\u0000" not in body and b"\x00" not in body:  # the cheap test first
        return None
    try:
        return "body" if _in_json(json.loads(body)) else None
    except ValueError:
        return None  # not JSON at all: the API answers 400 malformed_body


def nul_field(request: HttpRequest) -> str | None:
    """Where the request carries a NUL character: "path", "body" or a parameter's name."""
    if NUL in request.path_info:
        return "path"
    found = _in_pairs(request.GET.lists())
    if found is not None:
        return found
    if request.content_type == "application/json":
        return _json_body(request)
    if request.method == "POST" and request.path_info.startswith(OPEN311_PREFIX):
        found = _in_pairs(request.POST.lists())
        if found is None:
            found = _in_pairs((k, [f.name for f in v]) for k, v in request.FILES.lists())
    return found


class NulRejectingParser(Parser):
    """ninja's parser, refusing NUL characters in form fields and file names (the API's
    multipart and urlencoded bodies, which the middleware does not read)."""

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str],
                        request: HttpRequest) -> dict[str, Any]:
        items = [(k, [getattr(v, "name", v) for v in data.getlist(k)]) for k in data]
        found = _in_pairs(items)
        if found is not None:
            raise ValidationError([{"loc": ["form", found], "msg": "must not contain NUL characters"}])
        return super().parse_querydict(data, list_fields, request)


def _refusal(request: HttpRequest, field: str) -> HttpResponse:
    if request.path_info.startswith(OPEN311_PREFIX):
        from citygrid.exchange.formats import error

        return error("json" if request.path_info.endswith(".json") else "xml", 400,
                     f"{field}: {MESSAGE}")
    return JsonResponse({"code": "invalid_request", "message": MESSAGE, "field": field,
                         "details": [{"loc": [field], "message": MESSAGE}]}, status=422)


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith((API_PREFIX, OPEN311_PREFIX)):
            field = nul_field(request)
            if field is not None:
                return _refusal(request, field)
        return self.get_response(request)
