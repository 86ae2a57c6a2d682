"""docs/api.md#head: HEAD /v1.1/images/{id}, and GET of one image."""

from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from catalog.services import image_soft_delete

pytestmark = pytest.mark.django_db

SEED = {
    "id": "3c3d1d01-b48a-4639-8a88-08be3b9b5d78",
    "name": "cirros",
    "status": "active",
    "container_format": "bare",
    "disk_format": "qcow2",
    "size": 13167616,
    "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
    "min_ram": 0,
    "min_disk": 0,
    "is_public": True,
    "protected": False,
    "owner": "23f4cb75768d4febb39542ef6fe169f3",
    "created_at": datetime(2016, 5, 22, 6, 4, 20, 425843, tzinfo=UTC),
    "updated_at": datetime(2016, 5, 22, 6, 4, 22, 719791, tzinfo=UTC),
}


def meta_headers(response):
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("X-Image-Meta-") or name == "Etag"
    }


def test_head_spells_every_header_as_glance_did(member_api, image_factory):
    image_factory(**SEED, properties={"__os_type": "Linux"})
    response = member_api.head(f"/v1.1/images/{SEED['id']}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    assert response["Content-Length"] == "0"
    assert response.content == b""
    assert meta_headers(response) == {
        "X-Image-Meta-Id": "3c3d1d01-b48a-4639-8a88-08be3b9b5d78",
        "X-Image-Meta-Name": "cirros",
        "X-Image-Meta-Size": "13167616",
        "X-Image-Meta-Disk_format": "qcow2",
        "X-Image-Meta-Container_format": "bare",
        "X-Image-Meta-Checksum": "64d7c1cd2b6f60c92c14662941cb7913",
        "X-Image-Meta-Min_disk": "0",
        "X-Image-Meta-Min_ram": "0",
        "X-Image-Meta-Is_public": "True",
        "X-Image-Meta-Owner": "23f4cb75768d4febb39542ef6fe169f3",
        "X-Image-Meta-Protected": "False",
        "X-Image-Meta-Status": "active",
        "X-Image-Meta-Created_at": "2016-05-22T06:04:20.425843",
        "X-Image-Meta-Updated_at": "2016-05-22T06:04:22.719791",
        "X-Image-Meta-Deleted": "False",
        "X-Image-Meta-Property-__os_type": "Linux",
        "Etag": "64d7c1cd2b6f60c92c14662941cb7913",
    }


def test_head_leaves_out_null_fields_and_etag_without_checksum(member_api, image_factory):
    image = image_factory(name=None, size=None, checksum=None, virtual_size=None, owner="project-a")
    headers = meta_headers(member_api.head(f"/v1/images/{image.id}"))
    assert "X-Image-Meta-Name" not in headers
    assert "X-Image-Meta-Size" not in headers
    assert "X-Image-Meta-Checksum" not in headers
    assert "X-Image-Meta-Virtual_size" not in headers
    assert "X-Image-Meta-Deleted_at" not in headers
    assert "Etag" not in headers


def test_head_shows_virtual_size_and_deleted_at_when_set(admin_api, image_factory):
    image = image_factory(virtual_size=42, is_public=True)
    image_soft_delete(image=image, now=datetime(2021, 1, 1, tzinfo=UTC))
    headers = meta_headers(admin_api.head(f"/v1.0/images/{image.id}"))
    assert headers["X-Image-Meta-Virtual_size"] == "42"
    assert headers["X-Image-Meta-Deleted_at"] == "2021-01-01T00:00:00.000000"
    assert headers["X-Image-Meta-Deleted"] == "True"


def test_head_of_a_deleted_image_is_404_for_non_admins(member_api, image_factory):
    image = image_factory()
    image_soft_delete(image=image)
    assert member_api.head(f"/v1.1/images/{image.id}").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "fields",
    [
        {"is_public": False, "owner": "someone-else"},
        {"properties": {"__os_type": "Windows"}},
        {"properties": {"__os_version": "Windows Server 2012"}},
    ],
)
def test_head_of_an_invisible_or_windows_image_is_404(member_api, image_factory, fields):
    image = image_factory(**fields)
    assert member_api.head(f"/v1.1/images/{image.id}").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("image_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_head_of_an_unknown_image_is_404(member_api, image_id):
    assert member_api.head(f"/v1.1/images/{image_id}").status_code == HTTPStatus.NOT_FOUND


def test_head_of_a_shared_image_is_allowed(member_api, image_factory):
    image = image_factory(is_public=False, owner="project-b", members=["project-a"])
    assert member_api.head(f"/v1.1/images/{image.id}").status_code == HTTPStatus.OK


def test_head_needs_a_token(anonymous_api, image_factory):
    image = image_factory()
    assert anonymous_api.head(f"/v1.1/images/{image.id}").status_code == HTTPStatus.UNAUTHORIZED


def test_head_sends_non_ascii_as_utf8_and_skips_keys_that_cannot_be_header_names(
    member_api, image_factory
):
    image = image_factory(name="镜像", properties={"描述": "x", "a b": "y", "note": "line\nbreak"})
    response = member_api.head(f"/v1.1/images/{image.id}")
    assert response["X-Image-Meta-Name"].encode("latin-1").decode() == "镜像"
    names = [name.lower() for name in response.headers]
    assert not any("描述" in name or "a b" in name for name in names)
    assert response["X-Image-Meta-Property-note"] == "line break"


def test_get_of_one_image_is_404_in_the_error_format(member_api, image_factory):
    image = image_factory()
    response = member_api.get(f"/v1.1/images/{image.id}")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == 404
