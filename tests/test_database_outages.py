"""A sick database: refused, frozen, slow. Every request still gets its answer in bounded time.

The test process's own connection is pointed at a fault proxy (tests/faultproxy.py) in front
of the PostgreSQL server, and the deadlines are made small so the suite stays quick.
"""

import logging
import time
from contextlib import closing
from http import HTTPStatus

import psycopg2
import psycopg2.extensions
import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from catalog.api.views import server_error
from catalog.apps import CatalogConfig
from catalog.database import wait_with_deadline

from .conftest import ApiClient
from .faultproxy import FaultProxy

DETAIL = "/v1.1/images/detail"
UNAVAILABLE = "The image service cannot reach its database."

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="network faults need a database server (PostgreSQL); SQLite is a local file",
)


def assert_unavailable_json(response):
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["error"]["message"] == UNAVAILABLE
    assert response["Retry-After"] == "30"


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


@pytest.fixture
def proxy(transactional_db, settings):
    """The connection goes through a fault proxy; a request waits at most a second."""
    settings.CATALOG_DB_TIMEOUT = 1.0
    settings.CATALOG_ADMIN_DB_TIMEOUT = 1.0
    params = connection.settings_dict
    saved = {key: params[key] for key in ("HOST", "PORT")}
    with FaultProxy((params["HOST"] or "127.0.0.1", int(params["PORT"] or 5432))) as proxy:
        connection.close()
        params.update(HOST="127.0.0.1", PORT=str(proxy.port))
        try:
            yield proxy
        finally:
            proxy.resume()
            connection.close()
            params.update(saved)


@pytest.fixture
def client(make_token):
    _, secret = make_token()
    return ApiClient(secret)


def assert_listing_unavailable_in_time(client):
    response, elapsed = timed(client.get, DETAIL)
    assert_unavailable_json(response)
    assert elapsed < 5


@postgresql_only
@pytest.mark.parametrize("fault", ["freeze", "refuse"])
def test_api_requests_are_503_within_the_deadline_then_served_again(proxy, client, fault):
    assert client.get(DETAIL).status_code == HTTPStatus.OK  # a connection is open
    getattr(proxy, fault)()
    # The open connection gives up first, then a new one is tried: both within the bound.
    for _ in range(2):
        assert_listing_unavailable_in_time(client)
    proxy.resume()
    assert client.get(DETAIL).status_code == HTTPStatus.OK


@postgresql_only
def test_a_connection_attempt_to_a_frozen_database_gives_up_at_the_deadline(proxy, client):
    proxy.freeze()
    connection.close()  # the request has to connect, and the server never answers
    assert_listing_unavailable_in_time(client)
    proxy.resume()
    assert client.get(DETAIL).status_code == HTTPStatus.OK


@postgresql_only
def test_healthz_is_503_within_two_seconds_while_the_database_is_frozen(proxy, settings):
    settings.CATALOG_DB_TIMEOUT = 30  # healthz has its own, shorter bound
    settings.CATALOG_HEALTHZ_TIMEOUT = 0.5
    anonymous = Client()
    assert anonymous.get("/healthz").status_code == HTTPStatus.OK
    proxy.freeze()
    response, elapsed = timed(anonymous.get, "/healthz")
    assert_unavailable_json(response)
    assert elapsed < 2
    proxy.resume()
    assert anonymous.get("/healthz").status_code == HTTPStatus.OK


@postgresql_only
@pytest.mark.parametrize("fault", ["freeze", "refuse"])
def test_the_admin_answers_its_own_503_page_while_the_database_is_down(proxy, fault):
    staff = User.objects.create_superuser("staff", password="secret-password-123")
    browser = Client(raise_request_exception=False)
    browser.force_login(staff)
    assert browser.get("/admin/catalog/image/").status_code == HTTPStatus.OK
    getattr(proxy, fault)()
    response, elapsed = timed(browser.get, "/admin/catalog/image/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "IMS image catalog" in page  # the admin's header
    assert "database is not answering" in page
    assert elapsed < 5
    proxy.resume()
    assert browser.get("/admin/catalog/image/").status_code == HTTPStatus.OK


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_query_cut_off_by_statement_timeout_is_a_503_logged_with_the_request_id(
    client, settings, caplog
):
    settings.CATALOG_STATEMENT_TIMEOUT = 200
    connection.close()  # the request opens the connection, which takes the timeout
    # Another session holds the image table, as a long seed does: the listing has to wait.
    with closing(psycopg2.connect(**connection.get_connection_params())) as other:
        other.cursor().execute("LOCK TABLE catalog_image IN ACCESS EXCLUSIVE MODE")
        try:
            with caplog.at_level(logging.WARNING, logger="catalog.api"):
                response, elapsed = timed(client.get, DETAIL)
        finally:
            other.rollback()
            connection.close()  # no later test inherits the 200 ms timeout
    assert_unavailable_json(response)
    assert elapsed < 5
    request_id = response["X-Openstack-Request-Id"]
    warnings = [
        (r.request_id, r.getMessage()) for r in caplog.records if r.levelno == logging.WARNING
    ]
    assert any(id == request_id and "statement_timeout" in w for id, w in warnings), warnings
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # an outage, not a bug


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_only_connections_opened_for_requests_get_the_statement_timeout(client, settings):
    settings.CATALOG_STATEMENT_TIMEOUT = 1234

    def statement_timeout():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            return cursor.fetchone()[0]

    connection.close()
    assert statement_timeout() == "0"  # a command's connection: bulk work is not cut off
    connection.close()
    try:
        assert client.get(DETAIL).status_code == HTTPStatus.OK
        assert statement_timeout() == "1234ms"
    finally:
        connection.close()


@postgresql_only
def test_outside_a_request_connecting_still_gives_up_after_the_connect_timeout(proxy, settings):
    # libpq ignores its connect_timeout in psycopg2's green mode: the wait callback keeps it.
    settings.CATALOG_DB_CONNECT_TIMEOUT = 1
    proxy.freeze()
    connection.close()
    started = time.monotonic()
    with pytest.raises(OperationalError):
        connection.ensure_connection()
    assert time.monotonic() - started < 5


def test_the_catalog_runs_its_own_app_config():
    # catalog/apps.py holds two configs; with the wrong one, ready() (the deadlines, the
    # statement_timeout) never runs.
    assert type(apps.get_app_config("catalog")) is CatalogConfig


@postgresql_only
def test_every_wait_of_the_driver_goes_through_the_deadline():
    assert psycopg2.extensions.get_wait_callback() is wait_with_deadline


@pytest.mark.parametrize(
    ("path", "content_type"), [(DETAIL, "application/json"), ("/admin/", "text/html")]
)
def test_a_database_error_outside_any_view_is_still_a_503(path, content_type):
    request = RequestFactory().get(path)
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith(content_type)
