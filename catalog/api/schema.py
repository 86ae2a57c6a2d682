"""The OpenAPI description of the legacy API, served at /openapi.json (drf-spectacular)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from catalog.models import MAX_INT32, MAX_INT64, ContainerFormat, DiskFormat, ImageStatus
from catalog.vocabulary import BRIEF_KEYS, CHECKSUM_PATTERN, LISTING_KEYS

from .pagination import SORT_DIRS, SORT_KEYS

NULLABLE_STRING = {"type": "string", "nullable": True}
NULLABLE_INTEGER = {"type": "integer", "format": "int64", "nullable": True}
TIMESTAMP = {"type": "string", "example": "2016-05-22T06:04:20.425843"}

DETAIL_ENTRY: dict[str, Any] = {
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
        "checksum": {**NULLABLE_STRING, "pattern": CHECKSUM_PATTERN},
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
BRIEF_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": list(BRIEF_KEYS),
    "additionalProperties": False,
    "properties": {key: DETAIL_ENTRY["properties"][key] for key in BRIEF_KEYS},
}


class ErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.IntegerField()
    title = serializers.CharField()


# docs/api.md#error-body: every error is nested so, as python-glanceclient parses it.
class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


VERSION_LIST: dict[str, Any] = {
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


def _errors(*statuses: int, method: str = "GET") -> dict:
    if method == "HEAD":  # the same statuses, without a body
        return {status: OpenApiResponse(description=_DESCRIPTIONS[status]) for status in statuses}
    return {
        status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[status])
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "A bad parameter; the message is Glance's text, e.g. `limit param must be an integer`.",
    401: "No token, or an unknown, expired or revoked one (`WWW-Authenticate: Keystone uri=...`).",
    403: "The token has no role that may read images.",
    404: "No such path (an unknown version), or no such image, not visible to the caller, "
    "or a Windows image.",
    405: "Method not allowed (`Allow` names what is).",
    500: "An unexpected fault: a generic message; the fault is logged with its request id.",
    503: "The database cannot be reached, or maintenance mode (`Retry-After`).",
}


def _query(name, description, schema=OpenApiTypes.STR, enum=None):
    """A query parameter; `schema` is an OpenApiTypes member or a JSON Schema dict."""
    return OpenApiParameter(
        name, schema, OpenApiParameter.QUERY, description=description, enum=enum
    )


# Any text: an exact filter holding a NUL is valid too, and matches nothing (no stored text
# holds one).
TEXT = {"type": "string"}


def _count(maximum: int) -> dict:
    return {"type": "integer", "format": "int64", "minimum": 0, "maximum": maximum}


def _any_case(*words: str) -> dict:
    """`true`, `TRUE`, `True`...: JSON Schema's patterns have no case-insensitive flag."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in w) for w in words)
    return {"type": "string", "pattern": f"^({'|'.join(spelled)})$"}


# What the changes-since parser reads, loosely: a year, then optionally month, day, time and
# offset (a calendar check follows, so 2016-13-45 matches this and is still a 400).
CHANGES_SINCE = {
    "type": "string",
    "pattern": "^[0-9]{4}(-?[0-9]{1,2}(-?[0-9]{1,2}([ T][0-9]{2}(:?[0-9]{2})?"
    "(:?[0-9]{1,2}([.,][0-9]+)?)?(Z|[-+][0-9]{2}(:?[0-9]{2})?)?)?)?)?\\n?$",
}


def _exact(name: str, known) -> OpenApiParameter:
    # Not an enum: any text is a valid filter value (an unknown one matches nothing).
    return _query(
        name, f"Exact {name}, taken literally; the catalog's values: {', '.join(known)}.", TEXT
    )


LISTING_DESCRIPTION = (
    "Filters are ANDed; a parameter given twice counts its last value; unknown parameters are "
    "ignored. `property-<key>=<value>` (any number of them, e.g. `property-__os_type=Linux`) "
    "matches images that have property `<key>` with exactly that value; OpenAPI cannot name a "
    "parameter by its prefix, so it is described here rather than listed. A valid request can "
    "still be a 400: a marker that is not an image the caller can see, or a changes-since that "
    "is not a calendar time."
)
LISTING_PARAMETERS = [
    _query("name", "Exact name (taken literally).", TEXT),
    _exact("status", ImageStatus.values),
    _exact("container_format", ContainerFormat.values),
    _exact("disk_format", DiskFormat.values),
    _query(
        "size_min", "size >= value (bytes); images without a size never match.", _count(MAX_INT64)
    ),
    _query("size_max", "size <= value (bytes).", _count(MAX_INT64)),
    _query("min_ram", "min_ram equal to value (MB).", _count(MAX_INT32)),
    _query("min_disk", "min_disk equal to value (GB).", _count(MAX_INT32)),
    _query("protected", "true/1 or false/0, any case.", _any_case("true", "false", "1", "0")),
    _query(
        "is_public",
        "Admins: absent/true/1 (default visibility), false/0 (every non-public image), "
        "none (every image). Validated, then ignored, for others. Any case.",
        _any_case("none", "true", "false", "1", "0"),
    ),
    _query(
        "changes-since",
        "ISO 8601 time (`2016-01-01`, `20160101`, `2016-01-01T10:00:00Z`, `...+01:00`); "
        "images updated strictly later, deleted and killed ones included.",
        CHANGES_SINCE,
    ),
    _query(
        "limit",
        "Page size; default 25, at most 1000 (more is cut to 1000); 0 gives an empty list.",
        {"type": "integer", "minimum": 0},
    ),
    _query("marker", "Id of the last image of the previous page.", OpenApiTypes.UUID),
    _query("sort_key", "Sort key (then created_at, then id).", enum=list(SORT_KEYS)),
    _query("sort_dir", "Sort direction (default desc).", enum=list(SORT_DIRS)),
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


LISTING_ERRORS = _errors(400, 401, 403, 404, 405, 500, 503)


def _listing(operation_id: str, summary: str, entry: dict) -> dict[str, Any]:
    return {
        "operation_id": operation_id,
        "summary": summary,
        "description": LISTING_DESCRIPTION,
        "parameters": [VERSION_PARAMETER, *LISTING_PARAMETERS],
        "responses": {
            200: {
                "type": "object",
                "required": ["images"],
                "properties": {"images": {"type": "array", "items": entry}},
            },
            **LISTING_ERRORS,
        },
    }


DETAIL = _listing(
    "listImagesDetail", "List images with details (IMS v1.1, Glance v1)", DETAIL_ENTRY
)
BRIEF = _listing("listImages", "List images, brief entries", BRIEF_ENTRY)
# No JSON type on HEAD: python-glanceclient tries to parse a JSON-typed HEAD body.
EMPTY_HTML = {(200, "text/html"): {"type": "string", "maxLength": 0}}
IMAGE_HEAD: dict[str, Any] = {
    "operation_id": "headImage",
    "summary": "An image's metadata as X-Image-Meta-* headers",
    "description": "An empty `text/html` body; one `X-Image-Meta-<Field>` header per non-null "
    "field, `X-Image-Meta-Property-<key>` per property, `Etag` = checksum.",
    "parameters": [VERSION_PARAMETER],
    "responses": {**EMPTY_HTML, **_errors(401, 403, 404, 500, 503, method="HEAD")},
}
IMAGE_GET: dict[str, Any] = {
    "operation_id": "downloadImage",
    "summary": "Image data download: not held by this catalog",
    "description": "Always 404 for a caller who may read images (use HEAD for an image).",
    "parameters": [VERSION_PARAMETER],
    "responses": _errors(401, 403, 404, 500, 503),
}
_NOT_NAMED = (
    "The id is not a UUID, or no image the caller may name has it (unknown, not visible, "
    "Windows; for a non-admin, deleted)."
)
IMAGE_DELETE: dict[str, Any] = {
    "operation_id": "deleteImage",
    "summary": "Delete an image (soft: the row stays, with status deleted)",
    "description": "An admin deletes any image but a Windows one; a token with a writing role "
    "(`CATALOG_WRITE_ROLES`) the images its project owns. The image gets status `deleted`, "
    "`deleted: true`, `deleted_at` and `updated_at`; its properties and members are kept. "
    "200 with an empty `text/html` body.",
    "parameters": [VERSION_PARAMETER],
    "responses": {
        **EMPTY_HTML,
        **_errors(401),
        403: OpenApiResponse(
            ErrorSerializer,
            description="The token has no writing role; or the image belongs to another project "
            "(`You are not authorized to delete image ...`); or `Forbidden to delete a protected "
            "image.`; or `Forbidden to delete a pending_delete image.`",
        ),
        404: OpenApiResponse(
            ErrorSerializer, description=f"{_NOT_NAMED} Or the image is deleted already."
        ),
        **_errors(500, 503),
    },
}
MEMBER_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["member_id", "can_share"],
    "additionalProperties": False,
    "properties": {"member_id": {"type": "string"}, "can_share": {"type": "boolean"}},
}
_MEMBERS_FORBIDDEN = OpenApiResponse(
    ErrorSerializer,
    description="The token has no reading role; or the caller may see the image but neither "
    "owns it nor is an admin (a member project included).",
)
IMAGE_MEMBERS: dict[str, Any] = {
    "operation_id": "listImageMembers",
    "summary": "The projects an image is shared with (Glance v1)",
    "description": "For the image's owner project and admins; memberships of any status.",
    "parameters": [VERSION_PARAMETER],
    "responses": {
        200: {
            "type": "object",
            "required": ["members"],
            "properties": {"members": {"type": "array", "items": MEMBER_ENTRY}},
        },
        **_errors(401),
        403: _MEMBERS_FORBIDDEN,
        404: OpenApiResponse(ErrorSerializer, description=_NOT_NAMED),
        **_errors(405, 500, 503),
    },
}
IMAGE_MEMBER: dict[str, Any] = {
    "operation_id": "showImageMember",
    "summary": "One membership of an image (Glance v1)",
    "description": "Who may ask: as for the image's members.",
    "parameters": [
        VERSION_PARAMETER,
        OpenApiParameter(
            "member_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="A project id."
        ),
    ],
    "responses": {
        200: {
            "type": "object",
            "required": ["member"],
            "properties": {"member": MEMBER_ENTRY},
        },
        **_errors(401),
        403: _MEMBERS_FORBIDDEN,
        404: OpenApiResponse(
            ErrorSerializer, description=f"{_NOT_NAMED} Or that project is not a member."
        ),
        **_errors(405, 500, 503),
    },
}
SHARED_IMAGES: dict[str, Any] = {
    "operation_id": "listSharedImages",
    "summary": "The images shared with a project (Glance v1)",
    "description": "Memberships of any status; deleted and Windows images are left out. A "
    "non-admin may ask only about its own project.",
    "parameters": [
        VERSION_PARAMETER,
        OpenApiParameter(
            "project", OpenApiTypes.STR, OpenApiParameter.PATH, description="A project id."
        ),
    ],
    "responses": {
        200: {
            "type": "object",
            "required": ["shared_images"],
            "properties": {
                "shared_images": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["image_id", "can_share"],
                        "additionalProperties": False,
                        "properties": {
                            "image_id": {"type": "string", "format": "uuid"},
                            "can_share": {"type": "boolean"},
                        },
                    },
                }
            },
        },
        **_errors(401),
        403: OpenApiResponse(
            ErrorSerializer,
            description="The token has no reading role, or it asks about another project "
            "and is not an admin.",
        ),
        404: OpenApiResponse(
            ErrorSerializer, description="No such path: an unknown version, an empty project."
        ),
        **_errors(405, 500, 503),
    },
}
VERSIONS: dict[str, Any] = {
    "operation_id": "listVersions",
    "summary": "Version list",
    "auth": [],
    "responses": {200: VERSION_LIST, **_errors(500, 503)},
}
ROOT_VERSIONS: dict[str, Any] = {
    "operation_id": "chooseVersion",
    "summary": "Version list, as 300 Multiple Choices",
    "auth": [],
    "responses": {300: VERSION_LIST, **_errors(500, 503)},
}
VERSION: dict[str, Any] = {
    "operation_id": "showVersion",
    "summary": "One version's document",
    "auth": [],
    "parameters": [VERSION_PARAMETER],
    "responses": {200: VERSION_LIST, **_errors(404, 500, 503)},
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


def health_check(result, generator, request, public):
    """drf-spectacular postprocessing hook: /healthz is a plain Django view, so it is described
    here: GET and HEAD (the same answer without a body), no token."""
    healthy = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    }
    get = {
        "200": {"description": "The database answers.", "content": _json(healthy)},
        "503": {"description": _DESCRIPTIONS[503], "content": _json(ERROR_REFERENCE)},
    }
    result["paths"]["/healthz"] = {
        "get": {"operationId": "healthCheck", "summary": "Health check", "responses": get},
        "head": {
            "operationId": "healthCheckHead",
            "summary": "Health check, without a body",
            "responses": {status: {"description": r["description"]} for status, r in get.items()},
        },
    }
    return result


ERROR_REFERENCE = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}
