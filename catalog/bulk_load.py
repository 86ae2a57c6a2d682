"""The bulk loader: generated images into the catalog's tables as fast as the database takes
them (docs/operations.md#seed_images). Its writers also load an import's staging tables
(catalog.staging, docs/operations.md#import_images).

It writes past catalog.services on purpose: the services build a model instance per image and
per property, and a seeded catalog may hold a million images. Here the rows go out as COPY's
text (PostgreSQL) or as batched INSERTs through Django's cursor (SQLite). They come from
catalog.seeding, which derives their stored columns as the services do (columns_from_properties),
and the database constraints check every row all the same. Into empty PostgreSQL tables, the
indexes, keys and foreign keys are dropped first and built again after, inside the same
transaction.
"""

import io
import queue
import threading
import uuid
from collections.abc import Callable, Generator, Iterable
from contextlib import closing, contextmanager, nullcontext
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from django.db import connection

from .database import blocking_waits
from .models import Image, ImageMember, ImageProperty
from .seeding import IMAGE_COLUMNS, SeededImage

# Images per COPY or executemany; the background thread keeps two batches ahead.
BATCH = 5000


def load_images(
    images: Iterable[SeededImage], *, into_empty: bool, written: Callable[[int], object]
) -> None:
    """Write the images, their properties and members, in the caller's transaction.

    `into_empty` says the catalog's tables are empty (or just emptied), so PostgreSQL may
    build the indexes after the load; `written` is told how many images each batch wrote.
    """
    rows_writer = writer()
    # Into empty PostgreSQL tables, loading first and indexing after is several times faster
    # than keeping every index up to date row by row.
    indexing = (
        deferred_indexes() if into_empty and connection.vendor == "postgresql" else nullcontext()
    )
    encoded_batches = (rows_writer.encode(batch) for batch in batches(images))
    if connection.vendor == "postgresql":
        # Generating is Python's work and COPY is the server's: overlap them.
        encoded_batches = in_background(encoded_batches)
    with indexing, closing(encoded_batches):
        for encoded in encoded_batches:
            written(rows_writer.write(encoded))
    if connection.vendor == "postgresql":
        # Fresh statistics, so the first queries on the new catalog get good plans.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(_quoted(CATALOG_TABLES))}")


def writer(tables: "Tables | None" = None) -> "PostgresWriter | SqlWriter":
    """The fastest writer the database has, for rows in the caller's transaction: COPY on
    PostgreSQL, batched INSERTs elsewhere, into the catalog's tables unless `tables` names
    others. `write(encode(batch))` writes a batch."""
    if connection.vendor == "postgresql":
        return PostgresWriter(tables)
    return SqlWriter(tables)


def batches(rows: Iterable) -> Generator[list, None, None]:
    """Lists of up to BATCH items of `rows` (any iterable), in order."""
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def in_background(iterable, depth: int = 2):
    """Yield the items of `iterable`, computed by a thread that keeps `depth` items ahead.

    An error in the thread is raised here; leaving the loop early stops the thread.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
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


CATALOG_TABLES = [model._meta.db_table for model in (Image, ImageProperty, ImageMember)]


def _quoted(names):
    return [connection.ops.quote_name(name) for name in names]


def delete_catalog():
    """Delete every image, with its properties and members, in the caller's transaction."""
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with foreign-key checks still deferred in this transaction.
        connection.check_constraints()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(_quoted(CATALOG_TABLES))}")
    else:
        for model in (ImageProperty, ImageMember, Image):
            model.objects.all().delete()


PROPERTY_COLUMNS = ("image_id", "key", "value")
MEMBER_COLUMNS = ("image_id", "member_id", "can_share", "status")


def catalog_tables() -> "Tables":
    quote = connection.ops.quote_name
    return Tables(*(quote(model._meta.db_table) for model in (Image, ImageProperty, ImageMember)))


class Tables(NamedTuple):
    """Where a writer writes: the catalog's own tables, or others with the same columns
    (an import's staging tables). The names are ready for SQL (quoted or qualified)."""

    images: str
    properties: str
    members: str


def _insert_sql(table: str, columns) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"


class SqlWriter:
    """Batched INSERTs through Django's cursor, with its own value adapters (SQLite)."""

    def __init__(self, tables: Tables | None = None):
        tables = tables or catalog_tables()
        self.images = _insert_sql(tables.images, IMAGE_COLUMNS)
        self.properties = _insert_sql(tables.properties, PROPERTY_COLUMNS)
        self.members = _insert_sql(tables.members, MEMBER_COLUMNS)
        ops = connection.ops
        self.moment = ops.adapt_datetimefield_value
        # Without a native UUID type Django stores the 32 hex digits; with one, the UUID.
        self.native_uuid = connection.features.has_native_uuid_field

    def encode(self, batch: list[SeededImage]):
        moment = self.moment
        images, properties, members = [], [], []
        for image, image_properties, image_members in batch:
            image_id = uuid.UUID(image.id) if self.native_uuid else image.id
            images.append(
                # The columns in the database's own forms (ImageRow types the generated ones).
                image._replace(
                    id=image_id,  # type: ignore[arg-type]
                    created_at=moment(image.created_at),  # type: ignore[arg-type]
                    updated_at=moment(image.updated_at),  # type: ignore[arg-type]
                    deleted_at=moment(image.deleted_at),  # type: ignore[arg-type]
                )
            )
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


def _copy_time(value: datetime) -> str:
    return value.isoformat(" ")


def _copy_value(value, spell=str) -> str:
    return NULL if value is None else spell(value)


def _copy_bool(value: bool) -> str:
    return "t" if value else "f"


# Distinct escaped values a PostgresWriter remembers; past that it starts again.
_ESCAPES_KEPT = 100_000


class PostgresWriter:
    """COPY, the fastest way into PostgreSQL: a million images in about a minute."""

    def __init__(self, tables: Tables | None = None):
        connection.ensure_connection()
        self.raw = connection.connection.cursor()
        quote = connection.ops.quote_name
        tables = tables or catalog_tables()

        def copy(table, columns):
            names = ", ".join(quote(column) for column in columns)
            return f"COPY {table} ({names}) FROM STDIN"

        self.images = copy(tables.images, IMAGE_COLUMNS)
        self.properties = copy(tables.properties, PROPERTY_COLUMNS)
        self.members = copy(tables.members, MEMBER_COLUMNS)
        # Keys and values repeat endlessly; escape each distinct one once.
        self.escaped: dict[str, str] = {}
        self.property_rows: dict[tuple, str] = {}

    def _escape(self, value: str) -> str:
        escaped = self.escaped.get(value)
        if escaped is None:
            # An imported file's values may all differ: keep the memory bounded.
            if len(self.escaped) > _ESCAPES_KEPT:
                self.escaped.clear()
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

    def encode(self, batch: list[SeededImage]):
        """COPY's text format for a batch; pure Python, so it can run in another thread."""
        escape = self._escape
        images, properties, members = io.StringIO(), io.StringIO(), io.StringIO()
        for image, image_properties, image_members in batch:
            images.write(
                f"{image.id}\t{_copy_value(image.name, _copy_text)}\t{image.status}\t"
                f"{_copy_value(image.container_format)}\t{_copy_value(image.disk_format)}\t"
                f"{_copy_value(image.size)}\t{_copy_value(image.virtual_size)}\t"
                f"{_copy_value(image.checksum)}\t{image.min_ram}\t{image.min_disk}\t"
                f"{_copy_bool(image.is_public)}\t{_copy_bool(image.protected)}\t"
                f"{_copy_value(image.owner, escape)}\t"
                f"{image.created_at.isoformat(' ')}\t{image.updated_at.isoformat(' ')}\t"
                f"{_copy_bool(image.deleted)}\t{_copy_value(image.deleted_at, _copy_time)}\t"
                f"{_copy_bool(image.is_windows)}\t{image.version}\n"
            )
            properties.write(self._property_rows(image_properties).replace("\0", image.id))
            for member in image_members:
                members.write(
                    f"{image.id}\t{escape(member.member_id)}\t{_copy_bool(member.can_share)}\t"
                    f"{member.status}\n"
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
            {"tables": CATALOG_TABLES},
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
            {"tables": CATALOG_TABLES},
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
