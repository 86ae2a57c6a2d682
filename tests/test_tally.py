"""The overview's counts (catalog/tally.py): every write path keeps them equal to a count of
the tables, and a rebuild recounts them."""

import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.management import call_command

from catalog import tally
from catalog.catalog_file import check_catalog
from catalog.models import Image, ImageTally
from catalog.services import (
    ImageChangedError,
    MemberData,
    image_create,
    image_restore,
    image_soft_delete,
    image_update,
    images_bulk_update,
    images_import,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def counts(dimension):
    return {v: n for (d, v), n in tally.stored().items() if d == dimension}


def assert_tally_is_a_true_count():
    assert tally.stored() == tally.count_all()


def create(name, **fields):
    properties = fields.pop("properties", {})
    members = [MemberData(member) for member in fields.pop("members", [])]
    defaults = {
        "name": name,
        "status": "active",
        "disk_format": "qcow2",
        "owner": "project-a",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return image_create(fields=defaults | fields, properties=properties, members=members)


def test_a_created_image_counts_once_in_every_dimension():
    create(
        "win",
        is_public=False,
        properties={"__os_type": "Windows"},
        members=["project-b"],
        created_at=datetime(2024, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert tally.stored() == {
        ("status", "active"): 1,
        ("visibility", "shared"): 1,
        ("os_type", "Windows"): 1,
        ("disk_format", "qcow2"): 1,
        ("windows", "yes"): 1,
        ("created_month", "2024-02"): 1,  # the month in UTC
        ("owner", "project-a"): 1,
    }
    assert_tally_is_a_true_count()


def test_every_write_path_keeps_the_tally_a_true_count():
    linux = create("linux", is_public=True, properties={"__os_type": "Linux"})
    bare = create("bare", disk_format=None, owner=None, status="queued")
    shared = create("shared", members=["project-b"], created_at=NOW - timedelta(days=40))
    assert_tally_is_a_true_count()

    image_update(image=linux, fields={"status": "killed", "owner": "project-b"})
    assert counts("owner") == {"project-a": 1, "project-b": 1, "": 1}
    image_update(image=bare, fields={"name": "renamed"})  # counts nothing new
    image_update(image=shared, properties={"__os_version": "Windows Server 2019"}, members=[])
    assert counts("windows") == {"no": 2, "yes": 1}
    assert counts("visibility") == {"public": 1, "private": 2}
    assert_tally_is_a_true_count()

    image_soft_delete(image=Image.objects.get(pk=bare.pk), now=NOW)
    image_soft_delete(image=Image.objects.get(pk=shared.pk), now=NOW - timedelta(days=2))
    assert counts("deleted_day") == {"2024-06-01": 1, "2024-05-30": 1}
    image_restore(image=Image.objects.get(pk=shared.pk))
    assert counts("deleted_day") == {"2024-06-01": 1}
    assert_tally_is_a_true_count()

    images_bulk_update(images=Image.objects.all(), fields={"is_public": True})
    images_bulk_update(images=Image.objects.all(), fields={"status": "active"})
    assert counts("visibility") == {"public": 3}
    assert counts("status") == {"active": 2, "deleted": 1}  # the deleted one is left alone
    assert_tally_is_a_true_count()


def test_an_import_counts_new_images_and_recounts_replaced_ones():
    kept = create("kept", properties={"__os_type": "Linux"}, members=["project-b"])
    entries = [
        {
            "id": str(kept.pk),
            "name": "kept",
            "status": "active",
            "disk_format": "iso",
            "owner": "project-c",
            "properties": {"__os_type": "Windows"},
            "created_at": "2020-05-01T00:00:00",
        },
        {"name": "new", "deleted": True, "deleted_at": "2024-05-31T23:59:59"},
    ]
    images_import(entries=check_catalog(json.dumps({"images": entries}).encode())[0], now=NOW)
    assert counts("os_type") == {"Windows": 1, "": 1}
    assert counts("visibility") == {"private": 2}  # the file's members replace the old ones
    assert counts("created_month") == {"2020-05": 1, "2024-06": 1}
    assert counts("deleted_day") == {"2024-05-31": 1}
    assert_tally_is_a_true_count()


def test_a_refused_write_changes_no_count():
    image = create("cirros")
    image_update(image=Image.objects.get(pk=image.pk), fields={"status": "queued"})
    before = tally.stored()
    with pytest.raises(ImageChangedError):
        image_update(image=image, fields={"status": "killed"})  # loaded at the old version
    assert tally.stored() == before


def test_a_long_os_type_is_counted_by_its_first_characters():
    create("odd", properties={"__os_type": "x" * 300})
    assert counts("os_type") == {"x" * 255: 1}
    assert_tally_is_a_true_count()


def test_rebuild_recounts_what_was_written_around_the_services():
    create("one")
    create("two", is_public=True)
    Image.objects.filter(name="two").update(status="killed")  # by hand, past the services
    assert tally.stored() != tally.count_all()
    out = io.StringIO()
    call_command("rebuild_tally", stdout=out)
    assert_tally_is_a_true_count()
    assert "counted 2 images; 2 of the overview's counts were different" in out.getvalue()


def test_seeding_leaves_a_true_count():
    call_command("seed_images", "--count", "300", "--seed", "3", stdout=io.StringIO())
    assert_tally_is_a_true_count()
    assert sum(counts("status").values()) == 300
    call_command("seed_images", "--count", "50", "--append", stdout=io.StringIO())
    assert sum(counts("status").values()) == 350
    call_command("seed_images", "--count", "20", "--replace", stdout=io.StringIO())
    assert sum(counts("visibility").values()) == 20
    assert_tally_is_a_true_count()


def test_the_tally_lists_each_value_once():
    create("a")
    create("b")
    assert ImageTally.objects.filter(dimension="status", value="active").get().count == 2
