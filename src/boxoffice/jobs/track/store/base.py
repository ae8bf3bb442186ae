"""The store interface and the rows it returns; bucket parsing shared by both backends."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from boxoffice.core.limits import check_days
from boxoffice.errors import ConfigurationError
from boxoffice.platforms.listings.models import Listing, StatsSnapshot
from boxoffice.platforms.sheets.rows import EventRow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoredEvent:
    """An event row of the store."""

    event_id: int
    viagogo_id: str
    name: str
    venue: str
    city: str
    country: str
    event_date: datetime | None
    is_tracked: bool
    source: str | None
    created_at: datetime
    updated_at: datetime
    last_listings_fetch: datetime | None
    next_run_at: datetime | None = None


@dataclass(frozen=True)
class StoredListing:
    """A listing row of the store."""

    listing_id: str
    event_id: int
    section: str | None
    row: str | None
    quantity: int
    price_per_ticket: float
    total_price: float | None
    currency: str | None
    provider: str
    captured_at: datetime


@dataclass(frozen=True)
class BucketStats:
    """Prices in one time bucket (or one section): min/avg/median/max, listings, tickets."""

    key: str
    bucket: datetime | None
    min: float
    avg: float
    median: float
    max: float
    count: int
    quantity: int


@dataclass(frozen=True)
class SectionStats:
    """Prices of one section over the window."""

    section: str
    min: float
    avg: float
    median: float
    max: float
    count: int
    quantity: int


@dataclass(frozen=True)
class ClaimedRun:
    """A due snapshot run this scheduler now owns until ``lease_until``."""

    event_id: int
    viagogo_id: str
    source: str | None
    due_at: datetime
    lease_until: datetime


@dataclass(frozen=True)
class HeldClaim:
    """A run some scheduler (``worker``: ``host:pid:random``) has claimed until ``until``."""

    event_id: int
    viagogo_id: str
    worker: str
    until: datetime


UpsertAction = Literal["insert", "update", "unchanged"]


def upsert_action(found: Sequence[Any] | None, values: Sequence[Any]) -> UpsertAction:
    """What an events import does with one source row (the same rule in every backend).

    ``found`` is the stored row of its viagogo id — ``(event_id, name, venue, city, country,
    event_date, source, is_tracked)`` — or None; ``values`` are the six columns from the
    source, in the backend's stored form. A changed or untracked event is updated (and
    tracked again); an identical tracked one is left alone.
    """
    if found is None:
        return "insert"
    if tuple(found[1:7]) != tuple(values) or not found[7]:
        return "update"
    return "unchanged"


@dataclass(frozen=True)
class UpsertResult:
    """What an events import changed."""

    inserted: int
    updated: int
    unchanged: int

    @classmethod
    def count(cls, actions: Iterable[UpsertAction]) -> UpsertResult:
        """The totals of the actions taken, one per source row."""
        done = list(actions)
        return cls(done.count("insert"), done.count("update"), done.count("unchanged"))


_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
    "week": 604800,
}


def parse_bucket(text: str) -> timedelta:
    """``"1 day"``, ``"6 hours"``, ``"30min"``, ``"1h"`` → timedelta (no months: unequal)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)?\s*([a-zA-Z]+?)s?\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise ConfigurationError(
            f"bucket {text!r} not understood",
            hint='use e.g. "1 day", "6 hours", "30 minutes", "1 week"',
        )
    amount = float(match.group(1) or 1)
    seconds = amount * _UNITS[match.group(2).lower()]
    if seconds < 1:
        raise ConfigurationError(f"bucket {text!r} is shorter than a second")
    check_days(seconds / 86400, f"bucket {text!r}")
    return timedelta(seconds=seconds)


def bucket_start(moment: datetime, width: timedelta) -> datetime:
    """Start of the bucket holding ``moment`` (buckets aligned on the Unix epoch, UTC)."""
    seconds = int(width.total_seconds())
    offset = int((moment - EPOCH).total_seconds()) // seconds * seconds
    return EPOCH + timedelta(seconds=offset)


class Store(Protocol):
    """Everything `track` keeps: events, listing snapshots, stats snapshots, the schedule."""

    backend: str
    #: True when several threads may store snapshots at once (PostgreSQL: one connection per
    #: caller); the scheduler then writes from worker threads. SQLite has one writer: False.
    concurrent_writes: bool

    def describe(self) -> str:
        """Where the data is, for messages (never a password)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...

    def schema_version(self) -> int:
        """Current schema version."""
        ...

    def upsert_events(self, rows: Sequence[EventRow], *, now: datetime) -> UpsertResult:
        """Insert new events, update existing ones (by viagogo_id); marks them tracked."""
        ...

    def events(self, *, tracked_only: bool = False) -> list[StoredEvent]:
        """All events (with their next scheduled run), by event id."""
        ...

    def find_event(self, ref: str) -> StoredEvent:
        """The event with this event id or viagogo id (:class:`NotFoundError` otherwise)."""
        ...

    def mark_untracked(self, event_ids: Sequence[int], *, now: datetime) -> int:
        """Stop tracking these events (kept with their listings)."""
        ...

    def delete_events(self, event_ids: Sequence[int]) -> tuple[int, int]:
        """Delete events and their listings; returns (events, listings) deleted."""
        ...

    def insert_listings(
        self,
        event_id: int,
        listings: Iterable[Listing],
        *,
        captured_at: datetime,
        provider: str,
    ) -> int:
        """Store one snapshot; a (listing_id, captured_at) already stored is ignored."""
        ...

    def insert_listing_rows(self, rows: Iterable[StoredListing]) -> int:
        """Bulk insert of listing rows (imports, benchmarks); duplicates ignored."""
        ...

    def insert_stats(
        self, event_id: int, stats: StatsSnapshot, *, captured_at: datetime, provider: str
    ) -> None:
        """Store one stats snapshot (SeatGeek)."""
        ...

    def stats_history(
        self, event_id: int, *, since: datetime
    ) -> list[tuple[datetime, StatsSnapshot]]:
        """Stats snapshots of an event since ``since``, oldest first."""
        ...

    def listings(
        self, event_id: int, *, limit: int = 100, latest_only: bool = True
    ) -> list[StoredListing]:
        """Listings of an event: the latest snapshot (cheapest first) or the newest rows."""
        ...

    def count_listings(self, event_id: int | None = None) -> int:
        """Number of listing rows (of one event or all)."""
        ...

    def price_history(
        self,
        event_id: int,
        *,
        since: datetime,
        bucket: timedelta,
        until: datetime | None = None,
    ) -> list[BucketStats]:
        """Per time bucket from ``since`` to ``until`` (inclusive; None: no end): min/avg/
        median/max price, listings, tickets."""
        ...

    def section_prices(
        self, event_id: int, *, since: datetime, until: datetime | None = None
    ) -> list[SectionStats]:
        """Per section from ``since`` to ``until`` (inclusive; None: no end): the same figures."""
        ...

    def ensure_schedule(self, *, now: datetime) -> int:
        """Give every tracked event without a schedule a run due ``now``; returns how many."""
        ...

    def claim_due(
        self, *, now: datetime, limit: int, lease: timedelta, worker: str
    ) -> list[ClaimedRun]:
        """Claim up to ``limit`` due runs (no other scheduler gets them while leased)."""
        ...

    def next_due(self) -> datetime | None:
        """The earliest next run of a tracked event (None when nothing is scheduled)."""
        ...

    def complete_run(
        self,
        run: ClaimedRun,
        *,
        finished_at: datetime,
        next_run_at: datetime,
        status: str,
        listings: int,
        duration_s: float,
        worker: str,
    ) -> None:
        """Record a finished run, release the claim and schedule the next one."""
        ...

    def run_counts(self) -> dict[int, int]:
        """How many runs were recorded per event id."""
        ...

    def held_claims(self, *, now: datetime) -> list[HeldClaim]:
        """Claims of tracked events whose lease has not ended at ``now``, by event id."""
        ...

    def release_claims(self, worker: str, event_ids: Sequence[int]) -> int:
        """Drop ``worker``'s claims on these events (a dead scheduler's): they are due again.

        Only claims still held by ``worker`` are released; returns how many."""
        ...
