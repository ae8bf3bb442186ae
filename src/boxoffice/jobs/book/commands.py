"""What each `boxoffice book …` command does, from the merged settings; the CLI only prints.

Each function opens the dialect's client, gets a session (cached or fresh, one re-login if the
server says it expired), does its work and closes the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from boxoffice.core.events import Announcer, Event
from boxoffice.core.limits import check_days
from boxoffice.errors import ConfigurationError
from boxoffice.jobs.announce import announcer_for
from boxoffice.jobs.book.keep_trying import KeepTrying, keep_trying, parse_duration
from boxoffice.jobs.book.notices import book_events
from boxoffice.jobs.book.plan import parse_ids
from boxoffice.jobs.book.race import RacePlan, RaceReport, Say, run_race
from boxoffice.jobs.book.runner import cache_for, credentials, open_client, plan_from, slot_from
from boxoffice.jobs.book.session import ensure_session, with_relogin
from boxoffice.platforms.booked.client import BookedClient
from boxoffice.platforms.booked.models import BookedSession, Reservation, day_bounds
from boxoffice.settings import Settings

T = TypeVar("T")


def _run(settings: Settings, job: Callable[[BookedClient], Awaitable[T]]) -> T:
    async def main() -> T:
        client = open_client(settings.book, http=settings.http)
        try:
            return await job(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def race(
    settings: Settings, plan: RacePlan, *, say: Say, keep: KeepTrying | None = None
) -> RaceReport:
    """Run the race for ``plan`` (credentials and session cache from ``settings``); with
    ``keep``, a lost race goes on re-checking for a freed place (:mod:`keep_trying`)."""
    creds, cache = credentials(settings.book), cache_for(settings)

    async def job(client: BookedClient) -> RaceReport:
        report = await run_race(client, plan, creds, cache, say=say)
        if keep is not None:
            report = await keep_trying(client, plan, creds, cache, report, keep, say=say)
        return report

    return _run(settings, job)


def run(
    settings: Settings,
    *,
    at: str | None,
    now: bool,
    dry_run: bool,
    keep_for: str | None,
    retry_interval: str,
    notify: Sequence[str],
    say: Say,
    err: Any,
) -> RaceReport:
    """`boxoffice book run`: the plan from the merged settings and the one-off flags (``at``
    T0, ``now``, ``dry_run``), the race (with ``keep_for`` a lost race keeps re-checking
    every ``retry_interval``, e.g. ``10m`` / ``30s``), then the outcome announced through
    ``[notify]``, ``[book.notify]`` and ``notify`` (channel results printed on ``err``)."""
    plan = plan_from(settings.book, at=at, now_flag=now, dry_run=dry_run)
    keep = (
        KeepTrying(
            parse_duration(keep_for, what="--keep-trying"),
            parse_duration(retry_interval, what="--retry-interval"),
        )
        if keep_for
        else None
    )
    announcer = announcer_for(settings, "book", extra=notify, err=err)
    report = race(settings, plan, say=say, keep=keep)
    kept_trying = keep is not None and report.won is not None and report.won.sent_at is None
    asyncio.run(_announce(announcer, book_events(plan, report, kept_trying=kept_trying)))
    return report


async def _announce(announcer: Announcer, events: list[Event]) -> None:
    """Send the run's outcome (after the race, never during it)."""
    for event in events:
        await announcer.send(event)


@dataclass(frozen=True)
class Availability:
    """Reservations between ``start`` and ``end``; ``free`` = resources of the range not in
    them (None when no range was given)."""

    start: datetime
    end: datetime
    reservations: list[Reservation]
    free: list[int] | None


def availability(settings: Settings) -> Availability:
    """Reservations of the configured slot (or of the whole day without start/end)."""
    b = settings.book
    if b.start and b.end:
        slot = slot_from(b)
        lo, hi = slot.start, slot.end
    else:
        day = slot_from(b.model_copy(update={"start": "00:00", "end": "23:59"})).start.date()
        lo, hi = day_bounds(day, b.timezone)
    creds, cache = credentials(b), cache_for(settings)
    found = _run(
        settings,
        lambda c: with_relogin(c, creds, cache, lambda: c.availability(lo, hi, b.schedule)),
    )
    free = None
    if b.resources:
        busy = {r.resource_id for r in found}
        free = [r for r in parse_ids(b.resources) if r not in busy]
    return Availability(lo, hi, found, free)


def list_mine(settings: Settings, days: int, *, now: datetime | None = None) -> list[Reservation]:
    """Your reservations from ``now`` on, ``days`` days ahead."""
    b = settings.book
    if days < 1:
        raise ConfigurationError(
            f"--days {days}: the range ends before it starts", hint="give --days 1 or more"
        )
    check_days(days, f"--days {days}")
    lo = now or datetime.now(UTC)
    hi = lo + timedelta(days=days)
    creds, cache = credentials(b), cache_for(settings)
    return _run(
        settings,
        lambda c: with_relogin(c, creds, cache, lambda: c.list_mine(lo, hi, b.schedule)),
    )


def cancel(settings: Settings, reference: str) -> None:
    """Cancel reservation ``reference``."""
    creds, cache = credentials(settings.book), cache_for(settings)
    _run(settings, lambda c: with_relogin(c, creds, cache, lambda: c.cancel(reference)))


def refresh(settings: Settings) -> tuple[BookedSession, Path]:
    """A forced fresh login, cached; the session and the cache file."""
    creds, cache = credentials(settings.book), cache_for(settings)
    session, _ = _run(settings, lambda c: ensure_session(c, creds, cache, force=True))
    return session, cache.path
