"""The raw floor: the legacy listing's work done by hand, to measure the service against.

    python scripts/floor.py        # DATABASE_URL, BIND, WORKERS as for `python -m imsproject.serve`

A WSGI application written without the project's code (no Django, no catalog imports): for a
listing (v1's, and v2's in its default order), one query for the token (the SHA-256 of
`X-Auth-Token` against catalog_apitoken, revoked and expired tokens refused), one query for
the page (visibility, the Windows and deleted exclusions, the filters, the keyset order
after a marker, each image's properties folded into JSON by the database), orjson, a request
id. HEAD of one image is one query too.
Its bodies are byte for byte the service's (scripts/benchmark.py checks it on every request it
measures); nothing else of the contract is here: no validation beyond what the benchmark sends,
no error bodies, no HEAD header budget. What the service does on top of this is its overhead.

Launched as a script, it serves itself through Hypercorn with production's configuration
(imsproject.serve.server_config), so both run under the same server, workers and limits. Only
that launcher reads the project's settings; the workers import this module alone.
"""

import hashlib
import logging
import os
import re
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import orjson
import psycopg2

DEFAULT_LIMIT = int(os.environ.get("CATALOG_DEFAULT_LIMIT", 25))
MAX_LIMIT = int(os.environ.get("CATALOG_MAX_LIMIT", 1000))
READ_ROLES = frozenset(os.environ.get("CATALOG_READ_ROLES", "reader,member,admin").split(","))
PROPERTY_INDEX_PREFIX = 100  # the length of value the property index holds
LISTING = re.compile(r"/v1(?:\.[01])?/images(/detail)?")
V2_LISTING = re.compile(r"/v2/images/?")
IMAGE = re.compile(r"/v1(?:\.[01])?/images/([^/]+)")
JSON = "application/json; charset=UTF-8"

DETAIL_KEYS = (
    "id", "name", "status", "container_format", "disk_format", "size", "virtual_size",
    "checksum", "min_ram", "min_disk", "is_public", "protected", "owner", "created_at",
    "updated_at", "deleted", "deleted_at", "properties",
)  # fmt: skip
BRIEF_KEYS = ("id", "name", "size", "disk_format", "container_format", "checksum")
SELECTED = {
    "id": "i.id::text",
    **{
        moment: f"to_char(i.{moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        for moment in ("created_at", "updated_at", "deleted_at")
    },
    # A deleted image lists {} (its properties are kept, not shown).
    "properties": "CASE WHEN i.deleted THEN NULL ELSE (SELECT json_object_agg(p.key, p.value"
    " ORDER BY p.key)::text FROM catalog_imageproperty p WHERE p.image_id = i.id) END",
}
NULLABLE_SORT_KEYS = frozenset({"name", "container_format", "disk_format", "size"})
SORT_KEYS = frozenset({"status", "id", "created_at", "updated_at"} | NULLABLE_SORT_KEYS)
EXACT = ("name", "status", "container_format", "disk_format")
COMPARED = {
    "size_min": "i.size >= %(size_min)s",
    "size_max": "i.size <= %(size_max)s",
    "min_ram": "i.min_ram = %(min_ram)s",
    "min_disk": "i.min_disk = %(min_disk)s",
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

_local = threading.local()


def application(environ, start_response):
    request_id = f"req-{uuid.uuid4()}"
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    try:
        status, headers, body = answer(environ, method, path)
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        forget_connection()
        status, headers, body = "503 Service Unavailable", [], b'{"error": "database"}'
    headers = [
        *(headers or [("Content-Type", JSON)]),
        ("Content-Length", "0" if method == "HEAD" else str(len(body))),
        ("X-Openstack-Request-Id", request_id),
    ]
    start_response(status, headers)
    return [b"" if method == "HEAD" else body]


def answer(environ, method, path):
    if path == "/healthz":
        query("SELECT 1")
        return "200 OK", None, b'{"status": "ok"}'
    if V2_LISTING.fullmatch(path) and method == "GET":
        caller = authenticate(environ.get("HTTP_X_AUTH_TOKEN"))
        if caller is None:
            return "401 Unauthorized", None, b'{"error": "token"}'
        return v2_listing(caller, environ.get("QUERY_STRING", ""))
    listing = LISTING.fullmatch(path)  # `/images/detail` is a listing, not an image's id
    image = None if listing else IMAGE.fullmatch(path)
    if not (listing and method == "GET") and not (image and method == "HEAD"):
        return "404 Not Found", None, b'{"error": "not found"}'
    caller = authenticate(environ.get("HTTP_X_AUTH_TOKEN"))
    if caller is None:
        return "401 Unauthorized", None, b'{"error": "token"}'
    if image:
        return head(caller, image.group(1))
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    keys = DETAIL_KEYS if listing.group(1) else BRIEF_KEYS
    sql, args = page_query(caller, params, keys)
    return "200 OK", None, orjson.dumps({"images": entries(keys, query(sql, args))})


# ------------------------------------------------------------------------------
# The database: one connection per thread, as Django keeps them
# ------------------------------------------------------------------------------


def query(sql, args=None):
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = psycopg2.connect(os.environ["DATABASE_URL"])
        connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


def forget_connection():
    connection = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        connection.close()


def authenticate(secret):
    """(project, is_admin) of a live token with a reading role, or None."""
    if not secret:
        return None
    rows = query(
        "SELECT project, roles FROM catalog_apitoken WHERE secret_hash = %s"
        " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
        [hashlib.sha256(secret.encode()).hexdigest()],
    )
    if not rows:
        return None
    project, roles = rows[0]
    roles = set(roles.split(","))
    return (project, "admin" in roles) if roles & READ_ROLES else None


# ------------------------------------------------------------------------------
# The page: visibility, exclusions, filters, keyset order
# ------------------------------------------------------------------------------


def visible(alias, is_admin, is_public=None):
    """Who sees what: an admin's is_public=none sees all, =false the private images; everyone
    else (and an admin by default) the public images, its project's and those shared with it."""
    if is_admin and is_public == "none":
        return "TRUE"
    if is_admin and is_public in ("false", "0"):
        return f"NOT {alias}.is_public"
    return (
        f"({alias}.is_public OR {alias}.owner = %(project)s OR EXISTS (SELECT 1 FROM"
        f" catalog_imagemember s WHERE s.image_id = {alias}.id AND s.member_id = %(project)s))"
    )


def page_query(caller, params, keys):
    project, is_admin = caller
    args = {"project": project}
    changes = "changes-since" in params
    where = ["NOT i.is_windows", visible("i", is_admin, params.get("is_public", "").lower())]
    if not changes:
        where.append("NOT i.deleted AND i.status NOT IN ('killed', 'pending_delete')")
    where += filters(params, args)
    key = params.get("sort_key", "created_at")
    key = key if key in SORT_KEYS else "created_at"
    descending = params.get("sort_dir", "desc") != "asc"
    limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
    args["limit"] = limit
    marker = None
    if "marker" in params:
        args["marker"] = params["marker"]
        marker_where = ["m.id = %(marker)s", "NOT m.is_windows"]
        if not is_admin:
            marker_where.append(visible("m", False))
            if not changes:
                marker_where.append("NOT m.deleted")
        marker = " AND ".join(marker_where)
    select = f"SELECT {', '.join(SELECTED.get(k, f'i.{k}') for k in keys)} FROM catalog_image i"
    branches = [
        f"{select} WHERE {' AND '.join([*where, *region])} ORDER BY "
        f"{', '.join(f'i.{c} DESC' if descending else f'i.{c}' for c in columns)} LIMIT %(limit)s"
        for region, columns in regions(key, descending, marker)
    ]
    if len(branches) == 1:
        return branches[0], args
    return f"({branches[0]}) UNION ALL ({branches[1]}) LIMIT %(limit)s", args


def filters(params, args):
    where = []
    for name in EXACT:
        if name in params:
            where.append(f"i.{name} = %({name})s")
            args[name] = params[name]
    for name, condition in COMPARED.items():
        if name in params:
            where.append(condition)
            args[name] = int(params[name])
    if "protected" in params:
        where.append("i.protected = %(protected)s")
        args["protected"] = params["protected"].lower() in ("true", "1")
    if "changes-since" in params:
        moment = datetime.fromisoformat(params["changes-since"])
        where.append("i.updated_at > %(changes_since)s")
        args["changes_since"] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    properties = [(n[9:], v) for n, v in params.items() if n.startswith("property-")]
    for number, (key, value) in enumerate(properties):
        # Matched as the index holds it: the key and a prefix of the value (then all of it).
        condition = (
            f"EXISTS (SELECT 1 FROM catalog_imageproperty q{number} WHERE q{number}.image_id"
            f" = i.id AND q{number}.key = %(pk{number})s AND left(q{number}.value,"
            f" {PROPERTY_INDEX_PREFIX}) = %(pp{number})s"
        )
        if len(value) >= PROPERTY_INDEX_PREFIX:
            condition += f" AND q{number}.value = %(pv{number})s"
        where.append(condition + ")")
        args |= {
            f"pk{number}": key,
            f"pp{number}": value[:PROPERTY_INDEX_PREFIX],
            f"pv{number}": value,
        }
    return where


def regions(key, descending, marker):
    """[(conditions, order columns)]: the order `key, created_at, id`, nulls last ascending
    and first descending, each part walked along its own index; a page starts after the
    marker (a subquery, so that the page stays one query)."""
    tail = [] if key == "id" else [c for c in ("created_at", "id") if c != key]
    columns = [key, *tail]
    after = "<" if descending else ">"

    def beyond(names, extra=""):
        own, its = (", ".join(f"{alias}.{name}" for name in names) for alias in "im")
        return f"({own}) {after} (SELECT {its} FROM catalog_image m WHERE {marker}{extra})"

    if key not in NULLABLE_SORT_KEYS:
        return [([beyond(columns)] if marker else [], columns)]
    values, nulls = [f"i.{key} IS NOT NULL"], [f"i.{key} IS NULL"]
    if marker:
        marker_key = f"(SELECT m.{key} FROM catalog_image m WHERE {marker})"
        if descending:  # nulls come first: the marker is in them, or they are behind it
            nulls.append(beyond(tail, f" AND m.{key} IS NULL"))
            values.append(f"({marker_key} IS NULL OR {beyond(columns)})")
        else:  # values first: the marker is among them, or they are behind it
            values.append(beyond(columns))
            nulls.append(f"({marker_key} IS NOT NULL OR {beyond(tail)})")
    parts = [(values, columns), (nulls, tail)]
    return parts[::-1] if descending else parts


def entries(keys, rows):
    images = [dict(zip(keys, row, strict=True)) for row in rows]
    if "properties" in keys:
        for image in images:
            text = image["properties"]
            image["properties"] = orjson.loads(text) if text else {}
    return images


# ------------------------------------------------------------------------------
# The v2 listing, in its default order (created_at, id, descending)
# ------------------------------------------------------------------------------

V2_COLUMNS = (
    "properties", "name", "disk_format", "container_format", "visibility", "size",
    "virtual_size", "status", "checksum", "protected", "min_ram", "min_disk", "owner", "id",
    "created_at", "updated_at",
)  # fmt: skip
V2_SELECTED = {
    "properties": "(SELECT json_object_agg(p.key, p.value ORDER BY p.key)::text"
    " FROM catalog_imageproperty p WHERE p.image_id = i.id)",
    "visibility": "CASE WHEN i.is_public THEN 'public' WHEN (SELECT a.image_id FROM"
    " catalog_imagemember a WHERE a.image_id = i.id LIMIT 1) IS NOT NULL THEN 'shared'"
    " ELSE 'private' END",
    "id": "i.id::text",
    **{
        moment: f"to_char(i.{moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        for moment in ("created_at", "updated_at")
    },
}
V2_NOT_FILTERS = frozenset({"limit", "marker", "member_status", "visibility"})
V2_HIDDEN = frozenset({"direct_url", "locations", "stores"})
V2_VISIBILITY = {
    "public": "i.is_public",
    "private": "NOT i.is_public AND NOT EXISTS (SELECT 1 FROM catalog_imagemember a"
    " WHERE a.image_id = i.id)",
    "shared": "NOT i.is_public AND EXISTS (SELECT 1 FROM catalog_imagemember a"
    " WHERE a.image_id = i.id)",
}


def v2_listing(caller, query_string):
    """Glance v2's listing: accepted shares by default, `member_status`, `visibility`, every
    other parameter a property filter; the `first`/`next` links of the request's own."""
    project, is_admin = caller
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    args = {"project": project, "limit": min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)}
    where = ["NOT i.is_windows", "NOT i.deleted", "i.status <> 'killed'"]
    if not is_admin:
        status = params.get("member_status", "accepted")
        member = "" if status == "all" else " AND s.status = %(member_status)s"
        args["member_status"] = status
        where.append(
            "(i.is_public OR i.owner = %(project)s OR EXISTS (SELECT 1 FROM catalog_imagemember"
            f" s WHERE s.image_id = i.id AND s.member_id = %(project)s{member}))"
        )
    if params.get("visibility") in V2_VISIBILITY:
        where.append(V2_VISIBILITY[params["visibility"]])
    properties = {n: v for n, v in params.items() if n not in V2_NOT_FILTERS}
    where += filters({f"property-{n}": v for n, v in properties.items()}, args)
    select = ", ".join(V2_SELECTED.get(column, f"i.{column}") for column in V2_COLUMNS)
    sql = (
        f"SELECT {select} FROM catalog_image i WHERE {' AND '.join(where)}"
        " ORDER BY i.created_at DESC, i.id DESC LIMIT %(limit)s"
    )
    images = [v2_image(row) for row in query(sql, args)]
    links = {name: value for name, value in params.items() if name != "marker"}
    body = {
        "images": images,
        "first": f"/v2/images?{urlencode(links)}" if links else "/v2/images",
        "schema": "/v2/schemas/images",
    }
    if images and len(images) == args["limit"]:
        body["next"] = f"/v2/images?{urlencode({**links, 'marker': images[-1]['id']})}"
    return "200 OK", None, orjson.dumps(body)


def v2_image(row):
    properties, *fields = row
    image = {k: v for k, v in orjson.loads(properties or "{}").items() if k not in V2_HIDDEN}
    named = dict(zip(V2_COLUMNS[1:], fields, strict=True))
    pk = named["id"]
    image.update(
        {key: named[key] for key in V2_COLUMNS[1:13]},
        os_hidden=False,
        os_hash_algo=None,
        os_hash_value=None,
        id=pk,
        created_at=named["created_at"],
        updated_at=named["updated_at"],
        tags=[],
        self=f"/v2/images/{pk}",
        file=f"/v2/images/{pk}/file",
        schema="/v2/schemas/image",
    )
    return image


# ------------------------------------------------------------------------------
# HEAD: one image's metadata as headers
# ------------------------------------------------------------------------------


def head(caller, image_id):
    project, is_admin = caller
    try:
        image_id = str(uuid.UUID(image_id))
    except ValueError:
        return "404 Not Found", None, b""
    where = ["i.id = %(id)s", "NOT i.is_windows"]
    if not is_admin:
        where += [visible("i", False), "NOT i.deleted"]
    sql = (
        f"SELECT {', '.join(SELECTED.get(k, f'i.{k}') for k in DETAIL_KEYS)} FROM catalog_image i"
        f" WHERE {' AND '.join(where)}"
    )
    found = entries(DETAIL_KEYS, query(sql, {"id": image_id, "project": project}))
    if not found:
        return "404 Not Found", None, b""
    return "200 OK", [("Content-Type", "text/html; charset=UTF-8"), *meta(found[0])], b""


def meta(image):
    headers = []
    for key in DETAIL_KEYS[:-1]:
        value = image[key]
        if value is not None:
            text = ("True" if value else "False") if isinstance(value, bool) else str(value)
            headers.append((f"X-Image-Meta-{key.capitalize()}", header_value(text)))
    for key, value in sorted(image["properties"].items()):
        if HEADER_TOKEN.fullmatch(key):
            headers.append((f"X-Image-Meta-Property-{key}", header_value(value)))
    if image["checksum"]:
        headers.append(("Etag", image["checksum"]))
    return headers


def header_value(text):
    return CONTROL_CHARACTERS.sub(" ", text).strip(" ").encode().decode("latin-1")


# ------------------------------------------------------------------------------
# Serving: production's Hypercorn configuration, this application
# ------------------------------------------------------------------------------


class AnsweredRequestsOnly(logging.Filter):
    """As production's logging: Hypercorn's access lines without a status are dropped, and the
    others take their request id from the response's header."""

    def filter(self, record):
        record.request_id = record.args["{x-openstack-request-id}o"]
        return record.args["s"] != "-"


def log_as_production():
    """The service's workers log to standard error at INFO (Django's LOGGING), access lines
    included: so do these, or the floor would skip work that the service pays for."""
    root = logging.getLogger()
    if root.handlers:  # a spawned worker runs this module twice: as __mp_main__ and as itself
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            defaults={"request_id": "-"},
        )
    )
    root.addHandler(handler)
    root.setLevel(os.environ.get("DJANGO_LOG_LEVEL", "INFO"))
    logging.getLogger("hypercorn.access").addFilter(AnsweredRequestsOnly())


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsproject.settings")
    from hypercorn.run import run

    from imsproject.serve import server_config

    return run(server_config(f"wsgi:{Path(__file__).resolve()}:application"))


log_as_production()

if __name__ == "__main__":
    sys.exit(main())
