"""HEAD is valid HTTP whatever is stored: control characters, huge values, many properties.

The write paths refuse control characters today, but a catalog may hold values stored before
(or written past the application), so these images are created through the service, which
does not validate (that is the boundary's job).
"""

import http.client
import re
from http import HTTPStatus

import pytest
from django.db import connection
from glanceclient import Client as GlanceClient

from catalog.api.headers import (
    CLIENT_MAX_HEADERS,
    MAX_HEADER_LINE_BYTES,
    MAX_IMAGE_HEADER_BYTES,
    MAX_PROPERTY_HEADERS,
    RESPONSE_OWN_HEADERS,
    head_headers,
)
from catalog.tokens import token_create

pytestmark = pytest.mark.django_db

# C0 and DEL: what a server refuses in a header value (and what a line break is made of).
# PostgreSQL cannot store a NUL at all.
CONTROL_CHARACTERS = [
    pytest.param(
        "\x00",
        marks=pytest.mark.skipif(connection.vendor == "postgresql", reason="no NUL in PostgreSQL"),
    ),
    *(chr(code) for code in (*range(1, 0x20), 0x7F)),
]
# RFC 9110 §5.1 and §5.5: a token; field-vchar (VCHAR / obs-text) with single spaces and tabs
# inside, never at either end. Checked on the bytes that go on the wire.
FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
FIELD_VALUE = re.compile(
    rb"([\x21-\x7e\x80-\xff]([\x20\x09\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?"
)
HUGE = "v" * 100_000
MANY = {f"key-{n:03d}": f"value {n}" for n in range(150)}


def assert_valid_http(headers):
    """Every (name, value) is a valid field line; at most 100, none of 64 KiB."""
    assert len(headers) <= CLIENT_MAX_HEADERS
    for name, value in headers:
        raw_name, raw_value = name.encode("ascii"), value.encode("latin-1")
        assert FIELD_NAME.fullmatch(raw_name), name
        assert FIELD_VALUE.fullmatch(raw_value), (name, raw_value[:100])
        assert len(raw_name) + len(raw_value) + 4 < 65536


def image_headers(headers):
    return {
        name: value
        for name, value in headers
        if name.lower().startswith("x-image-meta-") or name.lower() == "etag"
    }


def utf8(value: str) -> str:
    return value.encode("latin-1").decode()


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda char: f"U+{ord(char):04X}")
def test_a_control_character_in_any_stored_text_is_sent_as_a_space(member_api, image_factory, char):
    image = image_factory(
        name=f"a{char}b",
        owner=f"project-a{char}",
        properties={"note": f"{char}x{char}y{char}", "plain": "z"},
    )
    response = member_api.head(f"/v1.1/images/{image.id}")
    assert response.status_code == HTTPStatus.OK
    assert_valid_http(response.headers.items())
    assert response["X-Image-Meta-Name"] == "a b"
    assert response["X-Image-Meta-Owner"] == "project-a"
    assert response["X-Image-Meta-Property-note"] == "x y"
    assert response["X-Image-Meta-Property-plain"] == "z"


def test_a_value_too_long_for_a_header_line_is_left_out_and_listed(member_api, image_factory):
    image = image_factory(properties={"huge": HUGE, "small": "s"})
    response = member_api.head(f"/v1.1/images/{image.id}")
    assert response.status_code == HTTPStatus.OK
    assert_valid_http(response.headers.items())
    assert "X-Image-Meta-Property-huge" not in response
    assert response["X-Image-Meta-Property-small"] == "s"
    listed = member_api.get("/v1.1/images/detail").json()["images"][0]["properties"]
    assert listed["huge"] == HUGE


def test_the_longest_line_that_fits_is_sent():
    name = "X-Image-Meta-Property-k"
    fitting = "v" * (MAX_HEADER_LINE_BYTES - len(name) - 4)
    assert property_names({"k": fitting}) == [name]
    assert property_names({"k": fitting + "v"}) == []


def test_many_properties_are_cut_to_the_header_budget_in_key_order(member_api, image_factory):
    image = image_factory(properties=MANY)
    response = member_api.head(f"/v1.1/images/{image.id}")
    assert response.status_code == HTTPStatus.OK
    headers = list(response.headers.items())
    assert_valid_http(headers)
    sent = [name for name, _ in headers if name.startswith("X-Image-Meta-Property-")]
    assert sent == [f"X-Image-Meta-Property-key-{n:03d}" for n in range(MAX_PROPERTY_HEADERS)]
    # What the response adds itself leaves room for the server's and a proxy's headers.
    assert len(image_headers(headers)) <= CLIENT_MAX_HEADERS - RESPONSE_OWN_HEADERS
    own = [name for name, _ in headers if name not in image_headers(headers)]
    assert len(own) <= RESPONSE_OWN_HEADERS // 2, own


def test_the_image_headers_fit_their_byte_budget():
    properties = {f"k{n:02d}": "v" * 3000 for n in range(10)}
    headers = head_headers(entry(properties))
    assert sum(len(name) + len(value) + 4 for name, value in headers.items()) <= (
        MAX_IMAGE_HEADER_BYTES
    )
    assert property_names(properties) == [f"X-Image-Meta-Property-k0{n}" for n in range(3)]
    # A smaller property after the first one that does not fit is still sent, and so is Etag.
    headers = head_headers(entry({**properties, "z": "small"}))
    assert headers["X-Image-Meta-Property-z"] == "small"
    assert headers["Etag"] == "64d7c1cd2b6f60c92c14662941cb7913"


def test_keys_that_differ_only_in_case_are_sent_once():
    assert property_names({"OS": "a", "os": "b", "Os": "c"}) == ["X-Image-Meta-Property-OS"]


def test_non_ascii_text_is_sent_as_utf8(member_api, image_factory):
    text = "镜像 Ünïcødé \u0085\u2028 🚀"
    image = image_factory(name=text, properties={"description": text})
    response = member_api.head(f"/v1.1/images/{image.id}")
    assert_valid_http(response.headers.items())
    assert utf8(response["X-Image-Meta-Name"]) == text
    assert utf8(response["X-Image-Meta-Property-description"]) == text


def test_spaces_at_either_end_of_a_value_are_not_sent():
    headers = head_headers(entry({"k": " \t padded \r\n"}))
    assert headers["X-Image-Meta-Property-k"] == "padded"


def entry(properties):
    return {
        "id": "3c3d1d01-b48a-4639-8a88-08be3b9b5d78",
        "name": "cirros",
        "status": "active",
        "container_format": "bare",
        "disk_format": "qcow2",
        "size": 1,
        "virtual_size": None,
        "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
        "min_ram": 0,
        "min_disk": 0,
        "is_public": True,
        "protected": False,
        "owner": "o" * 255,
        "created_at": "2016-05-22T06:04:20.425843",
        "updated_at": "2016-05-22T06:04:20.425843",
        "deleted": False,
        "deleted_at": None,
        "properties": properties,
    }


def property_names(properties):
    return [name for name in head_headers(entry(properties)) if "Property" in name]


# ------------------------------------------------------------------------------
# Through a real HTTP server and real clients
# ------------------------------------------------------------------------------

HOSTILE = {
    "name": "bad\x01name\x1b[31m\x7f",
    "properties": {
        **MANY,
        "huge": HUGE,
        "ctrl": "\x01\x1b\x7f",
        "text": "镜像",
        "__os_type": "Linux",
    },
}


@pytest.fixture
def hostile_image(transactional_db, image_factory):
    return image_factory(**HOSTILE)


@pytest.fixture
def secret(transactional_db):
    return token_create(project="project-a", roles=["member"])[1]


def test_http_client_reads_the_head_of_a_hostile_image(live_server, hostile_image, secret):
    host, port = live_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(
            "HEAD", f"/v1/images/{hostile_image.id}", headers={"X-Auth-Token": secret}
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == HTTPStatus.OK
    headers = response.getheaders()
    assert_valid_http(headers)
    assert len(headers) <= CLIENT_MAX_HEADERS - RESPONSE_OWN_HEADERS // 2
    meta = dict(image_headers(headers))
    assert meta["X-Image-Meta-Name"] == "bad name [31m"


@pytest.mark.live_server_clients
def test_glanceclient_gets_a_hostile_image(live_server, hostile_image, secret):
    glance = GlanceClient("1", endpoint=live_server.url, token=secret)
    try:
        image = glance.images.get(str(hostile_image.id))
    finally:
        glance.http_client.session.close()
    assert image.id == str(hostile_image.id)
    assert image.properties["__os_type"] == "Linux"
    assert "huge" not in image.properties
    assert len(image.properties) == MAX_PROPERTY_HEADERS
