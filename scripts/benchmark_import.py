"""Time and peak memory of import_images on SQLite and PostgreSQL (not a test).

    python scripts/benchmark_import.py [--counts 100000 1000000]
        [--database-url postgres://postgres@127.0.0.1:5432/catalog_bench_import]

For each count it generates a catalog file of seeded images (as seed_images makes them), then,
on each database, into an empty migrated catalog and in a process of its own, measures:

* `seed_images --count N`: the same images written by the bulk loader with no file to read,
  the floor that the import is compared with;
* `import_images --dry-run FILE` (on the smallest file only): all of the import, rolled back;
* `import_images FILE`: the import as it ships, each batch loaded into staging tables, then
  moved into the catalog by one statement per table in one transaction at the end;
* the other way to keep an import all or nothing: each batch written straight into the
  catalog's tables, inside one transaction that lasts the whole import.

Wall time and peak resident memory (the kernel's, through scripts/peak_rss.py) of each, written into
docs/benchmarks.md between `<!-- import -->` and `<!-- /import -->`. The PostgreSQL database
named by --database-url is dropped and created for each run; SQLite files are temporary.
"""

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from report_blocks import markers, write_block

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORT = PROJECT_ROOT / "docs" / "benchmarks.md"
BEGIN, END = markers("import")


@dataclass
class Run:
    seconds: float
    peak_mb: float


def run_measured(command: list[str], env: dict) -> Run:
    """Run a command to its end: its wall time and its own peak RSS (scripts/peak_rss.py)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "peak_rss.py"), *command],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{completed.stderr}")
    peak_kib = int(completed.stderr.strip().splitlines()[-1].removeprefix("peak_rss_kib="))
    return Run(seconds, peak_kib / 1024)


class Database:
    """An empty catalog to import into: a temporary SQLite file, or a PostgreSQL database
    dropped and created again."""

    def __init__(self, vendor: str, url: str | None, directory: Path):
        self.vendor = vendor
        self.url = url if vendor == "postgresql" else f"sqlite:///{directory / 'import.sqlite3'}"
        self.directory = directory

    def fresh(self) -> dict:
        if self.vendor == "postgresql":
            parts = urlsplit(self.url)
            name = parts.path.lstrip("/")
            admin = urlunsplit(parts._replace(path="/postgres"))
            import psycopg2

            connection = psycopg2.connect(admin)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{name}"')
            connection.close()
        else:
            for leftover in self.directory.glob("import.sqlite3*"):
                leftover.unlink()
        env = {**os.environ, "DATABASE_URL": self.url}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        run_measured([sys.executable, "manage.py", "migrate", "--verbosity", "0"], env)
        return env


def generate(path: Path, count: int) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsproject.settings")
    import django

    django.setup()
    from catalog.catalog_file import entry_for_seeded, write_catalog
    from catalog.seeding import SeedOptions, generate_images

    with path.open("w", encoding="utf-8") as stream:
        write_catalog(
            generate_images(SeedOptions(count=count, seed=1)), stream.write, entry_for_seeded
        )


def one_transaction_import(path: str) -> None:
    """The other way, run in a process of its own by --one-transaction: every batch written
    straight into the catalog's tables inside one transaction (new images only: the catalog
    it is measured on is empty, though each batch still asks which of its ids exist)."""
    sys.path.insert(0, str(PROJECT_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsproject.settings")
    import django

    django.setup()
    from collections import Counter

    from django.db import transaction
    from django.utils import timezone

    from catalog import bulk_load, tally
    from catalog.catalog_file import Problems, read_entries
    from catalog.models import Image

    problems, change, now = Problems(), Counter(), timezone.now()
    with transaction.atomic(), open(path, "rb") as stream:
        writer = bulk_load.writer()
        for batch in bulk_load.batches(read_entries(stream, problems)):
            images = [entry.bulk_row(now=now) for entry in batch]
            ids = [image.image.id for image in images]
            for start in range(0, len(ids), 500):
                if Image.objects.filter(pk__in=ids[start : start + 500]).exists():
                    raise SystemExit("the catalog is not empty")
            writer.write(writer.encode(images))
            change.update(tally.change(after=[tally.bulk_row_of(image) for image in images]))
        if problems:
            raise SystemExit(problems.lines[0])
        tally.add(change)


def images_in(database_url: str) -> int:
    """How many images a run left in the catalog: each must have imported the whole file."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    else:
        import psycopg2

        connection = psycopg2.connect(database_url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT COUNT(*) FROM catalog_image")
        return cursor.fetchone()[0]
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/catalog_bench_import",
        help="A PostgreSQL database this script may drop and create.",
    )
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--output", default=str(REPORT), help="Report file; - prints only.")
    parser.add_argument("--one-transaction", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_transaction:
        one_transaction_import(args.one_transaction)
        return

    rows = []
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for count in args.counts:
            path = directory / f"catalog-{count}.json"
            generate(path, count)
            size_mb = path.stat().st_size / 1e6
            for vendor in args.databases:
                database = Database(vendor, args.database_url, directory)
                manage = [python, "manage.py"]
                cases = {
                    "seed_images (floor)": [*manage, "seed_images", "--count", str(count)],
                    "import_images --dry-run": [*manage, "import_images", "--dry-run", str(path)],
                    "import_images (staging tables)": [*manage, "import_images", str(path)],
                    "one transaction": [python, __file__, "--one-transaction", str(path)],
                }
                if count > min(args.counts):
                    # As long as the import itself; measured on the smallest file only.
                    del cases["import_images --dry-run"]
                floor = None
                for label, command in cases.items():
                    env = database.fresh()
                    run = run_measured(command, env)
                    expected = 0 if "--dry-run" in command else count
                    if images_in(env["DATABASE_URL"]) != expected:
                        raise SystemExit(f"{label} left the wrong number of images")
                    floor = floor or run.seconds
                    rows.append((count, size_mb, vendor, label, run, run.seconds / floor))
                    print(
                        f"{count:>9,} {vendor:<10} {label:<32} {run.seconds:8.1f} s "
                        f"{run.peak_mb:7.0f} MB {run.seconds / floor:5.2f}x",
                        flush=True,
                    )
                    # After every row, so that a run cut short still leaves what it measured.
                    if args.output != "-":
                        write_block(Path(args.output), "import", report(rows, args))


def report(rows, args) -> str:
    uname = platform.uname()
    lines = [
        BEGIN,
        "## Importing catalog files",
        "",
        "Written by `scripts/benchmark_import.py`; run it again to refresh this section.",
        "",
        f"* Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {uname.system} {uname.machine}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        f"* Command: `{shlex.join(['python', 'scripts/benchmark_import.py', *sys.argv[1:]])}`",
        "* Each row is one process of its own into an empty, migrated catalog: wall time, and "
        "peak resident memory as the kernel counted it (`scripts/peak_rss.py`). The ratio is "
        "against `seed_images` of the same count on the same database, which writes the same rows "
        "with the bulk loader and reads no file.",
        "",
        "| Images | File | Database | Run | Time | Peak RSS | Ratio |",
        "|---:|---:|---|---|---:|---:|---:|",
    ]
    for count, size_mb, vendor, label, run, ratio in rows:
        lines.append(
            f"| {count:,} | {size_mb:,.0f} MB | {vendor} | {label} | {run.seconds:,.1f} s "
            f"| {run.peak_mb:,.0f} MB | {ratio:.2f}x |"
        )
    lines += ["", END, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
