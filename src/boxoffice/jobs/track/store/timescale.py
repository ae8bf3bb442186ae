"""TimescaleDB: what the server and the store have, and bringing ``listings`` in line with the
settings — a hypertable on ``captured_at``, compressed by event, with the configured policy.

Everything is read from TimescaleDB's own catalog views (``timescaledb_information``), never
assumed. :func:`reconcile` runs inside the migration transaction, under its advisory lock, so
concurrent ``init-db`` runs serialize and a half-done set-up cannot be left behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from boxoffice.core.logging import get_logger
from boxoffice.errors import StorageError

log = get_logger(__name__)

ORIGIN_SQL = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
PRELOAD_HINT = (
    "add timescaledb to shared_preload_libraries in postgresql.conf "
    "(shared_preload_libraries = 'timescaledb') and restart PostgreSQL"
)


class Executor(Protocol):
    """The part of a DB-API cursor used here (psycopg's cursor fits)."""

    def execute(self, query: Any, params: Any = ...) -> Any:
        """Run one statement."""
        ...

    def fetchone(self) -> Any:
        """One row of the last statement (None when there is none)."""
        ...

    def fetchall(self) -> Any:
        """Every row of the last statement."""
        ...


@dataclass(frozen=True)
class FailedJob:
    """A TimescaleDB background job whose last run failed."""

    job_id: int
    proc: str
    last_run: str
    failures: int


@dataclass(frozen=True)
class TimescaleStatus:
    """What the server offers and what the store has, as TimescaleDB reports it."""

    installed: str | None
    available: str | None
    preloaded: bool | None = None
    hypertable: bool = False
    compression: bool = False
    segmentby: tuple[str, ...] = ()
    policy_after: timedelta | None = None
    policy_job: int | None = None
    failed_jobs: tuple[FailedJob, ...] = ()
    old_key: str | None = None  # why the key is not the current shape (None: it is)
    changes: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> bool:
        """Whether ``listings`` is a hypertable (time_bucket and compression apply)."""
        return self.installed is not None and self.hypertable

    def summary(self) -> str:
        """``TimescaleDB 2.28.3: hypertable, compression by event_id, policy after 7 days``."""
        if self.installed is None:
            if self.available and self.preloaded is False:
                return f"TimescaleDB {self.available} available but not preloaded"
            return "plain PostgreSQL"
        if not self.preloaded:
            return f"TimescaleDB {self.installed} installed but not preloaded"
        parts = ["hypertable" if self.hypertable else "listings is not a hypertable"]
        if self.compression:
            by = ", ".join(self.segmentby) or "nothing"
            parts.append(f"compression by {by}")
        elif self.hypertable:
            parts.append("no compression")
        if self.policy_after is not None:
            parts.append(f"policy after {_human(self.policy_after)}")
        elif self.hypertable:
            parts.append("no compression policy")
        return f"TimescaleDB {self.installed}: " + ", ".join(parts)


def _human(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def parse_interval(text: str) -> timedelta | None:
    """PostgreSQL's interval output (``7 days``, ``1 day 02:00:00``, ``12:00:00``)."""
    match = re.fullmatch(
        r"\s*(?:(-?\d+) days?)?\s*(?:(-?\d+):(\d\d):(\d\d)(?:\.\d+)?)?\s*", text or ""
    )
    if not match or not any(match.groups()):
        return None
    days = int(match.group(1) or 0)
    hours, minutes, seconds = (int(match.group(i) or 0) for i in (2, 3, 4))
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


_HYPERTABLE = (
    "SELECT compression_enabled FROM timescaledb_information.hypertables "
    "WHERE hypertable_schema = current_schema() AND hypertable_name = 'listings'"
)


def detect(cur: Executor) -> TimescaleStatus:
    """The extension (installed here, or available), preloading, and the store's shape."""
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    row = cur.fetchone()
    installed = str(row[0]) if row else None
    cur.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    row = cur.fetchone()
    available = str(row[0]) if row else None
    # the preloaded loader defines this setting in every session (and reading it needs no
    # privilege, unlike shared_preload_libraries itself)
    cur.execute("SELECT current_setting('timescaledb.disable_load', true) IS NOT NULL")
    row = cur.fetchone()
    preloaded = bool(row and row[0])
    if installed is None or not preloaded:  # without the library nothing more can be asked
        return TimescaleStatus(installed=installed, available=available, preloaded=preloaded)
    cur.execute(_HYPERTABLE)
    row = cur.fetchone()
    hypertable, compression = row is not None, bool(row and row[0])
    segmentby: tuple[str, ...] = ()
    policy_after: timedelta | None = None
    policy_job: int | None = None
    failed: list[FailedJob] = []
    if hypertable:
        cur.execute(
            "SELECT attname FROM timescaledb_information.compression_settings "
            "WHERE hypertable_schema = current_schema() AND hypertable_name = 'listings' "
            "AND segmentby_column_index IS NOT NULL ORDER BY segmentby_column_index"
        )
        segmentby = tuple(str(r[0]) for r in cur.fetchall())
        cur.execute(
            "SELECT job_id, config->>'compress_after' FROM timescaledb_information.jobs "
            "WHERE proc_name = 'policy_compression' AND hypertable_schema = current_schema() "
            "AND hypertable_name = 'listings' ORDER BY job_id LIMIT 1"
        )
        row = cur.fetchone()
        if row:
            policy_job, policy_after = int(row[0]), parse_interval(str(row[1]))
        cur.execute(
            "SELECT job_id, proc_name, coalesce(last_run_started_at::text, ''), total_failures "
            "FROM timescaledb_information.job_stats s "
            "JOIN timescaledb_information.jobs j USING (job_id) "
            "WHERE s.last_run_status = 'Failed' ORDER BY job_id"
        )
        failed = [FailedJob(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in cur.fetchall()]
    return TimescaleStatus(
        installed=installed,
        available=available,
        preloaded=preloaded,
        hypertable=hypertable,
        compression=compression,
        segmentby=segmentby,
        policy_after=policy_after,
        policy_job=policy_job,
        failed_jobs=tuple(failed),
        old_key=old_key(cur),
    )


def old_key(cur: Executor) -> str | None:
    """Why ``listings``' key is not the current shape — ``(captured_at, listing_id)`` with
    ``listing_id`` compared bytewise — or None when it is (or there is no table)."""
    cur.execute(
        "SELECT a.attname, coalesce(c.collname, '') FROM pg_index i "
        "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON TRUE "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "LEFT JOIN pg_collation c ON c.oid = a.attcollation "
        "WHERE i.indrelid = to_regclass('listings') AND i.indisprimary ORDER BY k.n"
    )
    rows = [(str(r[0]), str(r[1])) for r in cur.fetchall()]
    if not rows:
        return None
    columns = [r[0] for r in rows]
    reasons = []
    if columns != ["captured_at", "listing_id"]:
        reasons.append(f"key ({', '.join(columns)}) instead of (captured_at, listing_id)")
    collation = dict(rows).get("listing_id", "C")
    if collation != "C":
        reasons.append(f'listing_id collated {collation!r} instead of "C"')
    return "; ".join(reasons) or None


def interval_sql(value: timedelta) -> str:
    """A validated interval literal in the largest whole unit (``INTERVAL '7 days'``), built
    from a number, so nothing user-typed reaches the SQL."""
    return f"INTERVAL '{_human(value)}'"


HYPERTABLE_SQL = (
    "SELECT create_hypertable('listings', 'captured_at', if_not_exists => TRUE, "
    "migrate_data => TRUE, create_default_indexes => FALSE)"
)
COMPRESSION_SQL = (
    "ALTER TABLE listings SET (timescaledb.compress, "
    "timescaledb.compress_segmentby = 'event_id', "
    "timescaledb.compress_orderby = 'captured_at DESC, listing_id')"
)


def reconcile(cur: Executor, *, compress_after: timedelta | None) -> TimescaleStatus:
    """Bring the store in line with the settings; the status says what changed.

    On a server with the extension available: create it (only when preloaded — without that
    ``CREATE EXTENSION`` is a FATAL that ends the connection); make ``listings`` a hypertable
    (existing rows moved, no default indexes: the key serves ``captured_at``); enable
    compression segmented by event (each event's history decompresses alone, ordered by time
    with ``listing_id`` for the unique key); add, change or remove the compression policy to
    match ``compress_after``. Every step checks first, so a rerun changes nothing.
    """
    status = detect(cur)
    changes: list[str] = []
    if status.installed is not None and not status.preloaded:
        raise StorageError(
            f"this database has TimescaleDB {status.installed} installed, but the server does "
            "not preload it",
            hint=PRELOAD_HINT,
        )
    if status.installed is None:
        if status.available is None:
            return status
        if not status.preloaded:
            log.warning(
                "TimescaleDB is installed on the server but not preloaded; using plain PostgreSQL",
                hint=PRELOAD_HINT,
            )
            return status
        cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        changes.append(f"extension timescaledb {status.available} created")
        status = detect(cur)
    if not status.hypertable:
        cur.execute(HYPERTABLE_SQL)
        changes.append("listings made a hypertable on captured_at")
    if not status.compression:
        cur.execute(COMPRESSION_SQL)
        changes.append("compression by event enabled")
    if status.policy_after != compress_after:
        if status.policy_job is not None:
            cur.execute("SELECT remove_compression_policy('listings', if_exists => TRUE)")
        if compress_after is not None:
            cur.execute(
                f"SELECT add_compression_policy('listings', {interval_sql(compress_after)})"
            )
        before = _human(status.policy_after) if status.policy_after else "none"
        after = _human(compress_after) if compress_after else "none"
        changes.append(f"compression policy {before} → {after}")
    final = detect(cur)
    return TimescaleStatus(**{**final.__dict__, "changes": tuple(changes)})


def bucket_sql(*, timescale: bool) -> str:
    """The bucket expression (``%(width)s`` is the bucket interval), epoch-aligned."""
    function = "time_bucket" if timescale else "date_bin"
    return f"{function}(%(width)s::interval, captured_at, {ORIGIN_SQL})"
