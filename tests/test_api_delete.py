"""DELETE /v1.1/images/{id}: a soft delete, the admin's own, for the callers Glance v1 let."""

import logging
import threading
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.history import API_USERNAME
from catalog.models import Image, ImageMember, ImageProperty
from catalog.services import image_soft_delete

from .conftest import ADMIN_PROJECT, PROJECT_A, PROJECT_B, ApiClient
from .test_api_errors import error_of

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def fresh(image):
    return Image.objects.get(pk=image.pk)


def delete(client, image, version="v1.1"):
    return client.delete(f"/{version}/images/{getattr(image, 'pk', image)}")


def assert_deleted(response, image):
    assert response.status_code == HTTPStatus.OK, response.content
    image = fresh(image)
    assert (image.status, image.deleted, image.deleted_at is not None) == ("deleted", True, True)
    return image


def assert_untouched(image):
    current = fresh(image)
    assert (current.status, current.deleted, current.version) == (
        image.status,
        image.deleted,
        image.version,
    )


@pytest.mark.parametrize("version", ["v1", "v1.0", "v1.1"])
def test_delete_answers_200_with_an_empty_body_not_typed_as_json(
    member_api, image_factory, version
):
    image = image_factory(owner=PROJECT_A)
    response = delete(member_api, image, version)
    assert_deleted(response, image)
    assert response.content == b""
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    assert response["Content-Length"] == "0"
    assert response["X-Openstack-Request-Id"].startswith("req-")


def test_delete_is_the_soft_delete_properties_and_members_kept(member_api, image_factory):
    image = image_factory(
        owner=PROJECT_A, properties={"__os_type": "Linux"}, members=[PROJECT_B], is_public=False
    )
    before = fresh(image)
    image = assert_deleted(delete(member_api, image), image)
    assert image.deleted_at == image.updated_at
    assert image.updated_at > before.updated_at
    assert image.version == before.version + 1
    assert ImageProperty.objects.filter(image=image).count() == 1
    assert ImageMember.objects.filter(image=image).count() == 1


def test_the_listing_with_changes_since_and_the_admins_head_then_show_it_deleted(
    member_api, admin_api, image_factory
):
    image = image_factory(owner=PROJECT_A, name="doomed", properties={"k": "v"})
    delete(member_api, image)
    assert member_api.get("/v1.1/images/detail").json()["images"] == []
    listed = member_api.get("/v1.1/images/detail", {"changes-since": "2000-01-01"})
    (entry,) = listed.json()["images"]
    assert (entry["name"], entry["status"], entry["deleted"]) == ("doomed", "deleted", True)
    assert entry["deleted_at"] is not None
    assert entry["properties"] == {}
    head = admin_api.head(f"/v1/images/{image.pk}")
    assert head["X-Image-Meta-Deleted"] == "True"
    assert head["X-Image-Meta-Status"] == "deleted"
    assert member_api.head(f"/v1/images/{image.pk}").status_code == HTTPStatus.NOT_FOUND


def test_the_admins_history_records_the_token_under_the_api_user(make_token, image_factory):
    image = image_factory(owner=PROJECT_A, status="queued")
    _, secret = make_token(project=PROJECT_A, roles=("member",), name="ci-cleanup")
    assert_deleted(delete(ApiClient(secret), image), image)
    (entry,) = LogEntry.objects.filter(object_id=str(image.pk))
    assert entry.action_flag == CHANGE
    assert entry.change_message == (
        "Deleted through the API with the token “ci-cleanup”: status: “queued” → “deleted”; "
        "properties and members kept."
    )
    assert entry.object_repr == image.name
    user = entry.user
    assert user.username == API_USERNAME
    assert not user.is_active
    assert not user.is_staff
    assert not user.has_usable_password()


def test_the_api_user_is_made_once_and_cannot_be_a_staff_login(api_as, image_factory):
    from django.contrib.auth.validators import UnicodeUsernameValidator
    from django.core.exceptions import ValidationError

    for n in range(2):
        image = image_factory(owner=PROJECT_A)
        assert_deleted(delete(api_as(PROJECT_A), image), image)
        assert LogEntry.objects.filter(object_id=str(image.pk)).count() == 1, n
    assert get_user_model().objects.filter(username=API_USERNAME).count() == 1
    # Django's own rule for usernames (the admin's user form, createsuperuser) refuses it.
    with pytest.raises(ValidationError):
        UnicodeUsernameValidator()(API_USERNAME)


def test_the_history_page_shows_the_api_deletion(admin_client, member_api, image_factory):
    image = image_factory(owner=PROJECT_A)
    delete(member_api, image)
    page = admin_client.get(f"/admin/catalog/image/{image.pk}/history/").content.decode()
    assert API_USERNAME in page
    assert "Deleted through the API with the token" in page


def test_the_log_names_the_request_id_image_and_token(make_token, image_factory, caplog):
    image = image_factory(owner=PROJECT_A)
    _, secret = make_token(project=PROJECT_A, name="ci-cleanup")
    with caplog.at_level(logging.INFO, logger="catalog.api"):
        response = delete(ApiClient(secret), image)
    (record,) = [r for r in caplog.records if "deleted through the API" in r.getMessage()]
    assert (
        record.getMessage()
        == f"image {image.pk} deleted through the API with the token “ci-cleanup”"
    )
    assert record.request_id == response["X-Openstack-Request-Id"]


@pytest.mark.parametrize(
    "fields",
    [
        {"owner": PROJECT_B, "is_public": False},  # invisible to project-a
        {"owner": PROJECT_B, "is_public": True},  # someone else's public image
        {"owner": None, "is_public": True},
        {"owner": PROJECT_A, "properties": {"__os_type": "Windows"}},
    ],
)
def test_an_admin_deletes_any_image_but_a_windows_one(admin_api, image_factory, fields):
    image = image_factory(**fields)
    response = delete(admin_api, image)
    if "properties" in fields:
        assert error_of(response, HTTPStatus.NOT_FOUND) == f"No image found with ID {image.pk}"
        assert_untouched(image)
    else:
        assert_deleted(response, image)


@pytest.mark.parametrize("roles", [("member",), ("reader", "member"), ("admin",)])
def test_a_writing_role_deletes_its_own_projects_image(api_as, image_factory, roles):
    image = image_factory(owner=PROJECT_A, is_public=False)
    assert_deleted(delete(api_as(PROJECT_A, roles), image), image)


@pytest.mark.parametrize(
    "fields",
    [
        {"owner": PROJECT_B, "is_public": True},
        {"owner": PROJECT_B, "is_public": False, "members": [PROJECT_A]},
        {"owner": None, "is_public": True},
    ],
)
def test_an_image_the_caller_sees_but_does_not_own_is_403(member_api, image_factory, fields):
    image = image_factory(**fields)
    assert error_of(delete(member_api, image), HTTPStatus.FORBIDDEN) == (
        f"You are not authorized to delete image {image.pk}: it belongs to another project."
    )
    assert_untouched(image)


def test_a_reader_may_not_delete_even_its_own_image(api_as, image_factory):
    image = image_factory(owner=PROJECT_A)
    response = delete(api_as(PROJECT_A, ("reader",)), image)
    assert error_of(response, HTTPStatus.FORBIDDEN) == (
        "You are not authorized to change images: the token has no writing role."
    )
    assert_untouched(image)
    # Before the image is looked up: a reader does not learn which ids exist.
    assert error_of(delete(api_as(PROJECT_A, ("reader",)), UNKNOWN), HTTPStatus.FORBIDDEN)


def test_the_writing_roles_are_a_setting(api_as, image_factory, settings):
    settings.CATALOG_WRITE_ROLES = ["uploader"]
    image = image_factory(owner=PROJECT_A)
    assert error_of(delete(api_as(PROJECT_A, ("member",)), image), HTTPStatus.FORBIDDEN)
    assert error_of(delete(api_as(ADMIN_PROJECT, ("admin",)), image), HTTPStatus.FORBIDDEN)
    assert_untouched(image)
    assert_deleted(delete(api_as(PROJECT_A, ("uploader",)), image), image)


def test_no_writing_roles_make_the_api_read_only(admin_api, image_factory, settings):
    settings.CATALOG_WRITE_ROLES = []
    image = image_factory()
    assert error_of(delete(admin_api, image), HTTPStatus.FORBIDDEN)
    assert admin_api.head(f"/v1/images/{image.pk}").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"protected": True}, "Forbidden to delete a protected image."),
        ({"status": "pending_delete"}, "Forbidden to delete a pending_delete image."),
        ({"status": "pending_delete", "protected": True}, "Forbidden to delete a protected image."),
    ],
)
@pytest.mark.parametrize("as_admin", [False, True])
def test_protected_and_pending_delete_images_are_403(
    member_api, admin_api, image_factory, fields, message, as_admin
):
    image = image_factory(owner=PROJECT_A, **fields)
    response = delete(admin_api if as_admin else member_api, image)
    assert error_of(response, HTTPStatus.FORBIDDEN) == message
    assert_untouched(image)
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("as_admin", [False, True])
def test_an_image_deleted_already_is_404_and_stays_as_it_was(
    member_api, admin_api, image_factory, as_admin
):
    image = image_factory(owner=PROJECT_A)
    image_soft_delete(image=image, now=datetime(2021, 1, 1, tzinfo=UTC))
    response = delete(admin_api if as_admin else member_api, image)
    assert error_of(response, HTTPStatus.NOT_FOUND) == f"No image found with ID {image.pk}"
    assert fresh(image).deleted_at == datetime(2021, 1, 1, tzinfo=UTC)


def test_a_second_delete_is_404(member_api, image_factory):
    image = image_factory(owner=PROJECT_A)
    assert_deleted(delete(member_api, image), image)
    assert error_of(delete(member_api, image), HTTPStatus.NOT_FOUND)
    assert LogEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("image_id", "message"),
    [
        (UNKNOWN, f"No image found with ID {UNKNOWN}"),
        ("not-a-uuid", "No image found with ID not-a-uuid"),
        ("x" * 300, f"No image found with ID {'x' * 100}"),
    ],
)
def test_an_unknown_or_malformed_id_is_404(member_api, image_id, message):
    assert error_of(delete(member_api, image_id), HTTPStatus.NOT_FOUND) == message


def test_an_invisible_image_is_404_not_403(member_api, image_factory):
    image = image_factory(owner=PROJECT_B, is_public=False)
    assert error_of(delete(member_api, image), HTTPStatus.NOT_FOUND)
    assert_untouched(image)


def test_a_windows_image_is_404_for_its_owner(member_api, image_factory):
    image = image_factory(owner=PROJECT_A, properties={"__platform": "windows"})
    assert error_of(delete(member_api, image), HTTPStatus.NOT_FOUND)
    assert_untouched(image)


@pytest.mark.parametrize("token", [None, "not-a-real-token-0000000000"])
def test_delete_needs_a_valid_token(image_factory, token):
    image = image_factory()
    response = delete(ApiClient(token), image)
    assert error_of(response, HTTPStatus.UNAUTHORIZED)
    assert response["WWW-Authenticate"].startswith("Keystone uri=")
    assert_untouched(image)


def test_without_authentication_every_caller_is_an_admin(anonymous_api, image_factory, settings):
    settings.CATALOG_AUTH = "none"
    image = image_factory(owner=PROJECT_B, is_public=False)
    assert_deleted(delete(anonymous_api, image), image)
    (entry,) = LogEntry.objects.filter(object_id=str(image.pk))
    assert "with no token (CATALOG_AUTH=none)" in entry.change_message


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_other_writes_on_an_image_are_405_with_allow(member_api, image_factory, method):
    image = image_factory(owner=PROJECT_A)
    response = getattr(member_api, method)(f"/v1/images/{image.pk}")
    assert error_of(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert response["Allow"] == "GET, HEAD, DELETE"
    assert_untouched(image)


def test_delete_takes_a_few_queries(member_api, image_factory, django_assert_max_num_queries):
    first, second = image_factory(owner=PROJECT_A), image_factory(owner=PROJECT_A)
    delete(member_api, first)  # creates the API's user and records the token's use
    # The token; the locked read, the update, the token's name, the user, the History entry;
    # the overview's counts (read, then two writes: catalog/tally.py); and the savepoints.
    with django_assert_max_num_queries(13):
        response = delete(member_api, second)
    assert_deleted(response, second)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no row locks: it locks the database"
)
def test_the_image_is_locked_from_the_checks_to_the_write(member_api, image_factory):
    image = image_factory(owner=PROJECT_A)
    with CaptureQueriesContext(connection) as queries:
        response = delete(member_api, image)
    assert_deleted(response, image)
    # The first read of the image is the one the checks use (the overview's tally reads it
    # again inside the write, under the same lock).
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "catalog_image"')]
    assert reads[0].endswith("FOR UPDATE")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's in-memory test database is shared by threads without row locks",
)
@pytest.mark.django_db(transaction=True)
def test_two_deletes_at_once_give_one_200_and_one_404(make_token, image_factory):
    image = image_factory(owner=PROJECT_A)
    secrets = [make_token(project=PROJECT_A)[1] for _ in range(2)]
    start = threading.Barrier(len(secrets))
    statuses = []

    def delete_once(secret):
        try:
            start.wait()
            statuses.append(delete(ApiClient(secret), image).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=delete_once, args=(secret,)) for secret in secrets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [HTTPStatus.OK, HTTPStatus.NOT_FOUND]
    assert fresh(image).version == image.version + 1
    assert LogEntry.objects.filter(object_id=str(image.pk)).count() == 1
