"""A private PostgreSQL for tests and benchmarks: initdb in a temp dir, 127.0.0.1, free port.

PostgreSQL refuses to run as root; when the tests run as root the server runs as the
``postgres`` system user (``runuser -u postgres``) on a directory that user owns. Reuse::

    from tests.integration.postgres.pg_server import postgres_server, postgres_url  # fixtures

or ``with PostgresServer() as server: server.create_database("x")`` outside pytest.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest


def find_bindir() -> Path:
    """The newest Debian PostgreSQL server bin dir (or the one holding ``initdb`` on PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "no PostgreSQL server binaries (initdb) found: apt-get install postgresql (bash .ci/run)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One throw-away PostgreSQL cluster; ``url(db)`` gives connection URLs."""

    #: more ``-c name=value`` server options (a subclass sets them, e.g. a preload library)
    extra_options = ""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="boxoffice-pg-"))
        self.datadir = self.base / "data"
        self.port = _free_port()
        self.user = "postgres"
        self._started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresServer:
        """initdb + pg_ctl start (waits until it accepts connections)."""
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
        os.chmod(self.base, 0o700)
        proc = self._run(
            "initdb", "-D", str(self.datadir), "-U", self.user, "-A", "trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"initdb failed: {proc.stderr or proc.stdout}")
        options = (
            f"-p {self.port} -h 127.0.0.1 -k {self.base} -F "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=50 -c shared_buffers=128MB " + self.extra_options
        )
        proc = self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options,
            "-l", str(self.base / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        if proc.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {proc.stderr or proc.stdout}\n{log}")
        self._started = True
        return self

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self._started:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        """Connection URL of a database of this server."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; returns its URL."""
        import psycopg

        dbname = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's private PostgreSQL (started once, stopped at the end)."""
    server = PostgresServer()
    try:
        server.start()
    except RuntimeError as exc:
        with contextlib.suppress(Exception):
            server.stop()
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of a fresh, empty database on the session's PostgreSQL."""
    return postgres_server.create_database()
