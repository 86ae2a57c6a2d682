"""How fast the legacy image API answers on a large PostgreSQL catalog, against its floor.

    python scripts/benchmark.py [--count 1000000] [--database-url postgres://...] [--skip-seed]

It seeds the catalog (`seed_images`), creates an admin and a member token, and serves the API
with `python -m imsproject.serve` on loopback as production does. Beside it, under the same
Hypercorn configuration and worker count, it serves the raw floor (scripts/floor.py): the
listing's work done by hand, one query for the token and one for the page, without the
project's code. For each request of a fixed set it sends the service and the floor the same
request in turn, checks that their bodies are byte for byte the same (and fails otherwise),
and reports each one's median and the median of the paired ratios (service / floor). It also
counts the SQL queries each request runs (in-process with Django's test client against the same
database), prints EXPLAIN (ANALYZE, BUFFERS) of each request's main query, flags any sequential
scan of the image table, measures the throughput of the default listing of both servers with 4
and 16 concurrent clients, the CPU time their workers spend per request (/proc/<pid>/stat) and
their memory, and writes everything to docs/benchmarks.md.

The v2 listing (`GET /v2/images`) has rows of its own against the floor, and with
`--glance-url` against a real Glance v2 serving the same catalog.

A second table holds the worst cases a client may send (the most property filters allowed,
every filter at once, the last page of every sort order, 128 KB values, ...): their planning
and execution time (EXPLAIN ANALYZE) and their latency and status through the server, which
runs with the production statement_timeout. A block of docs/benchmarks.md between
`<!-- soak -->` and `<!-- /soak -->` belongs to scripts/soak.py, and the one between
`<!-- import -->` and `<!-- /import -->` to scripts/benchmark_import.py: both are kept as they are.
"""

import argparse
import os
import platform
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from report_blocks import kept_blocks
from serverprocess import ServerProcess

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/catalog_bench"
DETAIL, BRIEF, V2 = "/v1.1/images/detail", "/v1.1/images", "/v2/images"
# A run's own tokens, so that runs at the same time against one database leave each other's be.
RUN = secrets.token_hex(4)
TOKEN_NAMES = {"admin": f"benchmark-admin-{RUN}", "member": f"benchmark-member-{RUN}"}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
ROWS_FILTERED = re.compile(r"Rows Removed by Filter: (\d+)")
EXECUTION_TIME = re.compile(r"Execution Time: ([\d.]+) ms")
PLANNING_TIME = re.compile(r"Planning Time: ([\d.]+) ms")
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

# Targets against the floor on one million images (medians of paired ratios).
TARGET_PAGE_RATIO = 1.5  # every page of 25
TARGET_LIMIT_1000_RATIO = 1.2
TARGET_THROUGHPUT_SHARE = 0.6  # of the floor's requests per second
TARGET_SQL_MS = 20.0  # each request's SQL, every request of the set
THROUGHPUT_CLIENTS = (4, 16)
THROUGHPUT_ROUND = 2.0  # seconds of load on one server before the other's turn


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
    floor: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # service / floor, request by request
    queries: int = 0
    plan: str = ""
    sql_ms: float = 0.0
    rows_filtered: int = 0
    other_plans: list[str] = field(default_factory=list)
    seq_scans: set[str] = field(default_factory=set)
    planning_ms: float = 0.0
    statuses: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path

    @property
    def median(self) -> float:
        return milliseconds(self.samples)[0]

    @property
    def floor_median(self) -> float:
        return milliseconds(self.floor)[0]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def is_page_of_25(self) -> bool:
        return self.method == "GET" and self.params.get("limit") != "1000"

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
        Case("v2: default listing", V2),
        Case("v2: member: default listing", V2, token="member"),
        Case(
            "v2: member: shared, any status",
            V2,
            {"visibility": "shared", "member_status": "all"},
            token="member",
        ),
        Case("v2: __os_type=Linux", V2, {"__os_type": "Linux"}),
        Case("v2: limit=1000", V2, {"limit": "1000"}),
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
# Serving and measuring over HTTP
# ------------------------------------------------------------------------------


SERVICE = {"name": "service"}
FLOOR = {"name": "floor", "arguments": ("scripts/floor.py",)}


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict

    @property
    def image_headers(self) -> dict:
        """HEAD's metadata: the headers that describe the image."""
        return {
            name: value
            for name, value in self.headers.items()
            if name.startswith("x-image-meta-") or name == "etag"
        }


def request(connection, method: str, url: str, headers: dict) -> Answer:
    connection.request(method, url, headers=headers)
    response = connection.getresponse()
    body = response.read()
    return Answer(response.status, body, {k.lower(): v for k, v in response.getheaders()})


def get_images(server: ServerProcess, url: str, headers: dict, orjson) -> list[dict]:
    answer = request(server.connection(), "GET", url, headers)
    if answer.status != 200:
        raise SystemExit(
            f"{server.name}: GET {url} answered {answer.status}: {answer.body[:300]!r}"
        )
    return orjson.loads(answer.body)["images"]


def interleaved(
    service: ServerProcess, floor: ServerProcess, case: Case, headers: dict, args
) -> None:
    """`args.requests` pairs, each a request to the service then the same to the floor, after
    `args.warmup` untimed pairs: both see the same moments of the machine's load, so each
    pair's ratio holds though the absolute times drift. Every pair's answers must agree."""
    connections = service.connection(), floor.connection()  # each reconnects by itself
    for number in range(args.warmup + args.requests):
        answers, elapsed = [], []
        for connection in connections:
            started = time.perf_counter()
            answers.append(request(connection, case.method, case.url, headers))
            elapsed.append(time.perf_counter() - started)
        same_answer(case, *answers)
        if number >= args.warmup:
            case.samples.append(elapsed[0])
            case.floor.append(elapsed[1])
            case.ratios.append(elapsed[0] / elapsed[1])
    for connection in connections:
        connection.close()


def same_answer(case: Case, service: Answer, floor: Answer) -> None:
    """The floor is a fair comparison only if it does the same work: the same bytes out."""
    if service.status != 200:
        raise SystemExit(
            f"{case.label}: {case.url} answered {service.status}: {service.body[:300]!r}"
        )
    problem = None
    if floor.status != service.status:
        problem = f"the floor answered {floor.status}: {floor.body[:300]!r}"
    elif floor.body != service.body:
        at = next(
            (n for n, (a, b) in enumerate(zip(service.body, floor.body, strict=False)) if a != b),
            min(len(service.body), len(floor.body)),
        )
        problem = (
            f"the bodies differ from byte {at} ({len(service.body)} and {len(floor.body)} "
            f"bytes):\n  service: {service.body[max(0, at - 80) : at + 80]!r}\n"
            f"  floor:   {floor.body[max(0, at - 80) : at + 80]!r}"
        )
    elif case.method == "HEAD" and floor.image_headers != service.image_headers:
        problem = (
            f"HEAD's image headers differ:\n  service: {service.image_headers}\n"
            f"  floor:   {floor.image_headers}"
        )
    if problem:
        raise SystemExit(f"{case.label}: {case.method} {case.url}: {problem}")


def cpu_per_request(server: ServerProcess, url: str, headers: dict, count: int) -> float:
    """CPU seconds the server's workers spend per request, over `count` sequential ones."""
    connection = server.connection()
    request(connection, "GET", url, headers)
    before = server.cpu_seconds()
    for _ in range(count):
        request(connection, "GET", url, headers)
    spent = server.cpu_seconds() - before
    connection.close()
    return spent / count


def throughputs(servers, url: str, headers: dict, clients: int, seconds: float) -> dict:
    """{server name: (requests per second, failed)} over `seconds` each, in rounds of
    THROUGHPUT_ROUND seconds that alternate the servers (and which goes first), so that both
    meet the same changes of the machine's load."""
    totals = {server.name: [0, 0, 0.0] for server in servers}
    rounds = max(1, round(seconds / THROUGHPUT_ROUND))
    for number in range(rounds):
        for server in servers if number % 2 == 0 else servers[::-1]:
            done, failed, elapsed = throughput(server, url, headers, clients, seconds / rounds)
            total = totals[server.name]
            total[0], total[1], total[2] = total[0] + done, total[1] + failed, total[2] + elapsed
    return {name: (done / elapsed, failed) for name, (done, failed, elapsed) in totals.items()}


def throughput(server: ServerProcess, url: str, headers: dict, clients: int, seconds: float):
    """(requests answered, of which failed, seconds) with `clients` busy for `seconds`."""
    done, failed = [0] * clients, [0] * clients
    stop_at = time.monotonic() + seconds

    def client(index):
        connection = server.connection()
        while time.monotonic() < stop_at:
            answer = request(connection, "GET", url, headers)
            done[index] += 1
            failed[index] += answer.status != 200
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), sum(failed), time.monotonic() - started


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
    parser.add_argument(
        "--duration", type=float, default=10, help="Seconds of concurrent load, each server."
    )
    parser.add_argument(
        "--cpu-requests", type=int, default=400, help="Requests to measure CPU time over."
    )
    parser.add_argument("--workers", type=int, help="Server workers (default: one per core).")
    parser.add_argument("--deep-pages", type=int, default=40, help="Pages of 1000 to walk.")
    parser.add_argument(
        "--worst-requests", type=int, default=5, help="Timed requests per worst case."
    )
    parser.add_argument(
        "--glance-url",
        help="A Glance v2 serving the same catalog, its identity taken from headers (no "
        "Keystone): the v2 rows are measured against it too.",
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
        secrets_ = create_tokens(facts)
        service = ServerProcess(args.database_url, args.workers, **SERVICE)
        floor = ServerProcess(args.database_url, args.workers, **FLOOR)
        with service, floor:
            results = measure(service, floor, cursor, secrets_, args, facts, orjson)
            if args.glance_url:
                measure_glance(service, results, secrets_, args, facts, orjson)
            worst = measure_worst(service, floor, cursor, secrets_, args, orjson)
    finally:
        from catalog.models import ApiToken

        ApiToken.objects.filter(name__in=TOKEN_NAMES.values()).delete()
        raw.close()
    if args.output != "-":
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        previous = output.read_text(encoding="utf-8") if output.exists() else ""
        text = report(results, worst, facts, kept_blocks(previous))
        output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")


def create_tokens(facts: dict) -> dict:
    """An admin for the project that owns the public images, a member for the biggest tenant."""
    from django import get_version
    from django.db.models import Count

    from catalog.models import Image
    from catalog.tokens import token_create

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
    facts["projects"] = projects
    return {
        role: token_create(project=projects[role], roles=[role], name=TOKEN_NAMES[role])[1]
        for role in ("admin", "member")
    }


def measure(service, floor, cursor, secrets_, args, facts, orjson) -> list[Case]:
    facts["load_before"] = os.getloadavg()[0]
    admin = {"X-Auth-Token": secrets_["admin"]}
    head_id = get_images(service, DETAIL, admin, orjson)[0]["id"]
    # Walk the name order page by page, as a client does, to a deep marker (at most to the
    # last full page, so that the deep page still holds images).
    params, walked = {"sort_key": "name", "sort_dir": "asc", "limit": "1000"}, 0
    for _ in range(args.deep_pages):
        page = get_images(service, f"{DETAIL}?{urlencode(params)}", admin, orjson)
        if len(page) < 1000:
            break
        params["marker"], walked = page[-1]["id"], walked + len(page)
    marker, facts["walked"] = params.get("marker"), walked

    print(HEADER, flush=True)
    results = cases(head_id, marker)
    for case in results:
        headers = {"X-Auth-Token": secrets_[case.token]}
        interleaved(service, floor, case, headers, args)
        queries = captured_queries(case, secrets_[case.token])
        case.queries = len(queries)
        explain_queries(cursor, case, queries)
        print(line(case), flush=True)

    facts["throughput"] = {}
    for clients in THROUGHPUT_CLIENTS:
        rates = throughputs((service, floor), DETAIL, admin, clients, args.duration)
        for name, rate in rates.items():
            facts["throughput"][name, clients] = rate
        print(throughput_line(facts["throughput"], clients), flush=True)
    limit_1000 = f"{DETAIL}?limit=1000"
    facts["cpu"] = {
        (server.name, label): cpu_per_request(server, url, admin, count)
        for label, url, count in (
            ("default listing", DETAIL, args.cpu_requests),
            ("limit=1000", limit_1000, max(1, args.cpu_requests // 10)),
        )
        for server in (service, floor)
    }
    facts["memory"] = {server.name: server.memory() for server in (service, floor)}
    facts["load_after"] = os.getloadavg()[0]
    for (name, label), seconds in facts["cpu"].items():
        print(f"CPU per request, {label}, {name}: {seconds * 1000:.2f} ms")
    for name, sizes in facts["memory"].items():
        print(f"worker memory, {name}: {', '.join(f'{size / 2**20:.0f} MiB' for size in sizes)}")
    return results


def measure_glance(service, results, secrets_, args, facts, orjson) -> None:
    """The v2 rows against a real Glance on the same catalog: `args.requests` pairs each, the
    service then Glance, and whether both listed the same images (Glance shows Windows
    images, which the catalog hides, so a catalog holding them lists differently)."""
    from http.client import HTTPConnection

    glance = urlsplit(args.glance_url)
    facts["glance"] = []
    print("\nthe reference Glance", flush=True)
    for case in results:
        if not case.path.startswith(V2):
            continue
        project = facts["projects"][case.token]
        roles = "admin,member,reader" if case.token == "admin" else "member,reader"
        identity = {
            "X-Identity-Status": "Confirmed",
            "X-Project-Id": project,
            "X-Tenant-Id": project,
            "X-Roles": roles,
            "Accept": "application/json",
        }
        ours = service.connection()
        theirs = HTTPConnection(glance.hostname, glance.port or 80, timeout=60)
        headers = {"X-Auth-Token": secrets_[case.token]}
        samples, glance_samples, same = [], [], True
        for number in range(args.warmup + args.requests):
            started = time.perf_counter()
            answer = request(ours, "GET", case.url, headers)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            reference = request(theirs, "GET", case.url, identity)
            glance_elapsed = time.perf_counter() - started
            if reference.status != 200:
                raise SystemExit(f"Glance: {case.url} answered {reference.status}")
            if number >= args.warmup:
                samples.append(elapsed)
                glance_samples.append(glance_elapsed)
            ids = [[i["id"] for i in orjson.loads(a.body)["images"]] for a in (answer, reference)]
            same = same and ids[0] == ids[1]
        ours.close()
        theirs.close()
        row = (case, milliseconds(samples)[0], milliseconds(glance_samples)[0], same)
        facts["glance"].append(row)
        print(f"{case.label:36} service {row[1]:6.1f}ms  Glance {row[2]:6.1f}ms  same ids: {same}")


def measure_worst(service, floor, cursor, secrets_, args, orjson) -> list[Case]:
    from django.conf import settings

    # The last image of each order is the first of the reverse one; asked of the floor,
    # because the service may well refuse to spend that long (statement_timeout).
    admin, last_images = {"X-Auth-Token": secrets_["admin"]}, {}
    for sort_key in SORT_KEYS:
        for sort_dir, reverse in (("asc", "desc"), ("desc", "asc")):
            first = {"sort_key": sort_key, "sort_dir": reverse, "limit": "1"}
            page = get_images(floor, f"{DETAIL}?{urlencode(first)}", admin, orjson)
            last_images[sort_key, sort_dir] = page[0]["id"]
    print(f"\nworst cases\n{WORST_HEADER}", flush=True)
    results = worst_cases(last_images, settings.CATALOG_MAX_PROPERTY_FILTERS)
    for case in results:
        headers = {"X-Auth-Token": secrets_[case.token]}
        connection = service.connection()
        request(connection, case.method, case.url, headers)  # untimed: caches warm
        for _ in range(args.worst_requests):
            started = time.perf_counter()
            answer = request(connection, case.method, case.url, headers)
            case.samples.append(time.perf_counter() - started)
            case.statuses.add(answer.status)
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
    f"{'request':28} {'service':>8} {'p95':>8} {'floor':>8} {'ratio':>6} {'queries':>7} "
    f"{'sql':>8} {'filtered':>9}  seq scans"
)


def scans(case: Case) -> str:
    return ", ".join(sorted(case.seq_scans)) or "none"


def line(case: Case) -> str:
    median, p95 = milliseconds(case.samples)
    return (
        f"{case.label:28} {median:6.1f}ms {p95:6.1f}ms {case.floor_median:6.1f}ms "
        f"{case.ratio:5.2f}x {case.queries:7} {case.sql_ms:6.1f}ms {case.rows_filtered:9}  "
        f"{scans(case)}"
    )


def throughput_line(rates: dict, clients: int) -> str:
    (service, failed), (floor, floor_failed) = rates["service", clients], rates["floor", clients]
    return (
        f"throughput of the default listing, {clients} clients: service {service:.0f}/s, floor "
        f"{floor:.0f}/s, {service / floor:.2f} of the floor's ({failed + floor_failed} failed)"
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


def report(results: list[Case], worst: list[Case], facts: dict, kept: list[str]) -> str:
    args, box = facts["args"], facts["machine"]
    seeded = f", seeded in {facts['seed_seconds']:.0f} s" if facts["seed_seconds"] else ""
    workers = f", {args.workers} workers" if args.workers else ", one worker per core"
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
        f"* Service: `python -m imsproject.serve` (Hypercorn){workers}, DJANGO_DEBUG=false, "
        "127.0.0.1",
        "* Floor: `python scripts/floor.py`, the same Hypercorn configuration "
        "(`imsproject.serve.server_config()`) and environment, beside it",
        f"* Load average (1 min) when the run started and ended: {facts['load_before']:.2f}, "
        f"{facts['load_after']:.2f} (other work on the machine slows every figure; the "
        "paired ratios hold better than the times)",
        f"* Command: `{reproduce(args)}`",
        "",
        "## Against the floor, one client",
        "",
        "The floor (`scripts/floor.py`) is the listing's work done by hand, without the "
        "project's code: one query for the token (SHA-256 of the secret; revoked and expired "
        "refused), one query for the page (the same visibility, exclusions, filters, keyset "
        "order and marker, properties folded into JSON by the database), orjson and a request "
        "id. Its answer to every request below is byte for byte the service's (the benchmark "
        "checks each pair, HEAD's image headers too, and stops otherwise). What the service "
        "spends beyond it is the cost of its own code.",
        "",
        f"{args.requests} pairs per row, after {args.warmup} untimed ones: each a request to "
        "the service, then the same to the floor, over one kept-alive connection to each.",
        "",
        "* Service, floor: median latency; p95: the service's 95th percentile.",
        "* Ratio: the median of the pairs' ratios (service / floor), the figure the targets use.",
        "* Queries: SQL statements Django runs for the request (the token lookup included); "
        "no health check runs before them. The floor runs two.",
        "* SQL: execution time of the service's image and property queries (EXPLAIN ANALYZE); "
        "filtered: rows their plans read and discarded.",
        f"* The deep page comes after {facts['walked']:,} images in name order.",
        "",
        "| Request | Service | p95 | Floor | Ratio | Queries | SQL | Filtered | Seq scans |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case in results:
        median, p95 = milliseconds(case.samples)
        flagged = f"**{scans(case)}**" if case.scans_images else scans(case)
        lines.append(
            f"| {case.label}: `{case.method} {case.url[:70]}` | {median:.1f} ms | {p95:.1f} ms "
            f"| {case.floor_median:.1f} ms | {case.ratio:.2f}x | {case.queries} "
            f"| {case.sql_ms:.1f} ms | {case.rows_filtered:,} | {flagged} |"
        )
    lines += ["", *load_report(facts, args), *targets_report(results, facts)]
    lines += glance_report(facts)
    lines += [
        "",
        *worst_report(worst, args),
        *(line for block in kept for line in (block, "")),
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


def load_report(facts: dict, args) -> list[str]:
    """Throughput, CPU time per request and memory, the service's and the floor's."""
    rates, cpu, memory = facts["throughput"], facts["cpu"], facts["memory"]
    lines = [
        "## Throughput, CPU and memory",
        "",
        f"Throughput: the default listing, as many requests as the clients manage in "
        f"{args.duration:g} s, each client one request after another on its own connection; "
        f"in rounds of {THROUGHPUT_ROUND:g} s that alternate the service and the floor, so that "
        "both meet the same load from the rest of the machine.",
        "",
        "| Clients | Service | Floor | Service / floor | Failed |",
        "|---:|---:|---:|---:|---:|",
    ]
    for clients in THROUGHPUT_CLIENTS:
        (service, failed), (floor, floor_failed) = (
            rates["service", clients],
            rates["floor", clients],
        )
        lines.append(
            f"| {clients} | {service:.0f} req/s | {floor:.0f} req/s | {service / floor:.2f} "
            f"| {failed + floor_failed} |"
        )
    lines += [
        "",
        "CPU: user and system time of the server's worker processes (`/proc/<pid>/stat`, "
        f"utime + stime) over {args.cpu_requests} sequential requests of the default listing "
        f"and {max(1, args.cpu_requests // 10)} of `limit=1000`, divided by their number "
        "(clock ticks of 10 ms: a few percent of uncertainty). Memory: each worker's resident "
        "set size at the end.",
        "",
        "| | Service | Floor | Service / floor |",
        "|---|---:|---:|---:|",
    ]
    for label in ("default listing", "limit=1000"):
        service, floor = cpu["service", label], cpu["floor", label]
        ratio = f"{service / floor:.1f}x" if floor else "-"
        lines.append(
            f"| CPU per request, {label} | {service * 1000:.2f} ms | {floor * 1000:.2f} ms "
            f"| {ratio} |"
        )
    service, floor = (
        ", ".join(f"{size / 2**20:.0f} MiB" for size in memory[name])
        for name in ("service", "floor")
    )
    lines += [f"| Worker memory (RSS) | {service} | {floor} | |", ""]
    return lines


def targets_report(results: list[Case], facts: dict) -> list[str]:
    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    pages = [case for case in results if case.is_page_of_25]
    slow_pages = [
        f"{case.label} ({case.ratio:.2f}x)" for case in pages if case.ratio > TARGET_PAGE_RATIO
    ]
    worst_page = max(pages, key=lambda case: case.ratio)
    lines = [
        "## Against the targets",
        "",
        f"* Every page of 25 within {TARGET_PAGE_RATIO:g}x of the floor (median of paired "
        f"ratios; the highest: {worst_page.label}, {worst_page.ratio:.2f}x): "
        + (
            verdict(True) + "."
            if not slow_pages
            else f"{verdict(False)} by {', '.join(slow_pages)}."
        ),
    ]
    for case in results:
        if case.params.get("limit") == "1000":
            lines.append(
                f"* {case.label} within {TARGET_LIMIT_1000_RATIO:g}x of the floor: "
                f"{case.ratio:.2f}x, {verdict(case.ratio <= TARGET_LIMIT_1000_RATIO)}."
            )
    for clients in THROUGHPUT_CLIENTS:
        service, floor = (facts["throughput"][name, clients][0] for name in ("service", "floor"))
        share = service / floor
        lines.append(
            f"* Throughput with {clients} clients at least {TARGET_THROUGHPUT_SHARE:.0%} of the "
            f"floor's: {share:.0%}, {verdict(share >= TARGET_THROUGHPUT_SHARE)}."
        )
    slow_sql = [
        f"{case.label} ({case.sql_ms:.0f} ms)" for case in results if case.sql_ms > TARGET_SQL_MS
    ]
    walks = [case.label for case in results if case.rows_filtered > MANY_ROWS_FILTERED]
    flagged = [case.label for case in results if case.scans_images]
    heads = [case for case in results if case.method == "HEAD"]
    lines += [
        f"* Every request's SQL under {TARGET_SQL_MS:g} ms: "
        + (f"{verdict(False)} by {', '.join(slow_sql)}." if slow_sql else verdict(True) + "."),
        "* Sequential scans of catalog_image: " + (", ".join(flagged) or "none") + ".",
        f"* Plans that read and discard more than {MANY_ROWS_FILTERED:,} rows: "
        + (", ".join(walks) or "none")
        + ".",
        *(f"* {case.label} (no target): {case.ratio:.2f}x the floor." for case in heads),
    ]
    return lines


def glance_report(facts: dict) -> list[str]:
    if not facts.get("glance"):
        return [
            "",
            "## The reference Glance",
            "",
            "Not measured in this run: `--glance-url` names a Glance v2 serving the same "
            "catalog (docs/glance-v2-comparison.md says how one was set up).",
        ]
    lines = [
        "",
        "## The reference Glance",
        "",
        "The v2 rows against a real Glance v2 serving the same catalog, identity from headers "
        "(no Keystone in front of it): the same request to each in turn, medians.",
        "",
        "| Request | Service | Glance | Glance / service | Same images |",
        "|---|---:|---:|---:|---|",
    ]
    for case, ours, glance, same in facts["glance"]:
        lines.append(
            f"| {case.label}: `GET {case.url[:70]}` | {ours:.1f} ms | {glance:.1f} ms "
            f"| {glance / ours:.1f}x | {'yes' if same else 'no'} |"
        )
    return lines


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
