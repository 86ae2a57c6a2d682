import io
import queue
import threading
import uuid
from contextlib import closing, contextmanager, nullcontext
from datetime import datetime
from itertools import islice
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction

from catalog.database import blocking_waits
from catalog.management.progress import progress
from catalog.models import Image, ImageMember, ImageProperty
from catalog.seeding import (
    DEFAULT_SINCE,
    DEFAULT_UNTIL,
    IMAGE_COLUMNS,
    SeedOptions,
    SeedOptionsError,
    generate_images,
)
from catalog.timestamps import TimestampError, parse_timestamp
from catalog.validators import control_character_problem

BATCH = 5000


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
            # Checked before anything is written; the offset is set below.
            SeedOptions(count=count, seed=seed, owners=owners, since=since, until=until, **shares)
        except SeedOptionsError as error:
            raise CommandError(str(error)) from None

        try:
            with transaction.atomic():
                existing = Image.objects.count()
                if existing and not (append or replace):
                    raise CommandError(
                        f"the catalog holds {existing} images; pass --append to add to them "
                        "or --replace to delete them all first"
                    )
                if replace:
                    _delete_catalog()
                settings = SeedOptions(
                    count=count,
                    seed=seed,
                    owners=owners,
                    since=since,
                    until=until,
                    offset=existing if append else 0,
                    **shares,
                )
                writer: PostgresWriter | SqlWriter
                if connection.vendor == "postgresql":
                    writer = PostgresWriter()
                    # Into empty tables, loading first and indexing after is several times
                    # faster than keeping every index up to date row by row.
                    indexing = deferred_indexes() if not existing or replace else nullcontext()
                else:
                    writer, indexing = SqlWriter(), nullcontext()
                batches = (writer.encode(batch) for batch in _batches(generate_images(settings)))
                if connection.vendor == "postgresql":
                    # Generating is Python's work and COPY is the server's: overlap them.
                    batches = in_background(batches)
                with indexing, closing(batches), progress(total=count, desc="seeding") as bar:
                    for encoded in batches:
                        bar.update(writer.write(encoded))
                if connection.vendor == "postgresql":
                    # Fresh statistics, so the first queries on the new catalog get good plans.
                    with connection.cursor() as cursor:
                        cursor.execute(f"ANALYZE {', '.join(_quoted(_CATALOG_TABLES))}")
        except DatabaseError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise CommandError(f"the database refused the seeded images: {first_line}") from None

        removed = f"replaced {existing} images with " if replace and existing else ""
        self.stdout.write(self.style.SUCCESS(f"{removed}seeded {count} images (seed {seed})"))


def _batches(rows):
    while batch := list(islice(rows, BATCH)):
        yield batch


def in_background(iterable, depth: int = 2):
    """Yield the items of `iterable`, computed by a thread that keeps `depth` items ahead.

    An error in the thread is raised here; leaving the loop early stops the thread.
    """
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterable:
                if not offer((True, item)):
                    return
            offer((False, None))
        except Exception as error:
            offer((False, error))

    thread = threading.Thread(target=produce, name="seed-images", daemon=True)
    thread.start()
    try:
        while True:
            more, item = ready.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


_CATALOG_TABLES = [model._meta.db_table for model in (Image, ImageProperty, ImageMember)]


def _quoted(names):
    return [connection.ops.quote_name(name) for name in names]


def _delete_catalog():
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with foreign-key checks still deferred in this transaction.
        connection.check_constraints()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(_quoted(_CATALOG_TABLES))}")
    else:
        for model in (ImageProperty, ImageMember, Image):
            model.objects.all().delete()


_PROPERTY_COLUMNS = ("image_id", "key", "value")
_MEMBER_COLUMNS = ("image_id", "member_id", "can_share", "status")


def _insert_sql(model, columns) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"


class SqlWriter:
    """Batched INSERTs through Django's cursor, with its own value adapters (SQLite)."""

    def __init__(self):
        self.images = _insert_sql(Image, IMAGE_COLUMNS)
        self.properties = _insert_sql(ImageProperty, _PROPERTY_COLUMNS)
        self.members = _insert_sql(ImageMember, _MEMBER_COLUMNS)
        ops = connection.ops
        self.moment = ops.adapt_datetimefield_value
        # Without a native UUID type Django stores the 32 hex digits; with one, the UUID.
        self.native_uuid = connection.features.has_native_uuid_field

    def encode(self, batch):
        moment = self.moment
        images, properties, members = [], [], []
        for image, image_properties, image_members in batch:
            row = list(image)
            row[13], row[14], row[16] = moment(row[13]), moment(row[14]), moment(row[16])
            image_id = row[0] = uuid.UUID(row[0]) if self.native_uuid else row[0]
            images.append(row)
            properties += [(image_id, key, value) for key, value in image_properties.items()]
            members += [(image_id, *member) for member in image_members]
        return images, properties, members

    def write(self, encoded) -> int:
        images, properties, members = encoded
        with connection.cursor() as cursor:
            cursor.executemany(self.images, images)
            if properties:
                cursor.executemany(self.properties, properties)
            if members:
                cursor.executemany(self.members, members)
        return len(images)


NULL = "\\N"  # COPY's text format spells NULL \N


_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def _copy_text(value: str) -> str:
    for special, escaped in _COPY_ESCAPES:
        value = value.replace(special, escaped)
    return value


class PostgresWriter:
    """COPY, the fastest way into PostgreSQL: a million images in about a minute."""

    def __init__(self):
        connection.ensure_connection()
        self.raw = connection.connection.cursor()
        quote = connection.ops.quote_name

        def copy(model, columns):
            names = ", ".join(quote(column) for column in columns)
            return f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"

        self.images = copy(Image, IMAGE_COLUMNS)
        self.properties = copy(ImageProperty, _PROPERTY_COLUMNS)
        self.members = copy(ImageMember, _MEMBER_COLUMNS)
        # Keys and values repeat endlessly; escape each distinct one once.
        self.escaped = {}
        self.property_rows = {}

    def _escape(self, value: str) -> str:
        escaped = self.escaped.get(value)
        if escaped is None:
            escaped = self.escaped[value] = _copy_text(value)
        return escaped

    def _property_rows(self, properties) -> str:
        """The COPY rows of a property set, with NUL (never valid in text) for the image id.

        Images share a few property sets, so each is formatted once and its rows are made
        for an image by one replace.
        """
        key = tuple(properties.items())
        rows = self.property_rows.get(key)
        if rows is None:
            if len(self.property_rows) > 10_000:
                self.property_rows.clear()
            escape = self._escape
            rows = self.property_rows[key] = "".join(
                f"\0\t{escape(name)}\t{escape(value)}\n" for name, value in key
            )
        return rows

    def encode(self, batch):
        """COPY's text format for a batch; pure Python, so it can run in another thread."""
        escape = self._escape
        images, properties, members = io.StringIO(), io.StringIO(), io.StringIO()
        for image, image_properties, image_members in batch:
            (
                image_id,
                name,
                status,
                container_format,
                disk_format,
                size,
                virtual_size,
                checksum,
                min_ram,
                min_disk,
                is_public,
                protected,
                owner,
                created_at,
                updated_at,
                deleted,
                deleted_at,
                is_windows,
                version,
            ) = image
            images.write(
                f"{image_id}\t{NULL if name is None else _copy_text(name)}\t{status}\t"
                f"{NULL if container_format is None else container_format}\t"
                f"{NULL if disk_format is None else disk_format}\t"
                f"{NULL if size is None else size}\t"
                f"{NULL if virtual_size is None else virtual_size}\t"
                f"{NULL if checksum is None else checksum}\t{min_ram}\t{min_disk}\t"
                f"{'t' if is_public else 'f'}\t{'t' if protected else 'f'}\t"
                f"{NULL if owner is None else escape(owner)}\t"
                f"{created_at.isoformat(' ')}\t{updated_at.isoformat(' ')}\t"
                f"{'t' if deleted else 'f'}\t"
                f"{NULL if deleted_at is None else deleted_at.isoformat(' ')}\t"
                f"{'t' if is_windows else 'f'}\t{version}\n"
            )
            properties.write(self._property_rows(image_properties).replace("\0", image_id))
            for member_id, can_share, member_status in image_members:
                members.write(
                    f"{image_id}\t{escape(member_id)}\t{'t' if can_share else 'f'}\t"
                    f"{member_status}\n"
                )
        # Encoded here, so COPY sends the bytes in one go without Python's help.
        texts = (images, properties, members)
        return len(batch), *(text.getvalue().encode() for text in texts)

    def write(self, encoded) -> int:
        count, *texts = encoded
        # The raw cursor bypasses Django's: let its errors become django.db's all the same.
        # psycopg2 refuses COPY while the wait callback (catalog.database) is installed.
        with connection.wrap_database_errors, blocking_waits():
            statements = (self.images, self.properties, self.members)
            for sql, data in zip(statements, texts, strict=True):
                if data:
                    self.raw.copy_expert(sql, io.BytesIO(data), size=len(data))
        return count


@contextmanager
def deferred_indexes():
    """Drop the catalog's indexes, keys and foreign keys; re-create them identically after.

    PostgreSQL's recipe for populating a database: building an index from a full table is a
    sort, much faster than inserting a million entries one by one, and a foreign key added to
    full tables is checked by one join instead of a lookup per row. Everything happens inside
    the caller's transaction, so a failure restores the definitions, and the constraints are
    verified again when they are added back: no rule is skipped. The tables are locked
    meanwhile (seeding replaces the whole catalog anyway).
    """
    connection.check_constraints()  # ALTER TABLE refuses tables with deferred checks pending
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
            FROM pg_constraint
            WHERE (contype IN ('p', 'u', 'x') AND conrelid = ANY(%(tables)s::regclass[]))
               OR (contype = 'f' AND (conrelid = ANY(%(tables)s::regclass[])
                                      OR confrelid = ANY(%(tables)s::regclass[])))
            ORDER BY contype = 'f' DESC, oid
            """,
            {"tables": _CATALOG_TABLES},
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
            FROM pg_index
            WHERE indrelid = ANY(%(tables)s::regclass[])
              AND indexrelid NOT IN (
                  SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x')
              )
            ORDER BY indexrelid
            """,
            {"tables": _CATALOG_TABLES},
        )
        indexes = cursor.fetchall()
        quote = connection.ops.quote_name
        # Foreign keys first: they depend on the primary keys.
        for table, name, _definition, _kind in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for index, _definition in indexes:
            cursor.execute(f"DROP INDEX {index}")

    yield

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Keys first, then the plain indexes, then the foreign keys (checked against the keys).
        keys = [c for c in reversed(constraints) if c[3] != "f"]
        foreign_keys = [c for c in reversed(constraints) if c[3] == "f"]
        for table, name, definition, _kind in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        for _index, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _kind in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
