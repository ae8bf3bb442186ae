"""TimescaleDB: detection and the SQL that turns ``listings`` into a compressed hypertable.

Kept apart from the PostgreSQL backend so the SQL it emits and the detection path can be
tested with a fake connection (TimescaleDB is not installable everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from boxoffice.core.logging import get_logger

log = get_logger(__name__)

ORIGIN_SQL = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"


class Executor(Protocol):
    """The part of a DB-API cursor used here (psycopg's cursor fits)."""

    def execute(self, query: Any, params: Any = ...) -> Any:
        """Run one statement."""
        ...

    def fetchone(self) -> Any:
        """One row of the last statement (None when there is none)."""
        ...


@dataclass(frozen=True)
class TimescaleStatus:
    """What the server offers: installed version, or available version, or nothing."""

    installed: str | None
    available: str | None

    @property
    def usable(self) -> bool:
        """Whether the extension is installed (after setup) in this database."""
        return self.installed is not None


def detect(cur: Executor) -> TimescaleStatus:
    """Ask ``pg_extension`` (installed here) and ``pg_available_extensions`` (installable)."""
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    row = cur.fetchone()
    installed = str(row[0]) if row else None
    cur.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    row = cur.fetchone()
    available = str(row[0]) if row else None
    return TimescaleStatus(installed=installed, available=available)


def interval_sql(value: timedelta) -> str:
    """A validated interval literal (seconds, so nothing user-typed reaches the SQL)."""
    return f"INTERVAL '{int(value.total_seconds())} seconds'"


def setup_statements(*, compress_after: timedelta | None) -> list[str]:
    """The statements that make ``listings`` a hypertable with compression by event.

    Compression is segmented by ``event_id`` (each event's rows compress together, so one
    event's history decompresses alone) and ordered by time; the primary key's other column,
    ``listing_id``, must be in the order-by for the unique index to survive compression.
    """
    statements = [
        "SELECT create_hypertable('listings', 'captured_at', "
        "if_not_exists => TRUE, migrate_data => TRUE)",
        "ALTER TABLE listings SET (timescaledb.compress, "
        "timescaledb.compress_segmentby = 'event_id', "
        "timescaledb.compress_orderby = 'captured_at DESC, listing_id')",
    ]
    if compress_after is not None:
        statements.append(
            f"SELECT add_compression_policy('listings', {interval_sql(compress_after)}, "
            "if_not_exists => TRUE)"
        )
    return statements


def bucket_sql(*, timescale: bool) -> str:
    """The bucket expression (``%(width)s`` is the bucket interval), epoch-aligned."""
    function = "time_bucket" if timescale else "date_bin"
    return f"{function}(%(width)s::interval, captured_at, {ORIGIN_SQL})"


def enable(cur: Executor, *, compress_after: timedelta | None) -> TimescaleStatus:
    """Detect TimescaleDB; create the extension if only available; set up the hypertable.

    Returns the final status. A server without the extension is left as plain PostgreSQL;
    one where ``CREATE EXTENSION`` fails (e.g. not in ``shared_preload_libraries``) too,
    with a warning.
    """
    status = detect(cur)
    if status.installed is None and status.available is not None:
        try:
            cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        except Exception as exc:  # the server says why; plain PostgreSQL still works
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("timescaledb not loadable; using plain PostgreSQL", reason=reason)
            return status
        status = TimescaleStatus(installed=status.available, available=status.available)
    if status.installed is None:
        return status
    cur.execute(
        "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'listings'"
    )
    if cur.fetchone():
        return status  # set up by an earlier run
    for statement in setup_statements(compress_after=compress_after):
        cur.execute(statement)
    return status
