"""Real TimescaleDB fixtures (see timescale_peer.py): built once per machine, started per session.

Without the source tarball (a clone outside this repository's usual home) the tests here are
skipped with where to get it; in CI the tarball is there and they run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.postgres.pg_server import PostgresServer
from tests.integration.timescale.timescale_peer import (
    WHERE_TO_GET,
    TimescalePeerError,
    TimescaleServer,
    build,
    source_path,
)


@pytest.fixture(scope="session")
def timescale_bindir() -> Path:
    """Bin dir of the private PostgreSQL with TimescaleDB installed (built on first use)."""
    if source_path() is None:
        pytest.skip(f"no TimescaleDB source tarball: {WHERE_TO_GET}")
    try:
        return build()
    except TimescalePeerError as exc:
        pytest.fail(str(exc))


def _serve(server: PostgresServer) -> Iterator[PostgresServer]:
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


@pytest.fixture(scope="session")
def timescale_server(timescale_bindir: Path) -> Iterator[PostgresServer]:
    """The session's TimescaleDB server (timescaledb preloaded)."""
    yield from _serve(TimescaleServer(timescale_bindir))


@pytest.fixture(scope="session")
def unpreloaded_server(timescale_bindir: Path) -> Iterator[PostgresServer]:
    """The same binaries with the extension available but *not* preloaded."""
    yield from _serve(TimescaleServer(timescale_bindir, preload=False))


@pytest.fixture
def timescale_url(timescale_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the TimescaleDB server, dropped afterwards (each database
    with the extension holds one of the server's TimescaleDB background workers)."""
    url = timescale_server.create_database()
    yield url
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(timescale_server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def plain_server() -> Iterator[PostgresServer]:
    """Debian's plain PostgreSQL, for comparing the stores on the same data."""
    yield from _serve(PostgresServer())


@pytest.fixture
def plain_url(plain_server: PostgresServer) -> str:
    return plain_server.create_database()
