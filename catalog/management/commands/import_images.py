import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from catalog.catalog_file import CatalogFileError, read_catalog
from catalog.database import error_line
from catalog.management.progress import progress
from catalog.services import images_import


class Command(BaseCommand):
    help = (
        "Load a catalog file (the legacy listing envelope plus optional members). "
        "New ids are inserted, existing ones updated; one bad entry and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the catalog file, or - for standard input.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and count only; write nothing."
        )

    def handle(self, *args, file: str, dry_run: bool, **options):
        source = "standard input" if file == "-" else file
        try:
            if file == "-":
                entries = read_catalog(sys.stdin.buffer)
            else:
                with open(file, "rb") as stream:
                    entries = read_catalog(stream)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        except CatalogFileError as error:
            raise CommandError(f"{source}: {error}") from None

        try:
            result = images_import(
                entries=entries,
                dry_run=dry_run,
                progress=progress(entries, desc="importing"),
            )
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
