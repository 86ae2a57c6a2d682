"""docs/api.md#v2-visibility: who sees what in the v2 listing, in GET of one image and as a
marker, through the one read policy; each expectation as the reference Glance v2 answered."""

from http import HTTPStatus

import pytest

from catalog.models import Image
from catalog.services import MemberData, image_soft_delete, image_update

from .conftest import ADMIN_PROJECT, PROJECT_A, PROJECT_B

pytestmark = pytest.mark.django_db

IMAGES = "/v2/images"


@pytest.fixture
def catalog(image_factory):
    """One image of each kind, by name; PROJECT_A is the member asking."""

    def shared(name, membership, **fields):
        member = MemberData(member_id=PROJECT_A, status=membership)
        return image_factory(
            name=name, is_public=False, owner=PROJECT_B, members=[member], **fields
        )

    images = {
        "public": image_factory(name="public", owner=PROJECT_B),
        "own": image_factory(name="own", is_public=False, owner=PROJECT_A),
        "own-shared": image_factory(
            name="own-shared",
            is_public=False,
            owner=PROJECT_A,
            members=[MemberData(member_id=PROJECT_B, status="pending")],
        ),
        "accepted": shared("accepted", "accepted"),
        "pending": shared("pending", "pending"),
        "rejected": shared("rejected", "rejected"),
        "other": image_factory(name="other", is_public=False, owner=PROJECT_B),
        "ownerless": image_factory(name="ownerless", is_public=False, owner=None),
        "queued": image_factory(name="queued", status="queued"),
        "saving": image_factory(name="saving", status="saving"),
        "pending_delete": image_factory(name="pending_delete", status="pending_delete"),
        "killed": image_factory(name="killed", status="killed"),
        "killed-rejected": shared("killed-rejected", "rejected", status="killed"),
        "deleted": image_factory(name="deleted", properties={"k": "v"}),
        "windows": image_factory(name="windows", properties={"__platform": "windows"}),
    }
    image_soft_delete(image=images["deleted"])
    return {name: str(image.id) for name, image in images.items()}


def listed(client, **params):
    response = client.get(IMAGES, {"limit": "1000", **params})
    assert response.status_code == HTTPStatus.OK, response.content
    return {image["name"] for image in response.json()["images"]}


ALWAYS = {"public", "own", "own-shared", "queued", "saving", "pending_delete"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ALWAYS | {"accepted"}),
        ({"member_status": "accepted"}, ALWAYS | {"accepted"}),
        ({"member_status": "pending"}, ALWAYS | {"pending"}),
        ({"member_status": "rejected"}, ALWAYS | {"rejected"}),
        ({"member_status": "all"}, ALWAYS | {"accepted", "pending", "rejected"}),
        ({"visibility": "public"}, {"public", "queued", "saving", "pending_delete"}),
        ({"visibility": "private"}, {"own"}),
        ({"visibility": "shared"}, {"own-shared", "accepted"}),
        ({"visibility": "shared", "member_status": "pending"}, {"own-shared", "pending"}),
        (
            {"visibility": "shared", "member_status": "all"},
            {"own-shared", "accepted", "pending", "rejected"},
        ),
        ({"visibility": "all"}, ALWAYS | {"accepted"}),
        ({"visibility": "community"}, set()),
    ],
)
def test_a_members_listing(member_api, catalog, params, expected):
    """Killed, deleted and Windows images never; another project's private ones never; the
    shared ones by membership status, accepted by default (unlike v1, which lists any)."""
    assert listed(member_api, **params) == expected


EVERY_PROJECT = ALWAYS | {"accepted", "pending", "rejected", "other", "ownerless"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, EVERY_PROJECT),
        ({"member_status": "pending"}, EVERY_PROJECT),  # no effect for an admin
        ({"visibility": "private"}, {"own", "other", "ownerless"}),
        ({"visibility": "shared"}, {"own-shared", "accepted", "pending", "rejected"}),
    ],
)
def test_an_admins_listing_shows_every_project(admin_api, catalog, params, expected):
    assert listed(admin_api, **params) == expected


def test_with_authentication_off_everyone_is_an_admin(anonymous_api, catalog, settings):
    settings.CATALOG_AUTH = "none"
    assert listed(anonymous_api) == EVERY_PROJECT


def shown(client, catalog):
    found = set()
    for name, pk in catalog.items():
        response = client.get(f"{IMAGES}/{pk}")
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.NOT_FOUND)
        if response.status_code == HTTPStatus.OK:
            assert response.json()["id"] == pk
            found.add(name)
        else:
            assert response.json()["error"]["message"] == f"No image found with ID {pk}"
        assert client.get(f"{IMAGES}/{pk}/file").status_code == (
            HTTPStatus.NO_CONTENT if response.status_code == HTTPStatus.OK else 404
        )
    return found


def test_one_image_shows_killed_ones_and_shares_in_any_status(member_api, catalog):
    assert shown(member_api, catalog) == ALWAYS | {
        "accepted",
        "pending",
        "rejected",
        "killed",
        "killed-rejected",
    }


def test_an_admin_sees_any_image_but_a_deleted_or_windows_one(admin_api, catalog):
    assert shown(admin_api, catalog) == set(catalog) - {"deleted", "windows"}


def markers(client, catalog):
    found = set()
    for name, pk in catalog.items():
        response = client.get(IMAGES, {"marker": pk})
        if response.status_code == HTTPStatus.OK:
            found.add(name)
        else:
            assert response.status_code == HTTPStatus.BAD_REQUEST
            assert response.json()["error"]["message"] == f"No image found with ID {pk}"
    return found


def test_a_member_may_name_what_one_image_shows_as_a_marker(member_api, catalog):
    """An image the caller may not see is the same 400 as one that does not exist (Glance
    answers 403, which tells the caller it exists)."""
    assert markers(member_api, catalog) == shown(member_api, catalog)


def test_an_admins_marker_may_be_a_deleted_image(admin_api, catalog):
    assert markers(admin_api, catalog) == set(catalog) - {"windows"}


def test_a_member_who_accepted_sees_the_image_in_the_default_listing(member_api, image_factory):
    image = image_factory(
        name="later", is_public=False, owner=PROJECT_B, members=[MemberData(member_id=PROJECT_A)]
    )
    assert listed(member_api) == set()
    image_update(image=image, members=[MemberData(member_id=PROJECT_A, status="accepted")])
    assert listed(member_api) == {"later"}


@pytest.mark.parametrize("path", ["/v2/images", "/v2/images/{id}", "/v2/schemas/image"])
def test_no_token_is_401_and_no_reading_role_403(anonymous_api, api_as, image_factory, path):
    path = path.format(id=image_factory().id)
    response = anonymous_api.get(path)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Keystone uri="http://testserver"'
    assert response.json()["error"]["code"] == 401
    response = api_as(PROJECT_A, ("billing",)).get(path)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"]["title"] == "Forbidden"


def test_the_v2_scope_is_the_read_policys(catalog):
    """No other code decides v2 visibility: the policy alone answers the same sets."""
    from catalog.api.auth import Caller
    from catalog.querysets import V2Scope

    member = Caller(project=PROJECT_A, roles=frozenset({"member"}))
    names = set(
        Image.objects.for_caller(member, v2=V2Scope(member_status="all")).values_list(
            "name", flat=True
        )
    )
    assert names == ALWAYS | {"accepted", "pending", "rejected"}
    admin = Caller(project=ADMIN_PROJECT, roles=frozenset({"admin"}))
    shown_to_admin = Image.objects.for_caller(admin, v2=V2Scope(), named=True)
    assert set(shown_to_admin.values_list("name", flat=True)) == set(catalog) - {
        "deleted",
        "windows",
    }
