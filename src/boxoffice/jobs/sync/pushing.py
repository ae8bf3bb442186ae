"""`sync push`: one run, from the settings to the outcome — the run lock, the ledger, the
Vivenu and webhook clients, the heartbeat, and the notices of how it ended.

The caller hands in a :class:`PushReporter` (what the user sees while it runs), the notifier
and the heartbeat; the run's result (or a :class:`PushInterrupted`, or the error that stopped
it) comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from boxoffice.core.heartbeat import guarded
from boxoffice.errors import BoxofficeError
from boxoffice.jobs.sync.notices import blocked_event, interrupted_event, sync_events
from boxoffice.jobs.sync.push import PushConfig, PushObserver, PushResult, run_push
from boxoffice.jobs.sync.runner import (
    PushRequest,
    build_push_config,
    ledger_for,
    push_lock,
    run_cancellable,
    spool_dir,
    tickets_client,
    vivenu_http,
    webhook_http,
)

if TYPE_CHECKING:
    from boxoffice.core.events import Announcer, Event
    from boxoffice.core.heartbeat import Heartbeat
    from boxoffice.settings import Settings


class PushReporter(PushObserver):
    """The deliveries' progress (:class:`PushObserver`) and the lines around them; the
    default says nothing."""

    def starting(self, cfg: PushConfig) -> None:
        """Region, event and target are resolved; the lock and the pull are next."""

    def lock_busy(self, holder: str) -> None:
        """Another run holds the lock (``holder`` describes it); this one waits (``wait``)."""

    def retrying(self, reason: str, wait: float) -> None:
        """Vivenu answered with a transient failure; the next try in ``wait`` s."""

    def stop(self) -> None:
        """The deliveries are over (or were interrupted)."""


class PushInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM ended the run; ``counts`` are the ledger's (``delivered``,
    ``pending``, …), None when it came while waiting for another run (nothing was sent)."""

    def __init__(self, counts: Mapping[str, int] | None) -> None:
        super().__init__()
        self.counts = counts


@dataclass(frozen=True)
class PushRun:
    """A finished run: what it was asked to do, and what it did."""

    cfg: PushConfig
    result: PushResult


def announce(announcer: Announcer | None, events: list[Event]) -> None:
    """Send the run's outcome (the deliveries are over by then)."""

    async def send() -> None:
        assert announcer is not None
        for event in events:
            await announcer.send(event)

    if announcer and events:
        asyncio.run(send())


def push(
    settings: Settings,
    env: Mapping[str, str],
    request: PushRequest,
    reporter: PushReporter,
    *,
    wait: bool = False,
    announcer: Announcer | None = None,
    heartbeat: Heartbeat | None = None,
) -> PushRun:
    """Send every matching ticket as a signed ticket.created event, exactly once: one run at a
    time per (event, target) — ``wait`` for another to finish instead of failing (BusyError);
    a dry run takes no lock and pings no heartbeat."""
    cfg = build_push_config(settings, env, request)
    reporter.starting(cfg)
    lock = push_lock(settings, cfg)
    if not cfg.dry_run:  # a dry run sends nothing: it needs no lock
        try:
            lock.acquire(wait=wait, on_wait=lambda holder: reporter.lock_busy(holder.describe()))
        except KeyboardInterrupt:
            raise PushInterrupted(None) from None
    try:
        ledger = ledger_for(settings)
    except BaseException:
        lock.release()
        raise
    hb = None if cfg.dry_run else heartbeat

    async def go() -> PushResult:
        return await guarded(hb, push_once())

    async def push_once() -> PushResult:
        async with vivenu_http(settings) as vhttp, webhook_http(settings) as whttp:
            client = tickets_client(vhttp, cfg.region, on_retry=reporter.retrying)
            try:
                return await run_push(
                    cfg,
                    tickets=client,
                    webhook=whttp,
                    ledger=ledger,
                    spool_dir=spool_dir(settings),
                    observer=reporter,
                )
            finally:
                reporter.stop()

    try:
        result: PushResult = run_cancellable(go)
    except (KeyboardInterrupt, asyncio.CancelledError):
        counts = ledger.counts(cfg.key)
        announce(announcer, [interrupted_event(cfg, counts["delivered"], counts["pending"])])
        raise PushInterrupted(counts) from None
    except BoxofficeError as exc:
        announce(announcer, [blocked_event(cfg, exc.one_line())])
        ledger.close()
        lock.release()
        raise
    try:
        announce(announcer, sync_events(cfg, result, ledger))
    finally:
        ledger.close()
        lock.release()
    return PushRun(cfg, result)
