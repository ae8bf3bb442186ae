"""`track start-scheduler` and `track run`: wait for the store, import the events first if
asked, then snapshot on schedule until SIGINT/SIGTERM.

The caller hands in how to tell the user what happens (a :class:`ServeReporter`) and how to
build a notifier for a list of extra URLs; everything else — store, HTTP client, listing
sources, events refresh, notices and alerts, heartbeat — is built here from the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from boxoffice.core.heartbeat import guarded
from boxoffice.jobs.track import events, manage, runtime
from boxoffice.jobs.track.notices import TrackNotices
from boxoffice.jobs.track.scheduler import ScheduleConfig, Scheduler

if TYPE_CHECKING:
    from boxoffice.core.events import Announcer
    from boxoffice.core.heartbeat import Heartbeat
    from boxoffice.jobs.track.store import Store
    from boxoffice.platforms.sheets.rows import ParsedEvents
    from boxoffice.settings import Settings

#: A notifier that sends to the configured channels and to these extra URLs.
AnnouncerFactory = Callable[[list[str]], "Announcer"]


class ServeReporter(Protocol):
    """What a scheduler run tells its user, in order."""

    def store_down(self, error: str, retry_in: float) -> None:
        """The store could not be opened (one redacted line); another try in ``retry_in`` s."""

    def imported(self, result: events.ImportResult) -> None:
        """``run`` imported the events before scheduling."""

    def scheduling(self, config: ScheduleConfig, store: str) -> None:
        """The schedule it keeps, and the store it writes to."""

    def events_refresh(self, source: str, every: str | None) -> None:
        """An events source is configured: re-read ``every`` (None: never)."""

    def stopped(self, runs: int) -> None:
        """It stopped (a signal) after ``runs`` snapshots."""


def serve(
    settings: Settings,
    reporter: ServeReporter,
    *,
    import_events: bool,
    announcer: AnnouncerFactory,
    notify_urls: Sequence[str] = (),
    heartbeat: Heartbeat | None = None,
) -> int:
    """Wait for the store, import the events first if asked, then schedule until stopped;
    the number of snapshots taken."""
    with contextlib.closing(runtime.open_when_up(settings, reporter.store_down)) as store:
        if import_events:
            reporter.imported(manage.import_from_source(settings, store))
        return run_scheduler(
            settings, store, reporter, announcer=announcer, notify_urls=notify_urls,
            heartbeat=heartbeat,
        )  # fmt: skip


def run_scheduler(
    settings: Settings,
    store: Store,
    reporter: ServeReporter,
    *,
    announcer: AnnouncerFactory,
    notify_urls: Sequence[str] = (),
    heartbeat: Heartbeat | None = None,
) -> int:
    """Snapshot the store's tracked events on schedule until SIGINT/SIGTERM.

    Either signal is a clean stop; after SIGINT (Ctrl-C) :class:`KeyboardInterrupt` is raised
    once it is done, so the entry point says "interrupted" and exits 130 as the table says
    (SIGTERM, systemd's stop, returns normally: exit 0).
    """
    config = ScheduleConfig.from_settings(settings.track)
    reporter.scheduling(config, store.describe())

    track = settings.track
    refresh_hours = track.events_refresh_hours if track.events else 0.0
    source = events.describe_source(track.events)
    if track.events:
        reporter.events_refresh(
            source, events.describe_hours(refresh_hours) if refresh_hours > 0 else None
        )

    stopped_by: list[signal.Signals] = []

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(sig: signal.Signals) -> None:
            stopped_by.append(sig)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal, sig)
        notices = TrackNotices(
            store,
            announcer(list(notify_urls)),
            threshold=settings.track.notify_after_failures,
            alert_announcer=announcer,
        )
        async with runtime.http_client(settings) as client:
            sources = runtime.listing_sources(settings, client)

            async def refresh(now: datetime) -> events.RefreshResult:
                async def read() -> ParsedEvents:
                    return await events.read_events(track.events, track, client)

                return await events.refresh_events(store, read, source=source, now=now)

            scheduler = Scheduler(
                store, sources, config, refresh=refresh, refresh_seconds=refresh_hours * 3600
            )
            scheduler.observer = notices
            report = await guarded(heartbeat, scheduler.run(stop=stop))
            await notices.drain()
        reporter.stopped(report.runs)
        return report.runs

    runs = asyncio.run(main())
    if signal.SIGINT in stopped_by:  # a clean stop, but by Ctrl-C: exit 130 and say so
        raise KeyboardInterrupt
    return runs
