"""Connections to one PostgreSQL database: one per concurrent caller, reused, thread-safe.

The scheduler stores several snapshots at once (one worker thread each), so the store
cannot share one connection: a psycopg connection runs one command at a time. A caller
checks a connection out for one store call; a healthy idle one is reused, else a new one
is opened (connect errors become one clear line). A connection that broke, or that is
left inside a transaction, is closed instead of reused; one that broke also takes the idle
ones with it (a server restart killed them too, and each would fail its next caller). So
there are as many connections as the most callers at once, which the callers bound (the
scheduler's ``concurrency``).

psycopg_pool was not used: it connects in background threads and reports a failure as a
``PoolTimeout`` without the server's reason, where a user needs "connection refused" or
"password authentication failed" on one line, immediately.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq

from boxoffice.errors import ConfigurationError, StorageError, postgres_auth_error

CONNECT_TIMEOUT_S = 5


class Connections:
    """A small thread-safe set of autocommit connections (UTC, no JIT) to ``url``."""

    def __init__(self, url: str, label: str) -> None:
        self.url = url
        self.label = label
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._generation = 0  # close() moves it on: connections out at that moment then close

    def connect(self) -> psycopg.Connection[Any]:
        """A new connection (:class:`ConfigurationError` / :class:`StorageError` on failure)."""
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.ProgrammingError as exc:
            raise ConfigurationError(
                f"bad PostgreSQL URL: {str(exc).splitlines()[0]}",
                hint="use postgresql://user:password@host:5432/dbname",
            ) from None
        except psycopg.OperationalError as exc:
            refused = postgres_auth_error(str(exc), url=self.label)
            if refused is not None:
                raise refused from None
            reason = " ".join(str(exc).split()) or "no answer"
            raise StorageError(
                f"cannot connect to {self.label}: {reason}",
                hint="check the URL (--db / BOXOFFICE_DB_URL) and that the server is up",
            ) from None
        try:
            # UTC in and out; no JIT (it costs more than it saves on these short queries)
            conn.execute("SET TIME ZONE 'UTC'; SET jit = off")
        except psycopg.Error as exc:
            conn.close()
            reason = " ".join(str(exc).split()) or "connection lost"
            raise StorageError(f"{self.label}: {reason}") from None
        return conn

    @contextmanager
    def checkout(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection for this caller alone until the block ends."""
        generation = self._generation
        conn = self._reuse()
        if conn is None:
            conn = self.connect()
        try:
            yield conn
        finally:
            self._release(conn, generation)

    def _reuse(self) -> psycopg.Connection[Any] | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                conn = self._idle.pop()
            if usable(conn):
                return conn
            conn.close()

    def _release(self, conn: psycopg.Connection[Any], generation: int) -> None:
        if usable(conn):
            with self._lock:
                if generation == self._generation:
                    self._idle.append(conn)
                    return
        elif conn.broken:
            self.close()
        conn.close()

    def idle(self) -> int:
        """How many connections wait for reuse."""
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        """Close the idle connections, and those in use when they come back (a later
        checkout connects again)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            conn.close()


def usable(conn: psycopg.Connection[Any]) -> bool:
    """Open, not broken, and outside any transaction (so the next caller starts clean)."""
    return (
        not conn.closed
        and not conn.broken
        and conn.info.transaction_status == pq.TransactionStatus.IDLE
    )
