"""A Host that is not allowed: the API's JSON 400 with a request id, one warning, no traceback."""

import json
import logging
from http import HTTPStatus

import pytest
from django.core.exceptions import SuspiciousOperation

from .test_api_envelope import REQUEST_ID
from .test_api_errors import error_of

pytestmark = pytest.mark.django_db

HOSTS = ["evil.com", "evil.com:8000", "bad host", "127.0.0.1.evil.com", "x" * 5000]


def records_of(caplog, request_id):
    return [record for record in caplog.records if record.request_id == request_id]


def assert_one_warning_without_traceback(caplog, request_id):
    assert [record.levelno for record in caplog.records if record.levelno >= logging.WARNING] == [
        logging.WARNING
    ]
    (warning,) = [r for r in records_of(caplog, request_id) if r.levelno == logging.WARNING]
    assert "refused: Invalid HTTP_HOST header" in warning.getMessage()
    assert len(warning.getMessage()) < 400  # a huge Host is not copied into the log
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.parametrize("host", HOSTS, ids=lambda host: host[:20])
@pytest.mark.parametrize("path", ["/v1.1/images/detail", "/v1/images/x", "/healthz", "/"])
def test_a_disallowed_host_on_an_api_path_is_the_apis_400(member_api, caplog, path, host):
    with caplog.at_level(logging.DEBUG):
        response = member_api.get(path, HTTP_HOST=host)
    assert error_of(response) == "The Host header names a host this service does not answer for."
    request_id = response["X-Openstack-Request-Id"]
    assert REQUEST_ID.match(request_id)
    assert_one_warning_without_traceback(caplog, request_id)


def test_a_disallowed_host_is_refused_in_debug_mode_too(member_api, settings, caplog):
    settings.DEBUG = True
    with caplog.at_level(logging.DEBUG):
        response = member_api.get("/v1.1/images/detail", HTTP_HOST="evil.com")
    assert error_of(response)
    assert_one_warning_without_traceback(caplog, response["X-Openstack-Request-Id"])


def test_a_disallowed_host_on_the_admin_is_djangos_400_without_a_traceback(admin_client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = admin_client.get("/admin/catalog/image/", HTTP_HOST="evil.com")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith("text/html")
    assert_one_warning_without_traceback(caplog, response["X-Openstack-Request-Id"])


def test_an_allowed_host_is_served(member_api):
    assert member_api.get("/v1.1/images/detail", HTTP_HOST="localhost:8000").status_code == 200


class SuspiciousMiddleware:
    """Refuses every request the way Django's own middleware refuses a suspicious one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise SuspiciousOperation("suspicious")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/v1.1/images/detail", "application/json"), ("/admin/", "text/html")],
)
def test_a_bad_request_django_answers_itself_is_the_apis_on_api_paths(
    member_api, settings, path, content_type
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.SuspiciousMiddleware"]
    response = member_api.get(path)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith(content_type)
    assert REQUEST_ID.match(response["X-Openstack-Request-Id"])
    if content_type == "application/json":
        assert json.loads(response.content)["error"]["message"] == "The request is malformed."
