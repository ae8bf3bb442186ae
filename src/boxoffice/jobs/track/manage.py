"""The store and its events: `init-db`, `fetch-events`, `cleanup-untracked-events`.

Each entry takes the settings (flags already merged in), opens what it needs, and returns what
happened for the caller to show; none of them prints.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from boxoffice.errors import ConfigurationError
from boxoffice.jobs.track import events, runtime

if TYPE_CHECKING:
    from boxoffice.jobs.track.store import Store
    from boxoffice.jobs.track.store.timescale import TimescaleStatus
    from boxoffice.platforms.sheets.rows import ParsedEvents
    from boxoffice.settings import Settings


@dataclass(frozen=True)
class StoreReady:
    """The store after ``init-db``: where it is, its schema version, and on PostgreSQL what
    TimescaleDB offers (None on SQLite)."""

    description: str
    version: int
    timescale: TimescaleStatus | None


def init_db(settings: Settings) -> StoreReady:
    """Create or migrate the configured store."""
    with runtime.store(settings) as store:
        return StoreReady(
            description=store.describe(),
            version=store.schema_version(),
            timescale=getattr(store, "timescale", None),
        )


async def read_source(settings: Settings) -> ParsedEvents:
    """Read and parse the configured events source (``--events`` / ``track.events``)."""
    async with runtime.http_client(settings) as client:
        return await events.read_events(settings.track.events, settings.track, client)


def import_from_source(settings: Settings, store: Store) -> events.ImportResult:
    """Import the tracked events of the source into an open store."""
    parsed = asyncio.run(read_source(settings))
    return events.import_events(store, parsed, now=datetime.now(UTC))


def fetch_events(settings: Settings) -> events.ImportResult:
    """``fetch-events``: import the tracked events of the source; update the stored ones."""
    with runtime.store(settings) as store:
        return import_from_source(settings, store)


@dataclass(frozen=True)
class CleanupRow:
    """One event a cleanup would change, with the listing rows it holds."""

    item: events.CleanupItem
    listings: int


@dataclass(frozen=True)
class CleanupReport:
    """What ``cleanup-untracked-events`` found and did.

    ``refused``: the plan needs ``--force`` (``plan.refusal`` says why) and nothing was
    changed; ``deleted`` / ``marked``: what applying it changed (None when not applied).
    """

    rows: list[CleanupRow]
    plan: events.CleanupPlan
    delete: bool
    dry_run: bool
    refused: bool = False
    deleted: tuple[int, int] | None = None  # events, listing rows
    marked: int | None = None

    @property
    def verb(self) -> str:
        return "delete" if self.delete else "mark untracked"

    def refusal_error(self) -> ConfigurationError:
        """The one-line error of a refused run."""
        return ConfigurationError(
            f"refusing to {self.verb} {len(self.rows)} event(s): {self.plan.refusal}",
            hint="check the events source (an empty sheet?); pass --force if this is really meant",
        )


def cleanup_untracked(
    settings: Settings, *, delete: bool, dry_run: bool, force: bool
) -> CleanupReport:
    """Find stored events the source no longer tracks; unless ``dry_run``, mark them untracked
    (or ``delete`` them). A plan that looks like a broken source is not applied without
    ``force`` (the report says ``refused``)."""
    with runtime.store(settings) as store:
        parsed = asyncio.run(read_source(settings))
        plan = events.cleanup_plan(
            store, parsed, events.describe_source(settings.track.events), delete=delete
        )
        rows = [CleanupRow(i, store.count_listings(i.event.event_id)) for i in plan.items]
        report = CleanupReport(rows, plan, delete=delete, dry_run=dry_run)
        if not rows or dry_run:
            return report
        if plan.refusal is not None and not force:
            return CleanupReport(rows, plan, delete=delete, dry_run=dry_run, refused=True)
        ids = [i.event.event_id for i in plan.items]
        if delete:
            deleted = store.delete_events(ids)
            return CleanupReport(rows, plan, delete=delete, dry_run=dry_run, deleted=deleted)
        marked = store.mark_untracked(ids, now=datetime.now(UTC))
        return CleanupReport(rows, plan, delete=delete, dry_run=dry_run, marked=marked)
