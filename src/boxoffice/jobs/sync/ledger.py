"""The exactly-once ledger: one row per (region, event, target, ticket) in SQLite.

Status is ``pending`` → ``delivered`` (committed right after the receiver's 2xx) or ``dead``
(permanent failure, or attempts exhausted) with the attempt count, the last HTTP status and a
short error. Only ids, statuses, counts and timestamps are stored — never personal data.
``envelope_id`` is the deterministic id sent, so a redelivery after a crash can be matched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
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
    """
]

STATUSES = ("pending", "delivered", "dead")


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


class Ledger:
    """SQLite-backed delivery ledger (WAL; each state change is its own commit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = state.connect(path, MIGRATIONS)

    @classmethod
    def default_path(cls, state_dir: Path) -> Path:
        """``<state dir>/sync/ledger.sqlite3``."""
        return state_dir / "sync" / "ledger.sqlite3"

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
            " last_error = NULL, updated_at = ?, delivered_at = ? WHERE region = ? AND"
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
    ) -> None:
        """A failed attempt: stays pending (to retry) or becomes a dead letter."""
        self._write(
            "UPDATE deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?,"
            " updated_at = ? WHERE region = ? AND event = ? AND target = ? AND ticket_id = ?",
            (
                "dead" if dead else "pending",
                attempts,
                status,
                error[:500],
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
            "UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = ?"
            " WHERE region = ? AND event = ? AND target = ? AND status = 'dead'",
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
        sql = (
            "SELECT event, target, SUM(status = 'pending'), SUM(status = 'delivered'),"
            " SUM(status = 'dead'), MAX(updated_at) FROM deliveries WHERE region = ?"
        )
        params: list[object] = [region]
        if event:
            sql += " AND event = ?"
            params.append(event)
        sql += " GROUP BY event, target ORDER BY MAX(updated_at) DESC"
        return [StatusLine(*row) for row in self.conn.execute(sql, params)]

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
