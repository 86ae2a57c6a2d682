"""How fast the legacy image API answers on a large PostgreSQL catalog (not a test: it prints).

    python scripts/benchmark.py [--count 1000000] [--database-url postgres://...] [--skip-seed]

It seeds the catalog (`seed_images`), creates an admin and a member token, serves the API with
`python -m imsproject.serve` on loopback as production does, and for each request of a fixed
set measures, one client after another: the median and 95th percentile latency, the SQL
queries the request runs (counted in-process with Django's test client against the same
database), and a baseline: the same rows fetched by one hand-written SQL query through psycopg2
and serialized with orjson. It prints EXPLAIN (ANALYZE, BUFFERS) of each request's main query,
flags any sequential scan of the image table, measures the throughput of the default listing
with several concurrent clients, and writes everything to docs/benchmarks.md.

A second table holds the worst cases a client may send (the most property filters allowed,
every filter at once, the last page of every sort order, 128 KB values, ...): their planning
and execution time (EXPLAIN ANALYZE) and their latency and status through the server, which
runs with the production statement_timeout. A block of docs/benchmarks.md between
`<!-- soak -->` and `<!-- /soak -->` belongs to scripts/soak.py and is kept as it is.
"""

import argparse
import http.client
import os
import platform
import re
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/catalog_bench"
DETAIL, BRIEF = "/v1.1/images/detail", "/v1.1/images"
TOKEN_NAMES = {"admin": "benchmark-admin", "member": "benchmark-member"}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
ROWS_FILTERED = re.compile(r"Rows Removed by Filter: (\d+)")
EXECUTION_TIME = re.compile(r"Execution Time: ([\d.]+) ms")
PLANNING_TIME = re.compile(r"Planning Time: ([\d.]+) ms")
SOAK_BLOCK = re.compile(r"<!-- soak -->.*?<!-- /soak -->", re.S)
SORT_KEYS = (
    "name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at",
)  # fmt: skip
# The seed's property keys (every gold image has them) and keys no image has.
COMMON_PROPERTIES = {
    "__imagetype": "gold",
    "__os_type": "Linux",
    "__os_version": "CentOS 7.9 64bit",
    "__os_bit": "64",
    "__platform": "CentOS",
    "__support_kvm": "true",
    "__isregistered": "true",
}
LONG_VALUE = "a" * 128 * 1024
SLOW_WORST_CASE_MS = 50  # a worst case costing more shows its plan
# A page of 25 that has to read and discard more rows than this walks most of an index.
MANY_ROWS_FILTERED = 10_000

# Targets on the reference machine (2 cores, one million images).
TARGET_MEDIAN_MS = 15.0
TARGET_LIMIT_1000_RATIO = 2.0


# ------------------------------------------------------------------------------
# The requests
# ------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    path: str
    params: dict = field(default_factory=dict)
    token: str = "admin"
    method: str = "GET"
    # Measured:
    samples: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    queries: int = 0
    plan: str = ""
    sql_ms: float = 0.0
    rows_filtered: int = 0
    other_plans: list[str] = field(default_factory=list)
    seq_scans: set[str] = field(default_factory=set)
    same_rows: bool = True
    planning_ms: float = 0.0
    statuses: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path

    @property
    def median(self) -> float:
        return milliseconds(self.samples)[0]

    @property
    def ratio(self) -> float:
        return self.median / milliseconds(self.baseline)[0]

    @property
    def scans_images(self) -> bool:
        return "catalog_image" in self.seq_scans


def cases(head_id: str, deep_marker: str) -> list[Case]:
    name_order = {"sort_key": "name", "sort_dir": "asc"}
    return [
        Case("default listing", DETAIL),
        Case("name", DETAIL, {"name": "CentOS 7.9 64bit"}),
        Case("status=active", DETAIL, {"status": "active"}),
        Case("status=queued", DETAIL, {"status": "queued"}),
        Case("disk_format", DETAIL, {"disk_format": "qcow2"}),
        Case("container_format", DETAIL, {"container_format": "bare"}),
        Case("size_min (3 GiB)", DETAIL, {"size_min": str(3 * 2**30)}),
        Case("size_max (1 GiB)", DETAIL, {"size_max": str(2**30)}),
        Case("min_ram", DETAIL, {"min_ram": "2048"}),
        Case("protected", DETAIL, {"protected": "true"}),
        Case("property-__os_type", DETAIL, {"property-__os_type": "Linux"}),
        Case("changes-since", DETAIL, {"changes-since": "2024-10-01T00:00:00"}),
        Case("sort by name, first page", DETAIL, name_order),
        Case("sort by name, deep page", DETAIL, {**name_order, "marker": deep_marker}),
        Case("limit=1000", DETAIL, {"limit": "1000"}),
        Case("member: default listing", DETAIL, token="member"),
        Case("member: limit=1000", DETAIL, {"limit": "1000"}, token="member"),
        Case("brief listing", BRIEF),
        Case("HEAD one image", f"{BRIEF}/{head_id}", method="HEAD"),
    ]


def worst_cases(last_images: dict[tuple[str, str], str], cap: int) -> list[Case]:
    """What a client may send that costs the most: each must still be bounded.

    `last_images` holds, for each sort order, the last image the admin sees in it: the page
    after it is empty, but the database has to prove that none follows.
    """
    rare = {f"property-no-such-key-{n}": "x" for n in range(cap)}
    common = {f"property-{key}": value for key, value in COMMON_PROPERTIES.items()}
    mixed = {**common, **dict(list(rare.items())[: cap - len(common)])}
    everything = {
        "name": "CentOS 7.9 64bit",
        "status": "active",
        "disk_format": "zvhd2",
        "container_format": "bare",
        "size_min": "1",
        "size_max": str(2**40),
        "min_ram": "1024",
        "min_disk": "40",
        "protected": "false",
        "changes-since": "2016-01-01T00:00:00",
        "property-__os_type": "Linux",
        "sort_key": "name",
        "sort_dir": "asc",
        "limit": "1000",
    }
    worst = [
        Case(f"{len(common)} common property filters", DETAIL, common),
        Case(f"{cap} property filters, {len(common)} common and the rest rare", DETAIL, mixed),
        Case(f"{cap} property filters, rare keys", DETAIL, rare),
        Case(f"{cap} property filters, member", DETAIL, mixed, token="member"),
        Case("every filter at once", DETAIL, everything),
        Case("every filter at once, member", DETAIL, everything, token="member"),
        Case("min_ram=2048 (admin)", DETAIL, {"min_ram": "2048"}),
        Case(
            "name of hidden (Windows) images",
            DETAIL,
            {"name": "Windows Server 2019 Datacenter 64bit"},
        ),
        Case("status=killed without changes-since", DETAIL, {"status": "killed"}),
        Case("128 KB name", DETAIL, {"name": LONG_VALUE}),
        Case("128 KB property value", DETAIL, {"property-__os_type": LONG_VALUE}),
        Case(
            "changes-since at the start, limit=1000",
            DETAIL,
            {"changes-since": "2000-01-01", "limit": "1000"},
        ),
        Case("is_public=none, limit=1000", DETAIL, {"is_public": "none", "limit": "1000"}),
    ]
    for (sort_key, sort_dir), marker in last_images.items():
        order = {"sort_key": sort_key, "sort_dir": sort_dir}
        worst.append(Case(f"first page by {sort_key} {sort_dir}", DETAIL, order))
        after = {**order, "marker": marker}
        worst.append(Case(f"after the last image by {sort_key} {sort_dir}", DETAIL, after))
    return worst


# ------------------------------------------------------------------------------
# The baseline: one hand-written query, psycopg2, orjson
# ------------------------------------------------------------------------------

# Spelled out, not imported from the catalog: the baseline is written by hand from the contract
# (legacy-api.md §4), independent of the code it measures.
DETAIL_COLUMNS = (
    "id",
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "virtual_size",
    "checksum",
    "min_ram",
    "min_disk",
    "is_public",
    "protected",
    "owner",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "properties",
)
BRIEF_COLUMNS = ("id", "name", "size", "disk_format", "container_format", "checksum")
SELECTED = {
    "id": "i.id::text",
    **{
        moment: f"to_char(i.{moment} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        for moment in ("created_at", "updated_at", "deleted_at")
    },
    # legacy-api.md §4: a deleted image lists {}.
    "properties": "CASE WHEN i.deleted THEN '{}'::json ELSE coalesce("
    "(SELECT json_object_agg(p.key, p.value ORDER BY p.key) FROM catalog_imageproperty p"
    " WHERE p.image_id = i.id), '{}'::json) END",
}


def baseline_query(case: Case, project: str) -> tuple[str, dict, tuple]:
    """The SQL a person would write by hand for the request: (sql, parameters, columns)."""
    p = case.params
    where = ["NOT i.is_windows"]
    args = {"project": project, "limit": int(p.get("limit", 25))}
    if case.method == "HEAD":
        where.append("i.id = %(id)s")
        args["id"], args["limit"] = case.path.rsplit("/", 1)[1], 1
    elif "changes-since" not in p:
        where.append("NOT i.deleted AND i.status NOT IN ('killed', 'pending_delete')")
    if case.token == "member" and case.method == "HEAD":
        where.append("NOT i.deleted")
    # legacy-api.md §2: an admin without is_public sees what a member of its project sees.
    where.append(
        "(i.is_public OR i.owner = %(project)s OR EXISTS (SELECT 1 FROM catalog_imagemember m"
        " WHERE m.image_id = i.id AND m.member_id = %(project)s))"
    )
    exact = {"name", "status", "disk_format", "container_format", "min_ram"}
    compared = {"size_min": ">=", "size_max": "<=", "changes-since": ">"}
    column = {"size_min": "size", "size_max": "size", "changes-since": "updated_at"}
    for name, value in p.items():
        slot = name.replace("-", "_")
        if name in exact:
            where.append(f"i.{name} = %({slot})s")
        elif name in compared:
            where.append(f"i.{column[name]} {compared[name]} %({slot})s")
            value = value + "+00" if name == "changes-since" else int(value)
        elif name == "protected":
            where.append("i.protected = %(protected)s")
            value = value == "true"
        elif name.startswith("property-"):
            where.append(
                "EXISTS (SELECT 1 FROM catalog_imageproperty q WHERE q.image_id = i.id"
                f" AND q.key = %({slot}_key)s AND q.value = %({slot})s)"
            )
            args[f"{slot}_key"] = name.removeprefix("property-")
        else:
            continue
        args[slot] = value
    sort_key, descending = p.get("sort_key", "created_at"), p.get("sort_dir", "desc") == "desc"
    order = [sort_key, *(c for c in ("created_at", "id") if c != sort_key)]
    if "marker" in p:
        args["marker"] = p["marker"]
        where.append(f"i.{sort_key} IS NOT NULL")
        where.append(
            f"({', '.join(f'i.{c}' for c in order)}) {'<' if descending else '>'} "
            f"(SELECT {', '.join(order)} FROM catalog_image WHERE id = %(marker)s)"
        )
    direction = " DESC" if descending else ""
    columns = BRIEF_COLUMNS if case.path == BRIEF else DETAIL_COLUMNS
    sql = (
        f"SELECT {', '.join(SELECTED.get(c, f'i.{c}') for c in columns)} FROM catalog_image i "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {', '.join(f'i.{c}{direction}' for c in order)} LIMIT %(limit)s"
    )
    return sql, args, columns


def run_baseline(cursor, case: Case, query: tuple, orjson) -> tuple[float, list[str]]:
    sql, args, columns = query
    started = time.perf_counter()
    cursor.execute(sql, args)
    rows = cursor.fetchall()
    if case.method == "HEAD":
        headers = {}
        for row in rows:
            for column, value in zip(columns[:-1], row, strict=False):
                if value is not None:
                    headers[f"X-Image-Meta-{column.capitalize()}"] = str(value)
            for key, value in row[-1].items():
                headers[f"X-Image-Meta-Property-{key}"] = value
        orjson.dumps(headers)
    else:
        orjson.dumps({"images": [dict(zip(columns, row, strict=True)) for row in rows]})
    return time.perf_counter() - started, [row[0] for row in rows]


# ------------------------------------------------------------------------------
# Serving and measuring over HTTP
# ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The production server (`python -m imsproject.serve`) on loopback."""

    def __init__(self, database_url: str, workers: int | None):
        self.port = free_port()
        bind = f"127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "BIND": bind,
        }
        if workers:
            env["WORKERS"] = str(workers)
        env.pop("DJANGO_LOG_LEVEL", None)  # the production default, whatever this process uses
        command = [sys.executable, "-m", "imsproject.serve"]
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by __exit__)
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def __enter__(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited:\n{self.log_tail()}")
            try:
                if request(self.connection(), "GET", "/healthz", {})[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"/healthz did not answer 200 within a minute:\n{self.log_tail()}")

    def __exit__(self, kind, error, traceback):
        if kind is SystemExit:
            print(self.log_tail(), file=sys.stderr)
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-lines:])

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)


def request(connection, method: str, url: str, headers: dict) -> tuple[int, bytes]:
    connection.request(method, url, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def get_images(server: Server, url: str, headers: dict, orjson) -> list[dict]:
    status, body = request(server.connection(), "GET", url, headers)
    if status != 200:
        raise SystemExit(f"GET {url} answered {status}: {body[:300]!r}")
    return orjson.loads(body)["images"]


def timed_requests(server: Server, case: Case, headers: dict, count: int, warmup: int):
    connection = server.connection()  # reconnects by itself if the server closes it
    for _ in range(warmup):
        status, body = request(connection, case.method, case.url, headers)
        if status != 200:
            raise SystemExit(f"{case.label}: {case.url} answered {status}: {body[:300]!r}")
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        request(connection, case.method, case.url, headers)
        samples.append(time.perf_counter() - started)
    connection.close()
    return samples


def throughput(server: Server, url: str, headers: dict, clients: int, seconds: float):
    done, failed = [0] * clients, [0] * clients
    stop_at = time.monotonic() + seconds

    def client(index):
        connection = server.connection()
        while time.monotonic() < stop_at:
            status, _ = request(connection, "GET", url, headers)
            done[index] += 1
            failed[index] += status != 200
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(failed)


def milliseconds(samples: list[float]) -> tuple[float, float]:
    """(median, 95th percentile) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[round(0.95 * (len(ordered) - 1))]
    return statistics.median(ordered) * 1000, p95 * 1000


# ------------------------------------------------------------------------------
# In-process: the queries a request runs, and their plans
# ------------------------------------------------------------------------------


def captured_queries(case: Case, secret: str, strict: bool = True) -> list[str]:
    """The SQL of the request; `strict`: it must answer 200 (a worst case need not)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = Client(HTTP_X_AUTH_TOKEN=secret).generic(case.method, case.url)
    if strict and response.status_code != 200:
        raise SystemExit(f"{case.label}: in-process {case.url} answered {response.status_code}")
    return [query["sql"] for query in captured.captured_queries]


def explain_queries(cursor, case: Case, queries: list[str]) -> None:
    """Plans of the queries that read images; the slowest is the request's main query."""
    plans = []
    for sql in queries:
        if not sql.startswith("SELECT") or "catalog_image" not in sql:
            continue  # the token lookup
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        elapsed = float(EXECUTION_TIME.search(plan).group(1))
        case.seq_scans.update(SEQ_SCAN.findall(plan))
        case.sql_ms += elapsed
        case.planning_ms += float(PLANNING_TIME.search(plan).group(1))
        case.rows_filtered += sum(int(n) for n in ROWS_FILTERED.findall(plan))
        plans.append((elapsed, f"{sql}\n\n{plan}"))
    if plans:
        main = max(plans)
        case.plan = main[1]
        case.other_plans = [plan for elapsed, plan in plans if (elapsed, plan) != main]


# ------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--seed", type=int, default=1, help="seed_images --seed.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCHMARK_DATABASE_URL", DEFAULT_DATABASE_URL),
        help=f"A PostgreSQL database the benchmark may fill (default {DEFAULT_DATABASE_URL}).",
    )
    parser.add_argument(
        "--skip-seed", action="store_true", help="Reuse the catalog already in the database."
    )
    parser.add_argument("--requests", type=int, default=100, help="Timed requests per case.")
    parser.add_argument("--warmup", type=int, default=10, help="Untimed requests per case.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients.")
    parser.add_argument("--duration", type=float, default=10, help="Seconds of concurrent load.")
    parser.add_argument("--workers", type=int, help="Server workers (default: one per core).")
    parser.add_argument("--deep-pages", type=int, default=40, help="Pages of 1000 to walk.")
    parser.add_argument(
        "--worst-requests", type=int, default=5, help="Timed requests per worst case."
    )
    parser.add_argument(
        "--output",
        default=str(PROJECT_ROOT / "docs" / "benchmarks.md"),
        help="Markdown report to write; '-' writes none.",
    )
    return parser


def manage(database_url: str, *args: str) -> float:
    started = time.monotonic()
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=env, check=True)
    return time.monotonic() - started


def machine() -> dict:
    def read(path):
        return Path(path).read_text() if Path(path).exists() else ""

    model = re.search(r"^model name\s*:\s*(.+)$", read("/proc/cpuinfo"), re.M)
    memory = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    return {
        "cpu": model.group(1) if model else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory": f"{int(memory.group(1)) / 2**20:.1f} GiB" if memory else "unknown",
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def main():
    args = build_parser().parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the benchmark needs PostgreSQL: --database-url postgres://...")
    facts = {"args": args, "machine": machine(), "seed_seconds": None}
    if not args.skip_seed:
        manage(args.database_url, "migrate", "--noinput", "-v", "0")
        print(f"seeding {args.count:,} images ...", flush=True)
        facts["seed_seconds"] = manage(
            args.database_url, "seed_images", "--count", str(args.count), "--seed",
            str(args.seed), "--replace",
        )  # fmt: skip
        print(f"seeded in {facts['seed_seconds']:.1f}s", flush=True)

    os.environ.update(DATABASE_URL=args.database_url, DJANGO_LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsproject.settings")
    sys.path.insert(0, str(PROJECT_ROOT))
    import django

    django.setup()
    import orjson
    import psycopg2
    import psycopg2.extras

    raw = psycopg2.connect(args.database_url)
    raw.autocommit = True
    psycopg2.extras.register_default_json(raw, loads=orjson.loads)
    cursor = raw.cursor()
    # What autovacuum does soon after a load: fresh statistics, and the visibility map that
    # index-only scans need. Cheap when nothing changed since the last time.
    cursor.execute("VACUUM ANALYZE catalog_image, catalog_imageproperty, catalog_imagemember")
    for setting in ("server_version", "shared_buffers", "work_mem"):
        cursor.execute(f"SHOW {setting}")
        facts[setting] = cursor.fetchone()[0]

    try:
        projects, secrets_ = create_tokens(facts)
        with Server(args.database_url, args.workers) as server:
            results = measure(server, cursor, projects, secrets_, args, facts, orjson)
            worst = measure_worst(server, cursor, projects, secrets_, args, orjson)
    finally:
        from catalog.models import ApiToken

        ApiToken.objects.filter(name__in=TOKEN_NAMES.values()).delete()
        raw.close()
    if args.output != "-":
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        previous = output.read_text(encoding="utf-8") if output.exists() else ""
        soak = SOAK_BLOCK.search(previous)
        text = report(results, worst, facts, soak.group(0) if soak else None)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")


def create_tokens(facts: dict) -> tuple[dict, dict]:
    """An admin for the project that owns the public images, a member for the biggest tenant."""
    from django import get_version
    from django.db.models import Count

    from catalog.models import ApiToken, Image
    from catalog.services import token_create

    facts["django"] = get_version()
    facts["images"] = Image.objects.count()
    public = Image.objects.filter(is_public=True).values_list("owner", flat=True)
    provider = public.first() or "benchmark-admin"
    tenants = (
        Image.objects.filter(is_public=False)
        .exclude(owner=provider)
        .values("owner")
        .annotate(images=Count("id"))
        .order_by("-images", "owner")
    )
    projects = {"admin": provider, "member": tenants[0]["owner"] if tenants else "benchmark"}
    ApiToken.objects.filter(name__in=TOKEN_NAMES.values()).delete()
    secrets_ = {
        role: token_create(project=projects[role], roles=[role], name=TOKEN_NAMES[role])[1]
        for role in ("admin", "member")
    }
    return projects, secrets_


def measure(server, cursor, projects, secrets_, args, facts, orjson) -> list[Case]:
    facts["load_before"] = os.getloadavg()[0]
    admin = {"X-Auth-Token": secrets_["admin"]}
    head_id = get_images(server, DETAIL, admin, orjson)[0]["id"]
    # Walk the name order page by page, as a client does, to a deep marker (at most to the
    # last full page, so that the deep page still holds images).
    params, walked = {"sort_key": "name", "sort_dir": "asc", "limit": "1000"}, 0
    for _ in range(args.deep_pages):
        page = get_images(server, f"{DETAIL}?{urlencode(params)}", admin, orjson)
        if len(page) < 1000:
            break
        params["marker"], walked = page[-1]["id"], walked + len(page)
    marker, facts["walked"] = params.get("marker"), walked

    print(HEADER, flush=True)
    results = cases(head_id, marker)
    for case in results:
        headers = {"X-Auth-Token": secrets_[case.token]}
        case.samples = timed_requests(server, case, headers, args.requests, args.warmup)
        queries = captured_queries(case, secrets_[case.token])
        case.queries = len(queries)
        explain_queries(cursor, case, queries)
        query = baseline_query(case, projects[case.token])
        for _ in range(args.warmup):
            run_baseline(cursor, case, query, orjson)
        timings = [run_baseline(cursor, case, query, orjson) for _ in range(args.requests)]
        case.baseline = [elapsed for elapsed, _ in timings]
        if case.method == "GET":
            api_ids = [image["id"] for image in get_images(server, case.url, headers, orjson)]
            case.same_rows = api_ids == timings[0][1]
        print(line(case), flush=True)

    facts["throughput"], facts["failed"] = throughput(
        server, DETAIL, admin, args.clients, args.duration
    )
    facts["load_after"] = os.getloadavg()[0]
    print(
        f"throughput of the default listing: {facts['throughput']:.0f} requests/s "
        f"with {args.clients} clients ({facts['failed']} failed)"
    )
    return results


def measure_worst(server, cursor, projects, secrets_, args, orjson) -> list[Case]:
    from django.conf import settings

    # The last image of each order is the first of the reverse one; asked of the database
    # directly, because the server may well refuse to spend that long (statement_timeout).
    last_images = {}
    for sort_key in SORT_KEYS:
        for sort_dir, reverse in (("asc", "desc"), ("desc", "asc")):
            first = Case("", DETAIL, {"sort_key": sort_key, "sort_dir": reverse, "limit": "1"})
            query = baseline_query(first, projects["admin"])
            last_images[sort_key, sort_dir] = run_baseline(cursor, first, query, orjson)[1][0]
    print(f"\nworst cases\n{WORST_HEADER}", flush=True)
    results = worst_cases(last_images, settings.CATALOG_MAX_PROPERTY_FILTERS)
    for case in results:
        headers = {"X-Auth-Token": secrets_[case.token]}
        connection = server.connection()
        request(connection, case.method, case.url, headers)  # untimed: caches warm
        for _ in range(args.worst_requests):
            started = time.perf_counter()
            status, _ = request(connection, case.method, case.url, headers)
            case.samples.append(time.perf_counter() - started)
            case.statuses.add(status)
        connection.close()
        queries = captured_queries(case, secrets_[case.token], strict=False)
        case.queries = len(queries)
        explain_queries(cursor, case, queries)
        print(worst_line(case), flush=True)
    return results


# ------------------------------------------------------------------------------
# Reporting
# ------------------------------------------------------------------------------

WORST_HEADER = (
    f"{'request':52} {'status':>6} {'median':>8} {'max':>8} {'planning':>9} {'execution':>9}"
    f" {'filtered':>9}"
)


def statuses(case: Case) -> str:
    return "/".join(str(status) for status in sorted(case.statuses))


def worst_line(case: Case) -> str:
    median, slowest = milliseconds(case.samples)[0], max(case.samples) * 1000
    return (
        f"{case.label[:52]:52} {statuses(case):>6} {median:6.1f}ms {slowest:6.1f}ms "
        f"{case.planning_ms:7.1f}ms {case.sql_ms:7.1f}ms {case.rows_filtered:9}"
    )


def short_url(case: Case) -> str:
    """The request as a reader can take it in: long values and many filters abbreviated."""
    params = {
        name: value if len(value) <= 40 else f"<{len(value) // 1024} KB>"
        for name, value in case.params.items()
    }
    shown = urlencode(dict(list(params.items())[:4])).replace("%3C", "<").replace("%3E", ">")
    more = f"&... ({len(params) - 4} more)" if len(params) > 4 else ""
    return f"{case.path}?{shown}{more}" if params else case.path


HEADER = (
    f"{'request':28} {'median':>8} {'p95':>8} {'queries':>7} {'sql':>8} {'filtered':>9} "
    f"{'baseline':>9} {'ratio':>6}  seq scans"
)


def scans(case: Case) -> str:
    return ", ".join(sorted(case.seq_scans)) or "none"


def line(case: Case) -> str:
    median, p95 = milliseconds(case.samples)
    baseline = milliseconds(case.baseline)[0]
    warning = "" if case.same_rows else "  (rows differ from the baseline's)"
    return (
        f"{case.label:28} {median:6.1f}ms {p95:6.1f}ms {case.queries:7} {case.sql_ms:6.1f}ms "
        f"{case.rows_filtered:9} {baseline:7.1f}ms {case.ratio:5.1f}x  {scans(case)}{warning}"
    )


def reproduce(args) -> str:
    defaults = vars(build_parser().parse_args([]))
    command = ["python", "scripts/benchmark.py"]
    for option, value in vars(args).items():
        if option in ("output",) or value == defaults[option]:
            continue
        if option == "database_url":
            parts = urlsplit(value)
            if parts.password:
                value = urlunsplit(
                    parts._replace(netloc=parts.netloc.replace(parts.password, "***"))
                )
        flag = f"--{option.replace('_', '-')}"
        command += [flag] if value is True else [flag, str(value)]
    return shlex.join(command)


def report(results: list[Case], worst: list[Case], facts: dict, soak: str | None) -> str:
    args, box = facts["args"], facts["machine"]
    seeded = f", seeded in {facts['seed_seconds']:.0f} s" if facts["seed_seconds"] else ""
    workers = f", {args.workers} workers" if args.workers else ""
    lines = [
        "# Benchmarks",
        "",
        "Written by `scripts/benchmark.py`; run it again to refresh this page.",
        "",
        f"* Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"* Machine: {box['cores']} cores, {box['memory']}, {box['cpu']}; {box['os']}",
        f"* PostgreSQL {facts['server_version']} (shared_buffers {facts['shared_buffers']}, "
        f"work_mem {facts['work_mem']}), Python {box['python']}, Django {facts['django']}",
        f"* Catalog: {facts['images']:,} images (`seed_images --seed {args.seed}`){seeded}",
        f"* Server: `python -m imsproject.serve` (Hypercorn){workers}, DJANGO_DEBUG=false, "
        "127.0.0.1",
        f"* Load average (1 min) when the run started and ended: {facts['load_before']:.2f}, "
        f"{facts['load_after']:.2f} (other work on the machine slows every figure)",
        f"* Command: `{reproduce(args)}`",
        "",
        "## Latency, one client",
        "",
        f"{args.requests} sequential requests per row, after {args.warmup} untimed ones.",
        "",
        "* Queries: SQL statements Django runs for the request (the token lookup included). "
        "Under the server each request also runs `SELECT 1`, the connection health check "
        "(CONN_HEALTH_CHECKS), which Django does not count.",
        "* SQL: execution time of the request's image and property queries (EXPLAIN ANALYZE); "
        "filtered: rows their plans read and discarded.",
        "* Baseline: the same rows fetched by one hand-written SQL query through psycopg2 and "
        "serialized with orjson, in-process (no HTTP); ratio: API median / baseline median.",
        f"* The deep page comes after {facts['walked']:,} images in name order.",
        "",
        "| Request | Median | p95 | Queries | SQL | Filtered | Baseline | Ratio | Seq scans |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case in results:
        median, p95 = milliseconds(case.samples)
        baseline = milliseconds(case.baseline)[0]
        flagged = f"**{scans(case)}**" if case.scans_images else scans(case)
        differ = " (rows differ from the baseline's)" if not case.same_rows else ""
        lines.append(
            f"| {case.label}: `{case.method} {case.url[:70]}` | {median:.1f} ms | {p95:.1f} ms "
            f"| {case.queries} | {case.sql_ms:.1f} ms | {case.rows_filtered:,} | "
            f"{baseline:.1f} ms | {case.ratio:.1f}x | {flagged}{differ} |"
        )
    # A page of 1000 is held to the baseline instead (its own target below).
    pages = [case for case in results if case.params.get("limit") != "1000"]
    slow = [case.label for case in pages if case.median > TARGET_MEDIAN_MS]
    walks = [case.label for case in results if case.rows_filtered > MANY_ROWS_FILTERED]
    lines += [
        "",
        f"Throughput of the default listing: **{facts['throughput']:.0f} requests/s** with "
        f"{args.clients} concurrent clients for {args.duration:g} s ({facts['failed']} failed).",
        "",
        "## Against the targets",
        "",
        f"* Median under {TARGET_MEDIAN_MS:g} ms (every request but the pages of 1000): "
        + (f"missed by {', '.join(slow)}." if slow else "met."),
    ]
    for case in results:
        if case.params.get("limit") == "1000":
            verdict = "met" if case.ratio <= TARGET_LIMIT_1000_RATIO else "missed"
            lines.append(
                f"* {case.label}: {case.ratio:.2f}x the baseline "
                f"(target {TARGET_LIMIT_1000_RATIO:g}x): {verdict}."
            )
    flagged = [case.label for case in results if case.scans_images]
    lines += [
        "* Sequential scans of catalog_image: " + (", ".join(flagged) or "none") + ".",
        f"* Plans that read and discard more than {MANY_ROWS_FILTERED:,} rows: "
        + (", ".join(walks) or "none")
        + ".",
        "",
        *worst_report(worst, args),
        *([soak, ""] if soak else []),
        "## Plans",
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of each request's main (slowest) query, then of its other "
        "queries.",
        "",
    ]
    for case in results:
        lines += [f"### {case.label}", "", "```", case.plan or "(no image query)", "```", ""]
        for other in case.other_plans:
            lines += ["```", other, "```", ""]
    return "\n".join(lines)


def worst_report(worst: list[Case], args) -> list[str]:
    from django.conf import settings

    lines = [
        "## Worst cases",
        "",
        f"What a client may send that costs the most, each {args.worst_requests} times through "
        f"the server (production settings: at most {settings.CATALOG_MAX_PROPERTY_FILTERS} "
        f"property filters, statement_timeout {settings.CATALOG_STATEMENT_TIMEOUT} ms, a "
        f"request's database deadline {settings.CATALOG_DB_TIMEOUT:g} s). Planning and "
        "execution: EXPLAIN ANALYZE of the request's image and property queries, summed "
        "(run without the timeout, so a query the server cuts off shows its full cost). "
        '"After the last image": the marker is the last image the admin sees in that order, '
        "so the page is empty and the database has to prove it.",
        "",
        "| Request | Status | Median | Slowest | Planning | Execution | Filtered | Seq scans |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case in worst:
        median, slowest = milliseconds(case.samples)[0], max(case.samples) * 1000
        who = " (member)" if case.token == "member" else ""
        lines.append(
            f"| {case.label}{who}: `{short_url(case)}` | {statuses(case)} | {median:.1f} ms "
            f"| {slowest:.1f} ms | {case.planning_ms:.1f} ms | {case.sql_ms:.1f} ms "
            f"| {case.rows_filtered:,} | {scans(case)} |"
        )
    slowest = max(worst, key=lambda case: max(case.samples))
    lines += [
        "",
        f"Slowest: {slowest.label}, {max(slowest.samples) * 1000:.0f} ms "
        f"(answered {statuses(slowest)}).",
        "",
    ]
    costly = [case for case in worst if case.planning_ms + case.sql_ms > SLOW_WORST_CASE_MS]
    if costly:
        lines += [
            f"Plans of the worst cases that cost more than {SLOW_WORST_CASE_MS} ms (EXPLAIN "
            "ANALYZE of the main query; long lines cut):",
            "",
        ]
    for case in costly:
        plan = case.plan.split("\n\n", 1)[-1]  # without the SQL, which may hold 128 KB
        cut = "\n".join(row if len(row) <= 200 else row[:200] + " ..." for row in plan.split("\n"))
        lines += [f"### Worst case: {case.label}", "", "```", cut, "```", ""]
    return lines


if __name__ == "__main__":
    main()
