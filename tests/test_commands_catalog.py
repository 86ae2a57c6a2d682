"""import_images and export_images (docs/operations.md#import_images,
docs/operations.md#export_images)."""

import io
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.catalog_file import CatalogFileError, check_catalog, read_catalog
from catalog.models import Image, ImageMember, ImageProperty
from catalog.services import image_soft_delete

from .factories import SEED_CIRROS

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_ROOT / "catalog" / "fixtures" / "sample-catalog.json"


def entry(n, **fields):
    base = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": f"image-{n}",
        "status": "active",
        "created_at": "2020-01-01T00:00:00.000000",
        "updated_at": "2020-01-02T00:00:00.000000",
    }
    return {**base, **fields}


def write(tmp_path, images, name="catalog.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"images": images}, ensure_ascii=False), encoding="utf-8")
    return path


def run_import(path, *args):
    out = io.StringIO()
    call_command("import_images", str(path), *args, stdout=out)
    return out.getvalue()


def refused_import(path, *args):
    """An import that must be refused: (the lines it wrote to stderr, its closing line)."""
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_images", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines(), str(refused.value)


def export(tmp_path, name="export.json"):
    path = tmp_path / name
    call_command("export_images", "--output", str(path), stderr=io.StringIO())
    return path.read_text(encoding="utf-8")


def test_a_saved_api_response_imports_unchanged(tmp_path):
    output = run_import(write(tmp_path, [SEED_CIRROS]))
    assert "created 1 and updated 0" in output
    image = Image.objects.get()
    assert (str(image.id), image.name, image.size, image.checksum) == (
        SEED_CIRROS["id"],
        "cirros",
        13167616,
        SEED_CIRROS["checksum"],
    )
    assert image.created_at == datetime(2016, 5, 22, 6, 4, 20, 425843, tzinfo=UTC)
    assert image.updated_at == datetime(2016, 5, 22, 6, 4, 22, 719791, tzinfo=UTC)


def test_round_trip_through_an_empty_database_is_lossless(tmp_path, django_db_blocker):
    run_import(SAMPLE)
    image_soft_delete(image=Image.objects.get(name="cirros"))
    first = export(tmp_path, "first.json")

    ImageProperty.objects.all().delete()
    ImageMember.objects.all().delete()
    Image.objects.all().delete()
    run_import(tmp_path / "first.json")
    second = export(tmp_path, "second.json")

    assert first == second
    exported = json.loads(first)["images"]
    assert len(exported) == len(json.loads(SAMPLE.read_text())["images"])
    # Deleted and Windows images are part of the catalog, and deleted ones keep their properties.
    assert any(e["deleted"] and e["properties"] for e in exported)
    assert any(e["properties"].get("__os_type") == "Windows" for e in exported)
    assert any("members" in e for e in exported)


def test_export_writes_one_entry_per_line_in_the_listing_key_order(tmp_path):
    run_import(write(tmp_path, [SEED_CIRROS]))
    lines = export(tmp_path).splitlines()
    assert lines[0] == '{"images": ['
    assert lines[-1] == "]}"
    assert list(json.loads(lines[1])) == [
        "id", "name", "status", "container_format", "disk_format", "size", "virtual_size",
        "checksum", "min_ram", "min_disk", "is_public", "protected", "owner", "created_at",
        "updated_at", "deleted", "deleted_at", "properties",
    ]  # fmt: skip


def test_export_of_an_empty_catalog_imports_as_nothing(tmp_path):
    assert export(tmp_path) == '{"images": []}\n'
    assert "created 0 and updated 0" in run_import(tmp_path / "export.json")


def test_export_to_standard_output(capsys):
    out = io.StringIO()
    call_command("import_images", str(SAMPLE), stdout=io.StringIO())
    call_command("export_images", stdout=out, stderr=io.StringIO())
    assert len(json.loads(out.getvalue())["images"]) == Image.objects.count()


def test_import_updates_existing_ids_and_inserts_new_ones(tmp_path):
    run_import(
        write(tmp_path, [entry(1, properties={"a": "1", "b": "2"}, members=[{"member_id": "p"}])])
    )
    output = run_import(
        write(tmp_path, [entry(1, name="renamed", properties={"a": "9"}), entry(2)], "second.json")
    )
    assert "created 1 and updated 1" in output
    first = Image.objects.get(pk=entry(1)["id"])
    assert first.name == "renamed"
    assert dict(first.properties.values_list("key", "value")) == {"a": "9"}
    assert not first.members.exists()
    assert Image.objects.count() == 2


def test_import_keeps_timestamps_and_converts_offsets_to_utc(tmp_path):
    run_import(
        write(
            tmp_path,
            [
                entry(
                    1,
                    created_at="2016-01-01T10:00:00+01:00",
                    updated_at="20160102",
                    deleted=True,
                    deleted_at="2016-01-03 04:05:06.5Z",
                    status="deleted",
                )
            ],
        )
    )
    image = Image.objects.get()
    assert image.created_at == datetime(2016, 1, 1, 9, 0, tzinfo=UTC)
    assert image.updated_at == datetime(2016, 1, 2, tzinfo=UTC)
    assert image.deleted_at == datetime(2016, 1, 3, 4, 5, 6, 500000, tzinfo=UTC)


def test_import_fills_in_what_is_missing(tmp_path):
    before = datetime.now(UTC)
    run_import(write(tmp_path, [{"name": "minimal"}, {"name": "gone", "deleted": True}]))
    minimal = Image.objects.get(name="minimal")
    assert minimal.status == "queued"
    assert minimal.min_ram == 0
    assert minimal.is_public is False
    assert minimal.created_at >= before
    assert minimal.updated_at >= before
    gone = Image.objects.get(name="gone")
    assert gone.deleted_at == gone.updated_at


def test_import_sets_the_windows_flag(tmp_path):
    run_import(write(tmp_path, [entry(1, properties={"__platform": "Windows"}), entry(2)]))
    assert list(Image.objects.order_by("name").values_list("is_windows", flat=True)) == [
        True,
        False,
    ]


def test_dry_run_validates_and_writes_nothing(tmp_path):
    output = run_import(write(tmp_path, [entry(1), entry(2)]), "--dry-run")
    assert "would create 2 and would update 0" in output
    assert not Image.objects.exists()


def test_import_reads_standard_input(monkeypatch):
    data = json.dumps({"images": [entry(1)]}).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert "created 1" in run_import("-")
    assert Image.objects.count() == 1


def test_one_bad_entry_in_the_middle_writes_nothing(tmp_path):
    run_import(write(tmp_path, [entry(1, name="before")], "existing.json"))
    images = [entry(1, name="changed"), entry(2), entry(3, size=-5), entry(4)]
    lines, summary = refused_import(write(tmp_path, images))
    assert lines == [
        f"{tmp_path / 'catalog.json'}: entry 3 (id {entry(3)['id']}): "
        "size: Input should be greater than or equal to 0"
    ]
    assert summary == f"{tmp_path / 'catalog.json'}: 1 problem in 1 entry; nothing was imported"
    assert list(Image.objects.values_list("name", flat=True)) == ["before"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"size": "12"}, "size: Input should be a valid integer"),
        ({"size": 1.5}, "size: Input should be a valid integer"),
        ({"is_public": "true"}, "is_public: Input should be a valid boolean"),
        ({"status": "available"}, "status: Input should be 'queued', 'saving', 'active'"),
        ({"disk_format": "qcow3"}, "disk_format: Input should be"),
        ({"id": "not-a-uuid"}, "id: not a UUID: 'not-a-uuid'"),
        ({"checksum": "XYZ"}, "checksum: String should match pattern"),
        ({"min_ram": None}, "min_ram: Input should be a valid integer"),
        ({"created_at": "yesterday"}, "created_at: not an ISO 8601 time"),
        ({"properties": {"k": 1}}, "properties.k: Input should be a valid string"),
        ({"properties": {"": "v"}}, "properties.'': String should have at least 1 character"),
        ({"members": [{"member_id": "p", "status": "maybe"}]}, "members.0.status: Input should be"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"deleted_at": "2020-01-01"}, "deleted_at: set, but deleted is false"),
        ({"name": "n" * 256}, "name: String should have at most 255 characters"),
        ({"size": 2**63}, "size: Input should be less than or equal to"),
    ],
)
def test_a_bad_entry_is_named_by_position_id_and_field(tmp_path, bad, expected):
    (line,), _ = refused_import(write(tmp_path, [entry(1), {**entry(2), **bad}]))
    assert line.startswith(f"{tmp_path / 'catalog.json'}: entry 2 (id ")
    assert expected in line
    assert not Image.objects.exists()


def test_a_duplicate_id_in_one_file_is_refused(tmp_path):
    lines, _ = refused_import(write(tmp_path, [entry(1), entry(2), entry(1)]))
    assert lines == [
        f"{tmp_path / 'catalog.json'}: entry 3 (id {entry(1)['id']}): id: the same id as entry 1"
    ]


def test_reading_raises_every_error_that_checking_collects():
    images = [entry(1, size=-5), entry(2), entry(3, status="available"), entry(2)]
    data = json.dumps({"images": images}).encode()
    entries, errors = check_catalog(data)
    assert [e.id for e in entries] == [uuid.UUID(entry(2)["id"])]
    assert [error.split(":")[0] for error in errors] == [
        f"entry 1 (id {entry(1)['id']})",
        f"entry 3 (id {entry(3)['id']})",
        f"entry 4 (id {entry(2)['id']})",
    ]
    with pytest.raises(CatalogFileError) as raised:
        read_catalog(io.BytesIO(data))
    assert raised.value.errors == errors
    assert str(raised.value) == errors[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"images": [', "not a JSON document"),
        (b"\xff\xfe not utf-8", "not a JSON document"),
        (b"[]", 'expected {"images": [...]}'),
        (b'{"images": {}}', 'expected {"images": [...]}'),
        (b'{"images": [], "extra": 1}', "unexpected top-level key 'extra'"),
        (b'{"images": [], "images": []}', "the key 'images' appears twice"),
        (b'{"images": [42]}', "entry 1 (no id): entry: Input should be a valid dictionary"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    (line,), summary = refused_import(path)
    assert line.startswith(f"{path}: ")
    assert expected in line
    assert summary.endswith("nothing was imported")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot read .*No such file"):
        run_import(tmp_path / "absent.json")


def test_the_command_line_lists_each_problem_then_refuses_in_one_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [{"status": "unknown"}]}')
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_images", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [
        f"{path}: entry 1 (no id): status: Input should be 'queued', 'saving', 'active', "
        "'killed', 'deleted' or 'pending_delete'",
        f"CommandError: {path}: 1 problem in 1 entry; nothing was imported",
    ]


def test_sample_catalog_holds_the_seed_image_verbatim():
    images = json.loads(SAMPLE.read_text(encoding="utf-8"))["images"]
    cirros = next(image for image in images if image["name"] == "cirros")
    assert cirros == SEED_CIRROS
    assert 25 <= len(images) <= 40


def test_sample_catalog_imports_cleanly():
    output = run_import(SAMPLE)
    count = len(json.loads(SAMPLE.read_text())["images"])
    assert f"created {count} and updated 0" in output
    assert Image.objects.filter(is_windows=True).count() >= 2
    assert Image.objects.filter(deleted=True).exists()
    assert Image.objects.filter(status="killed").exists()
    assert ImageMember.objects.exists()


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"owner": "\x00"}, "owner"),
        ({"properties": {"k": "v\x00"}}, "properties.k"),
        ({"properties": {"k\x00": "v"}}, "properties.'k\\x00'"),
        ({"members": [{"member_id": "p\x00"}]}, "members.0.member_id"),
    ],
)
def test_a_nul_character_is_refused_before_the_database_sees_it(tmp_path, bad, field):
    (line,), _ = refused_import(write(tmp_path, [{**entry(1), **bad}]))
    assert f"{field}: contains the control character U+0000 (" in line
    assert not Image.objects.exists()
