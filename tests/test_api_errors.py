"""docs/api.md#errors: bad input gets Glance's message in the nested error body; no input
is a 500."""

import logging
from contextlib import closing
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"
SORT_KEYS = "name, status, container_format, disk_format, size, id, created_at, updated_at"


def error_of(response, status=HTTPStatus.BAD_REQUEST):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"]["code"] == status
    assert body["error"]["title"] == HTTPStatus(status).phrase
    return body["error"]["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("size_min=-1", "Bad value passed to filter size_min got -1"),
        ("size_max=abc", "Bad value passed to filter size_max got abc"),
        ("size_min=1.5", "Bad value passed to filter size_min got 1.5"),
        ("size_min=", "Bad value passed to filter size_min got "),
        (
            "size_max=9223372036854775808",
            "Bad value passed to filter size_max got 9223372036854775808",
        ),
        ("min_ram=-5", "Bad value passed to filter min_ram got -5"),
        ("min_ram=%EF%BC%91", "Bad value passed to filter min_ram got \uff11"),  # fullwidth 1
        ("min_disk=x", "Bad value passed to filter min_disk got x"),
        ("min_disk=2147483648", "Bad value passed to filter min_disk got 2147483648"),
        ("is_public=maybe", "Bad value passed to filter is_public got maybe"),
        ("is_public=", "Bad value passed to filter is_public got "),
        ("protected=yes", "Bad value passed to filter protected got yes"),
        ("protected=none", "protected must be True, or False"),
        ("protected=NONE", "protected must be True, or False"),
        ("limit=abc", "limit param must be an integer"),
        ("limit=1.0", "limit param must be an integer"),
        ("limit=", "limit param must be an integer"),
        ("limit=-1", "limit param must be positive"),
        ("marker=not-a-uuid", "Invalid marker format"),
        (
            "marker=00000000-0000-4000-8000-000000000001",
            "Invalid marker. Image could not be found.",
        ),
        ("sort_key=Name", f"Unsupported sort_key. Acceptable values: {SORT_KEYS}"),
        ("sort_key=owner", f"Unsupported sort_key. Acceptable values: {SORT_KEYS}"),
        ("sort_dir=ASC", "Unsupported sort_dir. Acceptable values: asc, desc"),
        ("sort_dir=up", "Unsupported sort_dir. Acceptable values: asc, desc"),
        ("changes-since=", "Unrecognized changes-since value"),
        ("changes-since=yesterday", "Unrecognized changes-since value"),
        ("changes-since=2016-13-01", "Unrecognized changes-since value"),
    ],
)
def test_bad_parameters_get_glances_message(member_api, query, message):
    assert error_of(member_api.get(f"{DETAIL}?{query}")) == message


def test_the_brief_listing_refuses_the_same_way(member_api):
    message = error_of(member_api.get("/v1/images?size_min=-1"))
    assert message == "Bad value passed to filter size_min got -1"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("name=%00", 200),
        ("property-x=a%00b", 200),
        ("name=%FF%FE", 400),
        ("changes-since=%C3%28", 400),
        (f"size_min={'9' * 10_000}", 400),
        (f"limit={'9' * 10_000}", 200),  # more than the cap: cut to the cap
        (f"marker={'a' * 10_000}", 400),
        (f"name={'n' * 100_000}", 200),
        (f"property-{'k' * 100_000}=v", 200),
        ("&".join(["name=x"] * 500), 200),
        ("name=&status=&disk_format=&container_format=", 200),
        ("changes-since=9999-12-31T23:59:59%2B00:00", 200),
        ("changes-since=0001-01-01T00:00:00%2B01:00", 400),
        ("sort_key=%00", 400),
        ("=&&=x&", 200),
    ],
)
def test_malformed_input_is_never_a_500(member_api, image_factory, query, status):
    image_factory()
    response = member_api.get(f"{DETAIL}?{query}")
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json; charset=UTF-8"


def test_a_huge_bad_value_is_echoed_cut_short(member_api):
    message = error_of(member_api.get(f"{DETAIL}?size_min={'x' * 100_000}"))
    assert message == f"Bad value passed to filter size_min got {'x' * 100}..."


def test_too_many_parameters_is_a_400(member_api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"p{n}=1" for n in range(20))
    assert error_of(member_api.get(f"{DETAIL}?{query}")) == "Too many or too large parameters."


@pytest.mark.parametrize("header", ["application/octet-stream", "text/plain"])
def test_content_type_of_a_get_changes_nothing(member_api, header):
    response = member_api.get(DETAIL, CONTENT_TYPE=header)
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("accept", ["*/*", "application/json", "text/html", "application/xml"])
def test_accept_changes_nothing(member_api, accept):
    response = member_api.get(DETAIL, HTTP_ACCEPT=accept)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=UTF-8"


def test_an_unexpected_fault_is_a_generic_500_logged_with_its_request_id(
    member_api, monkeypatch, caplog
):
    def boom(rows):
        raise RuntimeError("secret internals: SELECT * FROM catalog_image")

    monkeypatch.setattr("catalog.api.views.detail_entries", boom)
    with caplog.at_level(logging.ERROR, logger="catalog.api"):
        response = member_api.get(DETAIL)
    message = error_of(response, HTTPStatus.INTERNAL_SERVER_ERROR)
    request_id = response["X-Openstack-Request-Id"]
    assert "SELECT" not in message
    assert "Traceback" not in response.content.decode()
    assert request_id in message
    logged = [record for record in caplog.records if record.request_id == request_id]
    assert logged
    assert logged[0].exc_info[0] is RuntimeError


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    return monkeypatch


def test_an_unreachable_database_is_a_503_with_retry_after(member_api, database_down):
    response = member_api.get(DETAIL)
    assert error_of(response, HTTPStatus.SERVICE_UNAVAILABLE) == (
        "The image service cannot reach its database."
    )
    assert response["Retry-After"] == "30"


def test_the_service_recovers_when_the_database_comes_back(member_api, database_down):
    assert member_api.get(DETAIL).status_code == HTTPStatus.SERVICE_UNAVAILABLE
    database_down.undo()
    assert member_api.get(DETAIL).status_code == HTTPStatus.OK


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="terminating the server side of a connection needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_a_read_after_the_kept_connection_was_dropped_is_served_on_a_new_one(make_token, caplog):
    _, secret = make_token()
    client = ApiClient(secret)
    assert client.get(DETAIL).status_code == HTTPStatus.OK
    dropped = terminate_backend_of(connection)
    with CaptureQueriesContext(connection) as queries, caplog.at_level(logging.INFO):
        response = client.get(DETAIL)
    assert response.status_code == HTTPStatus.OK
    assert connection.connection.info.backend_pid != dropped
    assert "kept database connection lost, retrying" in caplog.text
    assert "database unavailable" not in caplog.text
    # Only the retry's queries ran to completion; nothing was checked before the first one.
    assert not [q for q in queries if q["sql"] == "SELECT 1"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="terminating the server side of a connection needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_a_write_is_not_retried_when_its_kept_connection_was_dropped(make_token):
    _, secret = make_token()
    client = ApiClient(secret)
    assert client.get(DETAIL).status_code == HTTPStatus.OK
    terminate_backend_of(connection)
    # The API takes no writes: a POST is still answered by the database (the view's 405 comes
    # after authentication), and a lost connection is its 503, not a second attempt.
    assert client.post(DETAIL).status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert client.get(DETAIL).status_code == HTTPStatus.OK


def terminate_backend_of(conn) -> int:
    """Ends the server side of a connection, as a database restart would; returns its pid."""
    import psycopg2

    pid = conn.connection.info.backend_pid
    with closing(psycopg2.connect(**conn.get_connection_params())) as other:
        other.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
    return pid


def test_maintenance_mode_is_a_503_with_retry_after(member_api, settings):
    settings.CATALOG_MAINTENANCE = True
    response = member_api.get(DETAIL)
    assert error_of(response, HTTPStatus.SERVICE_UNAVAILABLE) == (
        "The image service is down for maintenance."
    )
    assert response["Retry-After"] == "30"
    assert member_api.get("/healthz").status_code == HTTPStatus.SERVICE_UNAVAILABLE


def test_healthz_answers_without_a_token(anonymous_api):
    response = anonymous_api.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_down(anonymous_api, database_down):
    response = anonymous_api.get("/healthz")
    assert error_of(response, HTTPStatus.SERVICE_UNAVAILABLE)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/v1.1/images/detail", "/v1/images", "/v1.0/images/detail"])
def test_writes_on_the_listings_are_405_with_allow(member_api, method, path):
    response = getattr(member_api, method)(path)
    assert error_of(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert response["Allow"] == "GET"


def test_head_on_the_listing_is_405_with_allow_get(member_api):
    response = member_api.head(DETAIL)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET"


@pytest.mark.parametrize(
    "path",
    ["/v1.1/nothing", "/v1/images/detail/extra", "/v1.0/members", f"/v1/{quote('镜像')}"],
)
def test_other_paths_under_the_prefixes_are_404_in_the_error_format(member_api, path):
    assert error_of(member_api.get(path), HTTPStatus.NOT_FOUND)
