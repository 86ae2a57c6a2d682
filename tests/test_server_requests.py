"""The production server in front of Django: bounded request heads, slow clients, proxy headers.

These talk to `python -m imsproject.serve` in a subprocess (tests/server.py), since what is
tested is the HTTP server's parsing, which Django's test client skips.
"""

import contextlib
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from imsproject.serve import MAX_REQUEST_HEAD

from .factories import SEED_CIRROS
from .server import PROJECT_ROOT

KIB = 1024
# What "at once" means here: every figure measured is a few milliseconds (docs/limits.md), but
# the machine running the suite may be busy, and gunicorn's unbounded parser took 30 s.
PROMPTLY = 3.0
DETAIL = "/v1.1/images/detail"


@pytest.fixture(scope="module")
def token(production_server):
    production_server.import_images([SEED_CIRROS])
    return production_server.add_token("project-server-requests")


def status_of(connection) -> int | None:
    """The status code of the first response on a raw connection (None if it closes first)."""
    received = b""
    while b"\r\n" not in received:
        try:
            chunk = connection.recv(4096)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        received += chunk
    return int(received.split(b" ", 2)[1])


def send_refused(server, data: bytes) -> tuple[int | None, float]:
    """Send like a client that does not wait for an answer; the server may hang up meanwhile."""

    def send():
        with contextlib.suppress(OSError):
            connection.sendall(data)

    with server.connect() as connection:
        started = time.monotonic()
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        status = status_of(connection)
        elapsed = time.monotonic() - started
    sender.join(timeout=10)
    return status, elapsed


def just_over_the_limit(head: bytes) -> bytes:
    """An unfinished request head one byte longer than the server reads.

    The server has then read every byte sent when it refuses, so it closes cleanly and its
    answer arrives (a server that closes with unread bytes resets the connection instead).
    """
    size = MAX_REQUEST_HEAD + 1
    return (head * (size // len(head) + 1))[:size] if len(head) < size else head[:size]


def test_a_128_kib_query_string_gets_the_api_answer(production_server, token):
    name = "n" * (128 * KIB - len("name="))
    response = production_server.request(
        "GET", f"{DETAIL}?name={name}", headers={"X-Auth-Token": token}
    )
    assert response.status == 200
    assert response.json() == {"images": []}
    assert response.headers["X-Openstack-Request-Id"].startswith("req-")

    value = "x" * (128 * KIB - len("size_min="))
    response = production_server.request(
        "GET", f"{DETAIL}?size_min={value}", headers={"X-Auth-Token": token}
    )
    assert response.status == 400
    message = response.json()["error"]["message"]
    assert message.startswith("Bad value passed to filter size_min got xxx")


def test_a_head_over_the_limit_is_refused_with_431(production_server):
    status, elapsed = send_refused(
        production_server, just_over_the_limit(b"GET /healthz?x=" + b"a" * MAX_REQUEST_HEAD)
    )
    assert status == 431
    assert elapsed < PROMPTLY


@pytest.mark.parametrize(
    "headers",
    [b"X-Big: " + b"b" * MAX_REQUEST_HEAD, b"X-Many: " + b"m" * 50 + b"\r\n"],
    ids=["one-long-header", "many-headers"],
)
def test_oversized_headers_are_refused_with_431(production_server, headers):
    start = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    status, elapsed = send_refused(production_server, just_over_the_limit(start + headers))
    assert status == 431
    assert elapsed < PROMPTLY


def test_a_40_mb_request_line_is_refused_at_once(production_server):
    head = b"GET /healthz?x=" + b"a" * (40 * KIB * KIB) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    status, elapsed = send_refused(production_server, head)
    # The server stops reading at its limit and hangs up on the rest, so the answer may be
    # lost to the connection's reset; either way, quickly.
    assert status in (431, None)
    assert elapsed < PROMPTLY

    started = time.monotonic()
    assert production_server.request("GET", "/healthz").status == 200
    assert time.monotonic() - started < PROMPTLY


def test_dribbling_clients_do_not_delay_a_request(production_server, token):
    dribblers = [production_server.connect() for _ in range(32)]
    for connection in dribblers:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    stop = threading.Event()

    def dribble():
        line = 0
        while not stop.wait(1):
            for connection in dribblers:
                connection.sendall(b"X-Slow-%d: x\r\n" % line)
            line += 1

    dribbling = threading.Thread(target=dribble)
    dribbling.start()
    try:
        durations = []
        for _ in range(5):
            started = time.monotonic()
            response = production_server.request("GET", DETAIL, headers={"X-Auth-Token": token})
            durations.append(time.monotonic() - started)
            assert response.status == 200
            time.sleep(0.3)
    finally:
        stop.set()
        dribbling.join()
    assert max(durations) < PROMPTLY, durations

    # They were held open all along, and are served once they finish their headers.
    for connection in dribblers:
        with connection:
            connection.sendall(b"\r\n")
            assert status_of(connection) == 200


def test_a_stalled_connection_is_closed_after_the_header_timeout(start_server):
    server = start_server(HEADER_READ_TIMEOUT="1", WORKERS="1")
    with server.connect(timeout=30) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        try:
            closed = connection.recv(1) == b""
        except ConnectionResetError:
            closed = True
        elapsed = time.monotonic() - started
    assert closed
    assert 0.5 < elapsed < 1 + PROMPTLY


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "images.example.com"}


def versions_href(server, headers) -> str:
    """The v1.1 entry's link: the base URL the server believes it is at, and `/v1/`."""
    response = server.request("GET", "/versions", headers=headers)
    assert response.status == 200
    (entry,) = [v for v in response.json()["versions"] if v["id"] == "v1.1"]
    return entry["links"][0]["href"]


def test_forwarded_headers_are_ignored_by_default(production_server):
    href = versions_href(production_server, FORWARDED)
    assert href == f"{production_server.base_url}/v1/"


def test_forwarded_headers_are_trusted_behind_a_proxy(start_server):
    server = start_server(
        CATALOG_BEHIND_PROXY="true",
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,images.example.com",
        WORKERS="1",
    )
    assert versions_href(server, FORWARDED) == "https://images.example.com/v1/"
    # Without the proxy's word the request is plain HTTP, and production redirects it.
    response = server.request("GET", "/versions", headers={"Host": "images.example.com"})
    assert response.status == 301
    assert response.headers["Location"] == "https://images.example.com/versions"


def test_the_production_server_refuses_debug_mode():
    env = {**os.environ, "DJANGO_DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run(
        [sys.executable, "-m", "imsproject.serve"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "set DJANGO_DEBUG=false" in completed.stderr


def lines_of_request(server, request_id, loggers):
    """The server's log lines naming `request_id`, split into their fields, once every logger
    in `loggers` has written its line (the access line comes after the response)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line.split(" ", 5) for line in server.log().splitlines() if request_id in line]
        if {line[3] for line in lines} >= loggers or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_the_access_log_names_each_request_once_with_its_id(production_server):
    request_id = production_server.request("GET", "/healthz").headers["X-Openstack-Request-Id"]
    lines = lines_of_request(production_server, request_id, {"catalog.api", "hypercorn.access"})
    access = [line for line in lines if line[3] == "hypercorn.access"]
    assert len(access) == 1
    assert access[0][4] == request_id
    assert re.fullmatch(r'127\.0\.0\.1:\d+ "GET /healthz" 200 16 \d+\.\d+s', access[0][5])


def test_every_line_of_a_request_names_its_id_in_the_same_field(production_server):
    """Django's own warning is written in one of the server's threads, the access line after
    the response: each names the request where the API's own line does."""
    request_id = production_server.request("GET", "/nothing").headers["X-Openstack-Request-Id"]
    loggers = {"django.request", "catalog.api", "hypercorn.access"}
    lines = lines_of_request(production_server, request_id, loggers)
    assert sorted(line[3] for line in lines) == sorted(loggers)
    assert {line[4] for line in lines} == {request_id}
    (warning,) = [line for line in lines if line[3] == "django.request"]
    assert warning[2:] == ["WARNING", "django.request", request_id, "Not Found: /nothing"]


def test_head_of_a_static_file_is_answered(production_server):
    response = production_server.request("HEAD", "/static/admin/css/base.css")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/css")
