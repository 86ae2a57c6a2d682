"""Drive the production server for a while with ordinary and hostile clients (not a test).

    python scripts/soak.py [--duration 60] [--connections 32] [--count 20000] [--database-url URL]

It seeds a catalog of its own (a temporary SQLite file unless --database-url names a database
it may fill), starts `python -m imsproject.serve` on a free loopback port as production runs
it, and keeps --connections clients busy for --duration seconds with a fixed mix: listings
(default, filtered, paged by marker, pages of 1000, brief), HEAD of images, bad parameters,
unknown tokens, request lines over the server's limit, and slow clients that dribble their
headers. Every client stops at the deadline (and after --max-requests in all), so the run ends
by itself. It prints throughput, p50/p99 latency of the ordinary requests, the answers each
kind got and the workers' memory (RSS) before and after, and writes them into
docs/benchmarks.md between `<!-- soak -->` and `<!-- /soak -->`.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import secrets
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from report_blocks import markers, write_block
from serverprocess import ServerProcess

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORT = PROJECT_ROOT / "docs" / "benchmarks.md"
BEGIN, END = markers("soak")
DETAIL = "/v1.1/images/detail"
TOKEN = f"soak{secrets.token_urlsafe(24)}"
# Kinds of request and how often each is drawn; the hostile ones are the last three. The
# slow connections (--slow-connections of them) take turns being a slow and a stalled client.
MIX = {
    "default listing": 30,
    "filtered listing": 15,
    "paged listing": 10,
    "page of 1000": 3,
    "brief listing": 10,
    "HEAD": 15,
    "bad parameter": 6,
    "unknown token": 5,
    "oversized line": 2,
}
SLOW = ["slow client", "stalled client"]
HOSTILE = {"bad parameter", "unknown token", "oversized line", *SLOW}
OVERSIZED_LINE_BYTES = 1024 * 1024


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="Seconds of load (60).")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent clients (32).")
    parser.add_argument(
        "--slow-connections", type=int, default=4, help="Of those, slow or stalled (4)."
    )
    parser.add_argument("--count", type=int, default=20_000, help="Images to seed (20000).")
    parser.add_argument("--database-url", help="A database it may fill (default: SQLite file).")
    parser.add_argument("--workers", type=int, help="Server workers (default: one per core).")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="Cap, all clients.")
    parser.add_argument("--seed", type=int, default=1, help="Seeds the catalog and the mix.")
    parser.add_argument("--output", default=str(REPORT), help="Report to update; '-' for none.")
    return parser


def get(connection, path: str, headers: dict | None = None, method: str = "GET"):
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


# ------------------------------------------------------------------------------
# The clients
# ------------------------------------------------------------------------------


class Client:
    """One connection's worth of traffic: draws a kind of request, sends it, records it."""

    def __init__(
        self, server: ServerProcess, ids: list[str], rng: random.Random, budget, slow: bool
    ):
        self.server, self.ids, self.rng, self.budget = server, ids, rng, budget
        self.slow = slow
        self.connection = server.connection()
        self.results: list[tuple[str, str, float, float]] = []  # kind, answer, seconds, end

    def kinds(self):
        if self.slow:
            while True:
                yield from SLOW
        kinds, weights = zip(*MIX.items(), strict=True)
        while True:
            yield self.rng.choices(kinds, weights)[0]

    def run(self, deadline: float) -> None:
        kinds = self.kinds()
        while time.monotonic() < deadline and self.budget():
            kind = next(kinds)
            started = time.monotonic()
            try:
                answer = self.send(kind)
            except (OSError, http.client.HTTPException) as error:
                answer = type(error).__name__
                self.connection.close()
                self.connection = self.server.connection()
            ended = time.monotonic()
            self.results.append((kind, answer, ended - started, ended))

    def send(self, kind: str) -> str:
        auth = {"X-Auth-Token": TOKEN}
        pick = self.rng.choice
        if kind == "default listing":
            return self.get(DETAIL, auth)
        if kind == "filtered listing":
            query = pick(
                ["status=active", "disk_format=qcow2", "property-__os_type=Linux", "min_ram=2048"]
            )
            return self.get(f"{DETAIL}?{query}", auth)
        if kind == "paged listing":
            return self.get(f"{DETAIL}?sort_key=name&sort_dir=asc&marker={pick(self.ids)}", auth)
        if kind == "page of 1000":
            return self.get(f"{DETAIL}?limit=1000", auth)
        if kind == "brief listing":
            return self.get("/v1.1/images", auth)
        if kind == "HEAD":
            return self.get(f"/v1.1/images/{pick(self.ids)}", auth, method="HEAD")
        if kind == "bad parameter":
            query = pick(["size_min=-1", "limit=x", "marker=%00", "sort_key=bogus", "min_ram=1e9"])
            return self.get(f"{DETAIL}?{query}", auth)
        if kind == "unknown token":
            return self.get(DETAIL, {"X-Auth-Token": f"unknown{secrets.token_hex(12)}"})
        if kind == "oversized line":
            return self.oversized_line()
        if kind == "slow client":
            return self.slow_client()
        return self.stalled_client()

    def get(self, path: str, headers: dict, method: str = "GET") -> str:
        return str(get(self.connection, path, headers, method)[0])

    def oversized_line(self) -> str:
        line = b"GET /healthz?x=" + b"a" * OVERSIZED_LINE_BYTES + b" HTTP/1.1\r\n\r\n"
        with self.server.raw() as connection:
            # The server may stop reading at its limit and hang up on the rest.
            with contextlib.suppress(OSError):
                connection.sendall(line)
            return status_line(connection)

    def slow_client(self) -> str:
        """Headers a line a second for three seconds, then the request is completed."""
        with self.server.raw() as connection:
            connection.sendall(f"GET {DETAIL} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
            for line in range(3):
                time.sleep(1)
                connection.sendall(f"X-Slow-{line}: x\r\n".encode())
            connection.sendall(f"X-Auth-Token: {TOKEN}\r\nConnection: close\r\n\r\n".encode())
            return status_line(connection)

    def stalled_client(self) -> str:
        """A request that never finishes its headers: the server should hang up."""
        with self.server.raw() as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\n")
            return status_line(connection)


def status_line(connection) -> str:
    received = b""
    try:
        while b"\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                return "closed" if not received else "partial"
            received += chunk
    except ConnectionResetError:
        return "reset"
    return received.split(b" ", 2)[1].decode()


def drive(server: ServerProcess, ids: list[str], args) -> tuple[list, float]:
    lock, sent = threading.Lock(), [0]

    def budget() -> bool:
        with lock:
            sent[0] += 1
            return sent[0] <= args.max_requests

    clients = [
        Client(server, ids, random.Random(args.seed * 1000 + n), budget, n < args.slow_connections)
        for n in range(args.connections)
    ]
    started = time.monotonic()
    deadline = started + args.duration
    threads = [threading.Thread(target=client.run, args=(deadline,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A slow or stalled client started just before the deadline ends after it; it is counted
    # in its kind's row but not in the throughput, which covers the duration asked for.
    return [result for client in clients for result in client.results], deadline


# ------------------------------------------------------------------------------
# Figures and the report
# ------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(results: list, deadline: float, rss_before: list, rss_after: list, facts) -> str:
    ordinary = [seconds for kind, _, seconds, _ in results if kind not in HOSTILE]
    in_time = sum(1 for *_, ended in results if ended <= deadline)
    duration = facts["duration"]
    answers: dict[str, Counter] = {kind: Counter() for kind in [*MIX, *SLOW]}
    latency: dict[str, list] = {kind: [] for kind in [*MIX, *SLOW]}
    for kind, answer, seconds, _ in results:
        answers[kind][answer] += 1
        latency[kind].append(seconds)
    lines = [
        BEGIN,
        "## Soak: ordinary and hostile clients together",
        "",
        "Written by `scripts/soak.py`; run it again to refresh this section.",
        "",
        f"* Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"{platform.platform()}",
        f"* Catalog: {facts['count']:,} images (`seed_images --seed {facts['seed']}`) on "
        f"{facts['database']}",
        f"* Server: `python -m imsproject.serve` (Hypercorn), {facts['workers']} workers, "
        "DJANGO_DEBUG=false, 127.0.0.1; the clients run on the same machine",
        f"* Load average (1 min) when the run started and ended: {facts['load_before']:.2f}, "
        f"{facts['load_after']:.2f}",
        f"* Command: `{facts['command']}`",
        "",
        f"**{in_time:,} requests in {duration:.0f} s from {facts['connections']} connections "
        f"({facts['slow_connections']} of them slow or stalled clients): "
        f"{in_time / duration:.0f} requests/s.** Ordinary requests (listings and HEAD): "
        f"p50 {percentile(ordinary, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(ordinary, 0.99) * 1000:.0f} ms.",
        "",
        "| Kind | Requests | Answers | p50 | p99 |",
        "|---|---:|---|---:|---:|",
    ]
    for kind in latency:
        if not latency[kind]:
            continue
        counted = ", ".join(f"{answer}: {n:,}" for answer, n in answers[kind].most_common())
        lines.append(
            f"| {kind} | {len(latency[kind]):,} | {counted} | "
            f"{percentile(latency[kind], 0.5) * 1000:.0f} ms | "
            f"{percentile(latency[kind], 0.99) * 1000:.0f} ms |"
        )
    lines += [
        "",
        "Hostile kinds: a bad parameter (`size_min=-1`, `limit=x`, `marker=%00`, "
        "`sort_key=bogus`, `min_ram=1e9`); an unknown token; a 1 MiB request line (431, or "
        "`reset` when the server hangs up on the rest of the line before the client reads its "
        "answer). The slow connections take turns being a slow client (a header line a second "
        "for 3 s, then a complete request) and a stalled one (never finishes its headers; "
        "`closed` when HEADER_READ_TIMEOUT, 10 s, has passed).",
        "",
        f"Worker memory (RSS): {mib(rss_before)} before, {mib(rss_after)} after.",
        END,
    ]
    return "\n".join(lines) + "\n"


def mib(sizes: list[int]) -> str:
    return ", ".join(f"{size / 2**20:.0f} MiB" for size in sizes) or "unknown"


def load_average() -> float:
    return os.getloadavg()[0]


def main() -> None:
    args = parser().parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database_url = args.database_url or f"sqlite:///{Path(directory) / 'soak.sqlite3'}"
        server = ServerProcess(database_url, args.workers)
        server.manage("migrate", "--noinput", "--verbosity", "0")
        server.manage(
            "seed_images", "--count", str(args.count), "--seed", str(args.seed), "--replace"
        )
        server.manage("create_token", "--project", "soak", "--roles", "admin", "--token", TOKEN)
        with server:
            connection = server.connection()
            page = json.loads(get(connection, f"{DETAIL}?limit=1000", {"X-Auth-Token": TOKEN})[1])
            ids = [image["id"] for image in page["images"]]
            rss_before = server.memory()
            load_before = load_average()
            results, deadline = drive(server, ids, args)
            rss_after = server.memory()
            facts = {
                "count": args.count,
                "seed": args.seed,
                "database": "PostgreSQL" if "postgres" in database_url else "SQLite",
                "workers": len(rss_after) or "?",
                "connections": args.connections,
                "slow_connections": args.slow_connections,
                "duration": args.duration,
                "load_before": load_before,
                "load_after": load_average(),
                "command": shlex.join(["python", "scripts/soak.py", *sys.argv[1:]]),
            }
    block = summary(results, deadline, rss_before, rss_after, facts)
    print(block)
    if args.output != "-":
        write_block(Path(args.output), "soak", block)
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
