"""What the track scheduler tells the user: failing sources or store, recovery, price alerts.

* ``track.source_failing`` (failure) — a listing source failed ``threshold`` snapshots in a
  row (default 3); sent once per streak;
* ``track.source_recovered`` (success) — the first good snapshot after such a streak;
* ``track.store_failing`` / ``track.store_recovered`` — the same for the database;
* ``track.price_alert`` (alert, always sent) — see :mod:`boxoffice.jobs.track.alerts`; goes to
  the configured channels and to the alert's own ``--notify`` URLs.

All sends run in the background (:meth:`Announcer.soon`): a snapshot never waits for a
channel. :meth:`TrackNotices.drain` at the end of a run waits for what is in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from boxoffice.core.events import Announcer, Event
from boxoffice.core.logging import get_logger
from boxoffice.errors import BoxofficeError
from boxoffice.jobs.track.alerts import evaluate
from boxoffice.jobs.track.snapshot import SnapshotOutcome
from boxoffice.jobs.track.store import ClaimedRun, Store
from boxoffice.jobs.track.store.alerts_sql import PriceAlert

log = get_logger(__name__)

DEFAULT_THRESHOLD = 3


class TrackNotices:
    """The scheduler's observer: failure streaks and price alerts, as events."""

    def __init__(
        self,
        store: Store,
        announcer: Announcer,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        alert_announcer: Callable[[list[str]], Announcer] | None = None,
    ) -> None:
        self.store = store
        self.announcer = announcer
        self.threshold = max(1, threshold)
        self.alert_announcer = alert_announcer
        self.source_failures: dict[str, int] = {}
        self.store_failures = 0
        self._extra: list[Announcer] = []
        self.fired: list[Event] = []

    # ------------------------------------------------------------------ sources

    async def snapshot_done(
        self, run: ClaimedRun, outcome: SnapshotOutcome, captured_at: datetime
    ) -> None:
        """After each snapshot: streak bookkeeping, then (when it stored listings) alerts."""
        source = outcome.source
        if outcome.status == "failed":
            count = self.source_failures.get(source, 0) + 1
            self.source_failures[source] = count
            if count == self.threshold:
                self.announcer.soon(
                    Event(
                        "track",
                        "failure",
                        "track.source_failing",
                        f"boxoffice: listing source {source} failing",
                        f"The {source} source failed {count} snapshots in a row; last: "
                        f"{outcome.viagogo_id}: {outcome.error or 'failed'}.",
                        fields={"source": source, "failures": count, "error": outcome.error},
                    )
                )
            return
        previous = self.source_failures.pop(source, 0)
        if previous >= self.threshold:
            self.announcer.soon(
                Event(
                    "track",
                    "success",
                    "track.source_recovered",
                    f"boxoffice: listing source {source} recovered",
                    f"The {source} source works again after {previous} failed snapshots.",
                    fields={"source": source, "failures": previous},
                )
            )
        await self._alerts(run, captured_at)

    async def _alerts(self, run: ClaimedRun, captured_at: datetime) -> None:
        try:
            if self.store.concurrent_writes:
                fired = await asyncio.to_thread(self._evaluate, run, captured_at)
            else:
                fired = self._evaluate(run, captured_at)
        except BoxofficeError as exc:
            log.error("price alerts not evaluated", viagogo_id=run.viagogo_id, error=exc.one_line())
            return
        for alert, event in fired:
            self.fired.append(event)
            self.announcer.soon(event)
            if alert.notify and self.alert_announcer is not None:
                own = self.alert_announcer(alert.notify)
                self._extra.append(own)
                own.soon(event)

    def _evaluate(self, run: ClaimedRun, captured_at: datetime) -> list[tuple[PriceAlert, Event]]:
        event = self.store.find_event(run.viagogo_id)
        return evaluate(self.store, event, captured_at)

    # ------------------------------------------------------------------ the store

    def store_failed(self, error: str) -> None:
        """The database refused or went away."""
        self.store_failures += 1
        if self.store_failures == self.threshold:
            self.announcer.soon(
                Event(
                    "track",
                    "failure",
                    "track.store_failing",
                    "boxoffice: track store unreachable",
                    f"The store {self.store.describe()} failed {self.store_failures} times in a "
                    f"row: {error}. The scheduler keeps retrying.",
                    fields={"failures": self.store_failures, "error": error},
                )
            )

    def store_ok(self) -> None:
        """The database answered."""
        if self.store_failures >= self.threshold:
            self.announcer.soon(
                Event(
                    "track",
                    "success",
                    "track.store_recovered",
                    "boxoffice: track store reachable again",
                    f"The store {self.store.describe()} answers again after "
                    f"{self.store_failures} failures.",
                    fields={"failures": self.store_failures},
                )
            )
        self.store_failures = 0

    async def drain(self, timeout: float | None = 60) -> None:
        """Wait for the notifications still in flight."""
        for announcer in (self.announcer, *self._extra):
            await announcer.drain(timeout)
