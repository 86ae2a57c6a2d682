"""Deadlines on every wait for PostgreSQL, and a statement_timeout for the web server's queries.

TCP keepalives and `statement_timeout` do not help when the database (or a proxy on the way)
accepts bytes and never answers: the process waits in the kernel for an answer that never
comes. So psycopg2 runs in its "green" mode, where libpq never blocks and every wait (for the
connection, for a query's result) goes through `wait_with_deadline`, which gives up at the
deadline of the request being served. psycopg2 then closes the connection, Django drops it,
and the next request connects afresh.

A request's deadline is set when it starts and cleared when it has finished (Django's
`request_started` and `request_finished`), so the connection check Django runs after a
request is bounded too. Outside a request (management commands: imports, exports, seeding)
nothing is bounded but connecting (`CATALOG_DB_CONNECT_TIMEOUT`): bulk work may take
minutes.

psycopg2 refuses COPY while a wait callback is installed; `seed_images` loads by COPY, and
switches the callback off around it (`blocking_waits`). Commands wait on one thread, so
switching a process-wide setting is safe there; the web server never calls it.

The sizes that bulk work (imports, bulk actions, exports) splits its statements by, and how a
database error is told in one line, are here too, so that every path does it the same way.
"""

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import psycopg2
import psycopg2.extensions
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# When the current request's database waits give up (time.monotonic()), or None.
_deadline: ContextVar[float | None] = ContextVar("database_deadline", default=None)
# Whether the current request began on a connection kept from an earlier request.
_kept_connection: ContextVar[bool] = ContextVar("kept_connection", default=False)

# SQLite allows a limited number of variables per statement: IN lists and batched writes take
# at most this many ids or rows each.
ROWS_PER_STATEMENT = 500
# History entries (the admin's LogEntry) written per INSERT.
LOG_ENTRIES_PER_STATEMENT = 1000
# Rows a streaming read (QuerySet.iterator) fetches at a time, with their prefetched parts.
ROWS_PER_FETCH = 2000

_CONNECTED = (
    psycopg2.extensions.STATUS_READY,
    psycopg2.extensions.STATUS_BEGIN,
    psycopg2.extensions.STATUS_PREPARED,
)


class DeadlineExceeded(psycopg2.OperationalError):
    """The database did not answer before the request's deadline (Django: OperationalError)."""


def error_line(error: Exception) -> str:
    """The first line of a database error: PostgreSQL adds DETAIL and HINT lines, and a
    command's or a page's message is one line."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def install() -> None:
    psycopg2.extensions.set_wait_callback(wait_with_deadline)


@contextmanager
def blocking_waits() -> Iterator[None]:
    """Plain libpq waits, without deadline, for what green mode refuses (COPY)."""
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def start_request(sender, environ=None, **kwargs) -> None:
    """`request_started`: the request's waits end at its deadline (the admin's is longer)."""
    from catalog.api.middleware import is_api_path

    if is_api_path((environ or {}).get("PATH_INFO", "/")):
        seconds = settings.CATALOG_DB_TIMEOUT
    else:
        seconds = settings.CATALOG_ADMIN_DB_TIMEOUT
    _deadline.set(time.monotonic() + seconds)
    # Django has already closed the connection if it outlived CONN_MAX_AGE or failed. One in
    # a transaction (a test's) cannot be replaced.
    kept = connections[DEFAULT_DB_ALIAS]
    _kept_connection.set(kept.connection is not None and not kept.in_atomic_block)


def began_on_kept_connection() -> bool:
    """Whether the current request started on a connection an earlier request opened.

    Such a connection may have died in between (the database restarted, a proxy cut it) and
    nobody noticed: Django's health check would find out with a round trip before every
    request; the middleware instead retries a read-only request once on a new connection.
    """
    return _kept_connection.get()


def retry_on_new_connection() -> None:
    """The retry connects afresh and never counts as a kept connection itself."""
    connections[DEFAULT_DB_ALIAS].close()
    _kept_connection.set(False)


def end_request(sender, **kwargs) -> None:
    """`request_finished`: after Django's own end-of-request connection check."""
    _deadline.set(None)


def limit_statements(sender, connection, **kwargs) -> None:
    """`connection_created`: a connection the web server opens cancels slow queries itself.

    Once per connection (they live for CONN_MAX_AGE), not a round trip per request. Commands
    never serve a request, so their connections have no statement_timeout: an import or a
    seed runs as long as it needs.
    """
    if connection.vendor == "postgresql" and in_request():
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [settings.CATALOG_STATEMENT_TIMEOUT])


@contextmanager
def deadline_within(seconds: float) -> Iterator[None]:
    """Narrow the current deadline (never widen it): e.g. /healthz answers sooner."""
    current = _deadline.get()
    token = _deadline.set(min(time.monotonic() + seconds, current or float("inf")))
    try:
        yield
    finally:
        _deadline.reset(token)


def in_request() -> bool:
    return _deadline.get() is not None


def wait_with_deadline(conn) -> None:
    """psycopg2's wait callback: poll the connection until done, or raise at the deadline."""
    deadline = _deadline.get()
    if conn.status not in _CONNECTED:
        connect_by = time.monotonic() + settings.CATALOG_DB_CONNECT_TIMEOUT
        deadline = connect_by if deadline is None else min(deadline, connect_by)
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        events = select.POLLIN if state == psycopg2.extensions.POLL_READ else select.POLLOUT
        poller = select.poll()  # a new one each time: connecting may move to another socket
        poller.register(conn.fileno(), events)
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            ready = poller.poll(None if timeout is None else timeout * 1000)
        except KeyboardInterrupt:
            conn.cancel()  # as psycopg2's own wait_select: stop the query, then carry on
            continue
        if not ready:
            raise DeadlineExceeded("the database did not answer in time")
