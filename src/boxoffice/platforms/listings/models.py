"""What a listing source returns: listings, skipped (malformed) entries and stats snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

MAX_QUANTITY = 2_147_483_647
"""Tickets in one listing at most: the stores' INTEGER column (a bigger count is malformed)."""


@dataclass(frozen=True)
class Listing:
    """One resale listing as seen at one moment (prices are per ticket, all-in)."""

    listing_id: str
    section: str | None
    row: str | None
    quantity: int
    price_per_ticket: float
    currency: str | None
    total_price: float | None = None

    def total(self) -> float:
        """Price for all tickets of the listing (price × quantity unless given)."""
        if self.total_price is not None:
            return self.total_price
        return round(self.price_per_ticket * self.quantity, 2)


@dataclass(frozen=True)
class StatsSnapshot:
    """Aggregate prices of an event as a stats source (SeatGeek) reports them."""

    lowest: float | None
    average: float | None
    median: float | None
    highest: float | None
    listing_count: int | None


@dataclass
class FetchResult:
    """One fetch of one event: the good listings, what was skipped and why, optional stats."""

    listings: list[Listing] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stats: StatsSnapshot | None = None
    captured_at: datetime | None = None


class ListingSource(Protocol):
    """One interface for every listing source (chosen per event or globally)."""

    name: str

    async def fetch(self, external_id: str) -> FetchResult:
        """Fetch the current listings (or stats) of the event with this external id."""
        ...
