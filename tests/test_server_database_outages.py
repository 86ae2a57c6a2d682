"""The production server while its database misbehaves, through a fault proxy.

test_database_outages.py checks the deadlines in-process; here the real server (its worker
processes and thread pools) faces a database that refuses connections or stops answering,
and must answer every request with the JSON 503 in bounded time, keep its workers, and serve
again as soon as the database is back.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

import pytest

from .faultproxy import FaultProxy
from .server import ProductionServer

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="network faults need a database server (PostgreSQL); SQLite is a local file",
)

# Small deadlines, so the test is quick; the bounds asserted leave room for a busy machine.
REQUEST_TIMEOUT = 2
HEALTHZ_TIMEOUT = 1
SLACK = 3


@pytest.fixture
def proxied_server(server_database):
    target = urlsplit(server_database.url)
    with FaultProxy((target.hostname, target.port or 5432)) as proxy:
        server = ProductionServer(
            server_database,
            CATALOG_DB_TIMEOUT=str(REQUEST_TIMEOUT),
            CATALOG_HEALTHZ_TIMEOUT=str(HEALTHZ_TIMEOUT),
            CATALOG_DB_CONNECT_TIMEOUT=str(REQUEST_TIMEOUT),
        )
        netloc = f"{target.username}@127.0.0.1:{proxy.port}"
        server.env["DATABASE_URL"] = urlunsplit(target._replace(netloc=netloc))
        with server:
            token = server.add_token("project-outage")
            yield server, proxy, token


def workers(server) -> set[int]:
    """The server's worker processes (Linux: the kernel lists a process's children)."""
    pid = server.process.pid
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return set(map(int, children.read().split()))


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("fault", ["freeze", "refuse"])
def test_every_request_gets_the_503_in_time_and_the_server_recovers(proxied_server, fault):
    server, proxy, token = proxied_server
    listing = {"X-Auth-Token": token}
    assert server.request("GET", "/v1/images/detail", headers=listing).status == HTTPStatus.OK
    started_workers = workers(server)
    assert started_workers

    getattr(proxy, fault)()
    # More requests at once than the server has workers: none may wait behind another's outage.
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(
                lambda _: timed(
                    lambda: server.request("GET", "/v1/images/detail", headers=listing, timeout=30)
                ),
                range(6),
            )
        )
    for response, seconds in answers:
        assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
        assert response.headers["Retry-After"] == "30"
        assert response.json()["error"]["code"] == HTTPStatus.SERVICE_UNAVAILABLE
        assert seconds < 2 * REQUEST_TIMEOUT + SLACK
    health, seconds = timed(lambda: server.request("GET", "/healthz", timeout=30))
    assert health.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert seconds < HEALTHZ_TIMEOUT + SLACK

    proxy.resume()
    assert server.request("GET", "/v1/images/detail", headers=listing).status == HTTPStatus.OK
    assert server.request("GET", "/healthz").status == HTTPStatus.OK
    # The same workers served throughout: none was killed or restarted.
    assert workers(server) == started_workers


def test_the_first_requests_after_a_database_restart_are_served(proxied_server):
    server, proxy, token = proxied_server
    listing = {"X-Auth-Token": token}
    for _ in range(4):  # the workers' threads keep connections open
        assert server.request("GET", "/v1/images/detail", headers=listing).status == HTTPStatus.OK
    proxy.restart()
    # Every kept connection is dead, and no check runs before a request: a read that finds
    # its connection gone is answered again on a new one, not with a 503.
    for _ in range(4):
        assert server.request("GET", "/v1/images/detail", headers=listing).status == HTTPStatus.OK
    assert server.request("GET", "/healthz").status == HTTPStatus.OK
