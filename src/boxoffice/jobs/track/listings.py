"""Listings into the store now: `fetch-listings` (a snapshot of every tracked event, or one)
and `import-listings` (a CSV file)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from boxoffice.errors import NotFoundError, require_utf8_file
from boxoffice.jobs.track import imports, runtime
from boxoffice.jobs.track.snapshot import SnapshotOutcome, choose_source, snapshot

if TYPE_CHECKING:
    from boxoffice.jobs.track.store import Store, StoredEvent
    from boxoffice.settings import Settings


def fetch_listings(
    settings: Settings, viagogo_id: str | None = None, *, source: str | None = None
) -> list[SnapshotOutcome]:
    """Snapshot every tracked event (or the one ``viagogo_id`` names) right now; ``source``
    forces a listing source over each event's own and the configured default."""
    with runtime.store(settings) as store:
        targets = [store.find_event(viagogo_id)] if viagogo_id else store.events(tracked_only=True)
        if not targets:
            raise NotFoundError(
                "no tracked events", hint="import them with `boxoffice track fetch-events`"
            )
        return asyncio.run(snapshot_all(settings, store, targets, source))


async def snapshot_all(
    settings: Settings, store: Store, targets: list[StoredEvent], forced: str | None
) -> list[SnapshotOutcome]:
    """One snapshot per target event, ``track.concurrency`` at once, over one HTTP client."""
    track = settings.track
    sem = asyncio.Semaphore(track.concurrency)
    async with runtime.http_client(settings) as client:
        sources = runtime.listing_sources(settings, client)

        async def one(event: StoredEvent) -> SnapshotOutcome:
            async with sem:
                src = choose_source(sources, forced or event.source, track.listing_source)
                return await snapshot(
                    store,
                    event_id=event.event_id,
                    viagogo_id=event.viagogo_id,
                    source=src,
                    captured_at=datetime.now(UTC),
                    retries=track.retries,
                    retry_base=track.retry_base_seconds,
                )

        return list(await asyncio.gather(*(one(e) for e in targets)))


def import_listings_file(settings: Settings, file: Path) -> imports.ListingsImport:
    """Import listings from a CSV file (the events must already be stored). The file is read
    through first: one that is not UTF-8 is refused before a row is stored."""
    require_utf8_file(file, "listings CSV", hint="nothing was imported")
    with runtime.store(settings) as store, file.open(encoding="utf-8-sig", newline="") as fh:
        return imports.import_listings(
            store,
            fh,
            source=str(file),
            clock_skew=timedelta(seconds=settings.track.clock_skew_seconds),
        )
