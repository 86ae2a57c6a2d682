"""docs/api.md#v2-listing-response and docs/api.md#v2-image: the envelope, its links and the
shape of an image, as the reference Glance v2 answered them on the same catalog."""

from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qsl

import pytest

from catalog.services import MemberData

from .conftest import PROJECT_A, PROJECT_B

pytestmark = pytest.mark.django_db

IMAGES = "/v2/images"
# Glance's own keys, in its order, after the image's properties.
CORE_KEYS = [
    "name",
    "disk_format",
    "container_format",
    "visibility",
    "size",
    "virtual_size",
    "status",
    "checksum",
    "protected",
    "min_ram",
    "min_disk",
    "owner",
    "os_hidden",
    "os_hash_algo",
    "os_hash_value",
    "id",
    "created_at",
    "updated_at",
    "tags",
    "self",
    "file",
    "schema",
]


def body(response):
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json; charset=UTF-8"
    return response.json()


def query(link):
    path, _, text = link.partition("?")
    return path, parse_qsl(text, keep_blank_values=True)


def test_the_envelope_has_images_first_schema_and_next_in_glances_order(member_api, image_factory):
    made = [image_factory() for _ in range(3)]
    page = body(member_api.get(IMAGES, {"limit": "2"}))
    assert list(page) == ["images", "first", "schema", "next"]
    assert [image["id"] for image in page["images"]] == [str(made[2].id), str(made[1].id)]
    assert page["first"] == "/v2/images?limit=2"
    assert page["schema"] == "/v2/schemas/images"
    assert page["next"] == f"/v2/images?limit=2&marker={made[1].id}"
    last = body(member_api.get(IMAGES, {"limit": "2", "marker": str(made[1].id)}))
    assert [image["id"] for image in last["images"]] == [str(made[0].id)]
    assert "next" not in last
    assert last["first"] == "/v2/images?limit=2"  # the marker is not part of `first`


def test_without_parameters_first_is_the_bare_path(member_api, image_factory):
    image_factory()
    assert body(member_api.get(IMAGES))["first"] == "/v2/images"


def test_next_is_present_when_the_page_is_full_even_if_nothing_follows(member_api, image_factory):
    made = [image_factory() for _ in range(2)]
    page = body(member_api.get(IMAGES, {"limit": "2"}))
    assert page["next"] == f"/v2/images?limit=2&marker={made[0].id}"
    assert body(member_api.get(page["next"]))["images"] == []


def test_default_limit_25_and_at_most_1000_cut_silently(member_api, image_factory, settings):
    for _ in range(27):
        image_factory()
    assert len(body(member_api.get(IMAGES))["images"]) == 25
    settings.CATALOG_MAX_LIMIT = 26
    page = body(member_api.get(IMAGES, {"limit": "5000"}))
    assert len(page["images"]) == 26
    # The request's own parameters, as given: the cut is not written back.
    assert query(page["next"])[1][0] == ("limit", "5000")


def test_limit_0_is_an_empty_list_without_next(member_api, image_factory):
    image_factory()
    assert body(member_api.get(IMAGES, {"limit": "0"})) == {
        "images": [],
        "first": "/v2/images?limit=0",
        "schema": "/v2/schemas/images",
    }


def test_links_keep_every_parameter_and_every_repeated_sort(member_api, image_factory):
    """Glance's links keep only the last sort_key and sort_dir, so its next page is in
    another order; here they keep every one, with the last value of other parameters."""
    image_factory(name="a b", properties={"__os_type": "Linux"})
    image_factory(name="a b", properties={"__os_type": "Linux"})
    params = (
        "sort_key=name&name=x&sort_key=size&sort_dir=asc&sort_dir=desc&name=a+b"
        "&__os_type=Linux&limit=1&marker=&deleted=true"
    )
    page = body(member_api.get(f"{IMAGES}?{params.replace('&marker=', '')}"))
    path, pairs = query(page["next"])
    assert path == "/v2/images"
    assert pairs == [
        ("sort_key", "name"),
        ("sort_key", "size"),
        ("name", "a b"),
        ("sort_dir", "asc"),
        ("sort_dir", "desc"),
        ("__os_type", "Linux"),
        ("limit", "1"),
        ("deleted", "true"),
        ("marker", page["images"][0]["id"]),
    ]
    assert page["next"].count("+") == 1  # a space is written as `+`, as Glance writes it


def test_an_image_is_flat_properties_first_then_glances_keys(member_api, image_factory):
    made = image_factory(
        name="cirros",
        size=13167616,
        virtual_size=None,
        checksum="64d7c1cd2b6f60c92c14662941cb7913",
        min_ram=512,
        min_disk=1,
        protected=True,
        owner=PROJECT_A,
        created_at=datetime(2016, 1, 1, 2, 51, 2, 918830, tzinfo=UTC),
        updated_at=datetime(2016, 10, 25, 16, 55, 6, 999999, tzinfo=UTC),
        properties={"__os_type": "Linux", "__imagetype": "gold"},
    )
    (image,) = body(member_api.get(IMAGES))["images"]
    assert list(image) == ["__imagetype", "__os_type", *CORE_KEYS]
    assert image == {
        "__imagetype": "gold",
        "__os_type": "Linux",
        "name": "cirros",
        "disk_format": "qcow2",
        "container_format": "bare",
        "visibility": "public",
        "size": 13167616,
        "virtual_size": None,
        "status": "active",
        "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
        "protected": True,
        "min_ram": 512,
        "min_disk": 1,
        "owner": PROJECT_A,
        "os_hidden": False,
        "os_hash_algo": None,
        "os_hash_value": None,
        "id": str(made.id),
        # Whole seconds, `Z`: the fraction is cut, not rounded.
        "created_at": "2016-01-01T02:51:02Z",
        "updated_at": "2016-10-25T16:55:06Z",
        "tags": [],
        "self": f"/v2/images/{made.id}",
        "file": f"/v2/images/{made.id}/file",
        "schema": "/v2/schemas/image",
    }


def test_visibility_follows_is_public_and_members(admin_api, image_factory):
    image_factory(name="public", is_public=True, members=[PROJECT_B])
    image_factory(name="shared", is_public=False, members=[MemberData(member_id=PROJECT_B)])
    image_factory(name="private", is_public=False)
    images = body(admin_api.get(IMAGES))["images"]
    assert {i["name"]: i["visibility"] for i in images} == {
        "public": "public",
        "shared": "shared",
        "private": "private",
    }


def test_nulls_are_shown_as_null(member_api, image_factory):
    image_factory(name=None, size=None, disk_format=None, container_format=None, checksum=None)
    (image,) = body(member_api.get(IMAGES))["images"]
    assert [image[k] for k in ("name", "size", "disk_format", "container_format")] == [None] * 4


def test_a_property_named_as_a_glance_key_gives_way_to_it(member_api, image_factory):
    """Glance's own value wins where it has one, at the property's place; the keys it never
    shows (direct_url, locations, stores) are left out, so a client reads every key with
    the schema's type."""
    made = image_factory(
        name="real",
        properties={"name": "fake", "tags": "t", "locations": "x", "stores": "y", "zz": "1"},
    )
    (image,) = body(member_api.get(IMAGES))["images"]
    assert image["name"] == "real"
    assert image["tags"] == []
    assert "locations" not in image
    assert "stores" not in image
    assert image["zz"] == "1"
    assert list(image)[:2] == ["name", "tags"]
    assert body(member_api.get(f"{IMAGES}/{made.id}")) == image


def test_one_image_is_the_listings_entry(member_api, image_factory):
    made = image_factory(properties={"k": "v"})
    (listed,) = body(member_api.get(IMAGES))["images"]
    assert body(member_api.get(f"{IMAGES}/{made.id}")) == listed
    assert body(member_api.get(f"{IMAGES}/{made.id}/")) == listed


def test_the_image_data_is_204_no_content(member_api, image_factory):
    made = image_factory()
    response = member_api.get(f"{IMAGES}/{made.id}/file")
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert "Content-Type" not in response


@pytest.mark.parametrize(
    "path",
    ["/v2/images", "/v2/images/{id}", "/v2/images/{id}/file", "/v2/schemas/image"],
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_other_methods_are_405(member_api, image_factory, path, method):
    made = image_factory()
    response = getattr(member_api, method)(path.format(id=made.id))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET"
    if method != "head":
        assert response.json()["error"]["code"] == 405


def test_schemas_list_the_catalogs_own_value_sets(member_api):
    image = body(member_api.get("/v2/schemas/image"))
    properties = image["properties"]
    assert "zvhd2" in properties["disk_format"]["enum"]
    assert None in properties["disk_format"]["enum"]
    assert properties["container_format"]["enum"][0] is None
    assert "pending_delete" in properties["status"]["enum"]
    assert image["additionalProperties"] == {"type": "string"}
    assert [link["rel"] for link in image["links"]] == ["self", "enclosure", "describedby"]
    images = body(member_api.get("/v2/schemas/images"))
    assert images["properties"]["images"]["items"] == image
    assert set(images["properties"]) == {"images", "first", "next", "schema"}


def test_every_image_validates_against_the_served_schema(member_api, image_factory):
    from jsonschema import Draft4Validator

    image_factory(name=None, size=None, disk_format=None, container_format=None, checksum=None)
    image_factory(disk_format="zvhd2", properties={"__os_type": "Linux"})
    validator = Draft4Validator(body(member_api.get("/v2/schemas/images")))
    validator.validate(body(member_api.get(IMAGES)))


def test_another_method_is_405_whatever_its_parameters(member_api):
    response = member_api.generic("TRACE", "/v2/images?limit=x&sort=name&sort_key=name")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert member_api.post("/v2/images?visibility=nope").status_code == 405
