"""What every API response shares (docs/api.md#errors, docs/api.md#every-response).

A request id on every response and on every log line written while handling it (through
request_id.py), one log line of its own for each request; a disallowed Host
refused with a warning; maintenance mode; a malformed query string refused before anything
reads it (the admin's too); an unreachable database as 503 (the admin's as its own 503 page)
and any other fault as a generic 500 (logged with the request id, never shown). A GET or HEAD
whose kept database connection died since the previous request is answered again, once, on a
new connection, instead of checking every connection with a round trip before each request.
"""

import logging
import time
import uuid
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.log import log_response
from django.views import defaults

from catalog import database
from catalog.database import DeadlineExceeded

from . import request_id
from .errors import RETRY_AFTER_SECONDS, error_response, service_unavailable

logger = logging.getLogger("catalog.api")
# Django's logger for the refusal, which deployments already route or silence.
disallowed_host_logger = logging.getLogger("django.security.DisallowedHost")

REQUEST_ID_HEADER = "X-Openstack-Request-Id"
DISALLOWED_HOST_MESSAGE = "The Host header names a host this service does not answer for."
# Pages for people (the admin, the API reference) and their files: Django's HTML errors.
NOT_API_PREFIXES = ("/admin/", "/static/", "/docs/", "/redoc/")
DATABASE_ERRORS = (OperationalError, InterfaceError)
READ_ONLY_METHODS = ("GET", "HEAD")
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout (or a cancel)


def is_api_path(path: str) -> bool:
    return not path.startswith(NOT_API_PREFIXES)


def query_string_problem(raw: bytes, *, nul_allowed: bool = False) -> str | None:
    """Why a query string cannot be read as UTF-8 text (without NUL bytes), or None."""
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            decoded = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                text = decoded.decode("utf-8")
            except UnicodeDecodeError:
                return "The query string is not valid UTF-8."
            if not nul_allowed and "\x00" in text:
                name = unquote_to_bytes(pair.split(b"=", 1)[0]).decode("utf-8", "replace")
                return f"Parameter {name[:100]} contains a NUL character."
    return None


class LegacyApiMiddleware:
    """The outermost middleware (first in MIDDLEWARE), so that every response, whatever
    refused it, carries a request id and has its log line. It reads only the path, which
    needs no Host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = f"req-{uuid.uuid4()}"
        token = request_id.current.set(request.request_id)
        try:
            return self.handle(request)
        finally:
            request_id.current.reset(token)

    def handle(self, request):
        started = time.monotonic()
        request.retry_on_new_connection = False
        response = self.answer(request)
        if request.retry_on_new_connection:
            request.retry_on_new_connection = False
            database.retry_on_new_connection()
            response = self.answer(request)
        response[REQUEST_ID_HEADER] = request.request_id
        if response.status_code >= 400:
            # Django writes this line after the middleware returns, outside the request's id.
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.get_full_path()[:300],
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def answer(self, request):
        api = is_api_path(request.path)
        try:
            request.get_host()
        except DisallowedHost as error:
            return self.refuse_host(request, error, api=api)
        raw_query = request.META.get("QUERY_STRING", "").encode("latin-1")
        if not api:
            # The admin's filters hand values to the database, which refuses a NUL:
            # Django's own 400 page instead of a 500.
            problem = query_string_problem(raw_query)
            if problem:
                return defaults.bad_request(request, BadRequest(problem))
            return self.get_response(request)
        if settings.CATALOG_MAINTENANCE:
            return service_unavailable("The image service is down for maintenance.")
        # Django would read invalid UTF-8 as U+FFFD and match on that: refuse it here. A NUL
        # is left to each parameter, which answers it with its own message (filters.py,
        # pagination.py) and never hands it to the database.
        problem = query_string_problem(raw_query, nul_allowed=True)
        if problem:
            return error_response(HTTPStatus.BAD_REQUEST, problem)
        return self.get_response(request)

    @staticmethod
    def refuse_host(request, error: DisallowedHost, *, api: bool):
        """Checked here, before any other middleware asks: there, Django would answer with its
        HTML page and log the refusal at ERROR with a traceback, though a client naming
        another host is no fault of the service. One warning, on Django's logger for it,
        instead (and log_response tells Django's handler that this response has its line)."""
        if api:
            response = error_response(HTTPStatus.BAD_REQUEST, DISALLOWED_HOST_MESSAGE)
        else:
            response = defaults.bad_request(request, error)
        log_response(
            "refused: %s",
            str(error)[:300],
            response=response,
            request=request,
            logger=disallowed_host_logger,
        )
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            if lost_kept_connection(request, exception):
                # Answered again in handle(), on a new connection; this answer is dropped.
                request.retry_on_new_connection = True
                logger.info("kept database connection lost, retrying")
                return HttpResponse(status=HTTPStatus.SERVICE_UNAVAILABLE)
            return database_unavailable(request, exception)
        if not is_api_path(request.path):
            return None
        if isinstance(exception, (TooManyFieldsSent, RequestDataTooBig)):
            return error_response(HTTPStatus.BAD_REQUEST, "Too many or too large parameters.")
        if isinstance(exception, SuspiciousOperation):
            return error_response(HTTPStatus.BAD_REQUEST, "The request is malformed.")
        logger.exception("unexpected fault")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            f"The server has either erred or is incapable of performing the requested "
            f"operation. Request id: {request.request_id}",
        )


def lost_kept_connection(request, exception) -> bool:
    """A read-only request that failed because its kept connection had died since the last
    request (a database restart): worth one retry on a new connection. A database that does
    not answer in time, or cancelled the query, is not retried: the wait would only double."""
    return (
        request.method in READ_ONLY_METHODS
        and database.began_on_kept_connection()
        and database_fault(exception) == "unreachable"
    )


def database_fault(exception) -> str:
    """Why a database error happened, in words for the log."""
    cause = exception.__cause__
    if isinstance(cause, DeadlineExceeded):
        return "no answer before the request's deadline"
    if getattr(cause, "pgcode", None) == QUERY_CANCELED:
        return "query cancelled by statement_timeout"
    return "unreachable"


def database_unavailable(request, exception) -> HttpResponse:
    """503 with Retry-After: the API's JSON, or the admin's own page (not a 500)."""
    logger.warning("database unavailable (%s): %s", database_fault(exception), exception)
    # Drop a broken connection now, so the next request connects afresh.
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is None or wrapper.in_atomic_block:
            continue
        if not wrapper.is_usable():
            wrapper.close()
    if is_api_path(request.path):
        response = service_unavailable("The image service cannot reach its database.")
    else:
        # Rendered without the request: its context processors would ask the database who
        # the user is.
        page = render_to_string("admin/503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=HTTPStatus.SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # The warning above is the record of an outage; Django would add an ERROR line for every
    # request answered while it lasts.
    # Django's own flag for an answer already logged; the stubs leave it out.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
