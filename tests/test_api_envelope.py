"""docs/api.md#listing-response and docs/api.md#every-response: the listing's exact shape,
and what every response carries."""

import json
import re
from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from catalog.services import image_soft_delete

from .factories import SEED_CIRROS

pytestmark = pytest.mark.django_db

DETAIL_KEYS = [
    "id",
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "virtual_size",
    "checksum",
    "min_ram",
    "min_disk",
    "is_public",
    "protected",
    "owner",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "properties",
]
REQUEST_ID = re.compile(
    r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def test_the_seed_documents_image_comes_back_exactly(member_api, image_factory):
    image_factory(
        id="3c3d1d01-b48a-4639-8a88-08be3b9b5d78",
        name="cirros",
        status="active",
        container_format="bare",
        disk_format="qcow2",
        size=13167616,
        virtual_size=None,
        checksum="64d7c1cd2b6f60c92c14662941cb7913",
        min_ram=0,
        min_disk=0,
        is_public=True,
        protected=False,
        owner="23f4cb75768d4febb39542ef6fe169f3",
        created_at=datetime(2016, 5, 22, 6, 4, 20, 425843, tzinfo=UTC),
        updated_at=datetime(2016, 5, 22, 6, 4, 22, 719791, tzinfo=UTC),
    )
    response = member_api.get("/v1.1/images/detail?disk_format=qcow2")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=UTF-8"
    assert response.json() == {"images": [SEED_CIRROS]}


def test_each_entry_has_exactly_the_18_keys_with_their_types(member_api, image_factory):
    image_factory(properties={"__os_type": "Linux", "__os_bit": "64"}, virtual_size=10)
    image_factory(
        name=None,
        size=None,
        checksum=None,
        owner=None,
        disk_format=None,
        container_format=None,
        status="queued",
    )
    for entry in member_api.get("/v1.1/images/detail").json()["images"]:
        assert list(entry) == DETAIL_KEYS
        assert isinstance(entry["min_ram"], int)
        assert isinstance(entry["min_disk"], int)
        for key in ("is_public", "protected", "deleted"):
            assert isinstance(entry[key], bool)
        for key in ("size", "virtual_size"):
            assert entry[key] is None or isinstance(entry[key], int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", entry["created_at"])
        assert entry["id"] == entry["id"].lower()
        assert all(isinstance(v, str) for v in entry["properties"].values())


def test_properties_are_listed_and_timestamps_keep_six_fraction_digits(member_api, image_factory):
    moment = datetime(2020, 2, 3, 4, 5, 6, tzinfo=UTC)  # no microseconds at all
    image_factory(properties={"__os_type": "Linux", "b": "2"}, created_at=moment, updated_at=moment)
    entry = member_api.get("/v1.1/images/detail").json()["images"][0]
    assert entry["properties"] == {"__os_type": "Linux", "b": "2"}
    assert entry["created_at"] == "2020-02-03T04:05:06.000000"


def test_a_deleted_image_lists_empty_properties(member_api, image_factory):
    image = image_factory(properties={"__os_type": "Linux"})
    image_soft_delete(image=image, now=datetime(2021, 1, 1, tzinfo=UTC))
    entry = member_api.get("/v1.1/images/detail?changes-since=2000-01-01").json()["images"][0]
    assert entry["properties"] == {}
    assert entry["deleted_at"] == "2021-01-01T00:00:00.000000"
    assert image.properties.count() == 1  # kept, only not shown


def test_an_empty_result(member_api):
    response = member_api.get("/v1.1/images/detail")
    assert response.content == b'{"images":[]}'


def test_utf8_is_not_escaped(member_api, image_factory):
    image_factory(name="镜像", properties={"描述": "中文"})
    body = member_api.get("/v1.1/images/detail").content
    assert "镜像".encode() in body
    assert "\\u" not in body.decode()
    assert json.loads(body)["images"][0]["properties"] == {"描述": "中文"}


def test_the_brief_listing_has_six_keys(member_api, image_factory):
    image = image_factory(properties={"a": "b"})
    entry = member_api.get("/v1/images").json()["images"][0]
    assert entry == {
        "id": str(image.id),
        "name": image.name,
        "size": image.size,
        "disk_format": "qcow2",
        "container_format": "bare",
        "checksum": image.checksum,
    }


@pytest.mark.parametrize("prefix", ["/v1", "/v1.0", "/v1.1"])
def test_all_three_prefixes_behave_identically(member_api, image_factory, prefix):
    image_factory(name="x")
    reference = member_api.get("/v1.1/images/detail").json()
    assert member_api.get(f"{prefix}/images/detail").json() == reference
    assert member_api.get(f"{prefix}/images/detail/").json() == reference


@pytest.mark.parametrize(
    ("client", "path"),
    [
        ("member_api", "/v1.1/images/detail"),
        ("member_api", "/v1.1/images/detail?limit=x"),
        ("anonymous_api", "/v1.1/images/detail"),
        ("anonymous_api", "/"),
        ("anonymous_api", "/v1.1"),
        ("member_api", "/v1/nothing"),
        ("member_api", "/healthz"),
    ],
)
def test_every_response_carries_a_request_id(request, client, path):
    response = request.getfixturevalue(client).get(path)
    assert REQUEST_ID.match(response["X-Openstack-Request-Id"])


def test_request_ids_differ_and_appear_in_the_log_line(member_api, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="catalog.api"):
        first = member_api.get("/v1.1/images/detail")["X-Openstack-Request-Id"]
        second = member_api.get("/v1.1/images/detail?limit=x")["X-Openstack-Request-Id"]
    assert first != second
    lines = [(record.request_id, record.getMessage()) for record in caplog.records]
    assert any(id == first and " 200 " in line for id, line in lines)
    assert any(id == second and " 400 " in line for id, line in lines)
