"""`sync push`: deliver an event's matching tickets to a webhook, exactly once, resumably.

1. Pull the event's tickets page by page; filter (status, name); spool the matching ones to an
   anonymous temporary file (memory holds only ids).
2. Register every matching ticket in the ledger as pending (already delivered ones stay so).
3. Deliver the pending ones, paced by the core rate limiter: sign the exact bytes, POST, and
   mark *delivered* in the ledger right after a 2xx. A transient failure gives that ticket its
   own retry time on the Svix-like schedule, persisted in the ledger, while the other tickets
   keep flowing (a ``Retry-After`` is honoured and pauses every worker); permanent 4xx and
   exhausted attempts become dead letters; 401/403 dead letters point at ``VIVENU_SECRET``.
4. The run ends when every ticket is delivered, dead, or waits for a retry more than
   ``max_wait`` seconds away; those are counted in the result and the next run resumes them.

A crash loses at most the in-flight delivery's acknowledgement: the resumed run re-sends that
ticket with the same envelope id (per worker in flight), so the receiver can drop the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from boxoffice.core import pacing
from boxoffice.core.logging import get_logger
from boxoffice.core.posting import Poster, as_poster
from boxoffice.errors import AuthenticationError, ConfigurationError
from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger, LedgerKey, epoch_iso
from boxoffice.jobs.sync.progress import write_progress
from boxoffice.jobs.sync.regions import SECRET_ENV, Region, Target
from boxoffice.jobs.sync.schedule import RetryPolicy
from boxoffice.platforms.vivenu.delivery import Outcome as Outcome  # re-exported for observers
from boxoffice.platforms.vivenu.delivery import deliver
from boxoffice.platforms.vivenu.envelope import build_envelope, encode, envelope_id
from boxoffice.platforms.vivenu.signing import signature_headers
from boxoffice.platforms.vivenu.tickets import TicketsClient

log = get_logger(__name__)
SECRET_HINT = (
    f"the receiver rejected the signature: check that {SECRET_ENV} is the webhook's HMAC "
    "secret, then re-queue with --retry-dead"
)
PREVIEW = 5


@dataclass
class PushConfig:
    """Everything one push run needs (resolved from settings and flags)."""

    region: Region
    event: str
    target: Target
    secret: str | None
    ticket_filter: TicketFilter
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    interval: float = 1.8
    burst: int = 1
    concurrency: int = 1
    limit: int | None = None
    dry_run: bool = False
    retry_dead: bool = False
    standard_headers: bool = True
    webhook_id: str = ""
    seller_id: str | None = None
    mode: str = "prod"
    page_size: int = 1000
    abort_after_auth_failures: int = 3
    progress_dir: Path | None = None
    max_wait: float = 600.0
    """Longest wait for a scheduled retry once nothing else is left; later ones end the run."""

    @property
    def key(self) -> LedgerKey:
        """The ledger key of this run."""
        return LedgerKey(self.region.name, self.event, self.target.url)


@dataclass
class PushPlan:
    """The counts printed before sending."""

    total: int = 0
    rejected_status: int = 0
    rejected_name: int = 0
    filtered: int = 0
    already_delivered: int = 0
    dead_skipped: int = 0
    requeued: int = 0
    pending: int = 0
    to_send: int = 0
    total_changed: list[tuple[int, int]] = field(default_factory=list)
    preview: list[dict[str, str]] = field(default_factory=list)


@dataclass
class PushResult:
    """The outcome of a run (``as_json`` is what ``--json`` prints)."""

    plan: PushPlan
    delivered: int = 0
    dead: int = 0
    retries: int = 0
    duration_s: float = 0.0
    dry_run: bool = False
    waiting: int = 0
    """Tickets whose next retry lies beyond the run's horizon (the next run resumes them)."""
    next_retry_at: str | None = None
    last_retry_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        """``{"total", "filtered", "delivered", "skipped_already_delivered", "dead",
        "duration_s"}`` plus a few extras."""
        return {
            "total": self.plan.total,
            "filtered": self.plan.filtered,
            "delivered": self.delivered,
            "skipped_already_delivered": self.plan.already_delivered,
            "dead": self.dead,
            "duration_s": round(self.duration_s, 3),
            "rejected_status": self.plan.rejected_status,
            "rejected_name": self.plan.rejected_name,
            "to_send": self.plan.to_send,
            "retries": self.retries,
            "dry_run": self.dry_run,
            "waiting": self.waiting,
            "next_retry_at": self.next_retry_at,
            "last_retry_at": self.last_retry_at,
        }


class PushObserver:
    """Hooks for progress display; the default does nothing."""

    def pulled(self, pulled: int, total: int) -> None:
        """After each page of the pull."""

    def planned(self, plan: PushPlan) -> None:
        """Once the counts are known, before sending."""

    def settled(self, ticket_id: str, outcome: Outcome, attempts: int, final: str) -> None:
        """After each attempt; ``final`` is ``delivered``, ``retry`` or ``dead``."""

    def waiting(self, reason: str, seconds: float) -> None:
        """Before a retry wait or a pause asked by the receiver."""


class _Spool:
    """Matching tickets on disk (anonymous temp file, gone on close or crash)."""

    def __init__(self, directory: Path | None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.fh: IO[bytes] = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115

    def add(self, ticket: dict[str, Any]) -> None:
        self.fh.write(json.dumps(ticket, ensure_ascii=False).encode() + b"\n")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.fh.flush()
        self.fh.seek(0)
        for line in self.fh:
            yield json.loads(line)

    def close(self) -> None:
        self.fh.close()


@dataclass(order=True)
class _Due:
    """A ticket waiting for its retry time (ordered by ``at``, then arrival)."""

    at: float
    seq: int
    ticket: dict[str, Any] = field(compare=False)
    attempts: int = field(compare=False)
    wall_at: float = field(compare=False)  # the same moment in UNIX seconds (as in the ledger)


class _Deliverer:
    """Paced delivery of the pending tickets of one run, with per-ticket retry times.

    Workers take the next ticket that is due: a retry whose time has come first, else the next
    fresh ticket. A transient failure does not hold the worker: the ticket gets its own retry
    time (persisted in the ledger) and waits in a heap while the other tickets keep flowing.
    Once nothing fresh is left, the run waits for the earliest retry if it is due within
    ``max_wait`` seconds; a retry further away ends the run and is left to the next one.

    Times in the run use ``clock`` (monotonic) plus the waits already slept, so instant test
    sleepers still see time pass; retry times in the ledger use ``wall`` (UNIX seconds).
    """

    def __init__(
        self,
        cfg: PushConfig,
        client: Poster,
        ledger: Ledger,
        observer: PushObserver,
        result: PushResult,
        clock: Callable[[], float],
        sleeper: Callable[[float], Awaitable[None]],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.client = client
        self.ledger = ledger
        self.observer = observer
        self.result = result
        self.clock = clock
        self.wall = wall
        self.sleep = sleeper
        self.limiter = (
            pacing.RateLimiter(1.0 / cfg.interval, burst=cfg.burst, clock=clock, sleeper=sleeper)
            if cfg.interval > 0
            else None
        )
        self.not_before = 0.0
        self.auth_streak = 0
        assert cfg.secret is not None
        self.secret: str = cfg.secret
        self.slept_to = 0.0
        self.due: list[_Due] = []
        self.seq = 0
        self.in_flight = 0
        self.fresh: Iterator[tuple[dict[str, Any], int, float | None]] = iter(())
        self.fresh_done = False
        self.changed = asyncio.Event()

    def now(self) -> float:
        """Run time: the clock, never behind a wait already slept."""
        return max(self.clock(), self.slept_to)

    async def _sleep_until(self, moment: float) -> None:
        wait = moment - self.now()
        if wait > 0:
            await self.sleep(wait)
        self.slept_to = max(self.slept_to, moment)

    async def _gate(self) -> None:
        if self.not_before > self.now():
            await self._sleep_until(self.not_before)
        if self.limiter is not None:
            await self.limiter.acquire()

    def _push_due(
        self, ticket: dict[str, Any], attempts: int, delay: float, wall_at: float
    ) -> None:
        self.seq += 1
        heapq.heappush(self.due, _Due(self.now() + delay, self.seq, ticket, attempts, wall_at))
        self.changed.set()

    async def _next(self) -> tuple[dict[str, Any], int] | None:
        """The next ticket to attempt, waiting for a retry time if needed; None: run over."""
        while True:
            if self.due and self.due[0].at <= self.now():
                item = heapq.heappop(self.due)
                return item.ticket, item.attempts
            if not self.fresh_done:
                try:
                    ticket, attempts, retry_at = next(self.fresh)
                except StopIteration:
                    self.fresh_done = True
                    continue
                wait = 0.0 if retry_at is None else retry_at - self.wall()
                if wait <= 0:
                    return ticket, attempts
                assert retry_at is not None
                self._push_due(ticket, attempts, wait, retry_at)  # resumed, not due yet
                continue
            if self.due and self.due[0].at - self.now() <= self.cfg.max_wait:
                await self._sleep_until(self.due[0].at)
                continue
            if self.in_flight == 0:
                return None  # nothing left, or only retries beyond the horizon
            self.changed.clear()
            await self.changed.wait()  # an attempt in flight may schedule an earlier retry

    async def run(self, source: Iterator[tuple[dict[str, Any], int, float | None]]) -> None:
        self.fresh = source

        async def worker() -> None:
            while True:
                item = await self._next()
                if item is None:
                    return
                self.in_flight += 1
                try:
                    await self.attempt(*item)
                finally:
                    self.in_flight -= 1
                    self.changed.set()

        tasks = [asyncio.create_task(worker()) for _ in range(self.cfg.concurrency)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            exc = task.exception()
            if exc is not None:
                raise exc
        self._report_waiting()

    def _report_waiting(self) -> None:
        if not self.due:
            return
        self.result.waiting = len(self.due)
        self.result.next_retry_at = epoch_iso(min(d.wall_at for d in self.due))
        self.result.last_retry_at = epoch_iso(max(d.wall_at for d in self.due))

    async def attempt(self, ticket: dict[str, Any], attempts: int) -> None:
        """One attempt at one ticket; a transient failure schedules the ticket's retry."""
        cfg, key = self.cfg, self.cfg.key
        ticket_id = str(ticket["_id"])
        envelope = build_envelope(
            ticket,
            target=cfg.target.url,
            webhook_id=cfg.webhook_id,
            seller_id=cfg.seller_id,
            mode=cfg.mode,
        )
        body = encode(envelope)
        if attempts > 0:
            self.result.retries += 1
        await self._gate()
        headers = signature_headers(
            self.secret,
            body,
            msg_id=envelope["id"],
            timestamp=int(time.time()),
            standard=cfg.standard_headers,
        )
        outcome = await deliver(self.client, cfg.target.url, body, headers)
        attempts += 1
        if outcome.ok:
            self.ledger.mark_delivered(key, ticket_id, attempts, outcome.status or 200)
            self.result.delivered += 1
            self.auth_streak = 0
            self.observer.settled(ticket_id, outcome, attempts, "delivered")
            return
        if outcome.kind == "auth":
            error = f"{outcome.error} — {SECRET_HINT}"
            self.ledger.mark_failed(key, ticket_id, attempts, error, outcome.status, dead=True)
            self.result.dead += 1
            self.auth_streak += 1
            self.observer.settled(ticket_id, outcome, attempts, "dead")
            if self.auth_streak >= cfg.abort_after_auth_failures:
                raise AuthenticationError(
                    f"the receiver refused {self.auth_streak} deliveries in a row "
                    f"(HTTP {outcome.status}); stopped",
                    hint=f"check {SECRET_ENV} is the webhook's HMAC secret, then run the "
                    "same command with --retry-dead",
                )
            return
        self.auth_streak = 0
        if outcome.kind == "permanent" or cfg.policy.exhausted(attempts):
            self.ledger.mark_failed(
                key, ticket_id, attempts, outcome.error, outcome.status, dead=True
            )
            self.result.dead += 1
            self.observer.settled(ticket_id, outcome, attempts, "dead")
            return
        delay = cfg.policy.delay_before(attempts + 1, outcome.retry_after)
        retry_at = self.wall() + delay
        self.ledger.mark_failed(
            key, ticket_id, attempts, outcome.error, outcome.status, dead=False, retry_at=retry_at
        )
        self.observer.settled(ticket_id, outcome, attempts, "retry")
        if outcome.retry_after is not None or outcome.status == 429:
            # the receiver asked everyone to slow down, not just this ticket
            self.not_before = max(self.not_before, self.now() + delay)
        self.observer.waiting(
            f"{ticket_id}: {outcome.error or 'failed'}; attempt "
            f"{attempts + 1}/{cfg.policy.max_attempts}",
            delay,
        )
        self._push_due(ticket, attempts, delay, retry_at)


async def run_push(
    cfg: PushConfig,
    *,
    tickets: TicketsClient,
    webhook: Poster | httpx.AsyncClient | None,
    ledger: Ledger,
    spool_dir: Path | None = None,
    observer: PushObserver | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleeper: Callable[[float], Awaitable[None]] | None = None,
    wall: Callable[[], float] = time.time,
) -> PushResult:
    """Pull, filter, plan and (unless dry-run) deliver; see the module docstring."""
    if not cfg.dry_run and (cfg.secret is None or webhook is None):
        raise ConfigurationError(
            "no webhook secret to sign with",
            hint=f"set {SECRET_ENV} (the webhook's HMAC key) in the environment or .env",
        )
    if cfg.limit is not None and cfg.limit < 0:
        raise ConfigurationError("--limit must be >= 0")
    if not cfg.max_wait >= 0:  # also refuses NaN
        raise ConfigurationError("--max-wait must be >= 0 seconds")
    obs = observer or PushObserver()
    started = time.perf_counter()
    key = cfg.key
    spool = _Spool(spool_dir)
    try:
        filt = cfg.ticket_filter
        ids: list[str] = []
        async for page in tickets.pages(cfg.event, top=cfg.page_size):
            for ticket in page.rows:
                if "_id" not in ticket:
                    log.warning("sync.ticket_without_id")
                    continue
                if filt.accept(ticket):
                    spool.add(ticket)
                    ids.append(str(ticket["_id"]))
            obs.pulled(filt.counts.total, page.total)
        plan = PushPlan(
            total=filt.counts.total,
            rejected_status=filt.counts.rejected_status,
            rejected_name=filt.counts.rejected_name,
            filtered=filt.counts.to_send,
            total_changed=list(tickets.report.total_changes),
        )
        if cfg.retry_dead and not cfg.dry_run:
            plan.requeued = ledger.requeue_dead(key)
        known = ledger.statuses(key)
        retry_times = ledger.retry_times(key)
        selected: dict[str, int] = {}  # ticket id → attempts so far, for this run
        new: list[str] = []
        for tid in ids:
            status, attempts = known.get(tid, ("new", 0))
            if status == "delivered":
                plan.already_delivered += 1
            elif status == "dead":
                plan.dead_skipped += 1
            else:
                plan.pending += 1
                if cfg.limit is None or len(selected) < cfg.limit:
                    selected[tid] = attempts
                    if status == "new":
                        new.append(tid)
        del ids, known
        retry_times = {tid: at for tid, at in retry_times.items() if tid in selected}
        plan.to_send = len(selected)
        if not cfg.dry_run:
            # only what this run will attempt enters the ledger (a --test run adds one row)
            ledger.register(key, ((tid, envelope_id(cfg.target.url, tid)) for tid in new))

        def pending() -> Iterator[tuple[dict[str, Any], int, float | None]]:
            for ticket in spool:
                tid = str(ticket["_id"])
                attempts = selected.get(tid)
                if attempts is not None:
                    yield ticket, attempts, retry_times.get(tid)

        if cfg.dry_run:
            for ticket, _, _ in pending():
                if len(plan.preview) >= PREVIEW:
                    break
                plan.preview.append(
                    {
                        "ticket_id": str(ticket["_id"]),
                        "envelope_id": envelope_id(cfg.target.url, str(ticket["_id"])),
                        "ticketName": str(ticket.get("ticketName") or ""),
                        "status": str(ticket.get("status") or ""),
                    }
                )
        obs.planned(plan)
        result = PushResult(plan=plan, dry_run=cfg.dry_run)
        if cfg.dry_run or plan.to_send == 0:
            result.duration_s = time.perf_counter() - started
            return result
        assert webhook is not None
        deliverer = _Deliverer(
            cfg, as_poster(webhook), ledger, obs, result, clock, sleeper or pacing.sleep, wall
        )
        try:
            await deliverer.run(pending())
        finally:
            result.duration_s = time.perf_counter() - started
        return result
    finally:
        spool.close()
        if cfg.progress_dir is not None and not cfg.dry_run:
            with contextlib.suppress(Exception):
                write_progress(cfg.progress_dir, cfg.region.name, ledger)
