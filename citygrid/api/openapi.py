"""The OpenAPI document names the error answers every operation can give, not only the ones
its router lists: the exception handlers in `citygrid.api.urls` answer for all operations
alike, so their answers are documented here once, for all of them:

- 401 `unauthenticated` and 403 (a role or scope check, or `csrf_failed`) on every operation
  that needs credentials;
- 400 `malformed_body` on every operation that takes a body (one that cannot be parsed);
- 422 `invalid_request` (or `invalid_value`: out of the storable range) on every operation
  that takes parameters or a body;
- 503 `storage_unavailable` on every operation: the database (or the photo storage) cannot be
  reached just now (`citygrid.core.middleware`); send the request again after `Retry-After`.

A router still documents its own answers (404 for a missing thing, 409, …), with `ApiError`
or its own schema: `response={200: ThingOut, **errors(404)}`; an answer it documents is left
as it is. The fuzz tests (tests/security/test_fuzz_api.py) hold every
answer to this document.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Schema
from ninja.openapi.schema import OpenAPISchema

ERROR_SCHEMA = "ApiError"



class ApiError(Schema):
    """Every error answer of the API: `{code, message, field?, details?}`."""

    code: str
    message: str
    field: str | None = None
    details: Any = None


def errors(*statuses: int) -> dict[int, type[ApiError]]:
    """Error answers for a router's `response=`: `{200: ThingOut, **errors(404, 409)}`."""
    return dict.fromkeys(statuses, ApiError)


_ANSWERS = {
    400: "The body cannot be parsed (`malformed_body`)",
    401: "Unauthenticated: no or bad credentials (`unauthenticated`)",
    403: "Forbidden: the role or scope does not allow it, or the CSRF check failed (`csrf_failed`)",
    422: "The request is malformed (`invalid_request`; `field` and `details[].loc` name the "
         "input), or a value is out of the range that can be stored (`invalid_value`)",
    503: "The database or the photo storage cannot be reached just now (`storage_unavailable`); "
         "send the request again after `Retry-After` seconds",
}


def _answer(status: int) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    return {"description": _ANSWERS[status], "content": {"application/json": {"schema": ref}}}


def _common_statuses(operation: dict[str, Any]) -> list[int]:
    statuses = []
    if operation.get("security"):
        statuses += [401, 403]
    if operation.get("requestBody"):
        statuses.append(400)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    statuses.append(503)
    return statuses


def document_common_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the answers every operation can give to `schema` (in place) and returns it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_SCHEMA, ApiError.model_json_schema())
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            declared = {int(status) for status in responses if str(status).isdigit()}
            for status in _common_statuses(operation):
                if status not in declared:
                    responses[status] = _answer(status)
    return schema


class CitygridAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document lists the common error answers (see the module) and
    whose parser refuses NUL characters (`citygrid.api.middleware`)."""

    def __init__(self, **kwargs: Any) -> None:
        from citygrid.api.middleware import NulRejectingParser

        kwargs.setdefault("parser", NulRejectingParser())
        super().__init__(**kwargs)

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_common_errors(schema)
        return schema
