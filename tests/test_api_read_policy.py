"""One read policy (ImageQuerySet.for_caller): a listing, a marker and HEAD agree on what each
kind of caller sees (docs/api.md#visibility, docs/api.md#paging, docs/api.md#head)."""

from datetime import UTC, datetime
from http import HTTPStatus

import pytest

from catalog.api.auth import ANONYMOUS_ADMIN, Caller
from catalog.models import Image
from catalog.services import image_soft_delete

from .conftest import ADMIN_PROJECT, PROJECT_A, PROJECT_B, ApiClient

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"


@pytest.fixture
def catalog(image_factory):
    """One image of each kind a caller may or may not see, by name."""
    images = {
        "public": image_factory(name="public", is_public=True, owner=PROJECT_B),
        "own": image_factory(name="own", is_public=False, owner=PROJECT_A),
        "shared": image_factory(
            name="shared", is_public=False, owner=PROJECT_B, members=[PROJECT_A]
        ),
        "other": image_factory(name="other", is_public=False, owner=PROJECT_B),
        "ownerless": image_factory(name="ownerless", is_public=False, owner=None),
        "windows": image_factory(
            name="windows", is_public=True, properties={"__os_type": "Windows"}
        ),
        "killed": image_factory(name="killed", is_public=True, status=Image.Status.KILLED),
        "deleted": image_factory(name="deleted", is_public=True),
    }
    image_soft_delete(image=images["deleted"])
    return {name: str(image.id) for name, image in images.items()}


def listed(client, **params):
    response = client.get(DETAIL, {"limit": "1000", **params})
    assert response.status_code == HTTPStatus.OK
    return {image["name"] for image in response.json()["images"]}


def nameable(client, catalog, **params):
    """The images the client may name: as a marker (200, not 400) and in HEAD (200)."""
    markers, heads = set(), set()
    for name, pk in catalog.items():
        response = client.get(DETAIL, {"marker": pk, **params})
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
        if response.status_code == HTTPStatus.OK:
            markers.add(name)
        if client.head(f"/v1.1/images/{pk}").status_code == HTTPStatus.OK:
            heads.add(name)
    return markers, heads


MEMBER_SEES = {"public", "own", "shared"}
CALLERS = [
    # (project, roles, is_public, listing, marker and HEAD)
    (PROJECT_A, ("member",), None, MEMBER_SEES, MEMBER_SEES),
    (PROJECT_A, ("reader",), None, MEMBER_SEES, MEMBER_SEES),
    (PROJECT_A, ("member",), "none", MEMBER_SEES, MEMBER_SEES),  # ignored for non-admins
    (PROJECT_A, ("member",), "false", MEMBER_SEES, MEMBER_SEES),
    (PROJECT_A, ("admin",), None, MEMBER_SEES, None),
    (PROJECT_A, ("admin",), "true", MEMBER_SEES, None),
    (PROJECT_A, ("admin",), "false", {"own", "shared", "other", "ownerless"}, None),
    (PROJECT_A, ("admin",), "none", {"public", "own", "shared", "other", "ownerless"}, None),
    # A member project of a shared image, seen from the owner's side and the member's.
    (PROJECT_B, ("member",), None, {"public", "shared", "other"}, {"public", "shared", "other"}),
    (ADMIN_PROJECT, ("admin",), None, {"public"}, None),
]
# An admin names every image but a Windows one, deleted and killed included.
ADMIN_NAMES = {"public", "own", "shared", "other", "ownerless", "killed", "deleted"}


@pytest.mark.parametrize(("project", "roles", "is_public", "lists", "names"), CALLERS)
def test_a_listing_a_marker_and_head_agree(
    api_as, catalog, project, roles, is_public, lists, names
):
    client = api_as(project, roles)
    params = {} if is_public is None else {"is_public": is_public}
    assert listed(client, **params) == lists
    names = ADMIN_NAMES if names is None else names | {"killed"}
    assert nameable(client, catalog, **params) == (names, names)
    # Everything listed can be named: a client can page from any image it was shown.
    assert lists <= names


def test_changes_since_shows_deleted_images_to_the_listing_and_the_marker(api_as, catalog):
    client = api_as(PROJECT_A, ("member",))
    since = {"changes-since": "2000-01-01"}
    assert listed(client, **since) == MEMBER_SEES | {"killed", "deleted"}
    markers, heads = nameable(client, catalog, **since)
    assert markers == MEMBER_SEES | {"killed", "deleted"}
    assert heads == MEMBER_SEES | {"killed"}  # HEAD takes no changes-since


def test_without_authentication_everyone_is_an_admin_without_a_project(settings, catalog):
    settings.CATALOG_AUTH = "none"
    client = ApiClient()
    assert listed(client) == {"public"}
    assert listed(client, is_public="none") == {"public", "own", "shared", "other", "ownerless"}
    assert nameable(client, catalog) == (ADMIN_NAMES, ADMIN_NAMES)


@pytest.mark.parametrize(
    "caller",
    [Caller(project=PROJECT_A, roles=frozenset({"member"})), ANONYMOUS_ADMIN],
)
def test_the_policy_is_one_queryset_method(catalog, caller):
    since = datetime(2000, 1, 1, tzinfo=UTC)
    listing = Image.objects.for_caller(caller, changes_since=since)
    named = Image.objects.for_caller(caller, changes_since=since, named=True)
    assert set(named.values_list("name", flat=True)) >= set(listing.values_list("name", flat=True))
