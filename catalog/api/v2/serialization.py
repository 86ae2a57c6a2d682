"""Rows to Glance v2 images (docs/api.md#v2-image), without a model instance per row.

As in the v1 listing, the database writes ids and times as text and folds each image's
properties into one JSON object, so Python only fills in the keys every image shares.
"""

from typing import Any

import orjson
from django.db.models import Case, F, Func, OuterRef, Subquery, TextField, Value, When
from django.db.models.lookups import IsNull

from catalog.models import ImageMember

from ..serialization import UUIDText, properties_json


class V2Timestamp(Func):
    """docs/api.md#v2-image: `2016-05-22T06:04:20Z`, UTC, whole seconds (the fraction is cut,
    not rounded, as Glance cuts it)."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as UTC `2016-05-22 06:04:20.425843`, or without the fraction when it is zero.
        template = "(SUBSTR(REPLACE(%(expressions)s, ' ', 'T'), 1, 19) || 'Z')"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def visibility():
    """Glance v2's visibility from what the catalog stores: public when `is_public`,
    otherwise shared when the image has members, else private."""
    # A scalar subquery, not EXISTS: PostgreSQL may turn an EXISTS in the select list into a
    # hashed subplan that reads every membership (200,000 rows, 100 ms on a million images)
    # to answer a page of 25; this one is an index probe per listed row.
    member = ImageMember.objects.filter(image=OuterRef("pk")).values("image")[:1]
    return Case(
        When(is_public=True, then=Value("public")),
        When(IsNull(Subquery(member), False), then=Value("shared")),
        default=Value("private"),
        output_field=TextField(),
    )


# Image key -> what the database selects for it, in Glance's order of an image's keys.
COLUMNS = {
    "properties": properties_json(),
    "name": F("name"),
    "disk_format": F("disk_format"),
    "container_format": F("container_format"),
    "visibility": visibility(),
    "size": F("size"),
    "virtual_size": F("virtual_size"),
    "status": F("status"),
    "checksum": F("checksum"),
    "protected": F("protected"),
    "min_ram": F("min_ram"),
    "min_disk": F("min_disk"),
    "owner": F("owner"),
    "id": UUIDText("id"),
    "created_at": V2Timestamp("created_at"),
    "updated_at": V2Timestamp("updated_at"),
}
# Keys of the image schema (schemas.py) that this catalog never shows. Glance keeps them for
# its own fields, so a property of that name is left out: a client reads each key with the
# schema's type. A property named as a key that is shown gives way to Glance's own value.
HIDDEN_KEYS = frozenset({"direct_url", "locations", "stores"})


def image(row: tuple) -> dict:
    """A row of COLUMNS (in their order) as a v2 image: the properties first, as top-level
    keys, then Glance's own keys, as Glance orders them."""
    properties, *fields = row
    entry: dict[str, Any] = {}
    if properties:
        entry.update(
            (key, value)
            for key, value in orjson.loads(properties).items()
            if key not in HIDDEN_KEYS
        )
    (name, disk_format, container_format, visibility_, size, virtual_size, status) = fields[:7]
    (checksum, protected, min_ram, min_disk, owner, pk, created_at, updated_at) = fields[7:]
    entry.update(
        name=name,
        disk_format=disk_format,
        container_format=container_format,
        visibility=visibility_,
        size=size,
        virtual_size=virtual_size,
        status=status,
        checksum=checksum,
        protected=protected,
        min_ram=min_ram,
        min_disk=min_disk,
        owner=owner,
        # The catalog holds no image data, so no multihash, and hides no image.
        os_hidden=False,
        os_hash_algo=None,
        os_hash_value=None,
        id=pk,
        created_at=created_at,
        updated_at=updated_at,
        tags=[],
        self=f"/v2/images/{pk}",
        file=f"/v2/images/{pk}/file",
        schema="/v2/schemas/image",
    )
    return entry
