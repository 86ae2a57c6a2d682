"""The OpenAPI description of the legacy API, served at /openapi.json (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from catalog.catalog_file import LISTING_KEYS
from catalog.models import ContainerFormat, DiskFormat, ImageStatus

from .pagination import SORT_DIRS, SORT_KEYS

NULLABLE_STRING = {"type": "string", "nullable": True}
NULLABLE_INTEGER = {"type": "integer", "format": "int64", "nullable": True}
TIMESTAMP = {"type": "string", "example": "2016-05-22T06:04:20.425843"}

DETAIL_ENTRY = {
    "type": "object",
    "required": list(LISTING_KEYS),
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": NULLABLE_STRING,
        "status": {"type": "string", "enum": ImageStatus.values},
        "container_format": {**NULLABLE_STRING, "enum": [*ContainerFormat.values, None]},
        "disk_format": {**NULLABLE_STRING, "enum": [*DiskFormat.values, None]},
        "size": NULLABLE_INTEGER,
        "virtual_size": NULLABLE_INTEGER,
        "checksum": {**NULLABLE_STRING, "pattern": "^[0-9a-f]{32}$"},
        "min_ram": {"type": "integer", "description": "MB"},
        "min_disk": {"type": "integer", "description": "GB"},
        "is_public": {"type": "boolean"},
        "protected": {"type": "boolean"},
        "deleted": {"type": "boolean"},
        "owner": NULLABLE_STRING,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "deleted_at": {**TIMESTAMP, "nullable": True},
        "properties": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Always {} for a deleted image.",
        },
    },
}
BRIEF_KEYS = ("id", "name", "size", "disk_format", "container_format", "checksum")
BRIEF_ENTRY = {
    "type": "object",
    "required": list(BRIEF_KEYS),
    "additionalProperties": False,
    "properties": {key: DETAIL_ENTRY["properties"][key] for key in BRIEF_KEYS},
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "code", "title"],
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "integer"},
                "title": {"type": "string"},
            },
        }
    },
}
VERSION_LIST = {
    "type": "object",
    "required": ["versions"],
    "properties": {
        "versions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "example": "v1.1"},
                    "status": {"type": "string", "example": "DEPRECATED"},
                    "links": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"rel": {"type": "string"}, "href": {"type": "string"}},
                        },
                    },
                },
            },
        }
    },
}


def _errors(*statuses: int) -> dict:
    return {
        status: OpenApiResponse(ERROR, description=_DESCRIPTIONS[status]) for status in statuses
    }


_DESCRIPTIONS = {
    400: "A bad parameter; the message is Glance's text, e.g. `limit param must be an integer`.",
    401: "No token, or an unknown, expired or revoked one (`WWW-Authenticate: Keystone uri=...`).",
    403: "The token has no role that may read images.",
    404: "No such image, not visible to the caller, or a Windows image.",
    405: "Method not allowed (`Allow` names what is).",
    500: "An unexpected fault: a generic message; the fault is logged with its request id.",
    503: "The database cannot be reached, or maintenance mode (`Retry-After`).",
}


def _query(name, description, type_=OpenApiTypes.STR, enum=None):
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description, enum=enum)


LISTING_PARAMETERS = [
    _query("name", "Exact name (taken literally)."),
    _query("status", "Exact status.", enum=ImageStatus.values),
    _query("container_format", "Exact container format.", enum=ContainerFormat.values),
    _query("disk_format", "Exact disk format.", enum=DiskFormat.values),
    _query(
        "size_min", "size >= value (bytes); images without a size never match.", OpenApiTypes.INT
    ),
    _query("size_max", "size <= value (bytes).", OpenApiTypes.INT),
    _query("min_ram", "min_ram equal to value (MB).", OpenApiTypes.INT),
    _query("min_disk", "min_disk equal to value (GB).", OpenApiTypes.INT),
    _query("protected", "true/1 or false/0, any case."),
    _query(
        "is_public",
        "Admins: absent/true/1 (default visibility), false/0 (every non-public image), "
        "none (every image). Validated, then ignored, for others.",
    ),
    _query(
        "changes-since",
        "ISO 8601 time; images updated strictly later, deleted and killed ones included.",
    ),
    _query(
        "limit", "Page size; default 25, at most 1000; 0 gives an empty list.", OpenApiTypes.INT
    ),
    _query("marker", "Id of the last image of the previous page.", OpenApiTypes.UUID),
    _query("sort_key", "Sort key (then created_at, then id).", enum=list(SORT_KEYS)),
    _query("sort_dir", "Sort direction (default desc).", enum=list(SORT_DIRS)),
    OpenApiParameter(
        "property-{key}",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="The image has property {key} with exactly this value; several are ANDed.",
    ),
]
VERSION_PARAMETER = OpenApiParameter(
    "version",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=["v1", "v1.0", "v1.1"],
    description="Glance routed all three prefixes to one API; real clients use v1.",
)


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "catalog.api.auth.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}


LISTING_ERRORS = _errors(400, 401, 403, 405, 500, 503)

DETAIL = {
    "operation_id": "listImagesDetail",
    "summary": "List images with details (IMS v1.1, Glance v1)",
    "parameters": [VERSION_PARAMETER, *LISTING_PARAMETERS],
    "responses": {
        200: {
            "type": "object",
            "required": ["images"],
            "properties": {"images": {"type": "array", "items": DETAIL_ENTRY}},
        },
        **LISTING_ERRORS,
    },
}
BRIEF = {
    "operation_id": "listImages",
    "summary": "List images, brief entries",
    "parameters": [VERSION_PARAMETER, *LISTING_PARAMETERS],
    "responses": {
        200: {
            "type": "object",
            "required": ["images"],
            "properties": {"images": {"type": "array", "items": BRIEF_ENTRY}},
        },
        **LISTING_ERRORS,
    },
}
IMAGE_HEAD = {
    "operation_id": "headImage",
    "summary": "An image's metadata as X-Image-Meta-* headers",
    "parameters": [VERSION_PARAMETER],
    "responses": {
        200: OpenApiResponse(
            description="Empty body; one `X-Image-Meta-<Field>` header per non-null field, "
            "`X-Image-Meta-Property-<key>` per property, `Etag` = checksum."
        ),
        **_errors(401, 403, 404, 500, 503),
    },
}
IMAGE_GET = {
    "operation_id": "downloadImage",
    "summary": "Image data download: not held by this catalog",
    "parameters": [VERSION_PARAMETER],
    "responses": _errors(404),
}
VERSIONS = {
    "operation_id": "listVersions",
    "summary": "Version list",
    "auth": [],
    "responses": {200: VERSION_LIST},
}
ROOT_VERSIONS = {
    "operation_id": "chooseVersion",
    "summary": "Version list, as 300 Multiple Choices",
    "auth": [],
    "responses": {300: VERSION_LIST},
}
VERSION = {
    "operation_id": "showVersion",
    "summary": "One version's document",
    "auth": [],
    "parameters": [VERSION_PARAMETER],
    "responses": {200: VERSION_LIST},
}


def legacy_endpoints(endpoints):
    """drf-spectacular preprocessing hook: list paths without their optional trailing slash,
    and keep HEAD of one image, which is the API's way of showing an image."""
    result = []
    for path, path_regex, method, callback in endpoints:
        path = path.rstrip("/") or "/"
        result.append((path, path_regex, method, callback))
        if method == "GET" and "head" in vars(callback.cls):
            result.append((path, path_regex, "HEAD", callback))
    return result
