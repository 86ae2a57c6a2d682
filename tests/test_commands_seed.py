"""seed_images (docs/operations.md#seed_images): realistic, reproducible test catalogs."""

import hashlib
import io
import json
import re
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from catalog.bulk_load import in_background
from catalog.models import Image, ImageMember, ImageProperty, properties_say_windows
from catalog.seeding import ImageRow, MemberRow, SeedOptions, generate_images, project_ids
from catalog.timestamps import format_timestamp
from catalog.vocabulary import LISTING_KEYS

pytestmark = pytest.mark.django_db

HEX32 = re.compile(r"^[0-9a-f]{32}$")
IMS_PROPERTIES = {
    "__os_type",
    "__platform",
    "__os_version",
    "__os_bit",
    "__imagetype",
    "__support_kvm",
    "__isregistered",
}
# The export of `seed_images --count 40 --seed 7`. Both databases must give exactly these
# bytes; a deliberate change to the generator changes it (and every seeded catalog).
SEED_7_EXPORT_SHA256 = "ca4590d548b07f204c271d568d7000af158ee809744409e6d9152871346c79b2"


def seed(*args):
    out = io.StringIO()
    call_command("seed_images", *map(str, args), stdout=out)
    return out.getvalue()


def export():
    out = io.StringIO()
    call_command("export_images", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def expected_export(options: SeedOptions) -> str:
    """The catalog file that export_images must write for what the generator produced."""
    entries = []
    for image, properties, members in generate_images(options):
        fields = {key: getattr(image, key) for key in LISTING_KEYS[:-1]}
        entry = {
            **fields,
            "id": str(uuid.UUID(fields["id"])),
            "created_at": format_timestamp(fields["created_at"]),
            "updated_at": format_timestamp(fields["updated_at"]),
            "deleted_at": format_timestamp(fields["deleted_at"]),
            "properties": dict(sorted(properties.items())),
        }
        if members:
            entry["members"] = [
                {"member_id": member_id, "can_share": can_share, "status": status}
                for member_id, can_share, status in sorted(members)
            ]
        entries.append(entry)
    entries.sort(key=lambda entry: (entry["created_at"], entry["id"]))
    lines = [json.dumps(entry, ensure_ascii=False, separators=(",", ":")) for entry in entries]
    return '{"images": [\n' + ",\n".join(lines) + "\n]}\n"


# ------------------------------------------------------------------------------
# The same seed, the same catalog
# ------------------------------------------------------------------------------


def test_the_export_is_exactly_what_the_generator_produced():
    seed("--count", 150, "--seed", 3)
    assert export() == expected_export(SeedOptions(count=150, seed=3))


def test_the_same_seed_gives_the_same_catalog_byte_for_byte():
    seed("--count", 200, "--seed", 11)
    first = export()
    seed("--count", 200, "--seed", 11, "--replace")
    assert export() == first


def test_a_different_seed_gives_a_different_catalog():
    seed("--count", 50, "--seed", 1)
    first = export()
    seed("--count", 50, "--seed", 2, "--replace")
    second = export()
    assert first != second
    first_ids = {entry["id"] for entry in json.loads(first)["images"]}
    assert first_ids.isdisjoint(entry["id"] for entry in json.loads(second)["images"])


def test_the_catalog_of_a_seed_is_the_same_on_every_database():
    seed("--count", 40, "--seed", 7)
    assert hashlib.sha256(export().encode()).hexdigest() == SEED_7_EXPORT_SHA256


def test_a_generated_row_names_every_image_column_and_only_those():
    columns = {field.column for field in Image._meta.concrete_fields}
    assert set(ImageRow._fields) == columns
    assert len(ImageRow._fields) == len(columns)
    assert set(MemberRow._fields) == {
        field.column for field in ImageMember._meta.concrete_fields
    } - {"id", "image_id"}


def test_times_are_anchored_to_fixed_instants_not_to_now():
    seed("--count", 100, "--since", "2020-01-01", "--until", "2020-07-01T12:00:00Z")
    low, high = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 7, 1, 12, tzinfo=UTC)
    for image in Image.objects.all():
        assert low <= image.created_at <= image.updated_at <= high
        assert image.deleted_at in (None, image.updated_at)


# ------------------------------------------------------------------------------
# A realistic catalog
# ------------------------------------------------------------------------------


def test_the_default_mix_looks_like_an_ims_region():
    seed("--count", 600, "--seed", 5)
    images = Image.objects.all()
    total = images.count()
    share = {
        "windows": images.filter(is_windows=True).count() / total,
        "deleted": images.filter(deleted=True).count() / total,
        "public": images.filter(is_public=True).count() / total,
        "shared": images.filter(members__isnull=False).distinct().count() / total,
        "killed": images.filter(status="killed").count() / total,
        "uploading": images.filter(status__in=["queued", "saving"]).count() / total,
    }
    assert 0.05 <= share["windows"] <= 0.15, share
    assert 0.02 <= share["deleted"] <= 0.09, share
    assert 0.06 <= share["public"] <= 0.15, share
    assert 0.06 <= share["shared"] <= 0.15, share
    assert 0.001 <= share["killed"] <= 0.03, share
    assert 0.005 <= share["uploading"] <= 0.05, share
    assert images.filter(status="pending_delete").exists()
    assert images.filter(protected=True).exists()
    assert set(images.values_list("disk_format", flat=True)) == {
        "zvhd2",
        "qcow2",
        "raw",
        "vhd",
        "iso",
    }
    assert set(images.values_list("container_format", flat=True)) == {"bare"}
    assert set(images.values_list("owner", flat=True)) == set(project_ids(5, 12))
    assert set(ImageMember.objects.values_list("status", flat=True)) == {
        "accepted",
        "pending",
        "rejected",
    }


def test_gold_images_carry_ims_names_and_os_properties():
    seed(
        "--count",
        400,
        "--seed",
        9,
        "--public-share",
        1,
        "--shared-share",
        0,
        "--windows-share",
        0.3,
    )
    names = set(Image.objects.values_list("name", flat=True))
    assert {"CentOS 7.9 64bit", "Ubuntu 22.04 server 64bit", "EulerOS 2.9 64bit"} <= names
    assert "Windows Server 2019 Datacenter 64bit" in names
    owner = project_ids(9, 12)[0]
    assert set(Image.objects.values_list("owner", flat=True)) == {owner}
    centos = Image.objects.filter(name="CentOS 7.9 64bit", status="active").first()
    properties = dict(centos.properties.values_list("key", "value"))
    assert properties == {
        "__os_type": "Linux",
        "__platform": "CentOS",
        "__os_version": "CentOS 7.9 64bit",
        "__os_bit": "64",
        "__imagetype": "gold",
        "__support_kvm": "true",
        "__isregistered": "true",
    }


def test_every_rule_of_the_data_model_holds():
    seed("--count", 500, "--seed", 4, "--deleted-share", 0.2, "--queued-share", 0.1)
    shared = set(ImageMember.objects.values_list("image_id", flat=True))
    properties = {}
    for image_id, key, value in ImageProperty.objects.values_list("image_id", "key", "value"):
        properties.setdefault(image_id, {})[key] = value
    for image in Image.objects.all():
        assert image.id.version == 4
        assert image.version == 1
        assert image.container_format == "bare"
        assert HEX32.match(image.owner)
        assert image.created_at <= image.updated_at
        assert image.deleted == (image.status in ("deleted", "pending_delete"))
        assert (image.deleted_at is not None) == image.deleted
        assert not (image.deleted and image.protected)
        if image.status in ("queued", "saving", "killed"):
            assert (image.size, image.checksum, image.virtual_size) == (None, None, None)
        else:
            assert image.size > 0
            assert HEX32.match(image.checksum)
        image_properties = properties.get(image.id, {})
        assert image.is_windows == properties_say_windows(image_properties)
        assert set(image_properties) <= IMS_PROPERTIES
        if image.is_public:
            assert image_properties["__imagetype"] == "gold"
        assert (image.id in shared) == (image_properties["__imagetype"] == "shared")
    # An image is never shared with its own owner.
    assert not ImageMember.objects.filter(member_id=F("image__owner")).exists()


def test_windows_images_are_flagged_in_every_way_the_contract_names():
    seed("--count", 400, "--seed", 2, "--windows-share", 1, "--public-share", 0)
    windows = Image.objects.filter(is_windows=True)
    assert windows.count() >= 300  # queued and killed ones may carry no OS property
    flagged_by = {
        "__os_type": ImageProperty.objects.filter(key="__os_type", value__iexact="windows"),
        "__platform": ImageProperty.objects.filter(key="__platform", value__iexact="windows"),
        "__os_version": ImageProperty.objects.filter(
            key="__os_version", value__istartswith="windows"
        ),
    }
    for key, matching in flagged_by.items():
        alone = matching.exclude(
            image__properties__key__in=[other for other in flagged_by if other != key]
        )
        assert alone.exists(), f"no image is Windows by {key} alone"
    assert ImageProperty.objects.filter(key="__platform", value="windows").exists()
    assert ImageProperty.objects.filter(key="__os_type", value="WINDOWS").exists()


def test_shares_shape_the_catalog():
    seed(
        "--count",
        300,
        "--owners",
        1,
        "--public-share",
        0,
        "--shared-share",
        0.5,
        "--windows-share",
        0,
        "--deleted-share",
        0,
        "--killed-share",
        0,
        "--queued-share",
        0,
    )
    images = Image.objects.all()
    assert images.count() == 300
    assert not images.filter(is_public=True).exists()
    assert not images.filter(is_windows=True).exists()
    assert set(images.values_list("status", flat=True)) == {"active"}
    assert len(set(images.values_list("owner", flat=True))) == 1
    shared = images.filter(members__isnull=False).distinct().count()
    assert 110 <= shared <= 190
    # With one owner, images are shared with projects that own none.
    assert not ImageMember.objects.filter(member_id__in=images.values("owner")).exists()


# ------------------------------------------------------------------------------
# Appending and replacing
# ------------------------------------------------------------------------------


def test_seeding_refuses_a_catalog_that_holds_images(image_factory):
    kept = image_factory(name="precious")
    with pytest.raises(
        CommandError, match="the catalog holds 1 images; pass --append .* --replace"
    ):
        seed("--count", 10)
    assert list(Image.objects.all()) == [kept]


def test_append_adds_new_ids_and_keeps_what_was_there():
    seed("--count", 100, "--seed", 8)
    before = export()
    output = seed("--count", 100, "--seed", 8, "--append")
    assert "seeded 100 images" in output
    assert Image.objects.count() == 200
    old = {entry["id"]: entry for entry in json.loads(before)["images"]}
    after = {entry["id"]: entry for entry in json.loads(export())["images"]}
    assert all(after[image_id] == entry for image_id, entry in old.items())
    seed("--count", 100, "--seed", 8, "--append")
    assert Image.objects.count() == 300


def test_replace_deletes_the_whole_catalog_first(image_factory):
    image_factory(name="old", properties={"a": "1"}, members=["p"])
    output = seed("--count", 30, "--seed", 6, "--replace")
    assert "replaced 1 images with seeded 30 images" in output
    assert not Image.objects.filter(name="old").exists()
    assert not ImageProperty.objects.filter(key="a").exists()
    assert export() == expected_export(SeedOptions(count=30, seed=6))


def test_append_and_replace_exclude_each_other():
    with pytest.raises(CommandError, match="not allowed with argument"):
        seed("--count", 5, "--append", "--replace")


# ------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--count", 0], "count must be a positive number of images, not 0"),
        (["--count", -5], "count must be a positive number of images, not -5"),
        (["--count", "many"], "not a whole number: 'many'"),
        (["--count", 5, "--owners", 0], "owners must be at least 1, not 0"),
        (["--count", 5, "--public-share", 1.5], "public-share must be between 0 and 1, not 1.5"),
        (["--count", 5, "--windows-share", -0.1], "windows-share must be between 0 and 1"),
        (["--count", 5, "--deleted-share", "half"], "not a fraction between 0 and 1: 'half'"),
        (
            ["--count", 5, "--deleted-share", 0.6, "--killed-share", 0.5],
            "deleted, killed and queued shares add up to 1.12, more than 1",
        ),
        (
            ["--count", 5, "--public-share", 0.7, "--shared-share", 0.5],
            "public and shared shares add up to more than 1",
        ),
        (["--count", 5, "--since", "2030-01-01"], "since must be earlier than until"),
        (["--count", 5, "--until", "tomorrow"], "not an ISO 8601 time: 'tomorrow'"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(args, expected):
    with pytest.raises(CommandError) as error:
        seed(*args)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)
    assert not Image.objects.exists()


def test_the_command_line_refuses_in_one_line_with_a_non_zero_exit():
    completed = subprocess.run(
        [sys.executable, "manage.py", "seed_images", "--count", "many"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.strip() == "CommandError: not a whole number: 'many'"


def test_a_row_the_database_refuses_writes_nothing(monkeypatch, image_factory):
    image_factory(name="kept", properties={"__os_type": "Linux"})
    real = generate_images

    def broken(options):
        for position, seeded in enumerate(real(options)):
            if position == 250:  # in the third batch: the first two are already written
                seeded = seeded._replace(image=seeded.image._replace(checksum="NOT-A-CHECKSUM"))
            yield seeded

    monkeypatch.setattr("catalog.management.commands.seed_images.generate_images", broken)
    monkeypatch.setattr("catalog.bulk_load.BATCH", 100)
    indexes_before = catalog_indexes()
    with pytest.raises(CommandError, match="the database refused the seeded images: .*checksum"):
        seed("--count", 300, "--replace", "--killed-share", 0, "--queued-share", 0)
    assert list(Image.objects.values_list("name", flat=True)) == ["kept"]
    assert ImageProperty.objects.count() == 1
    assert catalog_indexes() == indexes_before


# ------------------------------------------------------------------------------
# PostgreSQL: the bulk load gives the tables back exactly as they were
# ------------------------------------------------------------------------------


def catalog_indexes():
    """Every index and key of the catalog's tables, as the database describes them."""
    tables = [model._meta.db_table for model in (Image, ImageProperty, ImageMember)]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return {
                table: connection.introspection.get_constraints(cursor, table) for table in tables
            }
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])
            UNION ALL
            SELECT indrelid::regclass::text, indexrelid::regclass::text,
                   pg_get_indexdef(indexrelid)
            FROM pg_index WHERE indrelid = ANY(%s::regclass[])
            ORDER BY 1, 2, 3
            """,
            [tables, tables],
        )
        return cursor.fetchall()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the index-deferring bulk load is PostgreSQL's"
)
def test_seeding_gives_back_every_index_and_constraint():
    before = catalog_indexes()
    assert len(before) > 20
    seed("--count", 200)
    assert catalog_indexes() == before
    seed("--count", 50, "--append")
    assert catalog_indexes() == before


# ------------------------------------------------------------------------------
# The background producer
# ------------------------------------------------------------------------------


def test_in_background_yields_everything_in_order():
    assert list(in_background(iter(range(100)))) == list(range(100))


def test_in_background_raises_the_producers_error():
    def failing():
        yield 1
        raise ValueError("broken generator")

    with pytest.raises(ValueError, match="broken generator"):
        list(in_background(failing()))


def test_in_background_stops_its_thread_when_the_consumer_leaves():
    items = in_background(iter(range(10**9)))
    assert next(items) == 0
    items.close()
    assert not any(thread.name == "seed-images" for thread in threading.enumerate())
