import os
import sys
from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from catalog.catalog_file import CatalogFileError, Problems, read_entries
from catalog.database import error_line
from catalog.management.progress import reading
from catalog.services import images_import


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class Command(BaseCommand):
    help = (
        "Load a catalog file (the legacy listing envelope plus optional members), read as a "
        "stream. New ids are inserted, existing ones updated, all in one transaction; a file "
        "with any bad entry writes nothing, and every problem is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the catalog file, or - for standard input.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and count only; write nothing."
        )

    def handle(self, *args, file: str, dry_run: bool, **options):
        source = "standard input" if file == "-" else file
        problems = Problems()
        with ExitStack() as stack:
            if file == "-":
                stream, size = sys.stdin.buffer, None
            else:
                try:
                    stream = stack.enter_context(open(file, "rb"))
                    size = os.fstat(stream.fileno()).st_size
                except OSError as error:
                    raise CommandError(f"cannot read {file}: {error.strerror}") from None
            read = stack.enter_context(reading(stream, total=size, desc="importing"))
            try:
                result = images_import(
                    entries=read_entries(read, problems), dry_run=dry_run, problems=problems
                )
            except CatalogFileError:
                self._report(source, problems)
            except OSError as error:
                raise CommandError(f"cannot read {file}: {error.strerror}") from None
            except DatabaseError as error:
                raise CommandError(
                    f"{source}: the database refused the import: {error_line(error)}"
                ) from None

        verb = "would create" if dry_run else "created"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {result.created} and {'would update' if dry_run else 'updated'} "
                f"{result.updated} images from {source}"
            )
        )

    def _report(self, source: str, problems: Problems):
        """Every problem on a line of its own (the first ones, then a count), then one line
        that says the file was refused."""
        for line in problems.lines:
            self.stderr.write(f"{source}: {line}")
        if problems.more:
            self.stderr.write(f"and {problems.more} more")
        found = _counted(problems.count, "problem", "problems")
        if problems.entries:
            found += f" in {_counted(problems.entries, 'entry', 'entries')}"
        raise CommandError(f"{source}: {found}; nothing was imported")
