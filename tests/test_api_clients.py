"""Unmodified OpenStack clients against a live server: python-glanceclient v1, openstacksdk,
and the `glance` and `openstack` command lines, reading, deleting and reading memberships."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from glanceclient import Client as GlanceClient
from glanceclient import exc as glance_exc

from catalog.catalog_file import CatalogEntry
from catalog.models import Image
from catalog.services import image_soft_delete, images_import
from catalog.tokens import token_create

pytestmark = [pytest.mark.live_server_clients, pytest.mark.django_db(transaction=True)]

BIN = Path(sys.executable).parent
PROJECT = "6a7f0c2e3b9d4e1f8a5b6c7d8e9f0a1b"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make(n, name, **fields):
    moment = T0 + timedelta(hours=n)
    defaults = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": name,
        "status": "active",
        "container_format": "bare",
        "disk_format": "qcow2",
        "size": n * 1000,
        "checksum": f"{n:032x}",
        "is_public": True,
        "owner": "platform",
        "created_at": moment,
        "updated_at": moment,
    }
    return CatalogEntry(**{**defaults, **fields})


@pytest.fixture
def catalog(transactional_db):
    images_import(
        entries=[
            make(1, "cirros", properties={"__os_type": "Linux", "__os_bit": "64"}),
            make(
                2,
                "ubuntu",
                disk_format="raw",
                min_ram=512,
                properties={"__os_type": "Linux", "__os_bit": "32"},
            ),
            make(3, "centos", disk_format="zvhd2", container_format="ovf"),
            make(4, "building", status="queued", size=None, checksum=None),
            make(5, "private", is_public=False, owner=PROJECT),
            make(6, "windows", properties={"__os_type": "Windows"}),
            make(7, "gone"),
            make(8, "镜像"),
        ]
    )
    image_soft_delete(image=Image.objects.get(name="gone"), now=T0 + timedelta(days=30))


@pytest.fixture
def secret(transactional_db):
    return token_create(project=PROJECT, roles=["member"])[1]


@pytest.fixture
def glance(live_server, secret):
    client = GlanceClient("1", endpoint=live_server.url, token=secret)
    yield client
    # Hang up, so the server thread behind the kept-alive connection lets its database go.
    client.http_client.session.close()


def names(images):
    return [image.name for image in images]


LISTED = ["镜像", "private", "building", "centos", "ubuntu", "cirros"]


def test_glanceclient_lists_everything_visible(glance, catalog):
    assert names(glance.images.list()) == LISTED


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"name": "cirros"}, ["cirros"]),
        ({"status": "queued"}, ["building"]),
        ({"disk_format": "raw"}, ["ubuntu"]),
        ({"container_format": "ovf"}, ["centos"]),
        ({"size_min": 2000, "size_max": 3000}, ["centos", "ubuntu"]),
        ({"min_ram": 512}, ["ubuntu"]),
        ({"properties": {"__os_type": "Linux"}}, ["ubuntu", "cirros"]),
        ({"properties": {"__os_type": "Linux", "__os_bit": "64"}}, ["cirros"]),
        ({"changes-since": "2024-01-01T04:30:00"}, ["镜像", "gone", "private"]),
    ],
)
def test_glanceclient_filters(glance, catalog, filters, expected):
    assert names(glance.images.list(filters=filters)) == expected


def test_glanceclient_pages_with_a_small_page_size(glance, catalog):
    assert names(glance.images.list(page_size=2)) == LISTED
    assert names(glance.images.list(page_size=1, sort_key="name", sort_dir="asc")) == sorted(LISTED)


def test_glanceclient_get_uses_head(glance, catalog):
    image = glance.images.get("00000000-0000-4000-8000-000000000001")
    assert image.name == "cirros"
    assert image.size == 1000
    assert image.is_public is True
    assert image.properties == {"__os_type": "Linux", "__os_bit": "64"}


def test_glanceclient_raises_its_exception_classes(live_server, glance, catalog, secret):
    with pytest.raises(glance_exc.HTTPBadRequest, match="Bad value passed to filter size_min"):
        list(glance.images.list(filters={"size_min": -1}))
    with pytest.raises(glance_exc.HTTPNotFound):
        glance.images.get("00000000-0000-4000-8000-000000000099")
    with pytest.raises(glance_exc.HTTPNotFound):
        glance.images.get("00000000-0000-4000-8000-000000000006")  # a Windows image
    bad = GlanceClient("1", endpoint=live_server.url, token="not-a-real-token-0000000")
    with pytest.raises(glance_exc.HTTPUnauthorized):
        list(bad.images.list())
    bad.http_client.session.close()
    _, no_role = token_create(project=PROJECT, roles=["billing"])
    forbidden = GlanceClient("1", endpoint=live_server.url, token=no_role)
    with pytest.raises(glance_exc.HTTPForbidden):
        list(forbidden.images.list())
    forbidden.http_client.session.close()


@pytest.fixture
def sdk(live_server, secret):
    import openstack

    connection = openstack.connect(
        auth_type="admin_token",
        auth={"endpoint": f"{live_server.url}/v1.1", "token": secret},
        image_api_version="1",
    )
    yield connection
    connection.close()


def test_openstacksdk_lists_with_filters_and_limit(sdk, catalog):
    assert names(sdk.image.images(limit=2)) == LISTED
    assert names(sdk.image.images(status="queued")) == ["building"]
    assert names(sdk.image.images(disk_format="raw", limit=1)) == ["ubuntu"]


def test_openstacksdk_find_image_falls_back_to_the_name_filter(sdk, catalog):
    # GET of one image is a 404 (docs/api.md#routes), so find_image goes on to `?name=`.
    assert sdk.image.find_image("centos").id == "00000000-0000-4000-8000-000000000003"
    assert sdk.image.find_image("no-such-image") is None
    assert sdk.image.find_image("windows") is None


def run_cli(*args):
    completed = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_glance_command_line_lists_and_shows(live_server, catalog, secret):
    common = [
        str(BIN / "glance"),
        "--os-image-api-version",
        "1",
        "--os-image-url",
        live_server.url,
        "--os-auth-token",
        secret,
    ]
    listing = run_cli(*common, "image-list")
    assert [line.split("|")[2].strip() for line in listing.splitlines() if "-4000-" in line] == (
        sorted(LISTED)  # the command line sorts by name
    )
    filtered = run_cli(*common, "image-list", "--disk-format", "zvhd2")
    assert "centos" in filtered
    assert "cirros" not in filtered
    shown = run_cli(*common, "image-show", "00000000-0000-4000-8000-000000000001")
    assert "cirros" in shown
    assert "64d7c1cd" not in shown


def test_the_openstack_command_line_lists_and_shows(live_server, catalog, secret):
    common = [
        str(BIN / "openstack"),
        "--os-auth-type",
        "admin_token",
        "--os-endpoint",
        f"{live_server.url}/v1.1",
        "--os-token",
        secret,
        "--os-image-api-version",
        "1",
    ]
    listing = json.loads(run_cli(*common, "image", "list", "-f", "json"))
    assert sorted(image["Name"] for image in listing) == sorted(LISTED)
    shown = json.loads(run_cli(*common, "image", "show", "ubuntu", "-f", "json"))
    assert (shown["id"], shown["disk_format"], shown["min_ram"]) == (
        "00000000-0000-4000-8000-000000000002",
        "raw",
        512,
    )


# -- deletes and memberships ----------------------------------------------------------------

MINE = "00000000-0000-4000-8000-000000000010"
MINE_PROTECTED = "00000000-0000-4000-8000-000000000011"
SHARED_WITH_ME = "00000000-0000-4000-8000-000000000012"
OTHER_PROJECT = "0f1e2d3c4b5a49687766554433221100"


@pytest.fixture
def owned(transactional_db):
    """The token's project's own images, one protected, and an image shared with it."""
    members = [{"member_id": OTHER_PROJECT, "can_share": True}, {"member_id": "tenant-z"}]
    images_import(
        entries=[
            make(10, "mine", is_public=False, owner=PROJECT, members=members),
            make(11, "mine-protected", owner=PROJECT, protected=True),
            make(12, "shared-with-me", is_public=False, members=[{"member_id": PROJECT}]),
        ]
    )


def status_of(image_id):
    image = Image.objects.get(pk=image_id)
    return image.status, image.deleted


def test_glanceclient_deletes_its_projects_image(glance, owned):
    glance.images.delete(MINE)
    assert status_of(MINE) == ("deleted", True)
    with pytest.raises(glance_exc.HTTPNotFound):
        glance.images.get(MINE)
    with pytest.raises(glance_exc.HTTPNotFound):
        glance.images.delete(MINE)


def test_glanceclient_raises_its_403_for_protected_and_foreign_images(glance, owned, catalog):
    with pytest.raises(glance_exc.HTTPForbidden, match="Forbidden to delete a protected image."):
        glance.images.delete(MINE_PROTECTED)
    with pytest.raises(glance_exc.HTTPForbidden, match="belongs to another project"):
        glance.images.delete("00000000-0000-4000-8000-000000000001")  # a public image
    assert status_of(MINE_PROTECTED) == ("active", False)


def test_glanceclient_lists_memberships_by_image_and_by_member(glance, owned):
    members = glance.image_members.list(image=MINE)
    assert [(m.image_id, m.member_id, m.can_share) for m in members] == [
        (MINE, OTHER_PROJECT, True),
        (MINE, "tenant-z", False),
    ]
    (shared,) = glance.image_members.list(member=PROJECT)
    assert (shared.image_id, shared.member_id, shared.can_share) == (
        SHARED_WITH_ME,
        PROJECT,
        False,
    )
    (one,) = glance.image_members.list(image=MINE, member=OTHER_PROJECT)
    assert (one.member_id, one.can_share) == (OTHER_PROJECT, True)
    assert glance.image_members.list(image=MINE, member="not-a-member") == []
    with pytest.raises(glance_exc.HTTPForbidden):
        glance.image_members.list(image=SHARED_WITH_ME)  # a member does not see the others
    with pytest.raises(glance_exc.HTTPForbidden):
        glance.image_members.list(member=OTHER_PROJECT)


def glance_cli(live_server, secret):
    return [
        str(BIN / "glance"),
        "--os-image-api-version",
        "1",
        "--os-image-url",
        live_server.url,
        "--os-auth-token",
        secret,
    ]


def table_rows(output):
    """The cells of a prettytable's data rows."""
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith("|")
    ][1:]


def test_the_glance_command_line_deletes_and_lists_members(live_server, owned, secret):
    common = glance_cli(live_server, secret)
    # The command line prints a false "Can Share" as an empty cell.
    assert table_rows(run_cli(*common, "member-list", "--image-id", MINE)) == [
        [MINE, OTHER_PROJECT, "True"],
        [MINE, "tenant-z", ""],
    ]
    assert table_rows(run_cli(*common, "member-list", "--tenant-id", PROJECT)) == [
        [SHARED_WITH_ME, PROJECT, ""]
    ]
    run_cli(*common, "image-delete", MINE)
    assert status_of(MINE) == ("deleted", True)
    # The command line prints the refusal and still exits 0 (its own habit, not the 403's).
    refused = run_cli(*common, "image-delete", MINE_PROTECTED)
    assert "Forbidden to delete a protected image." in refused
    assert status_of(MINE_PROTECTED) == ("active", False)


def test_openstacksdk_deletes_with_image_api_v1(sdk, owned):
    import openstack

    sdk.image.delete_image(MINE)
    assert status_of(MINE) == ("deleted", True)
    sdk.image.delete_image(MINE)  # missing is ignored by default
    with pytest.raises(openstack.exceptions.NotFoundException):
        sdk.image.delete_image(MINE, ignore_missing=False)
    with pytest.raises(openstack.exceptions.ForbiddenException, match="protected"):
        sdk.image.delete_image(MINE_PROTECTED)
    assert status_of(MINE_PROTECTED) == ("active", False)
