"""A server process for the scripts: the production server, or another WSGI app under it.

`scripts/benchmark.py` and `scripts/soak.py` start `python -m imsproject.serve` (or the
benchmark's floor, `scripts/floor.py`, under the same Hypercorn configuration) on a free
loopback port, in production mode, and read its workers' CPU time and memory from /proc.
The test suite has its own, richer fixture (tests/server.py).
"""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SERVER = ("-m", "imsproject.serve")
# How Hypercorn's worker processes are started (multiprocessing's spawn), which tells them
# from its resource tracker, the server's other child.
WORKER_COMMAND = b"spawn_main"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """`with ServerProcess(url) as server:` serves until the block ends; `manage()` first
    prepares its database as an operator would."""

    def __init__(
        self,
        database_url: str,
        workers: int | None = None,
        *,
        name: str = "server",
        arguments: tuple[str, ...] = PRODUCTION_SERVER,
        startup_seconds: float = 120,
    ):
        self.name, self.arguments, self.startup_seconds = name, arguments, startup_seconds
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "BIND": f"127.0.0.1:{self.port}",
        }
        if workers:
            self.env["WORKERS"] = str(workers)
        # The production defaults, whatever the calling process uses.
        self.env.pop("DJANGO_LOG_LEVEL", None)
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by __exit__)
        self.process = None

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=self.env, check=True
        )

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, *self.arguments],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the {self.name} exited:\n{self.log_tail()}")
            try:
                connection = self.connection(timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(
            f"the {self.name}'s /healthz did not answer 200 within "
            f"{self.startup_seconds:.0f} s:\n{self.log_tail()}"
        )

    def __exit__(self, kind, error, traceback):
        if kind is SystemExit:
            print(self.log_tail(), file=sys.stderr)
        if self.process is not None:
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

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw(self, timeout: float = 30) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    # -- the workers, from /proc (Linux) -------------------------------------------

    def workers(self) -> list[int]:
        """The worker processes' ids: the children Hypercorn spawned to serve."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                command = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue  # the process ended meanwhile
            if parent == self.process.pid and WORKER_COMMAND in command:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def cpu_seconds(self) -> float:
        """User and system CPU time of the workers so far (utime + stime)."""
        ticks = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
        return ticks / os.sysconf("SC_CLK_TCK")

    def memory(self) -> list[int]:
        """Each worker's resident set size, in bytes."""
        sizes = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) * 1024)
        return sizes
