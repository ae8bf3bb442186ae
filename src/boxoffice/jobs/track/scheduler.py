"""The snapshot scheduler: randomized intervals, persisted next runs, shared by many workers.

* Each event's next run is ``finished + interval × factor`` (factor in [min, max] drawn by the
  uniform/poisson/normal strategy of :func:`boxoffice.core.pacing.jitter`) and is stored, so a
  restart neither doubles nor skips a run; a run missed while stopped runs once on start.
* Due runs are *claimed* in the store with a lease (row locks with ``SKIP LOCKED`` on
  PostgreSQL), so several schedulers — on several machines — never run one event twice.
* A claim names its scheduler (``host:pid:random``). Claims of a scheduler that died on this
  host (kill -9, a crash) are taken back at once instead of waiting for the lease to end;
  claims held by another live scheduler, or one on another host, are logged (who holds what
  until when) and left to their lease.
* With ``refresh``, the events source is re-read every ``refresh_seconds`` (events added or
  untracked meanwhile are followed without a restart; see :func:`events.refresh_events`).
* At most ``concurrency`` snapshots run at once. An unreachable database is one log line and
  a retry after ``db_retry_seconds``, never a crash.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from boxoffice.core import pacing
from boxoffice.core.logging import get_logger
from boxoffice.errors import BoxofficeError, StorageError
from boxoffice.jobs.track.clock import Clock, RealClock
from boxoffice.jobs.track.snapshot import SnapshotOutcome, choose_source, snapshot
from boxoffice.jobs.track.store import ClaimedRun, HeldClaim, Store
from boxoffice.platforms.listings.models import ListingSource
from boxoffice.settings.track import TrackSettings

log = get_logger(__name__)


def _default(name: str) -> Any:
    """The default of a [track] setting (defaults live in the settings, nowhere else)."""
    return TrackSettings.model_fields[name].default


@dataclass(frozen=True)
class ScheduleConfig:
    """How often, how random, how many at once (defaults: those of the [track] settings)."""

    interval_hours: float = _default("interval_hours")
    min_factor: float = _default("min_factor")
    max_factor: float = _default("max_factor")
    strategy: pacing.JitterStrategy = _default("randomization")  # noqa: RUF009 (a str)
    concurrency: int = _default("concurrency")
    lease: timedelta = timedelta(minutes=_default("lease_minutes"))
    db_retry_seconds: float = _default("db_retry_seconds")
    poll_seconds: float = 60.0  # how often to look for due runs when none is known
    retries: int = _default("retries")
    retry_base_seconds: float = _default("retry_base_seconds")
    default_source: str = _default("listing_source")

    @classmethod
    def from_settings(cls, track: TrackSettings, **overrides: object) -> ScheduleConfig:
        """From the [track] settings (CLI flags already merged in)."""
        values: dict[str, object] = {
            "interval_hours": track.interval_hours,
            "min_factor": track.min_factor,
            "max_factor": track.max_factor,
            "strategy": track.randomization,
            "concurrency": track.concurrency,
            "lease": timedelta(minutes=track.lease_minutes),
            "db_retry_seconds": track.db_retry_seconds,
            "retries": track.retries,
            "retry_base_seconds": track.retry_base_seconds,
            "default_source": track.listing_source,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def next_delay(config: ScheduleConfig, rng: random.Random) -> float:
    """Seconds until the next snapshot: interval × a factor in [min_factor, max_factor]."""
    base = config.interval_hours * 3600.0
    lo, hi = config.min_factor, config.max_factor
    if config.strategy == "uniform":
        # pacing's uniform is symmetric around its interval: centre it on the range
        centre = (lo + hi) / 2
        return pacing.jitter(base * centre, "uniform", fraction=(hi - lo) / (hi + lo), rng=rng)
    fraction = min(0.99, max(0.0, (hi - lo) / 4))  # normal: ±2σ spans the range
    return pacing.jitter(
        base, config.strategy, fraction=fraction, min_factor=lo, max_factor=hi, rng=rng
    )


def default_worker_id() -> str:
    """host:pid:random — names the scheduler that holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_process(worker: str) -> tuple[str, int] | None:
    """(host, pid) of a worker id made by :func:`default_worker_id` (None for other names)."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or int(parts[1]) <= 0:
        return None
    return parts[0], int(parts[1])


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return True  # not a pid we can judge: assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    try:  # Linux: a killed process its parent has not reaped yet is a zombie
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def dead_here(worker: str, *, host: str, own_pid: int) -> bool:
    """Whether ``worker`` was a scheduler on ``host`` whose process no longer exists."""
    proc = worker_process(worker)
    if proc is None or proc[0] != host or proc[1] == own_pid:
        return False
    return not process_alive(proc[1])


@dataclass
class SchedulerReport:
    """What a scheduler did while it ran."""

    outcomes: list[SnapshotOutcome] = field(default_factory=list)
    db_failures: int = 0

    @property
    def runs(self) -> int:
        """Snapshots run."""
        return len(self.outcomes)


class SchedulerObserver(Protocol):
    """Hears about each snapshot and each store failure (see jobs/track/notices)."""

    async def snapshot_done(
        self, run: ClaimedRun, outcome: SnapshotOutcome, captured_at: datetime
    ) -> None: ...

    def store_failed(self, error: str) -> None: ...

    def store_ok(self) -> None: ...


class Scheduler:
    """Runs due snapshots until stopped (or until a given time, for tests and the demo)."""

    def __init__(
        self,
        store: Store,
        sources: dict[str, ListingSource],
        config: ScheduleConfig,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        worker: str | None = None,
        refresh: Callable[[datetime], Awaitable[object]] | None = None,
        refresh_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.refresh = refresh if refresh_seconds > 0 else None
        self.refresh_seconds = refresh_seconds
        self._next_refresh: datetime | None = None
        self.sources = sources
        self.config = config
        self.clock = clock or RealClock()
        self.rng = rng or random.Random()
        self.worker = worker or default_worker_id()
        self.report = SchedulerReport()
        self._inflight: set[asyncio.Task[None]] = set()
        #: told about every snapshot and store failure (notifications, price alerts)
        self.observer: SchedulerObserver | None = None
        self.host = socket.gethostname()
        self._next_claims_check: datetime | None = None
        self._held_logged: frozenset[tuple[str, int, datetime]] = frozenset()

    def take_back_dead_claims(self, now: datetime) -> int:
        """Release the claims of schedulers that died on this host; log the others' claims.

        Returns how many claims were taken back (their runs are due again at once).
        """
        held = [c for c in self.store.held_claims(now=now) if c.worker != self.worker]
        dead: dict[str, list[HeldClaim]] = {}
        alive: dict[str, list[HeldClaim]] = {}
        own_pid = os.getpid()
        for claim in held:
            side = dead if dead_here(claim.worker, host=self.host, own_pid=own_pid) else alive
            side.setdefault(claim.worker, []).append(claim)
        taken = 0
        for worker, claims in dead.items():
            released = self.store.release_claims(worker, [c.event_id for c in claims])
            taken += released
            log.warning(
                "claims of a dead scheduler taken back",
                worker=worker,
                events=",".join(c.viagogo_id for c in claims),
                released=released,
            )
        shown = frozenset((c.worker, c.event_id, c.until) for cs in alive.values() for c in cs)
        if shown != self._held_logged:
            for worker, claims in alive.items():
                proc = worker_process(worker)
                # another live scheduler on this machine is worth a word on the console; on
                # other machines it is how several schedulers share the work
                here = proc is not None and proc[0] == self.host
                (log.warning if here else log.info)(
                    "runs held by another scheduler",
                    worker=worker,
                    events=",".join(c.viagogo_id for c in claims),
                    until=max(c.until for c in claims).isoformat(),
                )
        self._held_logged = shown
        return taken

    async def _refresh_events(self, now: datetime) -> bool:
        """Re-read the events source when due (``refresh`` every ``refresh_seconds``); True
        when it ran. A failing source is one log line: the scheduler goes on."""
        if self.refresh is None:
            return False
        if self._next_refresh is None:
            self._next_refresh = now + timedelta(seconds=self.refresh_seconds)
        if now < self._next_refresh:
            return False
        self._next_refresh = now + timedelta(seconds=self.refresh_seconds)
        try:
            await self.refresh(now)
        except StorageError:
            raise
        except BoxofficeError as exc:
            log.error(
                "events source failed, stored events kept",
                error=exc.one_line(),
                retry_in_s=self.refresh_seconds,
            )
        return True

    def _check_claims(self, now: datetime) -> int:
        """:meth:`take_back_dead_claims` at start, then at most once per ``poll_seconds``."""
        if self._next_claims_check is not None and now < self._next_claims_check:
            return 0
        self._next_claims_check = now + timedelta(seconds=self.config.poll_seconds)
        return self.take_back_dead_claims(now)

    async def _run_one(self, run: ClaimedRun) -> None:
        captured = self.clock.now()
        try:
            source = choose_source(self.sources, run.source, self.config.default_source)
            outcome = await snapshot(
                self.store,
                event_id=run.event_id,
                viagogo_id=run.viagogo_id,
                source=source,
                captured_at=captured,
                retries=self.config.retries,
                retry_base=self.config.retry_base_seconds,
            )
        except StorageError:
            raise
        except BoxofficeError as exc:
            log.error("snapshot not run", viagogo_id=run.viagogo_id, error=exc.one_line())
            outcome = SnapshotOutcome(
                run.event_id, run.viagogo_id, run.source or "?", "failed", 0, 0, 0.0,
                exc.one_line(), exc.exit_code,
            )  # fmt: skip
        finished = self.clock.now()
        next_run = finished + timedelta(seconds=next_delay(self.config, self.rng))
        self.store.complete_run(
            run,
            finished_at=finished,
            next_run_at=next_run,
            status=outcome.status,
            listings=outcome.listings,
            duration_s=outcome.duration_s,
            worker=self.worker,
        )
        self.report.outcomes.append(outcome)
        if self.observer is not None:
            await self.observer.snapshot_done(run, outcome, captured)

    def _spawn(self, run: ClaimedRun) -> None:
        task = asyncio.create_task(self._guarded(run))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _guarded(self, run: ClaimedRun) -> None:
        try:
            await self._run_one(run)
        except StorageError as exc:
            # the claim expires with its lease; the run is retried then
            self.report.db_failures += 1
            if self.observer is not None:
                self.observer.store_failed(exc.one_line())
            log.error(
                "database unavailable, run will be retried",
                viagogo_id=run.viagogo_id,
                error=exc.one_line(),
            )
        except Exception as exc:  # a bug must not kill the scheduler; the lease retries it
            log.exception("snapshot crashed", viagogo_id=run.viagogo_id, error=repr(exc))

    async def _wait(self, seconds: float, stop: asyncio.Event | None = None) -> None:
        """Sleep, but wake early when a running snapshot frees a slot or ``stop`` is set."""
        waiters: set[asyncio.Future[Any]] = set()
        if len(self._inflight) >= self.config.concurrency:
            waiters.update(self._inflight)  # a free slot is the next thing worth waking for
        else:
            waiters.add(asyncio.ensure_future(self.clock.sleep(seconds)))
            waiters.update(self._inflight)
        stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
        if stopper is not None:
            waiters.add(stopper)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            if waiter not in self._inflight and not waiter.done():
                waiter.cancel()

    async def run(
        self, *, stop: asyncio.Event | None = None, until: datetime | None = None
    ) -> SchedulerReport:
        """Schedule until ``stop`` is set or the clock passes ``until`` (then drain)."""
        log.info(
            "scheduler started",
            worker=self.worker,
            interval_h=self.config.interval_hours,
            factors=f"{self.config.min_factor}-{self.config.max_factor}",
            strategy=self.config.strategy,
            concurrency=self.config.concurrency,
        )
        try:
            while not (stop is not None and stop.is_set()):
                now = self.clock.now()
                if until is not None and now >= until:
                    break
                try:
                    await self._refresh_events(now)
                    self.store.ensure_schedule(now=now)
                    self._check_claims(now)
                    free = self.config.concurrency - len(self._inflight)
                    claimed = self.store.claim_due(
                        now=now, limit=free, lease=self.config.lease, worker=self.worker
                    )
                    for run in claimed:
                        self._spawn(run)
                    due = self.store.next_due()
                    if self.observer is not None:
                        self.observer.store_ok()
                except StorageError as exc:
                    self.report.db_failures += 1
                    if self.observer is not None:
                        self.observer.store_failed(exc.one_line())
                    log.error(
                        "database unavailable, retrying",
                        error=exc.one_line(),
                        retry_in_s=self.config.db_retry_seconds,
                    )
                    await self._wait(self.config.db_retry_seconds, stop)
                    continue
                if claimed and len(self._inflight) < self.config.concurrency:
                    await pacing.sleep(0)
                    continue  # more may be due right now
                wait = self.config.poll_seconds
                if due is not None:
                    wait = min(wait, max(0.0, (due - self.clock.now()).total_seconds()))
                if self._next_refresh is not None and self.refresh is not None:
                    left = (self._next_refresh - self.clock.now()).total_seconds()
                    wait = min(wait, max(0.0, left))
                if until is not None:
                    wait = min(wait, max(0.0, (until - self.clock.now()).total_seconds()))
                await self._wait(max(wait, 0.001), stop)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
        return self.report
