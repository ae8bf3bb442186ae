"""The exactly-once ledger: one row per (region, event, target, ticket) in SQLite.

Status is ``pending`` → ``delivered`` (committed right after the receiver's 2xx) or ``dead``
(permanent failure, or attempts exhausted) with the attempt count, the last HTTP status and a
short error. Only ids, statuses, counts and timestamps are stored — never personal data.
``envelope_id`` is the deterministic id sent, so a redelivery after a crash can be matched.
``next_attempt_at`` (UNIX seconds, NULL = now) is when a pending ticket may be retried: each
ticket keeps its own retry time, so one failing ticket never holds the others back, and a
later run resumes it on time.

``sync status`` opens the ledger read-only (:meth:`Ledger.open_read_only`), so it works on a
ledger the user can read but not write.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from boxoffice.core import state
from boxoffice.core.timefmt import utc_iso
from boxoffice.errors import StorageError, map_exception

MIGRATIONS = [
    """
    CREATE TABLE deliveries (
        region TEXT NOT NULL,
        event TEXT NOT NULL,
        target TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        envelope_id TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        delivered_at TEXT,
        PRIMARY KEY (region, event, target, ticket_id)
    );
    CREATE INDEX deliveries_status ON deliveries (region, event, target, status);
    """,
    """
    ALTER TABLE deliveries ADD COLUMN next_attempt_at REAL;
    """,
]

STATUSES = ("pending", "delivered", "dead")
SUMMARY_SQL = (
    "SELECT event, target, SUM(status = 'pending'), SUM(status = 'delivered'),"
    " SUM(status = 'dead'), MAX(updated_at), {next_retry} FROM deliveries WHERE region = ?"
)
SUMMARY_NEXT_RETRY = "MIN(CASE WHEN status = 'pending' THEN next_attempt_at END)"


def _now() -> str:
    return utc_iso(timespec="milliseconds")


@dataclass(frozen=True)
class LedgerKey:
    """Which run a ledger row belongs to (target is the URL delivered to)."""

    region: str
    event: str
    target: str


@dataclass(frozen=True)
class LedgerRow:
    """One ticket's delivery state."""

    ticket_id: str
    envelope_id: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    updated_at: str
    delivered_at: str | None


@dataclass(frozen=True)
class StatusLine:
    """Counts for one (event, target) in ``sync status``."""

    event: str
    target: str
    pending: int
    delivered: int
    dead: int
    last_update: str
    next_retry: str | None = None
    """When the earliest pending ticket may be retried (None: nothing waits)."""


def epoch_iso(seconds: float) -> str:
    """UNIX seconds as the ledger's UTC text (``2026-11-22T03:23:05Z``)."""
    return utc_iso(datetime.fromtimestamp(seconds, UTC))


class Ledger:
    """SQLite-backed delivery ledger (WAL; each state change is its own commit)."""

    def __init__(self, path: Path, *, conn: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.conn = conn if conn is not None else state.connect(path, MIGRATIONS)
        self.read_only = conn is not None
        self.schema_version = len(MIGRATIONS)

    @classmethod
    def open_read_only(cls, path: Path) -> Ledger | None:
        """The ledger opened for reading only (no migration, no WAL switch, nothing created);
        None when there is no ledger yet."""
        if not path.exists():
            return None
        uri = path.resolve().as_uri()
        try:
            try:
                conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            except sqlite3.OperationalError:
                # a WAL database in a folder we cannot write (no -shm to create): nobody can
                # be writing it there either, so read it as an immutable file
                conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise map_exception(exc, context=f"ledger {path}") from exc
        if version > len(MIGRATIONS):
            conn.close()
            raise StorageError(
                f"ledger {path}: schema version {version} is newer than this boxoffice knows "
                f"({len(MIGRATIONS)})",
                hint="upgrade boxoffice",
            )
        ledger = cls(path, conn=conn)
        ledger.schema_version = version
        return ledger

    @property
    def _has_retry_times(self) -> bool:
        return self.schema_version >= 2

    @classmethod
    def default_path(cls, state_dir: Path) -> Path:
        """``<state dir>/sync/ledger.sqlite3``."""
        return state_dir / "sync" / "ledger.sqlite3"

    @classmethod
    def lock_path(cls, state_dir: Path, key: LedgerKey) -> Path:
        """The lock file of one (region, event, target): ``<state dir>/sync/locks/<hash>.lock``."""
        digest = hashlib.sha256(f"{key.region}\0{key.event}\0{key.target}".encode()).hexdigest()
        return state_dir / "sync" / "locks" / f"{digest[:24]}.lock"

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> int:
        try:
            return self.conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise map_exception(exc, context=f"ledger {self.path}") from exc

    def register(self, key: LedgerKey, items: Iterable[tuple[str, str]]) -> int:
        """Add (ticket_id, envelope_id) rows as pending unless known; returns rows added."""
        now = _now()
        added = 0
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            for ticket_id, envelope_id in items:
                added += self.conn.execute(
                    "INSERT OR IGNORE INTO deliveries (region, event, target, ticket_id,"
                    " envelope_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key.region, key.event, key.target, ticket_id, envelope_id, now, now),
                ).rowcount
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise map_exception(exc, context=f"ledger {self.path}") from exc
        return added

    def statuses(self, key: LedgerKey) -> dict[str, tuple[str, int]]:
        """``{ticket_id: (status, attempts)}`` for a run."""
        rows = self.conn.execute(
            "SELECT ticket_id, status, attempts FROM deliveries"
            " WHERE region = ? AND event = ? AND target = ?",
            (key.region, key.event, key.target),
        )
        return {tid: (status, attempts) for tid, status, attempts in rows}

    def retry_times(self, key: LedgerKey) -> dict[str, float]:
        """``{ticket_id: UNIX seconds}`` of the pending tickets that have a retry time."""
        rows = self.conn.execute(
            "SELECT ticket_id, next_attempt_at FROM deliveries WHERE region = ? AND event = ?"
            " AND target = ? AND status = 'pending' AND next_attempt_at IS NOT NULL",
            (key.region, key.event, key.target),
        )
        return {tid: float(at) for tid, at in rows}

    def counts(self, key: LedgerKey) -> dict[str, int]:
        """``{status: count}`` for a run (every status present, 0 if none)."""
        out = dict.fromkeys(STATUSES, 0)
        for status, count in self.conn.execute(
            "SELECT status, COUNT(*) FROM deliveries WHERE region = ? AND event = ? AND"
            " target = ? GROUP BY status",
            (key.region, key.event, key.target),
        ):
            out[status] = count
        return out

    def mark_delivered(self, key: LedgerKey, ticket_id: str, attempts: int, status: int) -> None:
        """The receiver answered 2xx: commit at once."""
        now = _now()
        self._write(
            "UPDATE deliveries SET status = 'delivered', attempts = ?, last_status = ?,"
            " last_error = NULL, next_attempt_at = NULL, updated_at = ?, delivered_at = ?"
            " WHERE region = ? AND"
            " event = ? AND target = ? AND ticket_id = ?",
            (attempts, status, now, now, key.region, key.event, key.target, ticket_id),
        )

    def mark_failed(
        self,
        key: LedgerKey,
        ticket_id: str,
        attempts: int,
        error: str,
        status: int | None,
        *,
        dead: bool,
        retry_at: float | None = None,
    ) -> None:
        """A failed attempt: stays pending (to retry at ``retry_at``, UNIX seconds) or becomes
        a dead letter."""
        self._write(
            "UPDATE deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?,"
            " next_attempt_at = ?, updated_at = ? WHERE region = ? AND event = ? AND"
            " target = ? AND ticket_id = ?",
            (
                "dead" if dead else "pending",
                attempts,
                status,
                error[:500],
                None if dead else retry_at,
                _now(),
                key.region,
                key.event,
                key.target,
                ticket_id,
            ),
        )

    def requeue_dead(self, key: LedgerKey) -> int:
        """Dead letters back to pending with a fresh attempt count; returns how many."""
        return self._write(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL,"
            " updated_at = ? WHERE region = ? AND event = ? AND target = ? AND status = 'dead'",
            (_now(), key.region, key.event, key.target),
        )

    def rows(self, key: LedgerKey, status: str | None = None, limit: int = 50) -> list[LedgerRow]:
        """Rows of a run (optionally one status), most recently updated first."""
        sql = (
            "SELECT ticket_id, envelope_id, status, attempts, last_status, last_error,"
            " updated_at, delivered_at FROM deliveries WHERE region = ? AND event = ? AND"
            " target = ?"
        )
        params: list[object] = [key.region, key.event, key.target]
        if status:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY updated_at DESC LIMIT ?"
        params.append(limit)
        return [LedgerRow(*row) for row in self.conn.execute(sql, params)]

    def summary(self, region: str, event: str | None = None) -> list[StatusLine]:
        """Counts per (event, target) for a region (optionally one event)."""
        # an old ledger opened read-only (not migrated) has no next_attempt_at column
        next_retry = SUMMARY_NEXT_RETRY if self._has_retry_times else "NULL"
        sql = SUMMARY_SQL.format(next_retry=next_retry)
        params: list[object] = [region]
        if event:
            sql += " AND event = ?"
            params.append(event)
        sql += " GROUP BY event, target ORDER BY MAX(updated_at) DESC"
        return [
            StatusLine(
                event=row[0],
                target=row[1],
                pending=row[2],
                delivered=row[3],
                dead=row[4],
                last_update=row[5],
                next_retry=epoch_iso(row[6]) if row[6] is not None else None,
            )
            for row in self.conn.execute(sql, params)
        ]

    def delivered_total(self, region: str) -> int:
        """Tickets delivered for a region, all events and targets."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE region = ? AND status = 'delivered'",
            (region,),
        ).fetchone()
        return int(row[0])

    def events_complete(self, region: str) -> list[str]:
        """Events of a region with nothing pending or dead on any target."""
        rows = self.conn.execute(
            "SELECT event FROM deliveries WHERE region = ? GROUP BY event"
            " HAVING SUM(status != 'delivered') = 0 ORDER BY MIN(created_at)",
            (region,),
        )
        return [r[0] for r in rows]

    def dead_letters(self, region: str, limit: int = 20) -> list[tuple[str, str, LedgerRow]]:
        """Recent dead letters of a region as (event, target, row)."""
        rows = self.conn.execute(
            "SELECT event, target, ticket_id, envelope_id, status, attempts, last_status,"
            " last_error, updated_at, delivered_at FROM deliveries WHERE region = ? AND"
            " status = 'dead' ORDER BY updated_at DESC LIMIT ?",
            (region, limit),
        )
        return [(r[0], r[1], LedgerRow(*r[2:])) for r in rows]


def open_ledger(state_dir: Path) -> Ledger:
    """Open the ledger under the state dir, with a clear error if it cannot be used."""
    path = Ledger.default_path(state_dir)
    try:
        return Ledger(path)
    except StorageError:
        raise
    except OSError as exc:
        raise map_exception(exc, context=f"ledger {path}") from exc
