import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.views import defaults

from citygrid.core.errors import StorageUnavailable
from citygrid.core.memo import remembering

logger = logging.getLogger("citygrid.core.database")
DATABASE_RETRY_AFTER = 3  # seconds: a fast restart of PostgreSQL takes one to a few


class ChosenLanguageMiddleware(LocaleMiddleware):
    """The site speaks zh-Hans unless the user chose another language (the language
    cookie set by /i18n/setlang/); the browser's Accept-Language is not consulted, so a
    supervision centre's screens look the same on every machine."""

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def _database_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    first = str(exception).strip().splitlines()
    logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                   first[0] if first else type(exception).__name__)
    error = StorageUnavailable(
        "The database cannot be reached just now; send the request again after Retry-After "
        "seconds (a report sent again with the same Idempotency-Key is recorded once).",
        details={"storage": "database"})
    response: HttpResponse
    if request.path.startswith(("/api/", "/open311/")) or "json" in request.headers.get("Accept", ""):
        response = JsonResponse(error.as_dict(), status=error.status,
                                json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse("数据库暂时无法访问，请稍后重试。\nThe database cannot be reached "
                                "just now; please try again shortly.\n", status=error.status,
                                content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


class DatabaseUnavailableMiddleware:
    """A request that loses the database (a restart, a fail-over, a dropped connection) is
    answered 503 with `Retry-After` and the machine-readable code `storage_unavailable`
    (details: `{"storage": "database"}`) instead of a 500: clients retry, and a report retried
    with the same Idempotency-Key is recorded once. Django then drops the broken connection
    (CONN_HEALTH_CHECKS), so the next request connects afresh. Last in MIDDLEWARE, so that it
    sees the view's exception first; `server_error` (handler500) answers the same when the
    database fails inside another middleware (a session read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            return _database_unavailable(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database is a 503 (see above); anything else Django's own 500."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return _database_unavailable(request, exception)
    return defaults.server_error(request)


class RememberReferenceReadsMiddleware:
    """A read-only request (GET, HEAD) reads each piece of reference data once: the user's
    roles and scope, classes, rules, departments, limits (`citygrid.core.memo`). A case page
    asks "may this user do X here?" for every operation; the answers share their reads.
    Requests that may write get no memory: they could change what they read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with remembering():
            return self.get_response(request)
