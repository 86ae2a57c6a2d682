"""Glance v1's membership reads: /images/{id}/members, one member, /shared-images/{project}."""

from http import HTTPStatus
from urllib.parse import quote

import pytest

from catalog.models import ImageMember
from catalog.services import MemberData, image_soft_delete

from .conftest import ADMIN_PROJECT, PROJECT_A, PROJECT_B, ApiClient
from .test_api_errors import error_of

pytestmark = pytest.mark.django_db

PROJECT_C = "project-c"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def ok(response):
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json; charset=UTF-8"
    return response.json()


def members_path(image, version="v1"):
    return f"/{version}/images/{getattr(image, 'pk', image)}/members"


@pytest.fixture
def shared(image_factory):
    """Project A's private image, shared with B (pending, may share on) and with C (accepted)."""
    return image_factory(
        owner=PROJECT_A,
        is_public=False,
        members=[
            MemberData(PROJECT_C, status="accepted"),
            MemberData(PROJECT_B, can_share=True, status="pending"),
        ],
    )


# -- GET /v1/images/{id}/members ----------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v1.0", "v1.1"])
@pytest.mark.parametrize("roles", [("reader",), ("member",)])
def test_the_owner_lists_every_membership_pending_ones_included(api_as, shared, version, roles):
    body = ok(api_as(PROJECT_A, roles).get(members_path(shared, version)))
    assert body == {
        "members": [
            {"member_id": PROJECT_B, "can_share": True},
            {"member_id": PROJECT_C, "can_share": False},
        ]
    }


def test_an_admin_lists_the_members_of_any_image(admin_api, shared):
    assert [m["member_id"] for m in ok(admin_api.get(members_path(shared)))["members"]] == [
        PROJECT_B,
        PROJECT_C,
    ]


def test_an_image_without_members_lists_none(member_api, image_factory):
    image = image_factory(owner=PROJECT_A)
    assert ok(member_api.get(members_path(image))) == {"members": []}


@pytest.mark.parametrize("project", [PROJECT_B, PROJECT_C])
def test_a_member_project_may_not_list_the_other_members(api_as, shared, project):
    response = api_as(project).get(members_path(shared))
    assert error_of(response, HTTPStatus.FORBIDDEN) == (
        f"You are not authorized to see the members of image {shared.pk}: "
        "only its owner project and admins may."
    )


def test_someone_elses_public_image_is_403(member_api, image_factory):
    image = image_factory(owner=PROJECT_B, is_public=True, members=[PROJECT_C])
    assert error_of(member_api.get(members_path(image)), HTTPStatus.FORBIDDEN)


@pytest.mark.parametrize("image_id", [UNKNOWN, "not-a-uuid"], ids=["unknown", "malformed"])
def test_an_unknown_or_malformed_image_is_404(member_api, image_id):
    response = member_api.get(members_path(image_id))
    assert error_of(response, HTTPStatus.NOT_FOUND) == f"No image found with ID {image_id}"


def test_an_invisible_image_is_404_not_403(api_as, shared):
    assert error_of(api_as("project-x").get(members_path(shared)), HTTPStatus.NOT_FOUND)


def test_a_windows_image_is_404_even_for_its_owner_and_admins(member_api, admin_api, image_factory):
    image = image_factory(owner=PROJECT_A, properties={"__os_type": "Windows"}, members=[PROJECT_B])
    assert error_of(member_api.get(members_path(image)), HTTPStatus.NOT_FOUND)
    assert error_of(admin_api.get(members_path(image)), HTTPStatus.NOT_FOUND)


def test_a_deleted_image_is_404_for_its_owner_and_listed_for_admins(member_api, admin_api, shared):
    image_soft_delete(image=shared)
    assert error_of(member_api.get(members_path(shared)), HTTPStatus.NOT_FOUND)
    assert len(ok(admin_api.get(members_path(shared)))["members"]) == 2


def test_members_need_a_reading_role_and_a_token(api_as, shared):
    response = api_as(PROJECT_A, ("billing",)).get(members_path(shared))
    assert error_of(response, HTTPStatus.FORBIDDEN) == (
        "You are not authorized to read images: the token has no reading role."
    )
    assert error_of(ApiClient().get(members_path(shared)), HTTPStatus.UNAUTHORIZED)


def test_listing_members_takes_a_few_queries(member_api, shared, django_assert_num_queries):
    member_api.get(members_path(shared))  # the token's use is recorded once
    with django_assert_num_queries(3):  # the token, the image, its members
        ok(member_api.get(members_path(shared)))


# -- GET /v1/images/{id}/members/{member_id} ----------------------------------------------


def test_one_membership(member_api, admin_api, shared):
    for client in (member_api, admin_api):
        body = ok(client.get(f"{members_path(shared)}/{PROJECT_B}"))
        assert body == {"member": {"member_id": PROJECT_B, "can_share": True}}
    body = ok(member_api.get(f"/v1.1/images/{shared.pk}/members/{PROJECT_C}/"))
    assert body == {"member": {"member_id": PROJECT_C, "can_share": False}}


@pytest.mark.parametrize(
    ("member", "shown"),
    [("project-x", "project-x"), ("%00", "\x00"), ("x" * 300, "x" * 100), (PROJECT_A, PROJECT_A)],
    ids=["other", "nul", "long", "owner"],
)
def test_a_project_that_is_not_a_member_is_404(member_api, shared, member, shown):
    response = member_api.get(f"{members_path(shared)}/{member}")
    assert error_of(response, HTTPStatus.NOT_FOUND) == (
        f"Project {shown} is not a member of image {shared.pk}."
    )


def test_one_membership_follows_the_members_rules(api_as, shared, image_factory):
    assert error_of(api_as(PROJECT_B).get(f"{members_path(shared)}/{PROJECT_B}"), 403)
    assert error_of(api_as("project-x").get(f"{members_path(shared)}/{PROJECT_B}"), 404)
    windows = image_factory(owner=PROJECT_A, properties={"__os_type": "Windows"}, members=["m"])
    assert error_of(api_as(PROJECT_A).get(f"{members_path(windows)}/m"), 404)


# -- GET /v1/shared-images/{project} ------------------------------------------------------


@pytest.fixture
def shared_with_b(image_factory):
    """Images shared with project B: what its list shows, and what it leaves out."""
    listed = [
        image_factory(name="pending", owner=PROJECT_A, is_public=False, members=[PROJECT_B]),
        image_factory(
            name="accepted",
            owner=PROJECT_C,
            is_public=False,
            members=[MemberData(PROJECT_B, can_share=True, status="accepted")],
        ),
        image_factory(
            name="rejected",
            owner=PROJECT_C,
            is_public=True,
            members=[MemberData(PROJECT_B, status="rejected")],
        ),
        image_factory(name="killed", status="killed", owner=PROJECT_A, members=[PROJECT_B]),
    ]
    image_factory(name="windows", properties={"__os_type": "windows"}, members=[PROJECT_B])
    image_soft_delete(image=image_factory(name="gone", members=[PROJECT_B]))
    image_factory(name="not-shared", owner=PROJECT_A, members=[PROJECT_C])
    return sorted(listed, key=lambda image: str(image.pk))


def shared_images(images):
    return {
        "shared_images": [
            {
                "image_id": str(image.pk),
                "can_share": image.members.get(member_id=PROJECT_B).can_share,
            }
            for image in images
        ]
    }


@pytest.mark.parametrize("version", ["v1", "v1.0", "v1.1"])
def test_a_project_lists_what_is_shared_with_it(api_as, shared_with_b, version):
    body = ok(api_as(PROJECT_B, ("reader",)).get(f"/{version}/shared-images/{PROJECT_B}"))
    assert body == shared_images(shared_with_b)
    assert [entry["can_share"] for entry in body["shared_images"]].count(True) == 1


def test_an_admin_asks_about_any_project(admin_api, shared_with_b):
    assert ok(admin_api.get(f"/v1/shared-images/{PROJECT_B}/")) == shared_images(shared_with_b)


def test_a_project_may_not_ask_about_another(member_api, shared_with_b):
    response = member_api.get(f"/v1/shared-images/{PROJECT_B}")
    assert error_of(response, HTTPStatus.FORBIDDEN) == (
        f"You are not authorized to see the images shared with project {PROJECT_B}: "
        "a token may ask only about its own project."
    )


@pytest.mark.parametrize("project", ["nobody", "%00", quote("镜像"), "x" * 300])
def test_a_project_nothing_is_shared_with_lists_nothing(admin_api, shared_with_b, project):
    assert ok(admin_api.get(f"/v1/shared-images/{project}")) == {"shared_images": []}


def test_the_admins_own_project_is_like_any_other(admin_api, image_factory):
    image = image_factory(owner=PROJECT_A, is_public=False, members=[ADMIN_PROJECT])
    body = ok(admin_api.get(f"/v1/shared-images/{ADMIN_PROJECT}"))
    assert body == {"shared_images": [{"image_id": str(image.pk), "can_share": False}]}


def test_without_authentication_every_project_may_be_asked_about(
    anonymous_api, shared_with_b, settings
):
    settings.CATALOG_AUTH = "none"
    assert ok(anonymous_api.get(f"/v1/shared-images/{PROJECT_B}")) == shared_images(shared_with_b)


def test_shared_images_need_a_token(shared_with_b):
    assert error_of(ApiClient().get(f"/v1/shared-images/{PROJECT_B}"), HTTPStatus.UNAUTHORIZED)


# -- read-only ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head"])
@pytest.mark.parametrize(
    "path",
    [
        "/v1/images/{id}/members",
        "/v1.1/images/{id}/members/project-b",
        "/v1.0/shared-images/project-a",
    ],
)
def test_memberships_are_read_only_405_with_allow(member_api, shared, method, path):
    response = getattr(member_api, method)(path.format(id=shared.pk))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET"
    if method != "head":
        assert error_of(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert ImageMember.objects.filter(image=shared).count() == 2


def test_paths_beyond_the_memberships_are_404(member_api, shared):
    for path in (f"{members_path(shared)}/{PROJECT_B}/extra", "/v1/shared-images/"):
        assert error_of(member_api.get(path), HTTPStatus.NOT_FOUND)
