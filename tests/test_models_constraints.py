"""The catalog's rules hold in the database itself, whatever writes to it."""

import pytest
from django.db import DataError, IntegrityError, transaction

from catalog.models import ApiToken, Image, ImageMember, ImageProperty

pytestmark = pytest.mark.django_db


# PostgreSQL refuses an over-long VARCHAR with DataError, a broken CHECK with IntegrityError.
REFUSALS = (IntegrityError, DataError)


def refused(queryset, **changes):
    with pytest.raises(REFUSALS), transaction.atomic():
        queryset.update(**changes)
    return True


@pytest.mark.parametrize(
    "changes",
    [
        {"size": -1},
        {"virtual_size": -5},
        {"min_ram": -1},
        {"min_disk": -1},
        {"checksum": "not-a-checksum"},
        {"checksum": "64D7C1CD2B6F60C92C14662941CB7913"},  # upper case is not the listing's form
        {"checksum": "64d7c1cd2b6f60c92c14662941cb791"},  # 31 digits
        {"status": "available"},
        {"disk_format": "qcow3"},
        {"container_format": "zip"},
        {"name": "x" * 256},
        {"owner": "o" * 256},
        {"deleted": True},  # deleted without deleted_at
    ],
)
def test_database_refuses_invalid_image_values(image_factory, changes):
    image = image_factory()
    assert refused(Image.objects.filter(pk=image.pk), **changes)


def test_database_accepts_the_edges_of_the_rules(image_factory):
    image = image_factory()
    Image.objects.filter(pk=image.pk).update(
        size=0,
        virtual_size=2**63 - 1,
        checksum="0123456789abcdef0123456789abcdef",
        name="n" * 255,
        disk_format=None,
        container_format=None,
    )
    image.refresh_from_db()
    assert (image.size, image.virtual_size, image.name) == (0, 2**63 - 1, "n" * 255)


def test_database_refuses_a_duplicate_property_key(image_factory):
    image = image_factory(properties={"__os_type": "Linux"})
    with pytest.raises(IntegrityError), transaction.atomic():
        ImageProperty.objects.create(image=image, key="__os_type", value="Linux")


def test_property_keys_differing_in_case_are_different_keys(image_factory):
    image = image_factory(properties={"Key": "a"})
    ImageProperty.objects.create(image=image, key="key", value="b")
    assert image.properties.count() == 2


def test_database_refuses_an_empty_property_key(image_factory):
    image = image_factory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ImageProperty.objects.create(image=image, key="", value="x")


def test_database_refuses_sharing_twice_with_one_project(image_factory):
    image = image_factory(members=["project-b"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ImageMember.objects.create(image=image, member_id="project-b")


def test_database_refuses_an_unknown_member_status(image_factory):
    image = image_factory(members=["project-b"])
    assert refused(ImageMember.objects.filter(image=image), status="maybe")


def test_database_refuses_a_token_without_a_sha256_hash(make_token):
    token, _ = make_token()
    assert refused(ApiToken.objects.filter(pk=token.pk), secret_hash="short")
