"""An import's staging tables (docs/operations.md#import_images).

A catalog file is loaded batch by batch into temporary tables with the catalog's columns and
no index, key or constraint, by the bulk loader's writers (COPY on PostgreSQL); once the whole
file has been read and found valid, one short transaction moves the rows into the catalog:
the images it already holds are updated in place (their properties and members replaced),
the others inserted, each by one statement. The catalog is locked only while the rows move,
and the database checks every constraint as they enter it. Against writing the catalog's
tables batch by batch in one long transaction, this measured faster on SQLite, level on
PostgreSQL and lower in peak memory on both (docs/benchmarks.md#importing-catalog-files).

The tables belong to the connection's session (PostgreSQL's pg_temp, SQLite's temp schema):
no other connection sees them, and they are dropped when the import ends, however it ends.
"""

from collections.abc import Iterator
from contextlib import suppress

from django.db import DatabaseError, connection

from . import bulk_load
from .bulk_load import MEMBER_COLUMNS, PROPERTY_COLUMNS
from .seeding import IMAGE_COLUMNS, SeededImage

# Ids per query when walking the staged images that the catalog holds already.
_IDS_PER_QUERY = 500


class Staging:
    """`with Staging() as staging:` write batches, then `move()` them inside a transaction."""

    def __init__(self):
        quote = connection.ops.quote_name
        postgres = connection.vendor == "postgresql"
        schema = "pg_temp" if postgres else "temp"
        names = ("catalog_import_image", "catalog_import_property", "catalog_import_member")
        self.staged = bulk_load.Tables(*(f"{schema}.{quote(name)}" for name in names))
        self.catalog = bulk_load.catalog_tables()
        # PostgreSQL puts an index in its table's schema; SQLite names the schema on the index.
        index, table = quote("catalog_import_image_id"), quote(names[0])
        self.index = (
            f"INDEX IF NOT EXISTS {index} ON {self.staged.images} (id)"
            if postgres
            else f"INDEX IF NOT EXISTS temp.{index} ON {table} (id)"
        )
        self.writer: bulk_load.PostgresWriter | bulk_load.SqlWriter | None = None

    def _columns(self):
        return (
            (self.staged.images, self.catalog.images, IMAGE_COLUMNS),
            (self.staged.properties, self.catalog.properties, PROPERTY_COLUMNS),
            (self.staged.members, self.catalog.members, MEMBER_COLUMNS),
        )

    def __enter__(self) -> "Staging":
        # The tables are made by the first write: a file refused in its first batch, or one
        # with no entries, never touches the database.
        return self

    def _create(self) -> None:
        self._drop()  # left behind by an import whose connection went away mid-way
        with connection.cursor() as cursor:
            for staged, catalog, columns in self._columns():
                cursor.execute(
                    f"CREATE TABLE {staged} AS SELECT {_names(columns)} FROM {catalog} WHERE 1 = 0"
                )
        self.writer = bulk_load.writer(self.staged)

    def __exit__(self, kind, error, traceback) -> None:
        if self.writer is None:
            return
        if kind is None:
            self._drop()
            return
        # The error that ended the import matters, not one from dropping the tables after it:
        # the session's end, or the next import on this connection, drops them then.
        with suppress(DatabaseError):
            self._drop()

    def _drop(self) -> None:
        with connection.cursor() as cursor:
            for staged in self.staged:
                cursor.execute(f"DROP TABLE IF EXISTS {staged}")

    def write(self, images: list[SeededImage]) -> None:
        if self.writer is None:
            self._create()
        assert self.writer is not None
        self.writer.write(self.writer.encode(images))

    def count(self) -> int:
        if self.writer is None:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.staged.images}")
            return cursor.fetchone()[0]

    def existing_ids(self) -> Iterator[list]:
        """The staged images' ids that the catalog holds already, a few hundred at a time
        (ids as the database gives them: 32 hex digits on SQLite, UUIDs on PostgreSQL)."""
        if self.writer is None:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE {self.index}")
        held = (
            f"SELECT s.id FROM {self.staged.images} s WHERE {{after}} EXISTS "
            f"(SELECT 1 FROM {self.catalog.images} c WHERE c.{quote('id')} = s.id) "
            f"ORDER BY s.id LIMIT {_IDS_PER_QUERY}"
        )
        last = None
        while True:
            with connection.cursor() as cursor:
                if last is None:
                    cursor.execute(held.format(after=""))
                else:
                    cursor.execute(held.format(after="s.id > %s AND"), [last])
                ids = [row[0] for row in cursor.fetchall()]
            if ids:
                yield ids
            if len(ids) < _IDS_PER_QUERY:
                return
            last = ids[-1]

    def move(self) -> None:
        """Put the staged rows in the catalog: replace the images it holds, insert the rest.
        Run it in a transaction (so are the tally's counts, by the caller)."""
        if self.writer is None:
            return
        quote = connection.ops.quote_name
        staged, catalog = self.staged, self.catalog
        replaced = [column for column in IMAGE_COLUMNS if column not in ("id", "version")]
        assignments = ", ".join(f"{quote(column)} = s.{quote(column)}" for column in replaced)
        image_id, version = quote("id"), quote("version")
        with connection.cursor() as cursor:
            for table in (catalog.properties, catalog.members):
                cursor.execute(
                    f"DELETE FROM {table} WHERE {quote('image_id')} IN "
                    f"(SELECT id FROM {staged.images})"
                )
            # A replaced image's version goes up, as every write's does (optimistic locking).
            cursor.execute(
                f"UPDATE {catalog.images} SET {assignments}, "
                f"{version} = {catalog.images}.{version} + 1 "
                f"FROM {staged.images} s WHERE {catalog.images}.{image_id} = s.id"
            )
            cursor.execute(
                f"INSERT INTO {catalog.images} ({_names(IMAGE_COLUMNS)}) "
                f"SELECT {_names(IMAGE_COLUMNS, 's.')} FROM {staged.images} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {catalog.images} c WHERE c.{image_id} = s.id)"
            )
            for staged_table, catalog_table, columns in self._columns()[1:]:
                cursor.execute(
                    f"INSERT INTO {catalog_table} ({_names(columns)}) "
                    f"SELECT {_names(columns)} FROM {staged_table}"
                )


def _names(columns, prefix: str = "") -> str:
    quote = connection.ops.quote_name
    return ", ".join(prefix + quote(column) for column in columns)
