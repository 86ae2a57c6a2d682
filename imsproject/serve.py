"""The production server: `python -m imsproject.serve`, which `make serve` runs.

It brings the database and the admin's static files up to date, then serves the WSGI
application with Hypercorn, configured here and nowhere else: the Makefile, the test suite and
the scripts all start the service through this module, so what they measure is what production
runs. BIND, WORKERS and HEADER_READ_TIMEOUT are settings (imsproject/settings.py); the README's
"Production" section says why Hypercorn, and docs/limits.md what the limits below promise.
"""

import logging
import os
import sys

import django
from django.conf import settings
from django.core.management import call_command
from hypercorn.config import Config
from hypercorn.run import run

APPLICATION = "wsgi:imsproject.serve:application"
# The request line and headers together. A 128 KiB query string (a legacy client may put long
# filters there) still reaches Django with ordinary headers beside it; a longer head is
# answered 431 by the HTTP parser as soon as it has read that much, before any thread is taken.
MAX_REQUEST_HEAD = 160 * 1024
# A request body: the admin's catalog upload, with room for the form around the file.
MAX_REQUEST_BODY = 21 * 1024 * 1024
# The query string stays out (the API's own log line has it, cut to a readable length). The
# request id is not in the message: RequestIdFromResponse puts it where every line has it.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
REQUEST_ID_ATOM = "{x-openstack-request-id}o"


def application(environ, start_response):
    """The project's WSGI application (imsproject.wsgi), each body yielding at least one chunk.

    Hypercorn 0.18 starts a WSGI response at its first chunk and answers 500 to a body that
    yields none, such as WhiteNoise's answer to HEAD of a static file.
    """
    # Imported in the worker, at its first request: importing imsproject.wsgi sets Django up,
    # which must not happen when this module is imported (by the launcher, by logging).
    from imsproject.wsgi import application as project_application

    return NeverEmpty(project_application(environ, start_response))


class NeverEmpty:
    def __init__(self, body):
        self.body = body

    def __iter__(self):
        empty = True
        for chunk in self.body:
            empty = False
            yield chunk
        if empty:
            yield b""

    def close(self):
        # Django's request_finished (which returns database connections) runs here.
        if hasattr(self.body, "close"):
            self.body.close()


class AnsweredRequestsOnly(logging.Filter):
    """Drops Hypercorn's access lines that have no status.

    Hypercorn 0.18 writes such a line for every HTTP/1.1 request, just before the complete one
    (the stream reports itself closed before the response is recorded), and for a client that
    hangs up before its answer, which the API's own log line records anyway.
    """

    def filter(self, record):
        return record.args["s"] != "-"


class RequestIdFromResponse(logging.Filter):
    """Gives an access line the id of the request it records, from the response's header.

    Hypercorn writes the line after Django has answered, outside the request, so the id is
    read from the response: the line then names its request in the same place as the API's
    own lines and Django's do ("-" for an answer Hypercorn gave itself, such as a 431).
    """

    def filter(self, record):
        record.request_id = record.args[REQUEST_ID_ATOM]
        return True


def server_config(application_path: str = APPLICATION) -> Config:
    """Production's Hypercorn configuration, serving `application_path` (scripts/floor.py runs
    its own application under exactly these settings, to be measured beside the service)."""
    config = Config()
    config.application_path = application_path
    config.bind = [settings.SERVER_BIND]
    config.workers = settings.SERVER_WORKERS
    config.h11_max_incomplete_size = MAX_REQUEST_HEAD
    config.wsgi_max_body_size = MAX_REQUEST_BODY
    # Hypercorn's idle timer runs from the moment a connection opens (or its last response
    # ends) until a request's headers are complete: a client that has not sent them in time is
    # disconnected, however slowly it dribbles bytes meanwhile.
    config.keep_alive_timeout = settings.SERVER_HEADER_READ_TIMEOUT
    config.graceful_timeout = 10
    # Django's logging configuration writes these (to standard error, with the app's lines).
    config.accesslog = logging.getLogger("hypercorn.access")
    config.errorlog = logging.getLogger("hypercorn.error")
    config.access_log_format = ACCESS_LOG_FORMAT
    return config


def prepare() -> None:
    """What production needs before the first request: the schema and the admin's files."""
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsproject.settings")
    django.setup()
    if settings.DEBUG:
        sys.exit(
            "imsproject.serve is the production server: set DJANGO_DEBUG=false (and "
            "DJANGO_SECRET_KEY). `make run` serves a development copy."
        )
    prepare()
    return run(server_config())


if __name__ == "__main__":
    sys.exit(main())
