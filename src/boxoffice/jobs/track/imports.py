"""Import listings from a CSV file into the store (`boxoffice track import-listings`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from boxoffice.errors import NotFoundError
from boxoffice.jobs.track.store import Store, StoredListing
from boxoffice.platforms.listings.csv_import import RowError, read_listings
from boxoffice.settings.track import TrackSettings

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class ListingsImport:
    """What a listings import did: rows stored, bad rows, rows of events not in the store."""

    inserted: int
    unknown_rows: int
    errors: list[RowError] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)


def import_listings(
    store: Store,
    lines: Iterable[str],
    *,
    source: str = "CSV",
    batch_rows: int = BATCH_ROWS,
    now: datetime | None = None,
    clock_skew: timedelta | None = None,
) -> ListingsImport:
    """Store the listings of a CSV (events must already be stored), ``batch_rows`` at a time.

    Bad rows (malformed ids, nonsense prices, listings captured after ``now`` +
    ``clock_skew`` — default: the ``clock_skew_seconds`` setting) are collected with their
    line number and skipped; rows of unknown viagogo ids are counted and skipped; a
    (listing_id, captured_at) already stored is ignored.
    ``source`` names the file in errors.
    """
    errors: list[RowError] = []
    ids: dict[str, int | None] = {}
    batch: list[StoredListing] = []
    unknown = inserted = 0
    if clock_skew is None:
        clock_skew = timedelta(seconds=TrackSettings.model_fields["clock_skew_seconds"].default)
    not_after = (now or datetime.now(UTC)) + clock_skew
    for item in read_listings(lines, errors=errors, source=source, not_after=not_after):
        if item.viagogo_id not in ids:
            try:
                ids[item.viagogo_id] = store.find_event(item.viagogo_id).event_id
            except NotFoundError:
                ids[item.viagogo_id] = None
        event_id = ids[item.viagogo_id]
        if event_id is None:
            unknown += 1
            continue
        lst = item.listing
        batch.append(
            StoredListing(
                lst.listing_id, event_id, lst.section, lst.row, lst.quantity,
                lst.price_per_ticket, lst.total(), lst.currency, "csv", item.captured_at,
            )
        )  # fmt: skip
        if len(batch) >= batch_rows:
            inserted += store.insert_listing_rows(batch)
            batch = []
    inserted += store.insert_listing_rows(batch)
    return ListingsImport(
        inserted=inserted,
        unknown_rows=unknown,
        errors=errors,
        unknown_ids=[k for k, v in ids.items() if v is None],
    )
