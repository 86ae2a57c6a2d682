"""The OpenAPI description of the v2 routes (drf-spectacular), beside the v1 one in
api/schema.py. OpenAPI 3.0 spells a nullable type as `nullable`, not as the JSON schema
`["null", "string"]` the API itself serves at /v2/schemas/image."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from catalog.models import ContainerFormat, DiskFormat, ImageStatus
from catalog.querysets import MEMBER_STATUSES, VISIBILITIES

from ..schema import CHANGES_SINCE, VERSION_LIST, _any_case, _errors
from .parameters import SORT_DIRS, SORT_KEYS

STRING = {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
NULLABLE_INTEGER = {"type": "integer", "format": "int64", "nullable": True}
TIME = {"type": "string", "example": "2016-05-22T06:04:20Z"}

IMAGE_ENTRY = {
    "type": "object",
    "required": [
        "name",
        "disk_format",
        "container_format",
        "visibility",
        "size",
        "virtual_size",
        "status",
        "checksum",
        "protected",
        "min_ram",
        "min_disk",
        "owner",
        "os_hidden",
        "os_hash_algo",
        "os_hash_value",
        "id",
        "created_at",
        "updated_at",
        "tags",
        "self",
        "file",
        "schema",
    ],
    "properties": {
        "name": NULLABLE_STRING,
        "disk_format": {**NULLABLE_STRING, "enum": [*DiskFormat.values, None]},
        "container_format": {**NULLABLE_STRING, "enum": [*ContainerFormat.values, None]},
        "visibility": {"type": "string", "enum": ["public", "private", "shared"]},
        "size": NULLABLE_INTEGER,
        "virtual_size": NULLABLE_INTEGER,
        "status": {"type": "string", "enum": ImageStatus.values},
        "checksum": {**NULLABLE_STRING, "pattern": "^[0-9a-f]{32}$"},
        "protected": {"type": "boolean"},
        "min_ram": {"type": "integer", "description": "MB"},
        "min_disk": {"type": "integer", "description": "GB"},
        "owner": NULLABLE_STRING,
        "os_hidden": {"type": "boolean", "enum": [False]},
        "os_hash_algo": {**NULLABLE_STRING, "enum": [None]},
        "os_hash_value": {**NULLABLE_STRING, "enum": [None]},
        "id": {"type": "string", "format": "uuid"},
        "created_at": TIME,
        "updated_at": TIME,
        "tags": {"type": "array", "items": STRING, "maxItems": 0},
        "self": {"type": "string", "example": "/v2/images/3c3d1d01-b48a-4639-8a88-08be3b9b5d78"},
        "file": {
            "type": "string",
            "example": "/v2/images/3c3d1d01-b48a-4639-8a88-08be3b9b5d78/file",
        },
        "schema": {"type": "string", "enum": ["/v2/schemas/image"]},
    },
    "additionalProperties": {"type": "string", "description": "The image's properties."},
}


def _query(name, description, schema=OpenApiTypes.STR):
    return OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description)


OPERATORS = (
    "`eq:` (or no operator) or `in:` followed by a comma-separated list, in which a value in "
    "double quotes may hold commas"
)
TIME_FILTER = "An ISO 8601 time after `gt:`, `gte:`, `lt:`, `lte:`, `eq:` (or none) or `neq:`."
# An operator, then what changes-since reads in v1 (the same ISO 8601 parser).
TIME_PARAMETER = {
    "type": "string",
    "pattern": "^((gt|gte|lt|lte|eq|neq):)?" + CHANGES_SINCE["pattern"][1:],
}
LISTING_PARAMETERS = [
    _query("name", f"Exact name: {OPERATORS}.", STRING),
    _query("id", f"Image id: {OPERATORS}.", STRING),
    _query("status", f"Exact status: {OPERATORS}.", STRING),
    _query("container_format", f"Exact container format: {OPERATORS}.", STRING),
    _query("disk_format", f"Exact disk format: {OPERATORS}.", STRING),
    _query("owner", "The owning project.", STRING),
    _query("checksum", "The MD5 of the data.", STRING),
    _query("min_ram", "min_ram equal to the value (MB).", {"type": "integer"}),
    _query("min_disk", "min_disk equal to the value (GB).", {"type": "integer"}),
    _query("size_min", "size >= the value (bytes).", {"type": "integer"}),
    _query("size_max", "size <= the value (bytes).", {"type": "integer"}),
    _query(
        "protected", "true or false (lower case).", {"type": "string", "enum": ["true", "false"]}
    ),
    _query(
        "os_hidden",
        "true or false, any case; the catalog hides no image.",
        _any_case("true", "false"),
    ),
    _query("created_at", TIME_FILTER, TIME_PARAMETER),
    _query("updated_at", TIME_FILTER, TIME_PARAMETER),
    _query(
        "visibility",
        "Only images of this visibility (`all`: every one the caller may list).",
        {"type": "string", "enum": list(VISIBILITIES)},
    ),
    _query(
        "member_status",
        "Which of the images shared with the caller's project: the membership's status "
        "(default accepted).",
        {"type": "string", "enum": list(MEMBER_STATUSES)},
    ),
    _query(
        "limit",
        "Page size; default 25, at most 1000 (more is cut to 1000); 0 gives an empty list.",
        {"type": "integer", "minimum": 0},
    ),
    _query("marker", "Id of the last image of the previous page.", OpenApiTypes.UUID),
    _query(
        "sort",
        "`key:dir` pairs separated by commas, e.g. `name:asc,created_at:desc`; not with "
        "sort_key or sort_dir.",
        STRING,
    ),
    _query("sort_key", "Sort key, repeatable.", {"type": "string", "enum": list(SORT_KEYS)}),
    _query("sort_dir", "Sort direction, repeatable.", {"type": "string", "enum": list(SORT_DIRS)}),
]
LISTING_DESCRIPTION = (
    "Glance v2's listing, with IMS's Windows rule. Any parameter not named here is a "
    "property filter, `<key>=<value>` (e.g. `__imagetype=gold`, `__os_type=Linux`): OpenAPI "
    "cannot name a parameter by a pattern, so those are described here. A request that "
    "matches this document can still be a 400: a marker that is not an image the caller may "
    "name, a time that is not on the calendar, a malformed `in:` list."
)
ENVELOPE = {
    "type": "object",
    "required": ["images", "first", "schema"],
    "properties": {
        "images": {"type": "array", "items": IMAGE_ENTRY},
        "first": {"type": "string", "example": "/v2/images?limit=2"},
        "next": {
            "type": "string",
            "example": "/v2/images?limit=2&marker=3c3d1d01-b48a-4639-8a88-08be3b9b5d78",
        },
        "schema": {"type": "string", "enum": ["/v2/schemas/images"]},
    },
}
LISTING: dict[str, Any] = {
    "operation_id": "listImagesV2",
    "summary": "List images (IMS and Glance v2)",
    "description": LISTING_DESCRIPTION,
    "parameters": LISTING_PARAMETERS,
    "responses": {200: ENVELOPE, **_errors(400, 401, 403, 405, 500, 503)},
}
IMAGE_ID = OpenApiParameter(
    "image_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The image's UUID."
)
IMAGE: dict[str, Any] = {
    "operation_id": "showImageV2",
    "summary": "One image",
    "parameters": [IMAGE_ID],
    "responses": {200: IMAGE_ENTRY, **_errors(401, 403, 404, 405, 500, 503)},
}
IMAGE_FILE: dict[str, Any] = {
    "operation_id": "downloadImageV2",
    "summary": "An image's data: none in this catalog, so 204",
    "parameters": [IMAGE_ID],
    "responses": {204: None, **_errors(401, 403, 404, 405, 500, 503)},
}
JSON_SCHEMA = {"type": "object", "description": "A JSON schema (draft 4), as Glance serves it."}
IMAGES_SCHEMA: dict[str, Any] = {
    "operation_id": "showImagesSchema",
    "summary": "The JSON schema of a listing",
    "responses": {200: JSON_SCHEMA, **_errors(401, 403, 405, 500, 503)},
}
IMAGE_SCHEMA: dict[str, Any] = {
    "operation_id": "showImageSchema",
    "summary": "The JSON schema of an image",
    "responses": {200: JSON_SCHEMA, **_errors(401, 403, 405, 500, 503)},
}
VERSION: dict[str, Any] = {
    "operation_id": "showVersionV2",
    "summary": "The v2 API's versions",
    "auth": [],
    "responses": {200: VERSION_LIST, **_errors(500, 503)},
}
