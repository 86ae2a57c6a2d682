"""docs/api.md#authentication and docs/api.md#visibility: who is calling, and which images
they see."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from catalog.models import ApiToken
from catalog.services import MemberData
from catalog.tokens import token_revoke

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"


def names(response):
    assert response.status_code == HTTPStatus.OK, response.content
    return sorted(image["name"] for image in response.json()["images"])


@pytest.fixture
def catalog(image_factory):
    image_factory(name="public-a", is_public=True, owner="project-a")
    image_factory(name="public-x", is_public=True, owner="project-x")
    image_factory(name="private-a", is_public=False, owner="project-a")
    image_factory(name="private-b", is_public=False, owner="project-b")
    image_factory(
        name="shared-b-with-a",
        is_public=False,
        owner="project-b",
        members=[MemberData("project-a", status="pending")],
    )
    image_factory(
        name="shared-b-rejected-by-a",
        is_public=False,
        owner="project-b",
        members=[MemberData("project-a", status="rejected")],
    )
    image_factory(name="private-admin", is_public=False, owner="project-admin")
    image_factory(name="public-nobody", is_public=True, owner=None)


MEMBER_VIEW = [
    "public-a",
    "public-nobody",
    "public-x",
    "private-a",
    "shared-b-rejected-by-a",
    "shared-b-with-a",
]
ADMIN_DEFAULT = ["private-admin", "public-a", "public-nobody", "public-x"]
NON_PUBLIC = [
    "private-a",
    "private-admin",
    "private-b",
    "shared-b-rejected-by-a",
    "shared-b-with-a",
]


@pytest.mark.parametrize("is_public", [None, "true", "1", "false", "0", "none", "NONE"])
def test_non_admin_sees_public_own_and_shared_whatever_is_public_says(
    member_api, catalog, is_public
):
    query = {} if is_public is None else {"is_public": is_public}
    assert names(member_api.get(DETAIL, query)) == sorted(MEMBER_VIEW)


@pytest.mark.parametrize("is_public", [None, "true", "1", "True"])
def test_admin_default_is_a_non_admin_view_of_its_own_project(admin_api, catalog, is_public):
    query = {} if is_public is None else {"is_public": is_public}
    assert names(admin_api.get(DETAIL, query)) == sorted(ADMIN_DEFAULT)


@pytest.mark.parametrize("is_public", ["false", "0", "FALSE"])
def test_admin_is_public_false_sees_every_non_public_image(admin_api, catalog, is_public):
    assert names(admin_api.get(DETAIL, {"is_public": is_public})) == sorted(NON_PUBLIC)


def test_admin_is_public_none_sees_every_image(admin_api, catalog):
    assert names(admin_api.get(DETAIL, {"is_public": "none"})) == sorted(
        set(MEMBER_VIEW) | set(ADMIN_DEFAULT) | set(NON_PUBLIC)
    )


def test_windows_images_are_never_listed_and_pages_stay_full(admin_api, image_factory):
    for n in range(3):
        image_factory(name=f"linux-{n}", properties={"__os_type": "Linux"})
        image_factory(name=f"win-type-{n}", properties={"__os_type": "Windows"})
        image_factory(name=f"win-platform-{n}", properties={"__platform": "windows"})
        image_factory(name=f"win-version-{n}", properties={"__os_version": "Windows Server 2019"})
    response = admin_api.get(DETAIL, {"is_public": "none", "limit": "3"})
    assert names(response) == ["linux-0", "linux-1", "linux-2"]
    since = admin_api.get(DETAIL, {"is_public": "none", "changes-since": "2000-01-01"})
    assert names(since) == ["linux-0", "linux-1", "linux-2"]


def test_no_token_is_401_with_www_authenticate(anonymous_api, catalog):
    response = anonymous_api.get(DETAIL)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Keystone uri="http://testserver"'
    assert response.json()["error"]["code"] == 401


def test_www_authenticate_names_the_public_endpoint(anonymous_api, settings):
    settings.CATALOG_PUBLIC_ENDPOINT = "https://images.example.com"
    response = anonymous_api.get(DETAIL)
    assert response["WWW-Authenticate"] == 'Keystone uri="https://images.example.com"'


def test_unknown_token_is_401(db):
    response = ApiClient("no-such-token-0000000000").get(DETAIL)
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_expired_token_is_401(make_token):
    token, secret = make_token()
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiClient(secret).get(DETAIL).status_code == HTTPStatus.UNAUTHORIZED


def test_revoked_token_is_401_at_once(make_token):
    token, secret = make_token()
    client = ApiClient(secret)
    assert client.get(DETAIL).status_code == HTTPStatus.OK
    token_revoke(token=token)
    assert client.get(DETAIL).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        (("reader",), 200),
        (("member",), 200),
        (("admin",), 200),
        (("observer",), 403),
        (("billing", "auditor"), 403),
    ],
)
def test_only_reading_roles_may_read(api_as, roles, status):
    response = api_as("project-a", roles).get(DETAIL)
    assert response.status_code == status
    if status == HTTPStatus.FORBIDDEN:
        assert response.json()["error"]["title"] == "Forbidden"


def test_reading_roles_are_a_setting(api_as, settings):
    settings.CATALOG_READ_ROLES = ["observer"]
    assert api_as("project-a", ("observer",)).get(DETAIL).status_code == HTTPStatus.OK
    assert api_as("project-a", ("member",)).get(DETAIL).status_code == HTTPStatus.FORBIDDEN


def test_a_token_records_when_it_was_last_used(make_token):
    token, secret = make_token()
    ApiClient(secret).get(DETAIL)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_auth_none_acts_as_an_admin_without_project(anonymous_api, catalog, settings):
    settings.CATALOG_AUTH = "none"
    assert names(anonymous_api.get(DETAIL)) == ["public-a", "public-nobody", "public-x"]
    assert names(anonymous_api.get(DETAIL, {"is_public": "false"})) == sorted(NON_PUBLIC)
    everything = anonymous_api.get(DETAIL, {"is_public": "none"})
    assert len(everything.json()["images"]) == 8
