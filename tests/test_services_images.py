from datetime import UTC, datetime

import pytest

from catalog.models import Image, ImageMember
from catalog.services import (
    ImageChangedError,
    ImageProtectedError,
    MemberData,
    image_create,
    image_restore,
    image_soft_delete,
    image_update,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("properties", "is_windows"),
    [
        ({"__os_type": "Windows"}, True),
        ({"__os_type": "windows"}, True),
        ({"__platform": "WINDOWS"}, True),
        ({"__os_version": "Windows Server 2019 Datacenter 64bit"}, True),
        ({"__os_version": "windows 10"}, True),
        ({"__os_type": "Linux", "__platform": "Ubuntu"}, False),
        ({"__os_version": "Ubuntu (not Windows)"}, False),
        ({"__platform": "Windows-like"}, False),
        ({"os": "Windows"}, False),
        ({}, False),
    ],
)
def test_create_derives_windows_flag_from_properties(properties, is_windows):
    image = image_create(fields={"name": "x"}, properties=properties)
    assert Image.objects.get(pk=image.pk).is_windows is is_windows


def test_create_sets_timestamps_to_now_unless_given():
    made_now = image_create(fields={"name": "a"}, now=NOW)
    given = datetime(2016, 5, 22, 6, 4, 20, 425843, tzinfo=UTC)
    kept = image_create(fields={"name": "b", "created_at": given, "updated_at": given}, now=NOW)
    made_now.refresh_from_db()
    kept.refresh_from_db()
    assert (made_now.created_at, made_now.updated_at) == (NOW, NOW)
    assert (kept.created_at, kept.updated_at) == (given, given)


def test_update_replaces_properties_and_recomputes_windows(image_factory):
    image = image_factory(properties={"__os_type": "Linux", "app": "web"})
    image_update(image=image, properties={"__os_type": "Windows", "tier": "gold"}, now=NOW)
    image.refresh_from_db()
    assert dict(image.properties.values_list("key", "value")) == {
        "__os_type": "Windows",
        "tier": "gold",
    }
    assert image.is_windows is True
    assert image.updated_at == NOW
    assert image.version == 2


def test_update_without_properties_leaves_them(image_factory):
    image = image_factory(properties={"__os_type": "Windows"})
    image_update(image=image, fields={"name": "renamed"})
    image.refresh_from_db()
    assert image.name == "renamed"
    assert image.is_windows is True
    assert image.properties.count() == 1


def test_update_replaces_members(image_factory):
    image = image_factory(members=["project-b", "project-c"])
    image_update(
        image=image,
        members=[MemberData("project-c", can_share=True, status="accepted"), MemberData("d")],
    )
    assert list(
        ImageMember.objects.filter(image=image).values_list("member_id", "can_share", "status")
    ) == [
        ("d", False, "pending"),
        ("project-c", True, "accepted"),
    ]


def test_a_stale_update_is_refused_and_writes_nothing(image_factory):
    image = image_factory(name="original")
    first_editor = Image.objects.get(pk=image.pk)
    second_editor = Image.objects.get(pk=image.pk)
    image_update(image=first_editor, fields={"name": "first"})
    with pytest.raises(ImageChangedError) as refused:
        image_update(image=second_editor, fields={"name": "second"}, properties={"a": "b"})
    image.refresh_from_db()
    assert image.name == "first"
    assert image.properties.count() == 0
    assert refused.value.current.name == "first"


def test_update_with_an_explicit_expected_version(image_factory):
    image = image_factory()
    with pytest.raises(ImageChangedError):
        image_update(image=image, fields={"name": "x"}, expected_version=image.version + 1)
    image_update(image=image, fields={"name": "x"}, expected_version=image.version)
    image.refresh_from_db()
    assert image.name == "x"


def test_soft_delete_keeps_the_row_and_its_properties(image_factory):
    image = image_factory(properties={"__os_type": "Linux"})
    image_soft_delete(image=image, now=NOW)
    image.refresh_from_db()
    assert (image.status, image.deleted, image.deleted_at, image.updated_at) == (
        "deleted",
        True,
        NOW,
        NOW,
    )
    assert image.properties.count() == 1


def test_soft_delete_refuses_a_protected_image(image_factory):
    image = image_factory(protected=True)
    with pytest.raises(ImageProtectedError, match="protected"):
        image_soft_delete(image=image)
    image.refresh_from_db()
    assert image.deleted is False


def test_soft_delete_twice_keeps_the_first_deletion_time(image_factory):
    image = image_factory()
    image_soft_delete(image=image, now=NOW)
    image_soft_delete(image=image, now=datetime(2030, 1, 1, tzinfo=UTC))
    image.refresh_from_db()
    assert image.deleted_at == NOW


def test_restore_brings_a_deleted_image_back_active(image_factory):
    image = image_factory(properties={"k": "v"})
    image_soft_delete(image=image)
    image_restore(image=image, now=NOW)
    image.refresh_from_db()
    assert (image.status, image.deleted, image.deleted_at, image.updated_at) == (
        "active",
        False,
        None,
        NOW,
    )
    assert image.properties.count() == 1
