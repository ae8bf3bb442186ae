"""Price-alert state in the track store: the ``price_alerts`` table of each backend.

Each backend adds the table through its own migration list (``SQLITE_MIGRATION``,
``POSTGRES_MIGRATION``); :func:`alert_table` gives the operations for an open store.
"""

# SQL text is built from constant column lists only; values are always bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from boxoffice.errors import NotFoundError

SQLITE_MIGRATION = """
    CREATE TABLE price_alerts (
        alert_id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id INTEGER NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
        below REAL NOT NULL,
        section TEXT,
        quantity INTEGER,
        notify TEXT NOT NULL DEFAULT '[]',
        armed INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        last_fired_at TEXT,
        last_price REAL
    );
    CREATE INDEX price_alerts_event ON price_alerts (event_id);
"""

POSTGRES_MIGRATION = """
    CREATE TABLE price_alerts (
        alert_id BIGSERIAL PRIMARY KEY,
        event_id BIGINT NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
        below DOUBLE PRECISION NOT NULL,
        section TEXT,
        quantity INTEGER,
        notify TEXT NOT NULL DEFAULT '[]',
        armed BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        last_fired_at TIMESTAMPTZ,
        last_price DOUBLE PRECISION
    );
    CREATE INDEX price_alerts_event ON price_alerts (event_id);
"""

_COLUMNS = (
    "alert_id, event_id, below, section, quantity, notify, armed, created_at, last_fired_at, "
    "last_price"
)


@dataclass(frozen=True)
class PriceAlert:
    """One alert: fire when a listing of ``event_id`` (``section``, ``quantity`` tickets or
    more) costs less than ``below`` per ticket; ``armed`` until it fired, re-armed when the
    price went back up."""

    alert_id: int
    event_id: int
    below: float
    section: str | None
    quantity: int | None
    notify: list[str]
    armed: bool
    created_at: datetime
    last_fired_at: datetime | None
    last_price: float | None


class AlertTable(Protocol):
    """Alert operations of one store."""

    def add(
        self,
        event_id: int,
        below: float,
        *,
        section: str | None,
        quantity: int | None,
        notify: Sequence[str],
        now: datetime,
    ) -> PriceAlert: ...

    def all(self, event_id: int | None = None) -> list[PriceAlert]: ...

    def remove(self, alert_id: int) -> None: ...

    def set_state(
        self, alert_id: int, *, armed: bool, fired_at: datetime | None, price: float | None
    ) -> None: ...


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _alert(row: Sequence[Any]) -> PriceAlert:
    created = _dt(row[7])
    assert created is not None
    return PriceAlert(
        alert_id=int(row[0]),
        event_id=int(row[1]),
        below=float(row[2]),
        section=row[3],
        quantity=int(row[4]) if row[4] is not None else None,
        notify=list(json.loads(row[5] or "[]")),
        armed=bool(row[6]),
        created_at=created,
        last_fired_at=_dt(row[8]),
        last_price=float(row[9]) if row[9] is not None else None,
    )


def _missing(alert_id: int) -> NotFoundError:
    return NotFoundError(
        f"no price alert {alert_id}", hint="see the ids with `boxoffice track alert list`"
    )


class SqliteAlerts:
    """``price_alerts`` in the SQLite store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def add(
        self,
        event_id: int,
        below: float,
        *,
        section: str | None,
        quantity: int | None,
        notify: Sequence[str],
        now: datetime,
    ) -> PriceAlert:
        with self.store._write() as conn:
            cur = conn.execute(
                "INSERT INTO price_alerts (event_id, below, section, quantity, notify, armed,"
                " created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
                (event_id, below, section, quantity, json.dumps(list(notify)), now.isoformat()),
            )
            alert_id = int(cur.lastrowid or 0)
        return next(a for a in self.all() if a.alert_id == alert_id)

    def all(self, event_id: int | None = None) -> list[PriceAlert]:
        sql = f"SELECT {_COLUMNS} FROM price_alerts"
        params: tuple[Any, ...] = ()
        if event_id is not None:
            sql += " WHERE event_id = ?"
            params = (event_id,)
        return [_alert(r) for r in self.store._read(sql + " ORDER BY alert_id", params)]

    def remove(self, alert_id: int) -> None:
        with self.store._write() as conn:
            cur = conn.execute("DELETE FROM price_alerts WHERE alert_id = ?", (alert_id,))
            if cur.rowcount == 0:
                raise _missing(alert_id)

    def set_state(
        self, alert_id: int, *, armed: bool, fired_at: datetime | None, price: float | None
    ) -> None:
        with self.store._write() as conn:
            conn.execute(
                "UPDATE price_alerts SET armed = ?, last_fired_at = coalesce(?, last_fired_at),"
                " last_price = coalesce(?, last_price) WHERE alert_id = ?",
                (int(armed), fired_at.isoformat() if fired_at else None, price, alert_id),
            )


class PostgresAlerts:
    """``price_alerts`` in the PostgreSQL store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def add(
        self,
        event_id: int,
        below: float,
        *,
        section: str | None,
        quantity: int | None,
        notify: Sequence[str],
        now: datetime,
    ) -> PriceAlert:
        with self.store._cursor(transaction=True) as cur:
            cur.execute(
                "INSERT INTO price_alerts (event_id, below, section, quantity, notify, armed,"
                f" created_at) VALUES (%s, %s, %s, %s, %s, TRUE, %s) RETURNING {_COLUMNS}",
                (event_id, below, section, quantity, json.dumps(list(notify)), now),
            )
            row = cur.fetchone()
        return _alert(row)

    def all(self, event_id: int | None = None) -> list[PriceAlert]:
        with self.store._cursor() as cur:
            if event_id is None:
                cur.execute(f"SELECT {_COLUMNS} FROM price_alerts ORDER BY alert_id")
            else:
                cur.execute(
                    f"SELECT {_COLUMNS} FROM price_alerts WHERE event_id = %s ORDER BY alert_id",
                    (event_id,),
                )
            return [_alert(r) for r in cur.fetchall()]

    def remove(self, alert_id: int) -> None:
        with self.store._cursor(transaction=True) as cur:
            cur.execute("DELETE FROM price_alerts WHERE alert_id = %s", (alert_id,))
            if cur.rowcount == 0:
                raise _missing(alert_id)

    def set_state(
        self, alert_id: int, *, armed: bool, fired_at: datetime | None, price: float | None
    ) -> None:
        with self.store._cursor(transaction=True) as cur:
            cur.execute(
                "UPDATE price_alerts SET armed = %s, last_fired_at = coalesce(%s, last_fired_at),"
                " last_price = coalesce(%s, last_price) WHERE alert_id = %s",
                (armed, fired_at, price, alert_id),
            )


def alert_table(store: Any) -> AlertTable:
    """The alert operations of ``store`` (by its backend)."""
    if getattr(store, "backend", "") == "postgresql":
        return PostgresAlerts(store)
    return SqliteAlerts(store)
