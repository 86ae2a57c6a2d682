"""Rows to the legacy shapes (docs/api.md#listing-response, docs/api.md#head), without a
model instance per row.

On a page of 1000 images, turning each id into a UUID object and each time into a datetime,
only to write them back out as text, cost more than the database's work. The database writes
them as the listing does instead, and folds each image's properties into one JSON object, so
Python only zips values to keys and serializes.
"""

import orjson
from django.db.models import Aggregate, Case, F, Func, OuterRef, Subquery, TextField, Value, When

from catalog.models import ImageProperty
from catalog.vocabulary import BRIEF_KEYS, LISTING_KEYS


class UUIDText(Func):
    """A UUID in its canonical text form, hyphenated and lower-case."""

    output_field = TextField()
    template = "(%(expressions)s)::text"

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as 32 hex digits.
        template = (
            "LOWER(SUBSTR(%(expressions)s, 1, 8) || '-' || SUBSTR(%(expressions)s, 9, 4) || '-' || "
            "SUBSTR(%(expressions)s, 13, 4) || '-' || SUBSTR(%(expressions)s, 17, 4) || '-' || "
            "SUBSTR(%(expressions)s, 21, 12))"
        )
        return self.as_sql(compiler, connection, template=template, **extra_context)


class LegacyTimestamp(Func):
    """docs/api.md#timestamps: `2016-05-22T06:04:20.425843`, UTC, six fraction digits."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as UTC `2016-05-22 06:04:20.425843`, without the fraction when it is zero.
        template = "SUBSTR(REPLACE(%(expressions)s, ' ', 'T') || '.000000', 1, 26)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


class PropertiesJSON(Aggregate):
    """A group of property rows as the text of one JSON object, keys in order."""

    function = "JSON_OBJECT_AGG"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        key_sql, _ = compiler.compile(self.source_expressions[0])
        # As text: psycopg2 would otherwise parse the json itself, more slowly than orjson.
        template = f"%(function)s(%(expressions)s ORDER BY {key_sql})::text"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # The rows come from the (image, key) unique index, so in key order.
        return self.as_sql(compiler, connection, function="JSON_GROUP_OBJECT", **extra_context)


def properties_json():
    """Each image's properties as the text of a JSON object, `{}` for a deleted image.

    A page of 1000 images has thousands of property rows: the database folds them into one
    object per image, computed only for the rows of the page, so the page costs one query and
    Python handles a row per image. docs/api.md#deleted-images: a deleted image lists `{}`
    (its properties are kept, not shown).
    """
    properties = (
        ImageProperty.objects.filter(image=OuterRef("pk"))
        .order_by()
        .values("image")
        .annotate(json=PropertiesJSON("key", "value"))
        .values("json")
    )
    return Case(When(deleted=True, then=Value(None)), default=Subquery(properties))


def _column(key):
    if key == "id":
        return UUIDText("id")
    if key in ("created_at", "updated_at", "deleted_at"):
        return LegacyTimestamp(key)
    if key == "properties":
        return properties_json()
    return F(key)


# Listing key -> what the database selects for it, in the listing's order.
DETAIL_COLUMNS = {key: _column(key) for key in LISTING_KEYS}
BRIEF_COLUMNS = {key: _column(key) for key in BRIEF_KEYS}


def detail_entries(rows: list[dict]) -> list[dict]:
    """Rows of DETAIL_COLUMNS as listing entries: only the properties need parsing."""
    for row in rows:
        text = row["properties"]
        row["properties"] = orjson.loads(text) if text else {}
    return rows
