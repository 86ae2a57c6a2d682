"""Unmodified OpenStack clients on their default image API, v2, against a live server:
python-glanceclient's `Client("2")`, openstacksdk, and the `glance` and `openstack` command
lines, none told which API version to use (docs/api.md#v2)."""

import json

import pytest
from glanceclient import Client as GlanceClient
from glanceclient import exc as glance_exc

from catalog.services import images_import
from catalog.tokens import token_create

from . import test_api_clients as v1
from .test_api_clients import BIN, LISTED, PROJECT, make, names, run_cli

# The v1 clients' catalog and token, so both APIs are tried on the same images.
catalog = v1.catalog
secret = v1.secret

pytestmark = [pytest.mark.live_server_clients, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared(catalog):
    """An image another project shares with PROJECT, not yet accepted: v2 lists it only
    with member_status=pending or all."""
    members = [{"member_id": PROJECT, "can_share": False, "status": "pending"}]
    images_import(entries=[make(9, "offered", is_public=False, owner="other", members=members)])


@pytest.fixture
def glance(live_server, secret):
    client = GlanceClient("2", endpoint=live_server.url, token=secret)
    yield client
    client.http_client.session.close()


def test_glanceclient_v2_lists_everything_visible_across_pages(glance, shared):
    assert names(glance.images.list()) == LISTED
    assert names(glance.images.list(page_size=2)) == LISTED
    assert names(glance.images.list(filters={"member_status": "all"}, page_size=1)) == [
        "offered",
        *LISTED,
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name": "cirros"}, ["cirros"]),
        ({"status": "queued"}, ["building"]),
        ({"disk_format": "zvhd2"}, ["centos"]),
        ({"visibility": "private"}, ["private"]),
        ({"visibility": "shared", "member_status": "pending"}, ["offered"]),
        ({"__os_type": "Linux", "__os_bit": "64"}, ["cirros"]),
        ({"min_ram": 512}, ["ubuntu"]),
        ({"size_min": 2000, "size_max": 3000}, ["centos", "ubuntu"]),
        ({"created_at": "gte:2024-01-01T04:30:00Z"}, ["镜像", "private"]),
        ({"name": "in:cirros,centos"}, ["centos", "cirros"]),
    ],
)
def test_glanceclient_v2_filters(glance, shared, filters, expected):
    assert names(glance.images.list(filters=filters)) == expected


def test_glanceclient_v2_sorts(glance, catalog):
    listed = glance.images.list(sort_key="name", sort_dir="asc", page_size=2)
    assert names(listed) == sorted(LISTED)
    # qcow2 (names descending), raw, zvhd2.
    assert names(glance.images.list(sort="disk_format:asc,name:desc")) == [
        "镜像",
        "private",
        "cirros",
        "building",
        "ubuntu",
        "centos",
    ]


def test_glanceclient_v2_get_validates_against_the_served_schema(glance, catalog):
    """images.get checks the image against /v2/schemas/image: `zvhd2` must be in it."""
    image = glance.images.get("00000000-0000-4000-8000-000000000003")
    assert (image.name, image.disk_format, image.container_format) == ("centos", "zvhd2", "ovf")
    image = glance.images.get("00000000-0000-4000-8000-000000000001")
    assert (image.__os_type, image.size, image.visibility) == ("Linux", 1000, "public")
    assert image.created_at == "2024-01-01T01:00:00Z"


def test_glanceclient_v2_raises_its_exception_classes(live_server, glance, catalog):
    with pytest.raises(glance_exc.HTTPBadRequest, match="Invalid visibility value: nope"):
        list(glance.images.list(filters={"visibility": "nope"}))
    with pytest.raises(glance_exc.HTTPBadRequest, match="Invalid value 'x' for 'min_ram'"):
        list(glance.images.list(filters={"min_ram": "x"}))
    for missing in ("00000000-0000-4000-8000-000000000099", "00000000-0000-4000-8000-000000000006"):
        with pytest.raises(glance_exc.HTTPNotFound):
            glance.images.get(missing)  # unknown, then a Windows image
    bad = GlanceClient("2", endpoint=live_server.url, token="not-a-real-token-0000000")
    with pytest.raises(glance_exc.HTTPUnauthorized):
        list(bad.images.list())
    bad.http_client.session.close()
    _, no_role = token_create(project=PROJECT, roles=["billing"])
    forbidden = GlanceClient("2", endpoint=live_server.url, token=no_role)
    with pytest.raises(glance_exc.HTTPForbidden):
        list(forbidden.images.list())
    forbidden.http_client.session.close()


@pytest.fixture
def sdk(live_server, secret):
    import openstack

    connection = openstack.connect(
        auth_type="admin_token", auth={"endpoint": f"{live_server.url}/v2", "token": secret}
    )
    yield connection
    connection.close()


def test_openstacksdk_lists_with_filters_and_paging(sdk, shared):
    assert names(sdk.image.images(limit=2)) == LISTED
    assert names(sdk.image.images(status="queued")) == ["building"]
    assert names(sdk.image.images(visibility="shared", member_status="all")) == ["offered"]
    assert names(sdk.image.images(sort_key="name", sort_dir="asc", limit=1)) == sorted(LISTED)


def test_openstacksdk_gets_and_finds_images(sdk, catalog):
    image = sdk.image.get_image("00000000-0000-4000-8000-000000000002")
    assert (image.name, image.disk_format, image.min_ram) == ("ubuntu", "raw", 512)
    assert image.properties["__os_bit"] == "32"
    assert sdk.image.find_image("centos").id == "00000000-0000-4000-8000-000000000003"
    assert sdk.image.find_image("00000000-0000-4000-8000-000000000005").name == "private"
    assert sdk.image.find_image("windows") is None


def test_the_glance_command_line_lists_and_shows_on_v2(live_server, catalog, secret):
    common = [str(BIN / "glance"), "--os-image-url", live_server.url, "--os-auth-token", secret]
    listing = run_cli(*common, "image-list")
    rows = [line.split("|")[2].strip() for line in listing.splitlines() if "-4000-" in line]
    assert rows == sorted(LISTED)  # glance image-list asks for name order
    filtered = run_cli(*common, "image-list", "--property-filter", "__os_type=Linux")
    assert "cirros" in filtered
    assert "centos" not in filtered
    shown = run_cli(*common, "image-show", "00000000-0000-4000-8000-000000000003")
    assert "zvhd2" in shown
    assert "centos" in shown


def test_the_openstack_command_line_lists_and_shows_on_v2(live_server, catalog, secret):
    common = [
        str(BIN / "openstack"),
        "--os-auth-type",
        "admin_token",
        "--os-endpoint",
        f"{live_server.url}/v2",
        "--os-token",
        secret,
    ]
    listing = json.loads(run_cli(*common, "image", "list", "-f", "json"))
    assert sorted(image["Name"] for image in listing) == sorted(LISTED)
    shown = json.loads(run_cli(*common, "image", "show", "ubuntu", "-f", "json"))
    assert (shown["id"], shown["disk_format"], shown["min_ram"], shown["visibility"]) == (
        "00000000-0000-4000-8000-000000000002",
        "raw",
        512,
        "public",
    )
    by_id = json.loads(
        run_cli(*common, "image", "show", "00000000-0000-4000-8000-000000000005", "-f", "json")
    )
    assert (by_id["name"], by_id["visibility"]) == ("private", "private")
