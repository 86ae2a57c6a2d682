"""The JSON schemas `GET /v2/schemas/image` and `/v2/schemas/images` serve (docs/api.md#v2-schemas).

Glance's shape (the keys, types and links clients read), with the catalog's own value sets:
python-glanceclient validates every image it receives against the image schema, so each
status and format the catalog can hold must be in it (IMS's `zvhd2` among them).
"""

from catalog.models import ContainerFormat, DiskFormat, ImageStatus

UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)


def _nullable(kind: str, description: str, **extra) -> dict:
    return {"type": ["null", kind], "description": description, **extra}


def _read_only(schema: dict) -> dict:
    return {**schema, "readOnly": True}


IMAGE_PROPERTIES = {
    "id": {"type": "string", "description": "The image's UUID.", "pattern": UUID_PATTERN},
    "name": _nullable("string", "The image's name.", maxLength=255),
    "status": _read_only(
        {
            "type": "string",
            "description": "Where the image is in its life.",
            "enum": ImageStatus.values,
        }
    ),
    "visibility": {
        "type": "string",
        "description": "Who may see the image: everyone (public), its owner and the projects "
        "it is shared with (shared), or its owner alone (private).",
        "enum": ["public", "private", "shared"],
    },
    "protected": {"type": "boolean", "description": "A protected image cannot be deleted."},
    "os_hidden": {
        "type": "boolean",
        "description": "Whether default listings leave the image out; always false here.",
    },
    "checksum": _read_only(
        _nullable("string", "MD5 of the image data, 32 hex digits.", maxLength=32)
    ),
    "os_hash_algo": _read_only(
        _nullable("string", "The multihash algorithm; null: the catalog has none.", maxLength=64)
    ),
    "os_hash_value": _read_only(
        _nullable("string", "The multihash of the data; null here.", maxLength=128)
    ),
    "owner": _nullable("string", "The project that owns the image.", maxLength=255),
    "size": _read_only(_nullable("integer", "Bytes of image data.")),
    "virtual_size": _read_only(_nullable("integer", "Bytes of the virtual disk.")),
    "container_format": _nullable(
        "string", "How the data is packaged.", enum=[None, *ContainerFormat.values]
    ),
    "disk_format": _nullable("string", "The disk's format.", enum=[None, *DiskFormat.values]),
    "created_at": _read_only({"type": "string", "description": "When the image was registered."}),
    "updated_at": _read_only({"type": "string", "description": "When it last changed."}),
    "tags": {
        "type": "array",
        "description": "Free-form labels; the catalog keeps none.",
        "items": {"type": "string", "maxLength": 255},
    },
    "direct_url": _read_only(
        {"type": "string", "description": "Where the data lives in a store; never shown here."}
    ),
    "min_ram": {"type": "integer", "description": "MB of memory needed to boot the image."},
    "min_disk": {"type": "integer", "description": "GB of disk needed to boot the image."},
    "self": _read_only({"type": "string", "description": "This image's path."}),
    "file": _read_only({"type": "string", "description": "The path of the image's data."}),
    "stores": _read_only(
        {"type": "string", "description": "The stores holding the data; never shown here."}
    ),
    "schema": _read_only({"type": "string", "description": "The path of this schema."}),
    "locations": {
        "type": "array",
        "description": "Where the data can be read; never shown here.",
        "items": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
            },
            "required": ["url", "metadata"],
        },
    },
}

IMAGE = {
    "name": "image",
    "properties": IMAGE_PROPERTIES,
    # Every other key of an image is one of its properties, a string.
    "additionalProperties": {"type": "string"},
    "links": [
        {"rel": "self", "href": "{self}"},
        {"rel": "enclosure", "href": "{file}"},
        {"rel": "describedby", "href": "{schema}"},
    ],
}

IMAGES = {
    "name": "images",
    "properties": {
        "images": {"type": "array", "items": IMAGE},
        "schema": {"type": "string"},
        "first": {"type": "string"},
        "next": {"type": "string"},
    },
    "links": [
        {"rel": "first", "href": "{first}"},
        {"rel": "next", "href": "{next}"},
        {"rel": "describedby", "href": "{schema}"},
    ],
}
