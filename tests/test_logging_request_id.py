"""Every log line written while a request is handled names its request id, the one in the
response's X-Openstack-Request-Id: the API's own, Django's and the libraries' lines alike.

These read what the configured console handler writes (settings.LOGGING), as an operator
would: `<date> <time> <level> <logger> <request id> <message>`.
"""

import io
import logging
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User

from catalog.api import request_id

from .test_api_errors import DETAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """`log_lines()`: what the console handler has written during the test, as
    (level, logger, request id, message) for each line (tracebacks left out)."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines():
        return [
            tuple(line.split(" ", 5)[2:])
            for line in stream.getvalue().splitlines()
            if line[:2] == "20"  # a record's first line starts with its year
        ]

    yield lines
    handler.setStream(previous)


def lines_of(log_lines, logger):
    return [line for line in log_lines() if line[1].startswith(logger)]


def assert_all_carry(lines, response):
    assert lines
    assert {line[2] for line in lines} == {response["X-Openstack-Request-Id"]}


def test_the_apis_own_line_carries_the_id(member_api, log_lines):
    response = member_api.get(DETAIL)
    (line,) = lines_of(log_lines, "catalog.api")
    assert line[0] == "INFO"
    assert line[3].startswith(f"GET {DETAIL} 200 ")
    assert_all_carry([line], response)


def test_djangos_401_warning_carries_the_id(anonymous_api, log_lines):
    response = anonymous_api.get(DETAIL)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    (line,) = lines_of(log_lines, "django.request")
    assert line[:2] == ("WARNING", "django.request")
    assert line[3] == f"Unauthorized: {DETAIL}"
    assert_all_carry(log_lines(), response)


@pytest.mark.parametrize("path", ["/v1.1/nothing", "/nothing", "/admin/nothing/"])
def test_djangos_404_warning_carries_the_id(admin_client, log_lines, path):
    response = admin_client.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    (line,) = lines_of(log_lines, "django.request")
    assert line[3] == f"Not Found: {path}"
    assert_all_carry(log_lines(), response)


def test_a_disallowed_host_warning_carries_the_id(member_api, log_lines):
    response = member_api.get(DETAIL, HTTP_HOST="evil.example")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    (line,) = lines_of(log_lines, "django.security")
    assert line[:2] == ("WARNING", "django.security.DisallowedHost")
    assert line[3].startswith("refused: Invalid HTTP_HOST header: 'evil.example'")
    assert_all_carry(log_lines(), response)


def test_djangos_own_security_error_carries_the_id(client, settings, log_lines):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    response = client.post("/admin/login/", {"a": "1", "b": "2", "c": "3"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    (line,) = lines_of(log_lines, "django.security")
    assert line[:2] == ("ERROR", "django.security.TooManyFieldsSent")
    assert_all_carry(log_lines(), response)


def test_an_api_500_carries_the_id_on_every_line(member_api, monkeypatch, log_lines):
    def boom(rows):
        raise RuntimeError("a fault")

    monkeypatch.setattr("catalog.api.views.detail_entries", boom)
    response = member_api.get(DETAIL)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert [line[:2] for line in log_lines()] == [
        ("ERROR", "catalog.api"),  # "unexpected fault", with its traceback
        ("ERROR", "django.request"),  # "Internal Server Error: ..."
        ("INFO", "catalog.api"),
    ]
    assert_all_carry(log_lines(), response)


def test_an_admin_500_carries_the_id(admin_client, monkeypatch, log_lines):
    def boom(*args, **kwargs):
        raise RuntimeError("a fault")

    monkeypatch.setattr("django.contrib.admin.sites.AdminSite.get_app_list", boom)
    admin_client.raise_request_exception = False
    response = admin_client.get("/admin/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    (line,) = lines_of(log_lines, "django.request")
    assert line[:2] == ("ERROR", "django.request")
    assert line[3] == "Internal Server Error: /admin/"
    assert_all_carry(log_lines(), response)


def test_a_librarys_line_carries_the_id(client, log_lines):
    User.objects.create_superuser("curator", password="a-long-password")
    response = client.post("/admin/login/", {"username": "curator", "password": "wrong"})
    axes = lines_of(log_lines, "axes")
    assert any("AXES: New login failure" in line[3] for line in axes), log_lines()
    assert_all_carry(log_lines(), response)


def test_a_line_outside_any_request_says_so(member_api, log_lines):
    member_api.get(DETAIL)
    logging.getLogger("catalog").warning("between requests")
    assert log_lines()[-1] == ("WARNING", "catalog", "-", "between requests")
    assert request_id.current.get() == "-"
