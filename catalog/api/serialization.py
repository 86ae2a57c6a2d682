"""Rows to the legacy shapes (legacy-api.md §4, §6), without a model instance per row."""

import re
from collections import defaultdict

from catalog.catalog_file import LISTING_KEYS
from catalog.models import ImageProperty
from catalog.timestamps import format_timestamp

DETAIL_FIELDS = tuple(key for key in LISTING_KEYS if key != "properties")
BRIEF_FIELDS = ("id", "name", "size", "disk_format", "container_format", "checksum")
TIMESTAMPS = ("created_at", "updated_at", "deleted_at")
HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


def properties_of(image_ids) -> dict:
    by_image = defaultdict(dict)
    rows = ImageProperty.objects.filter(image_id__in=image_ids).values_list(
        "image_id", "key", "value"
    )
    for image_id, key, value in rows.order_by("image_id", "key"):
        by_image[image_id][key] = value
    return by_image


def detail_entries(rows: list[dict]) -> list[dict]:
    # legacy-api.md §4: a deleted image lists its properties as {} (they are kept, not shown).
    properties = properties_of([row["id"] for row in rows if not row["deleted"]]) if rows else {}
    for row in rows:
        for key in TIMESTAMPS:
            row[key] = format_timestamp(row[key])
        row["properties"] = properties.get(row["id"], {})
    return rows


def head_headers(row: dict, properties: dict[str, str]) -> dict[str, str]:
    """legacy-api.md §6: one `X-Image-Meta-*` header per non-null field."""
    headers = {}
    for key in DETAIL_FIELDS:
        value = row[key]
        if value is None:
            continue
        if isinstance(value, bool):
            value = "True" if value else "False"
        elif key in TIMESTAMPS:
            value = format_timestamp(value)
        headers[f"X-Image-Meta-{key.capitalize()}"] = _header_value(str(value))
    for key, value in properties.items():
        # A key that cannot be a header name (a space, a colon, non-ASCII) is left out.
        if HEADER_TOKEN.fullmatch(key):
            headers[f"X-Image-Meta-Property-{key}"] = _header_value(value)
    if row["checksum"]:
        headers["Etag"] = row["checksum"]
    return headers


def _header_value(text: str) -> str:
    # Headers carry no line breaks; non-ASCII text goes out as UTF-8 bytes, as Glance sent it
    # (WSGI wants header strings whose code points are the bytes).
    return text.replace("\r", " ").replace("\n", " ").encode().decode("latin-1")
