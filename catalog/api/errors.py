"""The legacy error format (docs/api.md#error-body).

Every error is `{"error": {"message": ..., "code": ..., "title": ...}}`: python-glanceclient
builds its exception text from `value.get("message")` of each top-level value, so a flat body
would crash it instead of raising the right exception class.
"""

from http import HTTPStatus

import orjson
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
RETRY_AFTER_SECONDS = 30


class BadRequest(exceptions.APIException):
    """A bad listing parameter; the message is Glance's own text."""

    status_code = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str):
        super().__init__(detail=message)


def error_response(status: int, message: str, headers: dict | None = None) -> HttpResponse:
    body = {"error": {"message": message, "code": status, "title": HTTPStatus(status).phrase}}
    response = HttpResponse(orjson.dumps(body), status=status, content_type=JSON_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def service_unavailable(message: str) -> HttpResponse:
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE, message, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def exception_handler(exc, context):
    """DRF's handler, answering in the legacy shape (and keeping its headers)."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: the middleware turns it into a 500 or 503
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    message = detail if isinstance(detail, str) else str(response.data.get("detail", detail))
    legacy = error_response(response.status_code, str(message))
    for name in ("WWW-Authenticate", "Allow", "Retry-After"):
        if name in response:
            legacy[name] = response[name]
    return legacy
