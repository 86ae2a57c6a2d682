"""The production server in a subprocess, started exactly as `make serve` starts it.

`ServerDatabase` is a database of the suite's own for such servers (pytest-django's SQLite test
database lives in memory, out of another process's reach): a file next to the test run, or a
PostgreSQL database named after the suite's. `ProductionServer` runs `python -m imsproject.serve`
against it on a free loopback port, in production mode, and fills it the way an operator
would, through the management commands. Tests use the fixtures in conftest.py:

    def test_something(production_server):
        status, headers, body = production_server.request("GET", "/healthz")

    def test_other(start_server):
        server = start_server(HEADER_READ_TIMEOUT="1")   # its own process, same database
"""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 90
# Production mode, reachable over plain HTTP on loopback. Any of it can be overridden per server.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_LOG_LEVEL": "INFO",
    "WORKERS": "2",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerDatabase:
    """A database for subprocesses (servers, commands): created empty, migrated by the first
    server. On PostgreSQL its name ends in `suffix`, so that several can live side by side."""

    def __init__(self, directory: Path, suffix: str = "server"):
        configured = os.environ.get("DATABASE_URL", "")
        if configured.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(configured)
            self.name = f"test_{parts.path.lstrip('/')}_{suffix}"
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        else:
            self.name = None
            self.url = f"sqlite:///{directory / f'{suffix}.sqlite3'}"

    def create(self) -> None:
        self.drop()
        if self.name:
            self._postgres(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.name:
            self._postgres(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _postgres(self, statement: str) -> None:
        import psycopg2

        connection = psycopg2.connect(self.admin_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


class ProductionServer:
    """`python -m imsproject.serve` on a free loopback port, against `database`."""

    def __init__(self, database: ServerDatabase, **env: str):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.base_url = f"http://{self.host}:{self.port}"
        self.env = {
            **os.environ,
            **PRODUCTION_ENV,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            **env,
            "DATABASE_URL": database.url,
            "BIND": f"{self.host}:{self.port}",
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = None
        self._log = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> "ProductionServer":
        self._log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "imsproject.serve"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log()}")
            try:
                # Any answer will do: a test of a database outage starts a server that says 503.
                self.request("GET", "/healthz", timeout=5)
                return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"/healthz did not answer within {STARTUP_SECONDS} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def log(self) -> str:
        """What the server has written so far (its access log and the API's own lines)."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    # -- filling the database, as an operator would ------------------------------

    def manage(self, *args: str, input: str | None = None) -> str:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{completed.stderr}")
        return completed.stdout

    def add_token(self, project: str, roles: str = "member") -> str:
        secret = f"srv{secrets.token_urlsafe(24)}"
        self.manage("create_token", "--project", project, "--roles", roles, "--token", secret)
        return secret

    def import_images(self, entries: list[dict]) -> None:
        self.manage("import_images", "-", input=json.dumps({"images": entries}))

    # -- talking to it -----------------------------------------------------------

    def request(
        self, method: str, path: str, headers: dict | None = None, timeout: float = 10
    ) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, headers=headers or {})
            answer = connection.getresponse()
            return Response(answer.status, answer.headers, answer.read())
        finally:
            connection.close()

    def connect(self, timeout: float = 10) -> socket.socket:
        """A raw connection, for what an HTTP client library would refuse to send."""
        return socket.create_connection((self.host, self.port), timeout=timeout)
