"""Errors that carry a machine-readable code, raised by actions and services.

The API turns a `DomainError` into HTTP 4xx with `{"code": ..., "message": ..., "details": ...}`;
pages show the message; commands print it and exit with status 2.
"""

from typing import Any


class DomainError(Exception):
    """A request the domain refuses. `code` is stable; `message` is for people."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        field = self.field
        if field:
            body["field"] = field
        if self.details is not None:
            body["details"] = self.details
        return body

    @property
    def field(self) -> str | None:
        """The input field at fault, when the details name one (first of several)."""
        if isinstance(self.details, dict):
            if self.details.get("field"):
                return str(self.details["field"])
            fields = self.details.get("fields")
            if isinstance(fields, list | tuple) and fields:
                return str(fields[0])
        return None


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    """Input failed validation; `details` lists every problem found."""

    status = 422
    code = "validation_failed"


class StorageUnavailable(DomainError):
    """The file storage refused a write (disk full, object store unreachable); nothing was
    recorded and the request may be repeated later."""

    status = 503
    code = "storage_unavailable"
