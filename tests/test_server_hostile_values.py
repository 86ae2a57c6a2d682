"""HEAD through the production server, for an image whose stored values no header may carry.

The in-process tests (test_api_head_limits.py) check the header list the view builds; this
one checks what a real client reads from the real server: the server refuses control
characters in a header outright, and `http.client` refuses lines of 64 KiB and more than 100
headers, so a value that slipped through would show here as a 500 or a client error.
"""

import uuid
from http import HTTPStatus

import pytest
from glanceclient import Client as GlanceClient

from .test_api_head_limits import HUGE, MANY, assert_valid_http

PROJECT = "project-hostile"
# Created through the service, which does not validate (the write paths do): text stored
# before the write paths refused control characters, or written past the application.
CREATE_HOSTILE_IMAGE = """
from catalog.services import image_create
image_create(
    fields={{"id": "{id}", "name": "a\\x01b\\x1bc\\x7fd", "status": "active", "is_public": False,
             "owner": "{project}"}},
    properties={{"escape": "x\\x1by", "huge": "v" * {huge}, **{many!r}}},
    members=[],
)
"""


@pytest.fixture(scope="module")
def hostile(production_server):
    image_id = str(uuid.uuid4())
    code = CREATE_HOSTILE_IMAGE.format(id=image_id, project=PROJECT, huge=len(HUGE), many=MANY)
    production_server.manage("shell", "-c", code)
    return image_id, production_server.add_token(PROJECT)


def test_head_of_an_image_with_hostile_values_is_valid_http(production_server, hostile):
    image_id, token = hostile
    response = production_server.request(
        "HEAD", f"/v1/images/{image_id}", headers={"X-Auth-Token": token}
    )
    assert response.status == HTTPStatus.OK
    assert_valid_http(response.headers.items())
    assert response.headers["X-Image-Meta-Name"] == "a b c d"
    assert response.headers["X-Image-Meta-Property-escape"] == "x y"
    assert "X-Image-Meta-Property-huge" not in response.headers


def test_glanceclient_reads_the_hostile_image(production_server, hostile):
    image_id, token = hostile
    glance = GlanceClient("1", endpoint=production_server.base_url, token=token)
    try:
        image = glance.images.get(image_id)
    finally:
        glance.http_client.session.close()
    assert image.id == image_id
    assert image.name == "a b c d"
    assert image.properties["escape"] == "x y"
    assert "huge" not in image.properties
    # The listing keeps every property; HEAD sends the ones that fit.
    assert 0 < len(image.properties) < len(MANY) + 2
