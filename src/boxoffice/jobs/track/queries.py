"""What the store holds, read-only: `show-events`, `show-listings`, `price-history`,
`section-prices` (rows for tables, JSON and CSV; charts to a file).

Every entry opens the store read-only (a reader never creates or migrates it) and returns the
rows with the time zone they are shown in; files asked for are written before it returns, each
one told to ``written`` as it lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from boxoffice.jobs.track import analytics, charts, runtime

if TYPE_CHECKING:
    from boxoffice.jobs.track.store import SectionStats, StoredEvent, StoredListing
    from boxoffice.settings import Settings

#: Told of each file an entry wrote: what it is ("CSV", "chart") and where.
Written = Callable[[str, Path], None]


def _nothing(what: str, path: Path) -> None:
    return None


@dataclass(frozen=True)
class EventsView:
    """The stored events, and the zone their times are shown in (None: local)."""

    events: list[StoredEvent]
    zone: ZoneInfo | None

    def dicts(self) -> list[dict[str, Any]]:
        """The events as JSON rows (times ISO-8601 UTC)."""
        return [event_dict(e) for e in self.events]


def event_dict(e: StoredEvent) -> dict[str, Any]:
    """One stored event as a JSON row."""
    iso = analytics.iso_utc
    return {
        "event_id": e.event_id,
        "viagogo_id": e.viagogo_id,
        "name": e.name,
        "venue": e.venue,
        "city": e.city,
        "country": e.country,
        "event_date": iso(e.event_date) if e.event_date else None,
        "is_tracked": e.is_tracked,
        "source": e.source,
        "last_listings_fetch": iso(e.last_listings_fetch) if e.last_listings_fetch else None,
        "next_run_at": iso(e.next_run_at) if e.next_run_at else None,
    }


def list_events(settings: Settings, *, tracked_only: bool = False) -> EventsView:
    """``show-events``: the stored events (only the tracked ones if asked)."""
    zone = runtime.zone(settings.track.timezone)
    with runtime.store(settings, read_only=True) as store:
        return EventsView(store.events(tracked_only=tracked_only), zone)


@dataclass(frozen=True)
class LatestListings:
    """An event's latest snapshot, cheapest first."""

    event: StoredEvent
    listings: list[StoredListing]
    zone: ZoneInfo | None

    def dicts(self) -> list[dict[str, Any]]:
        """The listings as JSON rows."""
        return [
            {
                "listing_id": r.listing_id,
                "section": r.section,
                "row": r.row,
                "quantity": r.quantity,
                "price_per_ticket": r.price_per_ticket,
                "total_price": r.total_price,
                "currency": r.currency,
                "provider": r.provider,
                "captured_at": analytics.iso_utc(r.captured_at),
            }
            for r in self.listings
        ]


def latest_listings(settings: Settings, ref: str, *, limit: int) -> LatestListings:
    """``show-listings``: the latest snapshot of the event ``ref`` (id or viagogo id)."""
    zone = runtime.zone(settings.track.timezone)
    with runtime.store(settings, read_only=True) as store:
        found = store.find_event(ref)
        return LatestListings(found, store.listings(found.event_id, limit=limit), zone)


@dataclass(frozen=True)
class HistoryView:
    """An event's price history, its JSON/CSV rows, and the zone it is shown in."""

    history: analytics.History
    rows: list[dict[str, Any]]
    zone: ZoneInfo | None


def price_history(
    settings: Settings,
    ref: str,
    *,
    days: float,
    bucket: str,
    csv_file: Path | None = None,
    plot: Path | None = None,
    written: Written = _nothing,
) -> HistoryView:
    """``price-history``: min/avg/median/max per bucket; also to ``csv_file`` and a chart at
    ``plot`` (PNG or HTML) when given."""
    zone = runtime.zone(settings.track.timezone)
    with runtime.store(settings, read_only=True) as store:
        history = analytics.price_history(store, ref, days=days, bucket=bucket)
    rows = analytics.history_dicts(history.rows)
    if csv_file:
        analytics.write_csv(csv_file, rows, analytics.HISTORY_FIELDS)
        written("CSV", csv_file)
    if plot:
        charts.plot(history, plot, tz=zone)
        written("chart", plot)
    return HistoryView(history, rows, zone)


@dataclass(frozen=True)
class SectionsView:
    """An event's prices per section, and their JSON/CSV rows."""

    event: StoredEvent
    sections: list[SectionStats]
    rows: list[dict[str, Any]]


def section_prices(
    settings: Settings,
    ref: str,
    *,
    days: float,
    csv_file: Path | None = None,
    written: Written = _nothing,
) -> SectionsView:
    """``section-prices``: min/avg/median/max per section; also to ``csv_file`` when given."""
    with runtime.store(settings, read_only=True) as store:
        found, stats = analytics.section_prices(store, ref, days=days)
    rows = analytics.section_dicts(stats)
    if csv_file:
        analytics.write_csv(csv_file, rows, analytics.SECTION_FIELDS)
        written("CSV", csv_file)
    return SectionsView(found, stats, rows)
