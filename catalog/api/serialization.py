"""Rows to the legacy shapes (legacy-api.md §4, §6), without a model instance per row."""

import re

import orjson
from django.db.models import Aggregate, Case, OuterRef, Subquery, TextField, Value, When

from catalog.catalog_file import LISTING_KEYS
from catalog.models import ImageProperty
from catalog.timestamps import format_timestamp

DETAIL_FIELDS = tuple(key for key in LISTING_KEYS if key != "properties")
BRIEF_FIELDS = ("id", "name", "size", "disk_format", "container_format", "checksum")
TIMESTAMPS = ("created_at", "updated_at", "deleted_at")
HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


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


def with_properties(queryset):
    """Each image's properties as JSON text in the same query (`properties_json`).

    A page of 1000 images has thousands of property rows: the database folds them into one
    object per image, computed only for the rows of the page, so the page costs one query and
    Python handles a row per image. legacy-api.md §4: a deleted image lists `{}` (its
    properties are kept, not shown).
    """
    properties = (
        ImageProperty.objects.filter(image=OuterRef("pk"))
        .order_by()
        .values("image")
        .annotate(json=PropertiesJSON("key", "value"))
        .values("json")
    )
    return queryset.annotate(
        properties_json=Case(When(deleted=True, then=Value(None)), default=Subquery(properties))
    )


def detail_entries(rows: list[dict]) -> list[dict]:
    """Rows of DETAIL_FIELDS plus `properties_json` as listing entries."""
    for row in rows:
        for key in TIMESTAMPS:
            row[key] = format_timestamp(row[key])
        text = row.pop("properties_json")
        row["properties"] = orjson.loads(text) if text else {}
    return rows


def head_headers(entry: dict) -> dict[str, str]:
    """legacy-api.md §6: one `X-Image-Meta-*` header per non-null field of a listing entry."""
    headers = {}
    for key in DETAIL_FIELDS:
        value = entry[key]
        if value is None:
            continue
        if isinstance(value, bool):
            value = "True" if value else "False"
        headers[f"X-Image-Meta-{key.capitalize()}"] = _header_value(str(value))
    for key, value in entry["properties"].items():
        # A key that cannot be a header name (a space, a colon, non-ASCII) is left out.
        if HEADER_TOKEN.fullmatch(key):
            headers[f"X-Image-Meta-Property-{key}"] = _header_value(value)
    if entry["checksum"]:
        headers["Etag"] = entry["checksum"]
    return headers


def _header_value(text: str) -> str:
    # Headers carry no line breaks; non-ASCII text goes out as UTF-8 bytes, as Glance sent it
    # (WSGI wants header strings whose code points are the bytes).
    return text.replace("\r", " ").replace("\n", " ").encode().decode("latin-1")
