"""import_images reads a file as a stream: every problem reported at once, batches written in
one transaction, memory flat in the file's size (docs/operations.md#import_images)."""

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection

from catalog import bulk_load, staging, tally
from catalog.catalog_file import PROBLEMS_SHOWN, entry_for_seeded, write_catalog
from catalog.management import progress
from catalog.models import Image, ImageMember, ImageProperty
from catalog.seeding import SeedOptions, generate_images
from catalog.staging import Staging

from .server import ServerDatabase

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def entry(n, **fields):
    base = {
        "id": str(uuid.UUID(int=n, version=4)),
        "name": f"image-{n}",
        "status": "active",
        "owner": f"project-{n % 3}",
        "created_at": "2020-01-01T00:00:00.000000",
        "updated_at": "2020-01-02T00:00:00.000000",
        "properties": {"__os_type": "Linux", "__platform": "Ubuntu"},
    }
    return {**base, **fields}


def write(tmp_path, images):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"images": images}), encoding="utf-8")
    return path


def refused(path, *args):
    """(the problem lines on stderr, the closing line) of an import that must be refused."""
    err = io.StringIO()
    with pytest.raises(CommandError) as refusal:
        call_command("import_images", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines(), str(refusal.value)


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_every_bad_entry_is_listed_with_each_bad_field(tmp_path, dry_run):
    images = [
        entry(1),
        entry(2, size=-1, is_public="yes"),
        entry(3),
        {"status": "bogus"},
        entry(5, members=[{"member_id": "p", "status": "maybe"}]),
        entry(1, name="again"),
    ]
    path = write(tmp_path, images)
    lines, summary = refused(path, *(["--dry-run"] if dry_run else []))
    assert lines == [
        f"{path}: entry 2 (id {entry(2)['id']}): size: Input should be greater than or equal to 0",
        f"{path}: entry 2 (id {entry(2)['id']}): is_public: Input should be a valid boolean",
        f"{path}: entry 4 (no id): status: Input should be 'queued', 'saving', 'active', "
        "'killed', 'deleted' or 'pending_delete'",
        f"{path}: entry 5 (id {entry(5)['id']}): members.0.status: Input should be 'pending', "
        "'accepted' or 'rejected'",
        f"{path}: entry 6 (id {entry(1)['id']}): id: the same id as entry 1",
    ]
    assert summary == f"{path}: 5 problems in 4 entries; nothing was imported"
    assert not Image.objects.exists()


def test_past_the_first_hundred_lines_the_rest_are_counted(tmp_path):
    images = [entry(n, min_ram=-1, min_disk=-1) for n in range(1, 80)]
    lines, summary = refused(write(tmp_path, images))
    assert len(lines) == PROBLEMS_SHOWN + 1
    assert lines[PROBLEMS_SHOWN - 1].endswith(
        f"entry 50 (id {entry(50)['id']}): min_disk: Input should be greater than or equal to 0"
    )
    assert lines[-1] == f"and {2 * 79 - PROBLEMS_SHOWN} more"
    assert summary.endswith(": 158 problems in 79 entries; nothing was imported")


def test_a_bad_entry_after_batches_were_written_rolls_every_batch_back(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk_load, "BATCH", 3)
    call_command(
        "import_images", str(write(tmp_path, [entry(1, name="before")])), stdout=io.StringIO()
    )
    counted = tally.stored()
    images = [entry(n) for n in range(1, 11)] + [entry(11, size="big")]
    lines, _ = refused(write(tmp_path, images))
    assert len(lines) == 1
    assert "entry 11" in lines[0]
    assert list(Image.objects.values_list("name", flat=True)) == ["before"]
    assert ImageProperty.objects.count() == 2
    assert tally.stored() == counted


def test_a_file_broken_off_midway_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk_load, "BATCH", 2)
    text = json.dumps({"images": [entry(n) for n in range(1, 8)]})
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) - 40])
    (line,), summary = refused(path)
    assert line.startswith(f"{path}: not a JSON document after entry 6: ")
    assert summary == f"{path}: 1 problem; nothing was imported"
    assert not Image.objects.exists()


def test_batches_write_new_and_replace_existing_images_and_keep_the_tally(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk_load, "BATCH", 4)
    # The existing ids are found a page at a time: two pages here, the last one short.
    monkeypatch.setattr(staging, "_IDS_PER_QUERY", 2)
    first = [entry(n, members=[{"member_id": "project-x"}]) for n in range(1, 6)]
    call_command("import_images", str(write(tmp_path, first)), stdout=io.StringIO())
    second = [
        entry(n, name=f"renamed-{n}", properties={"__os_type": "Windows"}) for n in range(3, 10)
    ]
    out = io.StringIO()
    call_command("import_images", str(write(tmp_path, second)), stdout=out)
    assert "created 4 and updated 3 images" in out.getvalue()
    assert Image.objects.count() == 9
    assert Image.objects.filter(is_windows=True).count() == 7
    assert Image.objects.get(pk=entry(3)["id"]).version == 2
    assert not ImageMember.objects.filter(image_id=entry(3)["id"]).exists()
    assert ImageMember.objects.filter(image_id=entry(1)["id"]).exists()
    assert tally.stored() == tally.count_all()


def test_a_terminal_sees_a_progress_bar_of_the_bytes_read(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    path = write(tmp_path, [entry(n) for n in range(1, 4)])
    call_command("import_images", str(path), stdout=io.StringIO())
    bar = capsys.readouterr().err
    assert bar.startswith("\rimporting:")
    assert f"/{path.stat().st_size} [" in bar  # out of the file's size in bytes


def test_no_terminal_no_progress_bar(tmp_path, capsys):
    call_command("import_images", str(write(tmp_path, [entry(1)])), stdout=io.StringIO())
    assert capsys.readouterr().err == ""


# A generated catalog file of this many images, imported by the command in a process of its
# own, whose peak memory is then read from the kernel.
LARGE_FILE_IMAGES = 200_000
# The old reader held ~9 KB an image (1.8 GB here); streaming holds a batch and the ids seen.
PEAK_MEMORY_LIMIT_MB = 250


@pytest.fixture
def generated_catalog(tmp_path):
    """A file of LARGE_FILE_IMAGES generated images, as seed_images makes them."""
    path = tmp_path / "generated.json"
    with path.open("w", encoding="utf-8") as stream:
        images = generate_images(SeedOptions(count=LARGE_FILE_IMAGES, seed=7))
        write_catalog(images, stream.write, as_entry=entry_for_seeded)
    return path


def test_a_large_file_imports_within_a_flat_memory_limit(generated_catalog, tmp_path):
    target = ServerDatabase(tmp_path, suffix="import")
    target.create()
    try:
        env = {**os.environ, "DATABASE_URL": target.url}
        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [*manage, "migrate", "--verbosity", "0"],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        # Through a small launcher: a process forked from this test run would be charged the
        # run's own memory until it execs (scripts/peak_rss.py).
        completed = subprocess.run(
            [
                sys.executable,
                "scripts/peak_rss.py",
                *manage,
                "import_images",
                str(generated_catalog),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        assert f"created {LARGE_FILE_IMAGES} and updated 0 images" in completed.stdout
        peak_kib = int(completed.stderr.splitlines()[-1].removeprefix("peak_rss_kib="))
        assert peak_kib / 1024 < PEAK_MEMORY_LIMIT_MB
    finally:
        target.drop()


def test_a_refusal_while_moving_the_rows_leaves_the_catalog_as_it_was(tmp_path, monkeypatch):
    call_command("import_images", str(write(tmp_path, [entry(1)])), stdout=io.StringIO())
    counted = tally.stored()
    real_move = Staging.move

    def move_then_fail(self):
        real_move(self)  # every row is in the catalog's tables now, uncommitted
        raise DatabaseError("deadlock detected")

    monkeypatch.setattr(Staging, "move", move_then_fail)
    images = [entry(1, name="renamed"), entry(2), entry(3)]
    with pytest.raises(CommandError, match="the database refused the import: deadlock detected"):
        call_command("import_images", str(write(tmp_path, images)), stdout=io.StringIO())
    assert list(Image.objects.values_list("name", flat=True)) == ["image-1"]
    assert tally.stored() == counted
    assert not staged_tables()

    monkeypatch.setattr(Staging, "move", real_move)
    out = io.StringIO()
    call_command("import_images", str(write(tmp_path, images)), stdout=out)
    assert "created 2 and updated 1 images" in out.getvalue()
    assert not staged_tables()


def staged_tables() -> list[str]:
    """The import's staging tables that this connection's session still holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relpersistence = 't' "
                "AND relname LIKE 'catalog_import_%%'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE name LIKE 'catalog_import_%'")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY writer is PostgreSQL's (SQLite INSERTs)"
)
def test_the_copy_writer_forgets_escaped_values_past_its_bound(monkeypatch):
    monkeypatch.setattr(bulk_load, "_ESCAPES_KEPT", 3)
    writer = bulk_load.PostgresWriter()
    for n in range(10):
        assert writer._escape(f"value\t{n}") == f"value\\t{n}"
        assert len(writer.escaped) <= 4
