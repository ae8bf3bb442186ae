"""Listings CSV import into the store: batches, bad rows, unknown events."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from boxoffice.jobs.track.imports import import_listings
from boxoffice.jobs.track.store import open_store
from boxoffice.platforms.sheets.rows import EventRow

HEADER = "viagogo_id,listing_id,section,row,quantity,price_per_ticket,currency,captured_at\n"


def test_import_listings_in_batches_counts_bad_rows_and_unknown_events(tmp_path: Path) -> None:
    store = open_store(tmp_path / "i.sqlite3")
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    store.upsert_events(
        [EventRow("151", "Show", "V", "C", "UK", t0 + timedelta(days=9), True)], now=t0
    )
    rows = [f"151,x{i},Floor,1,2,{100 + i},EUR,2026-11-20T10:00:00Z\n" for i in range(5)]
    text = HEADER + "".join(rows) + "151,bad,Floor,1,two,1,EUR,2026-11-20T10:00:00Z\n"
    text += "999,y,Floor,1,2,1,EUR,2026-11-20T10:00:00Z\n" + rows[0]  # unknown event; duplicate
    result = import_listings(store, io.StringIO(text), source="l.csv", batch_rows=2)
    assert result.inserted == 5
    assert [(e.line, "two" in e.reason) for e in result.errors] == [(7, True)]
    assert (result.unknown_rows, result.unknown_ids) == (1, ["999"])
    eid = store.find_event("151").event_id
    assert store.count_listings(eid) == 5
    assert {r.provider for r in store.listings(eid)} == {"csv"}
