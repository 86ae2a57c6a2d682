from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from catalog import tally
from catalog.bulk_load import delete_catalog, load_images
from catalog.database import error_line
from catalog.management.progress import progress
from catalog.models import Image
from catalog.seeding import (
    DEFAULT_SINCE,
    DEFAULT_UNTIL,
    SeedOptions,
    SeedOptionsError,
    generate_images,
)
from catalog.timestamps import TimestampError, parse_timestamp
from catalog.validators import control_character_problem

# Options arrive as text and are converted in handle(), so that a bad value is refused with
# the one-line CommandError of every other bad input (argparse would print its usage first).


def _refuse_control_characters(options: dict) -> None:
    # int() and float() would read "12\x1f" as 12: the catalog's rule for text comes first.
    for name, value in options.items():
        problem = control_character_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise CommandError(f"--{name.replace('_', '-')} {problem}")


def _timestamp(text) -> datetime:
    if isinstance(text, datetime):
        return text
    try:
        return parse_timestamp(text)
    except TimestampError as error:
        raise CommandError(str(error)) from None


def _whole_number(text) -> int:
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"not a whole number: {text!r}") from None


def _share(text) -> float:
    try:
        return float(text)
    except ValueError:
        raise CommandError(f"not a fraction between 0 and 1: {text!r}") from None


class Command(BaseCommand):
    help = (
        "Generate N realistic images (IMS names, formats, sizes, checksums and OS properties; "
        "public, private, shared, deleted, killed, queued and Windows images of several owners). "
        "The same options give the same catalog. An empty catalog is filled; a catalog that "
        "holds images needs --append (add to it) or --replace (delete every image first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", required=True, help="Images to generate.")
        parser.add_argument("--seed", default=0, help="Random seed (default 0).")
        parser.add_argument(
            "--owners",
            default=12,
            help="Owner projects (default 12); the first owns public images.",
        )
        shares = (
            ("public", 0.10, "public (gold) images"),
            ("shared", 0.10, "private images shared with other projects"),
            ("windows", 0.10, "Windows images (hidden by the API)"),
            ("deleted", 0.05, "deleted images (a tenth of them pending_delete)"),
            ("killed", 0.01, "killed images (no size or checksum)"),
            ("queued", 0.02, "images still uploading: queued or saving (no size or checksum)"),
            ("protected", 0.03, "active images that are protected"),
        )
        for name, default, meaning in shares:
            parser.add_argument(
                f"--{name}-share",
                default=default,
                metavar="FRACTION",
                help=f"Share of {meaning}, 0 to 1 (default {default}).",
            )
        parser.add_argument(
            "--since",
            default=DEFAULT_SINCE,
            help=f"Earliest creation time (default {DEFAULT_SINCE:%Y-%m-%d}).",
        )
        parser.add_argument(
            "--until",
            default=DEFAULT_UNTIL,
            help=f"Latest creation or update time (default {DEFAULT_UNTIL:%Y-%m-%d}); "
            "fixed, so a seed gives the same catalog whenever it runs.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--append",
            action="store_true",
            help="Add to the images already there (new ids, a random stream of their own).",
        )
        mode.add_argument(
            "--replace",
            action="store_true",
            help="Delete every image, with its properties and members, before seeding.",
        )

    def handle(self, *args, count, seed, owners, since, until, append, replace, **options):
        shares = {key: value for key, value in options.items() if key.endswith("_share")}
        _refuse_control_characters(
            {"count": count, "seed": seed, "owners": owners, "since": since, "until": until}
            | shares
        )
        count, seed, owners = _whole_number(count), _whole_number(seed), _whole_number(owners)
        since, until = _timestamp(since), _timestamp(until)
        shares = {key: _share(value) for key, value in shares.items()}
        try:
            with transaction.atomic():
                existing = Image.objects.count()
                try:
                    seed_options = SeedOptions(
                        count=count,
                        seed=seed,
                        owners=owners,
                        since=since,
                        until=until,
                        # Appended images draw from a random stream of their own.
                        offset=existing if append else 0,
                        **shares,
                    )
                except SeedOptionsError as error:
                    raise CommandError(str(error)) from None
                if existing and not (append or replace):
                    raise CommandError(
                        f"the catalog holds {existing} images; pass --append to add to them "
                        "or --replace to delete them all first"
                    )
                if replace:
                    delete_catalog()
                with progress(total=count, desc="seeding") as bar:
                    load_images(
                        generate_images(seed_options),
                        into_empty=not existing or replace,
                        written=bar.update,
                    )
                # The rows went in without the services, which keep the overview's counts.
                tally.rebuild()
        except DatabaseError as error:
            raise CommandError(
                f"the database refused the seeded images: {error_line(error)}"
            ) from None

        removed = f"replaced {existing} images with " if replace and existing else ""
        self.stdout.write(self.style.SUCCESS(f"{removed}seeded {count} images (seed {seed})"))
