"""Ask the catalog's v2 API and a real Glance v2 the same requests, and compare the answers.

Both must serve the same catalog file: the catalog loads it with `import_images`, Glance
with whatever writes its tables (docs/glance-v2-comparison.md says how it was done). Glance
trusts identity headers here (no Keystone in front of it); the catalog gets tokens:

    python scripts/compare_glance_v2.py \\
        --glance http://127.0.0.1:9292 --catalog http://127.0.0.1:8000 \\
        --project P --project-token T --member M --member-token T2 \\
        --admin-project A --admin-token T3 --output docs/glance-v2-comparison-results.md

For each request it compares the status and, for a 200, the ids in order, each image's keys
and values, and the `first`/`next` links; paging walks follow `next` to the end in both
orders. A difference that is deliberate (docs/api.md#v2-differences) is reported as such,
with its reason; any other difference makes the exit status 1.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

# Requests whose answers differ on purpose, with the reason (docs/api.md#v2-differences).
DELIBERATE = {
    "min_ram=abc": "a malformed number is a 400; Glance's database fails with a 500",
    "min_disk=x": "a malformed number is a 400; Glance's database fails with a 500",
    "size=abc": "a malformed number is a 400; Glance's database fails with a 500",
    "virtual_size=abc": "a malformed number is a 400; Glance's database fails with a 500",
    "visibility=": "an empty visibility is a 400; Glance fails with a 500",
    "foo_min=3": "an unknown `_min` name is a property filter; Glance fails with a 500",
    "deleted_at=x": "matches nothing (no shown image has a deletion time); Glance fails with a 500",
    "changes-since=": "any changes-since is a 400; Glance fails with a 500 on an empty one",
    "eeeeeeee-0000-4000-8000-000000000001": "one message for every image the caller may not "
    "see (Glance words an image without an owner differently)",
    "marker=@OTHER": "an image the caller may not see is the same 400 as an unknown one; "
    "Glance's 403 tells the caller that it exists",
    'name=in:"say \\"hi\\""': 'a `\\"` in a quoted value is a quote; Glance keeps the '
    "backslash, so the value never matches",
    "sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc&limit=30": "the links "
    "keep every sort_key and sort_dir; Glance's keep only the last of each",
    "sort_key=name&sort_key=size&sort_dir=asc&limit=3": "`next` keeps every sort_key and "
    "sort_dir; Glance's keeps only the last of each, so its next page is in another order",
    "walk:sort_key=name&sort_dir=asc&limit=7": "paging across null names visits every image "
    "once; Glance compares a null as '' and skips or repeats images",
    "walk:sort_key=name&sort_dir=desc&limit=7": "paging across null names visits every image "
    "once; Glance compares a null as '' and skips or repeats images",
    "walk:sort_key=size&sort_dir=asc&limit=9": "paging across null sizes visits every image "
    "once; Glance compares a null as '' (0 for a number) and skips or repeats images",
    "walk:sort=name:asc,size:desc&limit=5&member_status=all": "paging across nulls visits "
    "every image once; Glance compares a null as '' and skips or repeats images",
}

LISTINGS = [
    "",
    "limit=3",
    "limit=0",
    "limit=5000",
    "limit=1000",
    "member_status=all&limit=40",
    "member_status=pending&limit=40",
    "member_status=rejected&limit=40",
    "visibility=public&limit=30",
    "visibility=private&limit=30",
    "visibility=shared&limit=60",
    "visibility=shared&member_status=all&limit=60",
    "visibility=shared&member_status=pending",
    "visibility=all&limit=30",
    "visibility=community",
    "name=a:b",
    "name=eq:a:b",
    "name=x,y",
    "name=in:x,y,a:b",
    'name=in:"x,y",a:b',
    'name=in:"say \\"hi\\""',
    "name=in:a,,x,y",
    "name=",
    "name=in:",
    'name=in:"unclosed',
    "name=%E9%95%9C%E5%83%8F%20with%20space",
    "id=in:eeeeeeee-0000-4000-8000-000000000004,eeeeeeee-0000-4000-8000-000000000005",
    "id=EEEEEEEE-0000-4000-8000-000000000004",
    "id=abc",
    "status=queued&limit=50",
    "status=in:queued,saving&limit=50",
    "status=killed",
    "status=pending_delete",
    "status=deleted",
    "status=bogus",
    "disk_format=zvhd2&limit=30",
    "disk_format=in:zvhd2,iso&limit=30",
    "disk_format=ZVHD2",
    "container_format=bare&limit=5",
    "owner=6d949d12eaaca9e5d24e193377e087e6",
    "owner=6d949d12eaaca9e5d24e193377e087e6&member_status=all",
    "owner=",
    "checksum=00000000000000000000000000000000",
    "min_ram=512&limit=30",
    "min_ram=0512&limit=5",
    "min_ram=%2B512&limit=5",
    "min_ram=-1",
    "min_ram=abc",
    "min_disk=x",
    "min_disk=20",
    "size=0",
    "size=abc",
    "virtual_size=5",
    "virtual_size=abc",
    "size_min=0&size_max=0",
    "size_min=2000000000&limit=40",
    "size_max=500000000&limit=40",
    "size_min=-5&limit=5",
    "size_min=99999999999999999999",
    "size_min=abc",
    "size_max=",
    "protected=true&limit=40",
    "protected=false&limit=5",
    "protected=True",
    "protected=",
    "os_hidden=false&limit=5",
    "os_hidden=TRUE",
    "os_hidden=maybe",
    "created_at=gte:2030-01-01T00:00:00Z",
    "created_at=gte:2030-01-01",
    "created_at=gt:2030-01-01T00:00:59%2B00:00",
    "created_at=eq:2030-01-01T00:00:30Z",
    "created_at=2030-01-01T00:00:30Z",
    "created_at=lt:2016-03-01T00:00:00Z",
    "created_at=foo",
    "created_at=gt:foo",
    "created_at=xx:2020-01-01T00:00:00Z",
    "created_at=in:2030-01-01T00:00:30Z",
    "updated_at=neq:2030-01-01T00:00:30Z&created_at=gte:2030-01-01T00:00:00Z",
    "updated_at=gte:2024-12-01T00:00:00Z&limit=40",
    "__os_type=Linux&limit=30",
    "__imagetype=gold&limit=30",
    "__imagetype=private&__os_bit=64&limit=30",
    "__platform=Ubuntu&__isregistered=true",
    "__os_type=Windows",
    "is_public=yes",
    "foo_min=3",
    "deleted_at=x",
    "tag=x",
    "deleted=true&limit=3",
    "changes-since=2020-01-01",
    "changes-since=",
    "sort_key=name&sort_dir=asc&limit=30",
    "sort_key=name&sort_dir=desc&limit=30",
    "sort_key=size&sort_dir=asc&limit=30",
    "sort_key=size&limit=30",
    "sort_key=status&sort_dir=asc&limit=30",
    "sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc&limit=30",
    "sort_key=name&sort_key=size&sort_dir=asc&limit=3",
    "sort_key=updated_at&limit=30",
    "sort_key=id&sort_dir=asc&limit=30",
    "sort_key=created_at&sort_dir=asc&limit=30",
    "sort=name:asc,created_at:desc&limit=30",
    "sort=name:&limit=10",
    "sort=status:asc,size:desc&limit=30",
    "sort=disk_format,name:asc&limit=30",
    "sort_key=foo",
    "sort_key=",
    "sort_dir=up",
    "sort=name:up",
    "sort=:asc",
    "sort=name:asc&sort_key=name",
    "sort_key=name&sort_dir=asc&sort_dir=desc",
    "member_status=foo",
    "member_status=",
    "visibility=foo",
    "visibility=",
    "limit=abc",
    "limit=-1",
    "limit=1.5",
    "limit=",
    "marker=nope",
    "marker=",
    "marker=eeeeeeee-0000-4000-8000-000000000014&limit=5",
    "marker=eeeeeeee-0000-4000-8000-000000000015",
    "marker=@OTHER",
]
WALKS = [
    "limit=100",
    "limit=7&sort_key=created_at&sort_dir=asc",
    "sort_key=name&sort_dir=asc&limit=7",
    "sort_key=name&sort_dir=desc&limit=7",
    "sort_key=size&sort_dir=asc&limit=9",
    "sort=name:asc,size:desc&limit=5&member_status=all",
    "visibility=shared&member_status=all&limit=13",
    "sort_key=status&sort_dir=asc&limit=50",
]
IMAGES = [
    "eeeeeeee-0000-4000-8000-000000000001",
    "eeeeeeee-0000-4000-8000-000000000002",
    "eeeeeeee-0000-4000-8000-000000000003",
    "eeeeeeee-0000-4000-8000-000000000011",
    "eeeeeeee-0000-4000-8000-000000000012",
    "eeeeeeee-0000-4000-8000-000000000013",
    "eeeeeeee-0000-4000-8000-000000000014",
    "eeeeeeee-0000-4000-8000-000000000015",
    "eeeeeeee-0000-4000-8000-000000000016",
    "EEEEEEEE-0000-4000-8000-000000000004",
    "abc",
    "@OTHER",
]


class Server:
    def __init__(self, base: str, headers: dict):
        self.base, self.headers = base.rstrip("/"), {**headers, "Accept": "application/json"}

    def get(self, path: str) -> tuple[int, object]:
        # Quote what a URL cannot hold as it is (quotes, backslashes, spaces), nothing else.
        path = urllib.parse.quote(path, safe="/?=&%:,+")
        request = urllib.request.Request(self.base + path, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, body[:200]


def glance_headers(project: str, roles: str) -> dict:
    return {
        "X-Identity-Status": "Confirmed",
        "X-Project-Id": project,
        "X-Tenant-Id": project,
        "X-User-Id": "compare",
        "X-Roles": roles,
    }


CORE_KEYS = (
    *("name", "disk_format", "container_format", "visibility", "size", "virtual_size"),
    *("status", "checksum", "protected", "min_ram", "min_disk", "owner", "os_hidden"),
    *("os_hash_algo", "os_hash_value", "id", "created_at", "updated_at", "tags", "self"),
    *("file", "schema"),
)


def core_order(image: dict) -> list[str]:
    """Glance's own keys in their order: the properties' order is the database's whim in
    Glance (it changes between a listing and GET of the same image), so it is not compared."""
    return [key for key in image if key in CORE_KEYS]


def compare_images(ours: list, theirs: list) -> list[str]:
    problems = []
    if [i["id"] for i in ours] != [i["id"] for i in theirs]:
        return [f"ids differ: {len(ours)} here, {len(theirs)} in Glance"]
    for mine, glance in zip(ours, theirs, strict=True):
        if list(mine) != list(glance):
            extra, missing = sorted(set(mine) - set(glance)), sorted(set(glance) - set(mine))
            if extra or missing:
                problems.append(f"{mine['id']}: keys {extra} only here, {missing} only in Glance")
            elif core_order(mine) != core_order(glance):
                problems.append(f"{mine['id']}: Glance's own keys in another order")
        elif mine != glance:
            changed = [k for k in mine if mine[k] != glance[k]]
            problems.append(f"{mine['id']}: values of {changed} differ")
    return problems


def compare(ours, theirs, *, listing: bool) -> list[str]:
    (status, body), (glance_status, glance_body) = ours, theirs
    if status != glance_status:
        return [f"status {status} here, {glance_status} in Glance"]
    if status != 200:
        return compare_messages(body, glance_body)
    if not listing:
        return compare_images([body], [glance_body])
    problems = compare_images(body["images"], glance_body["images"])
    for link in ("first", "next", "schema"):
        if unquoted(body.get(link)) != unquoted(glance_body.get(link)):
            problems.append(f"{link}: {body.get(link)} != {glance_body.get(link)}")
    return problems


def compare_messages(body, glance_body) -> list[str]:
    """An error's message, without the HTML Glance appends to it (`<br /><br />` and line
    breaks). The catalog nests it (`{"error": {...}}`); Glance's body is flat."""
    if not isinstance(glance_body, dict) or "message" not in glance_body:
        return []  # Glance's 204 or an HTML page: only the status compares
    message = body["error"]["message"] if isinstance(body, dict) and "error" in body else None
    theirs = glance_body["message"].split("<br />")[0].strip()
    message = message.strip() if message else message
    if message != theirs and not theirs.startswith("The server has either erred"):
        return [f"message {message!r} here, {theirs!r} in Glance"]
    return []


def unquoted(link):
    """Links compared by their parameters (Glance and the catalog may quote differently)."""
    if link is None:
        return None
    path, _, query = link.partition("?")
    return path, urllib.parse.parse_qsl(query, keep_blank_values=True)


def walk(server: Server, query: str) -> tuple[int, list[str]]:
    """Every id of a listing, following `next` to the end; the status of a failed page."""
    ids, path = [], f"/v2/images?{query}"
    for _ in range(5000):
        status, body = server.get(path)
        if status != 200:
            return status, ids
        ids += [image["id"] for image in body["images"]]
        if "next" not in body:
            return status, ids
        path = body["next"]
    return 0, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glance", required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--project", required=True, help="the member whose requests these are")
    parser.add_argument("--project-token", required=True)
    parser.add_argument("--member", required=True, help="a second project, member of shares")
    parser.add_argument("--member-token", required=True)
    parser.add_argument("--admin-project", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--other-image", required=True, help="an image the project may not see")
    parser.add_argument("--output", help="write the Markdown report here")
    args = parser.parse_args()
    callers = {
        "member": (
            Server(args.catalog, {"X-Auth-Token": args.project_token}),
            Server(args.glance, glance_headers(args.project, "member,reader")),
        ),
        "second member": (
            Server(args.catalog, {"X-Auth-Token": args.member_token}),
            Server(args.glance, glance_headers(args.member, "member,reader")),
        ),
        "admin": (
            Server(args.catalog, {"X-Auth-Token": args.admin_token}),
            Server(args.glance, glance_headers(args.admin_project, "admin,member,reader")),
        ),
    }
    rows, unexpected = [], 0

    def record(caller, request, problems, name):
        nonlocal unexpected
        reason = DELIBERATE.get(name)
        if not problems:
            verdict = "same"
        elif reason:
            verdict = f"differs on purpose: {reason} ({'; '.join(problems)[:200]})"
        else:
            verdict = "**differs**: " + "; ".join(problems)[:300]
            unexpected += 1
        rows.append((caller, request, verdict))

    for caller, (ours, theirs) in callers.items():
        for query in LISTINGS:
            name = query.replace("@OTHER", "@OTHER")
            query = query.replace("@OTHER", args.other_image)
            path = f"/v2/images?{query}" if query else "/v2/images"
            problems = compare(ours.get(path), theirs.get(path), listing=True)
            record(caller, f"GET {path}", problems, name)
        for image_id in IMAGES:
            path = f"/v2/images/{image_id.replace('@OTHER', args.other_image)}"
            problems = compare(ours.get(path), theirs.get(path), listing=False)
            record(caller, f"GET {path}", problems, image_id)
            status, glance_status = ours.get(path + "/file")[0], theirs.get(path + "/file")[0]
            problems = [] if status == glance_status else [f"{status} != {glance_status}"]
            record(caller, f"GET {path}/file", problems, image_id)
        for query in WALKS:
            (status, ids), (glance_status, glance_ids) = walk(ours, query), walk(theirs, query)
            problems = []
            if status != glance_status or ids != glance_ids:
                problems.append(
                    f"{len(ids)} ids ({len(set(ids))} distinct) here, {len(glance_ids)} "
                    f"({len(set(glance_ids))} distinct) in Glance"
                )
            # The pages together must be the listing in one page (its first 1000 images),
            # each image once.
            whole = "&".join(p for p in query.split("&") if not p.startswith("limit="))
            status, body = ours.get(f"/v2/images?{whole}&limit=1000")
            one_page = [image["id"] for image in body["images"]] if status == 200 else None
            if one_page != ids[:1000] or len(set(ids)) != len(ids):
                problems.append("here, the pages together are not the listing in one page")
                unexpected += 1
            record(caller, f"every page of GET /v2/images?{query}", problems, f"walk:{query}")
    same = sum(1 for row in rows if row[2] == "same")
    deliberate = sum(1 for row in rows if row[2].startswith("differs on purpose"))
    lines = [
        "# Glance v2 comparison: every request",
        "",
        "Written by `scripts/compare_glance_v2.py`; how it was run is in",
        "[glance-v2-comparison.md](glance-v2-comparison.md).",
        "",
        f"{len(rows)} comparisons: {same} the same, {deliberate} different on purpose, "
        f"{unexpected} different otherwise.",
        "",
        "| Caller | Request | Result |",
        "|---|---|---|",
        *(
            f"| {caller} | `{request.replace('|', '%7C')}` | {verdict.replace('|', '/')} |"
            for caller, request, verdict in rows
        ),
    ]
    report = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(report)
    print(lines[5])
    for caller, request, verdict in rows:
        if verdict.startswith("**differs"):
            print(f"{caller}: {request}: {verdict}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
