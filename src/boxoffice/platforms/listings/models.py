"""What a listing source returns: listings, skipped (malformed) entries and stats snapshots."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

MAX_QUANTITY = 2_147_483_647
"""Tickets in one listing at most: the stores' INTEGER column (a bigger count is malformed)."""

MAX_PRICE = 10_000_000_000.0
"""Price of one ticket at most, in any currency: above it a price is nonsense (1e308, a
listing id in the price field), never a real ticket — ten billion still covers a €100k seat
in the currencies with the smallest units (dong, rupiah)."""

_EVENT_ID = re.compile(r"[1-9][0-9]{0,17}")
MAX_EVENT_ID_DIGITS = 18
"""An event id (viagogo's, SeatGeek's) is a positive whole number of at most this many digits."""


def check_price(value: float, what: str = "price") -> float:
    """``value`` if it is a plausible ticket price (finite, 0 ≤ price ≤ :data:`MAX_PRICE`);
    ``ValueError`` saying what is wrong otherwise."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} {value!r} is not a valid price")
    if value > MAX_PRICE:
        raise ValueError(f"{what} {value:g} is absurd (above {MAX_PRICE:g})")
    return value


def check_event_id(text: str) -> str:
    """``text`` stripped if it is an event id (a positive whole number, at most
    :data:`MAX_EVENT_ID_DIGITS` digits, no sign or leading zero); ``ValueError`` otherwise."""
    value = text.strip()
    if not _EVENT_ID.fullmatch(value):
        if value.isdigit() and len(value) > MAX_EVENT_ID_DIGITS:
            raise ValueError(
                f"event id {value!r} has {len(value)} digits (at most {MAX_EVENT_ID_DIGITS})"
            )
        raise ValueError(f"event id {value!r} is not a positive whole number")
    return value


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
