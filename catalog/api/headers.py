"""HEAD's headers (docs/api.md#head): always valid HTTP, whatever is stored, and bounded.

HEAD sends an image's metadata as headers, so a stored value decides what goes on the wire.
A value is made a valid field value (RFC 9110 §5.5), and what does not fit the limits below is
left out of HEAD; the listing shows everything.
"""

import re

from catalog.vocabulary import LISTING_KEYS

HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

# What HEAD may send, whatever is stored (docs/api.md#head-limits). Python's http.client, under
# python-glanceclient, openstacksdk and requests, gives up on a response of more than 100
# header lines or with a line of 64 KiB or more; servers and proxies in front have limits of
# their own.
CLIENT_MAX_HEADERS = 100
# The response's own headers, with room for what a proxy in front adds: Content-Type,
# Content-Length, Allow, X-Openstack-Request-Id, Django's four security headers and the
# server's Date and Server (ten through Hypercorn; eleven with HSTS over HTTPS).
RESPONSE_OWN_HEADERS = 20
# Every listing field but the properties, and Etag.
IMAGE_FIELD_HEADERS = len(LISTING_KEYS)
MAX_PROPERTY_HEADERS = CLIENT_MAX_HEADERS - RESPONSE_OWN_HEADERS - IMAGE_FIELD_HEADERS  # 62
# A header line of more than 8190 bytes (name, value and line end) is left out: the most that
# much HTTP software takes in one line (aiohttp's and gunicorn's default, Apache's), and far
# below http.client's limit. Names and owners (255 characters at most) always fit.
MAX_HEADER_LINE_BYTES = 8190
# All of the image's headers together, so one HEAD cannot send half a megabyte, and a proxy
# with a 16 KiB buffer for response headers (HAProxy's default) still passes it.
MAX_IMAGE_HEADER_BYTES = 12 * 1024


def head_headers(entry: dict) -> dict[str, str]:
    """docs/api.md#head: one `X-Image-Meta-*` header per non-null field of a listing entry,
    one per property that fits, and `Etag` when there is a checksum."""
    fields = {}
    for key in LISTING_KEYS[:-1]:  # all but the properties
        value = entry[key]
        if value is None:
            continue
        if isinstance(value, bool):
            value = "True" if value else "False"
        fields[f"X-Image-Meta-{key.capitalize()}"] = header_value(str(value))
    etag = {"Etag": entry["checksum"]} if entry["checksum"] else {}
    room = MAX_IMAGE_HEADER_BYTES - sum(_line_bytes(*header) for header in (fields | etag).items())
    return fields | property_headers(entry["properties"], room=room) | etag


def property_headers(properties: dict[str, str], *, room: int) -> dict[str, str]:
    """`X-Image-Meta-Property-<key>` headers, in `room` bytes at most.

    Keys are taken in code-point order (whatever the database's collation), so the same
    properties always give the same headers. A property is left out when its key cannot be a
    header name (a space, a colon, non-ASCII), when its key differs from an earlier one only in
    case (header names are case-insensitive: the second would replace the first), or when its
    line is too long or no longer fits; the next ones are still considered, up to
    MAX_PROPERTY_HEADERS.
    """
    headers = {}
    names = set()
    for key, text in sorted(properties.items()):
        name = f"X-Image-Meta-Property-{key}"
        if not HEADER_TOKEN.fullmatch(key) or name.lower() in names:
            continue
        value = header_value(text)
        size = _line_bytes(name, value)
        if size > min(MAX_HEADER_LINE_BYTES, room):
            continue
        headers[name] = value
        names.add(name.lower())
        room -= size
        if len(headers) == MAX_PROPERTY_HEADERS:
            break
    return headers


def _line_bytes(name: str, value: str) -> int:
    # `value` is already one code point per byte (header_value).
    return len(name) + len(": ") + len(value) + len("\r\n")


def header_value(text: str) -> str:
    """`text` as a valid HTTP field value (RFC 9110 §5.5).

    Control characters (line breaks, tabs, anything else stored before the write paths
    refused it) become spaces: servers refuse them in a header, and a line break would end it.
    Spaces at either end are dropped, as a client drops them. Non-ASCII text goes out as UTF-8
    bytes, as Glance sent it; WSGI wants a header string whose code points are the bytes.
    """
    return _CONTROL_CHARACTERS.sub(" ", text).strip(" ").encode().decode("latin-1")
