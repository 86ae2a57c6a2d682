"""The request id on every log line written while a request is handled.

LegacyApiMiddleware makes the id and sets `current` for as long as it handles the request;
RequestIdFilter, on the handlers in settings.LOGGING, gives each record it formats that id as
`request_id` ("-" outside a request). Django's own lines (django.request, django.security) and
the libraries' are written in the request's thread, so they carry it as the API's lines do.
A context variable rather than django-guid: the middleware already makes the id, and the
variable is all that is missing between it and the log records.
"""

import contextvars
import logging

current = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        # A record may bring its own (Hypercorn's access lines take theirs from the response).
        if not hasattr(record, "request_id"):
            record.request_id = current.get()
        return True
