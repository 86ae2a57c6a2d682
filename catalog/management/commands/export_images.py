import os

from django.core.management.base import BaseCommand, CommandError

from catalog.catalog_file import write_catalog
from catalog.database import ROWS_PER_FETCH
from catalog.management.progress import on_terminal, progress
from catalog.models import Image


class Command(BaseCommand):
    help = (
        "Write the whole catalog (deleted and Windows images included) as a catalog file "
        "that import_images reads back into the same catalog."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", default="-", help="File to write; - (the default) is standard output."
        )

    def handle(self, *args, output: str, **options):
        images = (
            Image.objects.order_by("created_at", "id")
            .prefetch_related("properties", "members")
            .iterator(chunk_size=ROWS_PER_FETCH)
        )
        # A COUNT(*) of a million rows only pays off when someone watches the bar.
        total = Image.objects.count() if on_terminal() else None
        bar = progress(images, total=total, desc="exporting")
        if output == "-":
            count = write_catalog(bar, lambda text: self.stdout.write(text, ending=""))
        else:
            try:
                # Write next to the target and rename, so a failed export never leaves half a file.
                partial = f"{output}.partial"
                with open(partial, "w", encoding="utf-8") as stream:
                    count = write_catalog(bar, stream.write)
                os.replace(partial, output)
            except OSError as error:
                raise CommandError(f"cannot write {output}: {error.strerror}") from None
        self.stderr.write(self.style.SUCCESS(f"exported {count} images"))
