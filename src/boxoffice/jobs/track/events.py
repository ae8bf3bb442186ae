"""Import events from the configured source into the store; find untracked ones."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from boxoffice.core.logging import get_logger
from boxoffice.errors import ConfigurationError
from boxoffice.jobs.track.store import Store, StoredEvent
from boxoffice.jobs.track.store.base import UpsertResult, parse_bucket
from boxoffice.platforms.sheets import rows as sheet_rows
from boxoffice.platforms.sheets import sources
from boxoffice.settings.track import TrackSettings

log = get_logger(__name__)


async def read_events(
    spec_text: str | None,
    settings: TrackSettings,
    client: httpx.AsyncClient,
    *,
    gspread_factory: sources.GspreadFactory = sources.default_gspread_factory,
) -> sheet_rows.ParsedEvents:
    """Read and parse the events source (``--events`` / ``track.events``)."""
    if not spec_text:
        raise ConfigurationError(
            "no events source configured",
            hint="pass --events sheet:SHEET_ID | csv:PATH | URL, or set track.events",
        )
    spec = sources.parse_spec(spec_text)
    if spec.kind == "sheet":
        raw = await sources.read_sheet(
            spec.target,
            credentials_file=settings.credentials_file,
            worksheet=settings.worksheet,
            factory=gspread_factory,
        )
    elif spec.kind == "csv":
        raw = await asyncio.to_thread(sources.read_csv_file, spec.target)
    else:
        raw = await sources.read_csv_url(spec.target, client)
    try:
        tz = ZoneInfo(settings.sheet_timezone)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ConfigurationError(f"unknown sheet_timezone {settings.sheet_timezone!r}") from None
    parsed = sheet_rows.parse_rows(
        raw, source=spec.describe(), date_formats=settings.date_formats, tz=tz
    )
    for error in parsed.errors:
        # the command prints each skipped row once; the log keeps it for -v / --log-json
        log.debug("event row skipped", source=spec.describe(), error=error)
    return parsed


def describe_source(spec_text: str | None) -> str:
    """How messages name the events source (``--events`` / ``track.events``)."""
    if not spec_text:
        return "(none)"
    return sources.parse_spec(spec_text).describe()


@dataclass(frozen=True)
class ImportResult:
    """What ``fetch-events`` did."""

    result: UpsertResult
    tracked: int
    untracked_in_source: int
    errors: list[str]


def import_events(store: Store, parsed: sheet_rows.ParsedEvents, *, now: datetime) -> ImportResult:
    """Insert/update the tracked events of the source (untracked ones are not imported)."""
    result = store.upsert_events(parsed.tracked, now=now)
    return ImportResult(
        result=result,
        tracked=len(parsed.tracked),
        untracked_in_source=len(parsed.events) - len(parsed.tracked),
        errors=list(parsed.errors),
    )


@dataclass(frozen=True)
class CleanupItem:
    """A stored event the source no longer tracks, and why."""

    event: StoredEvent
    reason: str


def untracked_events(store: Store, parsed: sheet_rows.ParsedEvents) -> list[CleanupItem]:
    """Stored tracked events that the source marks untracked or no longer lists.

    When the source had bad rows, events merely absent from it are left alone (their row
    may be one of the bad ones); only explicitly untracked ones are returned.
    """
    by_id = {e.viagogo_id: e for e in parsed.events}
    out: list[CleanupItem] = []
    for event in store.events(tracked_only=True):
        row = by_id.get(event.viagogo_id)
        if row is not None and not row.is_tracked:
            out.append(CleanupItem(event, "marked not tracked in the source"))
        elif row is None and not parsed.errors:
            out.append(CleanupItem(event, "no longer in the source"))
    return out


def already_untracked(store: Store, parsed: sheet_rows.ParsedEvents) -> list[CleanupItem]:
    """Stored events already marked untracked that the source does not track again.

    ``--delete`` removes them too (an earlier ``--no-dry-run`` only marked them).
    """
    by_id = {e.viagogo_id: e for e in parsed.events}
    out: list[CleanupItem] = []
    for event in store.events():
        if event.is_tracked:
            continue
        row = by_id.get(event.viagogo_id)
        if row is None or not row.is_tracked:
            out.append(CleanupItem(event, "already untracked"))
    return out


@dataclass(frozen=True)
class CleanupPlan:
    """What a cleanup would change, and why applying it needs ``--force`` (None: it does not)."""

    items: list[CleanupItem]
    refusal: str | None


def emptiness_guard(
    parsed: sheet_rows.ParsedEvents, source: str, *, tracked: int, going: int
) -> str | None:
    """Why untracking ``going`` of the ``tracked`` stored events on the word of this source
    looks like a broken source rather than the user's wish (None when it looks fine).

    A source that yields no events at all (only a header row, or only bad rows), or one that
    would take every tracked event away, is not obeyed without ``--force``.
    """
    if not parsed.events:
        bad = f", {len(parsed.errors)} bad row(s)" if parsed.errors else ""
        return f"the events source {source} returned no events{bad}"
    if tracked > 0 and going >= tracked:
        return f"every tracked event ({tracked}) would go"
    return None


def cleanup_plan(
    store: Store, parsed: sheet_rows.ParsedEvents, source: str, *, delete: bool
) -> CleanupPlan:
    """The events ``cleanup-untracked-events`` would mark (or, with ``delete``, remove)."""
    items = untracked_events(store, parsed)
    tracked = len(store.events(tracked_only=True))
    refusal = emptiness_guard(parsed, source, tracked=tracked, going=len(items))
    if delete:
        items += already_untracked(store, parsed)
    return CleanupPlan(items, refusal)


def parse_refresh(text: str) -> float:
    """``--events-refresh`` → hours: ``"3h"``, ``"30 minutes"``, ``"2"`` (hours), ``"off"``."""
    value = text.strip().lower()
    if value in ("0", "off", "no", "never", "false"):
        return 0.0
    try:
        hours = float(value)
    except ValueError:
        try:
            return parse_bucket(value).total_seconds() / 3600
        except ConfigurationError:
            raise ConfigurationError(
                f"--events-refresh {text!r} not understood",
                hint='use e.g. "3h", "30 minutes", "2" (hours) or "off"',
            ) from None
    if not math.isfinite(hours) or hours < 0 or hours > 8760:
        raise ConfigurationError(
            f"--events-refresh {text!r} is out of range", hint="use 0 (off) up to 8760 hours"
        )
    return hours


def describe_hours(hours: float) -> str:
    """A refresh interval as people read it: ``3 h``, ``30 min``, ``5 s``."""
    if hours >= 1:
        return f"{hours:g} h"
    if hours * 60 >= 1:
        return f"{hours * 60:g} min"
    return f"{hours * 3600:.3g} s"


@dataclass(frozen=True)
class RefreshResult:
    """What one re-read of the events source did while the scheduler runs."""

    applied: bool
    inserted: int = 0
    updated: int = 0
    untracked: int = 0
    refusal: str | None = None


async def refresh_events(
    store: Store,
    read: Callable[[], Awaitable[sheet_rows.ParsedEvents]],
    *,
    source: str,
    now: datetime,
) -> RefreshResult:
    """Re-read the events source: import new and changed tracked events, stop tracking the
    ones the source no longer tracks — unless the emptiness guard of cleanup trips (a source
    that yields no events or would take every tracked event away): then nothing changes and
    the refusal is reported. Errors reading the source propagate (the caller logs them)."""
    parsed = await read()
    going = untracked_events(store, parsed)
    tracked = len(store.events(tracked_only=True))
    refusal = emptiness_guard(parsed, source, tracked=tracked, going=len(going))
    if refusal is not None:
        log.warning(
            "events source not obeyed: stored events kept",
            source=source,
            reason=refusal,
            hint="fix the source; `boxoffice track cleanup-untracked-events --force` applies it",
        )
        return RefreshResult(applied=False, refusal=refusal)
    result = store.upsert_events(parsed.tracked, now=now)
    untracked = store.mark_untracked([i.event.event_id for i in going], now=now) if going else 0
    if result.inserted or result.updated or untracked:
        log.info(
            "events refreshed",
            source=source,
            new=result.inserted,
            updated=result.updated,
            untracked=untracked,
            events=",".join(i.event.viagogo_id for i in going) or None,
        )
    return RefreshResult(True, result.inserted, result.updated, untracked)
