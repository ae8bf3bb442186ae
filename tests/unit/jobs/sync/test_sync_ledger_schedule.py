"""The ledger (state survives reopening; ids only) and the Svix-like retry schedule."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger, LedgerKey
from boxoffice.jobs.sync.schedule import RetryPolicy
from boxoffice.settings.sync import SVIX_SCHEDULE

KEY = LedgerKey("PROD", "evt", "https://hook.example/x")


def test_register_is_idempotent_and_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    assert ledger.register(KEY, [("a", "ea"), ("b", "eb")]) == 2
    ledger.mark_delivered(KEY, "a", 1, 200)
    ledger.mark_failed(KEY, "b", 2, "HTTP 500", 500, dead=False)
    assert ledger.register(KEY, [("a", "ea"), ("b", "eb"), ("c", "ec")]) == 1
    ledger.close()
    again = Ledger(path)
    assert again.statuses(KEY) == {"a": ("delivered", 1), "b": ("pending", 2), "c": ("pending", 0)}
    other = LedgerKey("PROD", "evt", "https://other.example")
    assert again.statuses(other) == {}
    again.close()


def test_dead_letters_requeue_and_summary(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.register(KEY, [("a", "ea"), ("b", "eb")])
    ledger.mark_failed(KEY, "a", 1, "HTTP 422: nope", 422, dead=True)
    ledger.mark_delivered(KEY, "b", 1, 200)
    assert ledger.counts(KEY) == {"pending": 0, "delivered": 1, "dead": 1}
    (line,) = ledger.summary("PROD")
    assert (line.pending, line.delivered, line.dead) == (0, 1, 1)
    assert ledger.events_complete("PROD") == []
    assert ledger.requeue_dead(KEY) == 1
    assert ledger.statuses(KEY)["a"] == ("pending", 0)
    ledger.close()


def test_ledger_schema_holds_no_personal_fields(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "l.sqlite3")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}
    conn.close()
    assert not columns & {"name", "email", "firstname", "lastname", "body", "ticket"}


def test_svix_like_schedule() -> None:
    policy = RetryPolicy(schedule=SVIX_SCHEDULE, cap=36000, max_attempts=8)
    waits = [policy.delay_before(n) for n in range(1, 10)]
    assert waits == [0, 5, 300, 1800, 7200, 18000, 36000, 36000, 36000]
    assert policy.delay_before(3, retry_after=42) == 42
    assert RetryPolicy(schedule=(5, 100000), cap=600).delay_before(3) == 600
    assert not policy.exhausted(7)
    assert policy.exhausted(8)
    assert policy.describe(4) == "5 s, 5 min, 30 min"


def test_filter_counts() -> None:
    f = TicketFilter(["VALID", "DETAILSREQUIRED"], "charity")
    tickets = [
        {"status": "VALID", "ticketName": "HYROX MEN | CHARITY HIA"},
        {"status": "DETAILSREQUIRED", "ticketName": "CHARITY | DOUBLES"},
        {"status": "RESERVED", "ticketName": "CHARITY"},
        {"status": "VALID", "ticketName": "HYROX WOMEN"},
        {"status": "INVALID", "ticketName": "HYROX PRO"},
    ]
    assert [f.accept(t) for t in tickets] == [True, True, False, False, False]
    assert (f.counts.total, f.counts.rejected_status, f.counts.rejected_name) == (5, 2, 1)
    assert f.counts.to_send == 2
    anything = TicketFilter([], "")
    assert all(anything.accept(t) for t in tickets)


def test_retry_times_are_kept_per_ticket_and_cleared_on_delivery(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    ledger.register(KEY, [("a", "ea"), ("b", "eb")])
    ledger.mark_failed(KEY, "a", 1, "HTTP 503", 503, dead=False, retry_at=1_800_000_005.0)
    ledger.mark_failed(KEY, "b", 1, "HTTP 500", 500, dead=False, retry_at=1_800_000_300.0)
    ledger.close()
    again = Ledger(path)
    assert again.retry_times(KEY) == {"a": 1_800_000_005.0, "b": 1_800_000_300.0}
    (line,) = again.summary("PROD")
    assert line.next_retry == "2027-01-15T08:00:05Z"
    again.mark_delivered(KEY, "a", 2, 200)
    again.mark_failed(KEY, "b", 2, "HTTP 422", 422, dead=True, retry_at=1.0)
    assert again.retry_times(KEY) == {}
    again.requeue_dead(KEY)
    assert again.retry_times(KEY) == {}
    again.close()


def test_read_only_open_creates_and_writes_nothing(tmp_path: Path) -> None:
    assert Ledger.open_read_only(tmp_path / "missing.sqlite3") is None
    assert not (tmp_path / "missing.sqlite3").exists()
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    ledger.register(KEY, [("a", "ea")])
    ledger.close()
    before = path.read_bytes()
    ro = Ledger.open_read_only(path)
    assert ro is not None
    (line,) = ro.summary("PROD")
    assert line.pending == 1
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.conn.execute("DELETE FROM deliveries")
    ro.close()
    assert path.read_bytes() == before


def test_lock_path_is_per_region_event_and_target(tmp_path: Path) -> None:
    one = Ledger.lock_path(tmp_path, KEY)
    assert one == Ledger.lock_path(tmp_path, LedgerKey("PROD", "evt", "https://hook.example/x"))
    assert one != Ledger.lock_path(tmp_path, LedgerKey("PROD", "evt", "https://hook.example/y"))
    assert one != Ledger.lock_path(tmp_path, LedgerKey("DEV", "evt", "https://hook.example/x"))
    assert one.parent == tmp_path / "sync" / "locks"
