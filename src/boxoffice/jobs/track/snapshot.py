"""One snapshot of one event: fetch from its listing source with retries, store the result."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from boxoffice.core import pacing
from boxoffice.core.logging import get_logger
from boxoffice.errors import (
    BoxofficeError,
    ConfigurationError,
    NetworkError,
    RateLimitedError,
)
from boxoffice.jobs.track.store import Store
from boxoffice.platforms.listings.models import FetchResult, ListingSource

log = get_logger(__name__)

RETRYABLE = (NetworkError, RateLimitedError)


@dataclass(frozen=True)
class SnapshotOutcome:
    """What one snapshot did."""

    event_id: int
    viagogo_id: str
    source: str
    status: str  # "ok" | "failed"
    listings: int
    skipped: int
    duration_s: float
    error: str | None = None
    exit_code: int | None = None  # a failure's code from the exit-code table (None: ok)


def failed_exit_code(outcomes: list[SnapshotOutcome]) -> int | None:
    """The exit code of a snapshot round in which nothing worked: the first failure's own
    (a refused connection 7, a refused API key 4, 429 5, …); None when any snapshot was ok."""
    if not outcomes or any(o.status == "ok" for o in outcomes):
        return None
    return next((o.exit_code for o in outcomes if o.exit_code is not None), 1)


def choose_source(
    sources: dict[str, ListingSource], event_source: str | None, default: str
) -> ListingSource:
    """The event's own source if it names one, else the global default."""
    name = event_source or default
    source = sources.get(name)
    if source is None:
        raise ConfigurationError(
            f"listing source {name!r} is not configured",
            hint="set track.proxy_url (BOXOFFICE_TRACK_PROXY_URL) for the proxy source",
        )
    return source


async def fetch_with_retries(
    source: ListingSource,
    external_id: str,
    *,
    retries: int,
    backoff: pacing.Backoff,
) -> FetchResult:
    """Fetch, retrying network errors, 5xx and 429/409 (Retry-After honoured) with backoff."""
    attempt = 0
    while True:
        try:
            result = await source.fetch(external_id)
        except RETRYABLE as exc:
            attempt += 1
            if attempt > retries:
                raise
            retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
            delay = backoff.next(retry_after)
            log.warning(
                "fetch failed, retrying",
                source=source.name,
                viagogo_id=external_id,
                attempt=attempt,
                wait_s=round(delay, 1),
                error=exc.one_line(),
            )
            await pacing.sleep(delay)
            continue
        backoff.reset()
        return result


def save(
    store: Store, event_id: int, result: FetchResult, captured_at: datetime, provider: str
) -> int:
    """Store what one fetch returned; the number of listing rows stored."""
    stored = 0
    if result.listings:
        stored = store.insert_listings(
            event_id, result.listings, captured_at=captured_at, provider=provider
        )
    if result.stats is not None:
        store.insert_stats(event_id, result.stats, captured_at=captured_at, provider=provider)
    return stored


async def snapshot(
    store: Store,
    *,
    event_id: int,
    viagogo_id: str,
    source: ListingSource,
    captured_at: datetime,
    retries: int = 3,
    retry_base: float = 5.0,
) -> SnapshotOutcome:
    """Fetch one event's listings and store them; failures become a 'failed' outcome.

    Malformed listings are skipped, counted and logged; they never fail the snapshot. A
    store failure (:class:`StorageError`) propagates: the scheduler retries later.
    """
    started = time.perf_counter()
    try:
        result = await fetch_with_retries(
            source,
            viagogo_id,
            retries=retries,
            backoff=pacing.Backoff(base=retry_base, cap=max(retry_base, 300.0)),
        )
    except BoxofficeError as exc:
        duration = time.perf_counter() - started
        log.error(
            "snapshot failed",
            viagogo_id=viagogo_id,
            source=source.name,
            error=exc.one_line(),
            duration_s=round(duration, 3),
        )
        return SnapshotOutcome(
            event_id, viagogo_id, source.name, "failed", 0, 0, duration, exc.one_line(),
            exc.exit_code,
        )  # fmt: skip
    if result.skipped:
        log.warning(
            "malformed listings skipped",
            viagogo_id=viagogo_id,
            source=source.name,
            skipped=len(result.skipped),
            first=result.skipped[0],
        )
    if store.concurrent_writes:  # off the event loop: other snapshots go on meanwhile
        stored = await asyncio.to_thread(save, store, event_id, result, captured_at, source.name)
    else:
        stored = save(store, event_id, result, captured_at, source.name)
    duration = time.perf_counter() - started
    count = len(result.listings) if result.stats is None else (result.stats.listing_count or 0)
    log.info(
        "snapshot",
        viagogo_id=viagogo_id,
        source=source.name,
        listings=count,
        stored=stored,
        skipped=len(result.skipped),
        duration_s=round(duration, 3),
    )
    return SnapshotOutcome(
        event_id, viagogo_id, source.name, "ok", count, len(result.skipped), duration
    )
