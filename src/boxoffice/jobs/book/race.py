"""The race: prepare before T0, fire in preference order at the server's T0, keep the best win.

Timeline with a window instant T0 (server clock):

1. at T0 − ``lead`` (local clock, rough): log in (cached session if still valid), fetch the
   slot's availability; candidates = range minus taken resources, preferred first;
2. estimate the server's clock offset from its ``Date`` header (core clock), bounded in time:
   one coarse probe first pins the offset to about a second, which gives the earliest local
   instant the fire can be due; the fine estimate must end ``warm_margin`` before that
   instant (so the connections can still be warmed). With too little time left the fine
   estimate is skipped or shortened; a coarse bracket from it then trusts the local clock
   where the bracket allows it, else its late end (never early);
3. at T0 − ``warm_ahead`` (server clock): open as many connections as will be used at once —
   whenever the fire instant is still ahead, however little time is left;
4. at T0 + ``margin`` (server clock; the margin absorbs the offset estimate's error, since an
   attempt arriving before the window opens is refused): send the create attempts (built
   and encoded beforehand) in preference order — each starts writing once the previous one
   is on the wire, so they reach the server in that order — at most ``concurrency`` in
   flight; once one attempt won, attempts not yet sent are skipped (less preferred);
   A 429 from the server stops the burst: attempts not yet sent are skipped.
   With ``first_alone`` the most preferred attempt goes out alone and the rest only if it
   did not win; with ``wave`` > 0 the rest go in waves of that size, each only after the
   previous one won nothing — so at most ``wave - 1`` surplus bookings are ever held. (PHP
   serializes one session's requests in no fixed order: attempts in flight together do not
   reach the booking code in preference order.)
5. a session that expired mid-burst gets one fresh login and the expired attempts are retried
   once; if several attempts won (a server without locking), keep the most preferred and
   cancel the others. An attempt stored as *pending* (the resource needs approval) is not a
   win: it is kept only when nothing was won, and the run reports it as pending.
6. a server without locking can give the same resource to two users at once: the slot is read
   again after the burst; a win another user also holds is *contested* — an uncontested win
   is kept when there is one (the contested ones are released), and it is reported either way.

Without T0 the attempts fire right after step 1 (and the connections are warmed first).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from boxoffice.core import clock as core_clock
from boxoffice.core.logging import get_logger
from boxoffice.errors import BoxofficeError, ProtocolError, RateLimitedError
from boxoffice.jobs.book.plan import candidates
from boxoffice.jobs.book.session import SessionCache, ensure_session
from boxoffice.platforms.booked.client import BookedClient, Credentials
from boxoffice.platforms.booked.models import (
    BookingRequest,
    CreateResult,
    Outcome,
    Reservation,
    Slot,
)

log = get_logger(__name__)

SKIPPED = "skipped"
SEND_GRACE = 0.005  # s: the next attempt starts by then even if no "written" signal came
#: Below this many seconds of budget the fine clock estimate is not attempted.
MIN_ESTIMATE = 0.3
#: The estimate gets this much less than its budget (a probe in flight may finish late); the
#: budget itself is a hard limit.
ESTIMATE_SLACK = 0.15
#: The time an unhurried estimate may take (``estimate_offset``'s default, one pass).
FULL_ESTIMATE = 2.5
#: From a cut-short estimate, a wider bracket (± s) is "coarse": the local clock is trusted
#: where the bracket allows it, else the bracket's late end (a fine scan gives a few ms).
COARSE_UNCERTAINTY = 0.02

Estimator = Callable[[float], Awaitable[core_clock.ClockEstimate]]
"""Estimate the server's clock within ``max_duration`` seconds (0: a single coarse probe)."""


@dataclass(frozen=True)
class RacePlan:
    """What to book and how to race for it."""

    slot: Slot
    resources: list[int]
    prefer: list[int] = field(default_factory=list)
    schedule_id: int = 1
    owner_id: str | None = None
    attributes: dict[int, str] = field(default_factory=dict)
    title: str = ""
    description: str = ""
    timezone: str = "UTC"
    at: datetime | None = None
    concurrency: int = 8
    lead: float = 60.0
    warm_ahead: float = 2.0
    warm_margin: float = 0.3
    margin: float = 0.002
    dry_run: bool = False
    #: the burst's shape; the CLI takes book.first_alone / book.wave from the settings
    first_alone: bool = False
    wave: int = 0
    recheck_delay: float = 0.3


@dataclass
class Attempt:
    """One create attempt (or one that was skipped / not sent in a dry run)."""

    resource: int
    rank: int
    outcome: str
    message: str
    latency_ms: float
    reference: str | None = None
    sent_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The attempt as ``--json`` prints it."""
        return {
            "resource": self.resource,
            "outcome": self.outcome,
            "message": self.message,
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass
class Cancellation:
    """A surplus booking released after the burst."""

    resource: int
    reference: str
    ok: bool
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """As ``--json`` prints it."""
        out: dict[str, Any] = {"resource": self.resource, "reference": self.reference}
        out["ok"] = self.ok
        if self.message:
            out["message"] = self.message
        return out


@dataclass
class RaceReport:
    """Everything the race found and did."""

    candidates: list[int] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    won: Attempt | None = None
    pending: Attempt | None = None
    contested: dict[str, list[str]] = field(default_factory=dict)
    """Reference of one of our wins → users who hold the same resource and slot too."""
    existing: Reservation | None = None
    cancelled: list[Cancellation] = field(default_factory=list)
    estimate: core_clock.ClockEstimate | None = None
    t0: datetime | None = None
    offset_used: float | None = None
    planned_at: float | None = None
    fired_at: float | None = None
    fire_lateness_ms: float | None = None
    burst_ms: float = 0.0
    relogins: int = 0
    dry_run: bool = False

    @property
    def won_reference(self) -> str | None:
        """Reference number of the kept booking (or of one the user already held)."""
        if self.won is not None:
            return self.won.reference
        return self.existing.reference if self.existing else None

    @property
    def won_resource(self) -> int | None:
        """Resource of the kept booking."""
        if self.won is not None:
            return self.won.resource
        return self.existing.resource_id if self.existing else None

    def to_json(self) -> dict[str, Any]:
        """``{"won", "resource", "attempts", "cancelled"}`` as the CLI's ``--json`` prints, plus
        ``"pending"`` (reference, resource) when the kept booking awaits approval and
        ``"contested"`` ({reference: [other user ids]}) when another user holds the same."""
        out: dict[str, Any] = {
            "won": self.won_reference,
            "resource": self.won_resource,
            "attempts": [a.to_json() for a in self.attempts],
            "cancelled": [c.to_json() for c in self.cancelled],
        }
        if self.pending is not None:
            out["pending"] = {
                "reference": self.pending.reference,
                "resource": self.pending.resource,
            }
        if self.contested:
            out["contested"] = self.contested
        return out


Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _request(plan: RacePlan, resource: int, owner: str | None) -> BookingRequest:
    return BookingRequest(
        slot=plan.slot,
        resource_id=resource,
        owner_id=owner,
        schedule_id=plan.schedule_id,
        attributes=plan.attributes,
        title=plan.title,
        description=plan.description,
        timezone=plan.timezone,
    )


def _signal_when_sent(event: asyncio.Event) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpcore ``trace`` callback setting ``event`` once the request is fully written."""

    async def trace(name: str, info: dict[str, Any]) -> None:
        if name.endswith("send_request_body.complete"):
            event.set()

    return trace


async def _burst(
    client: BookedClient,
    plan: RacePlan,
    order: list[tuple[int, int]],
    owner: str | None,
    clock: Callable[[], float],
    prepared: dict[int, httpx.Request] | None = None,
) -> list[Attempt]:
    """Fire ``order`` ((rank, resource) best first) with at most ``concurrency`` in flight."""
    lanes: asyncio.Queue[int] = asyncio.Queue()
    for lane in range(min(plan.concurrency, len(order))):
        lanes.put_nowait(lane)
    won = asyncio.Event()
    halted = asyncio.Event()
    # sent[i] is set once attempt i's bytes are on the wire (or it ended without sending):
    # attempt i+1 starts writing only then, so the server receives them in preference order
    # and the first one is not held up by the others' work.
    sent = [asyncio.Event() for _ in order]

    async def one(position: int, rank: int, resource: int) -> Attempt:
        lane = await lanes.get()
        try:
            if position:
                await sent[position - 1].wait()
            if won.is_set():
                return Attempt(resource, rank, SKIPPED, "not sent: a preferred one won", 0.0)
            if halted.is_set():
                return Attempt(resource, rank, SKIPPED, "not sent: the server said 429", 0.0)
            if plan.dry_run:
                return Attempt(resource, rank, Outcome.DRY_RUN.value, "dry run: not sent", 0.0)
            sent_at = clock()
            began = time.perf_counter()
            # transports without httpcore's trace (in-process ones) release the next attempt
            # after a short grace instead
            fallback = asyncio.get_running_loop().call_later(SEND_GRACE, sent[position].set)
            try:
                ready = (prepared or {}).get(rank)
                if ready is not None:
                    ready.extensions["trace"] = _signal_when_sent(sent[position])
                    result = await client.submit(ready, lane=lane)
                else:
                    result = await client.create(_request(plan, resource, owner), lane=lane)
            except RateLimitedError as exc:  # stop sending: honour the server's 429
                halted.set()
                result = CreateResult(Outcome.ERROR, exc.one_line(), status_code=429)
            except BoxofficeError as exc:
                result = CreateResult(Outcome.ERROR, exc.one_line())
            finally:
                fallback.cancel()
            latency = (time.perf_counter() - began) * 1000
            if result.outcome is Outcome.BOOKED:
                won.set()
            return Attempt(
                resource,
                rank,
                result.outcome.value,
                result.message,
                latency,
                reference=result.reference,
                sent_at=sent_at,
            )
        finally:
            sent[position].set()
            lanes.put_nowait(lane)

    # Tasks start in creation order and the lane queue is FIFO: dispatch follows preference.
    tasks = [
        asyncio.create_task(one(position, rank, resource))
        for position, (rank, resource) in enumerate(order)
    ]
    return list(await asyncio.gather(*tasks))


def waves(order: list[tuple[int, int]], plan: RacePlan) -> list[list[tuple[int, int]]]:
    """``order`` cut into the groups sent one after another (each only if nothing was won)."""
    rest = list(order)
    groups: list[list[tuple[int, int]]] = []
    if plan.first_alone and rest:
        groups.append([rest.pop(0)])
    size = plan.wave if plan.wave > 0 else len(rest)
    while rest:
        groups.append(rest[:size])
        rest = rest[size:]
    return groups


async def _waves(
    client: BookedClient,
    plan: RacePlan,
    order: list[tuple[int, int]],
    owner: str | None,
    clock: Callable[[], float],
    prepared: dict[int, httpx.Request] | None = None,
) -> list[Attempt]:
    """The burst, group by group (:func:`waves`); groups after a win are skipped."""
    attempts: list[Attempt] = []
    for group in waves(order, plan):
        if any(a.outcome == Outcome.BOOKED.value for a in attempts):
            attempts += [
                Attempt(r, rank, SKIPPED, "not sent: a preferred one won", 0.0) for rank, r in group
            ]
            continue
        if any(a.outcome == SKIPPED and "429" in a.message for a in attempts) or any(
            a.outcome == Outcome.ERROR.value and "429" in a.message for a in attempts
        ):
            attempts += [
                Attempt(r, rank, SKIPPED, "not sent: the server said 429", 0.0) for rank, r in group
            ]
            continue
        attempts += await _burst(client, plan, group, owner, clock, prepared)
    return attempts


async def run_race(
    client: BookedClient,
    plan: RacePlan,
    credentials: Credentials,
    cache: SessionCache,
    *,
    say: Say = _quiet,
    clock: Callable[[], float] = time.time,
    estimator: Estimator | None = None,
    sleep: core_clock.Sleeper | None = None,
) -> RaceReport:
    """Run the whole race (see the module docstring); never raises for refused bookings.

    ``estimator`` replaces the server clock estimate (default: probes of the server's ``Date``
    on ``clock``), ``sleep`` the waits' ``asyncio.sleep`` — tests with a fake clock pass both.
    """
    report = RaceReport(t0=plan.at, dry_run=plan.dry_run)
    t0 = plan.at.timestamp() if plan.at is not None else None
    if t0 is not None and clock() < t0 - plan.lead:
        say(f"waiting to prepare at T0 − {plan.lead:g} s")
        await core_clock.wait_until(t0 - plan.lead, clock=clock, sleep=sleep)

    session, fresh = await ensure_session(client, credentials, cache)
    say("logged in" if fresh else "reusing the cached session")
    owner = plan.owner_id or session.user_id
    existing = await client.availability(plan.slot.start, plan.slot.end, plan.schedule_id)
    mine = [r for r in existing if owner and r.user_id == owner]
    if mine:
        report.existing = mine[0]
        say(f"you already hold {mine[0].reference} on resource {mine[0].resource_id}: no race")
        return report
    report.taken = sorted({r.resource_id for r in existing if r.resource_id in plan.resources})
    report.candidates = candidates(plan.resources, plan.prefer, report.taken)
    say(
        f"{len(report.candidates)} candidate(s) of {len(plan.resources)}"
        f" ({len(report.taken)} already taken)"
    )
    if not report.candidates:
        return report
    client.open_lanes(min(plan.concurrency, len(report.candidates)))  # set up now, not at T0

    order = list(enumerate(report.candidates))
    prepared: dict[int, httpx.Request] = {}
    if not plan.dry_run:  # build and encode every request now: at T0 only bytes go out
        prepared = {rank: client.prepare(_request(plan, r, owner)) for rank, r in order}

    if t0 is not None:
        estimate, offset = await _estimate_clock(
            estimator or _date_probes(client, clock), plan, t0, clock, say
        )
        report.estimate, report.offset_used = estimate, offset
        fire = t0 - offset + plan.margin  # a hair late rather than early
        report.planned_at = fire
        width = min(plan.concurrency, len(report.candidates))
        if clock() < fire - plan.warm_ahead:
            await core_clock.wait_until(fire - plan.warm_ahead, clock=clock, sleep=sleep)
        if clock() < fire:
            await client.warm(width)
            say(f"{width} connection(s) warm; firing at T0 = {plan.at}")
        else:  # a late start: every instant spent warming would add to the lateness
            say(f"T0 has passed already ({(clock() - fire) * 1000:.0f} ms ago): firing at once")
        lateness = await core_clock.wait_until(fire, clock=clock, sleep=sleep)
        report.fired_at = clock()
        report.fire_lateness_ms = lateness * 1000
    else:
        await client.warm(min(plan.concurrency, len(report.candidates)))
        report.fired_at = clock()

    began = time.perf_counter()
    attempts = await _waves(client, plan, order, owner, clock, prepared)
    expired = [a for a in attempts if a.outcome == Outcome.SESSION_EXPIRED.value]
    if expired and not any(a.outcome == Outcome.BOOKED.value for a in attempts):
        say(f"session expired during the burst: logging in again and retrying {len(expired)}")
        session, _ = await ensure_session(client, credentials, cache, force=True)
        report.relogins += 1
        retried = await _waves(client, plan, [(a.rank, a.resource) for a in expired], owner, clock)
        by_rank = {a.rank: a for a in retried}
        attempts = [by_rank.get(a.rank, a) for a in attempts]
    report.burst_ms = (time.perf_counter() - began) * 1000
    report.attempts = attempts

    wins = sorted((a for a in attempts if a.outcome == Outcome.BOOKED.value), key=lambda a: a.rank)
    held = sorted((a for a in attempts if a.outcome == Outcome.PENDING.value), key=lambda a: a.rank)
    if wins and not plan.dry_run:
        report.contested = await _contested(client, plan, wins, owner, say, sleep)
    uncontested = [a for a in wins if a.reference not in report.contested]
    keep = (uncontested or wins)[:1]
    if keep:
        report.won = keep[0]
    elif held:
        report.pending = held[0]
        say(f"resource {held[0].resource} is held pending the admin's approval: not won yet")
    kept = {id(a) for a in [*keep, *([report.pending] if report.pending else [])]}
    for surplus in sorted([*wins, *held], key=lambda a: a.rank):
        if id(surplus) not in kept:
            report.cancelled.append(await _cancel(client, surplus))
    log.info(
        "race finished",
        attempts=len(attempts),
        won=report.won_reference,
        cancelled=len(report.cancelled),
        burst_ms=round(report.burst_ms, 1),
        fired=datetime.fromtimestamp(report.fired_at or 0, UTC).isoformat(),
    )
    return report


async def _contested(
    client: BookedClient,
    plan: RacePlan,
    wins: list[Attempt],
    owner: str | None,
    say: Say,
    sleep: core_clock.Sleeper | None,
) -> dict[str, list[str]]:
    """Re-read the slot: which of our wins another user holds too (a server without locking).

    Waits ``recheck_delay`` first so that the others' attempts of the same instant are
    stored. A failed re-read is reported and treated as "none contested".
    """
    if plan.recheck_delay > 0:
        await (sleep or asyncio.sleep)(plan.recheck_delay)
    try:
        found = await client.availability(plan.slot.start, plan.slot.end, plan.schedule_id)
    except BoxofficeError as exc:
        say(f"could not re-read the slot after the burst: {exc.one_line()}")
        return {}
    out: dict[str, list[str]] = {}
    for win in wins:
        others = sorted(
            {
                r.user_id or "?"
                for r in found
                if r.resource_id == win.resource
                and r.reference != win.reference
                and (r.user_id is None or r.user_id != owner)
            }
        )
        if others and win.reference:
            out[win.reference] = others
            say(
                f"resource {win.resource} is booked by another user too (user "
                f"{', '.join(others)}): the server has no locking — contested"
            )
    return out


def _date_probes(client: BookedClient, clock: Callable[[], float]) -> Estimator:
    """The default estimator: :func:`core_clock.estimate_offset` on the client's probe URL."""

    async def estimate(max_duration: float) -> core_clock.ClockEstimate:
        return await core_clock.estimate_offset(
            client.http,
            client.url(client.probe_path),
            clock=clock,
            max_duration=max_duration,
            max_probes=40 if max_duration > 0 else 2,  # 0: the first, coarse probe only
        )

    return estimate


async def _estimate_clock(
    estimator: Estimator, plan: RacePlan, t0: float, clock: Callable[[], float], say: Say
) -> tuple[core_clock.ClockEstimate, float]:
    """The server clock estimate and the offset to fire on, never running into the warm-up.

    One coarse probe bounds the offset (to about a second); the fine estimate then gets the
    time up to the earliest instant the fire can be due (T0 at the top of that bracket) minus
    the warm-up margin — a hard limit.
    """
    coarse = await estimator(0.0)
    warm_margin = min(plan.warm_margin, plan.warm_ahead)
    earliest_fire = t0 - (coarse.offset + coarse.uncertainty) + plan.margin
    budget = earliest_fire - warm_margin - clock()
    estimate = coarse
    cut_short = budget - ESTIMATE_SLACK < FULL_ESTIMATE
    if budget < MIN_ESTIMATE:
        say(
            f"only {max(budget, 0.0):.2f} s left before T0 minus the warm-up margin: "
            "no fine clock estimate"
        )
    else:
        if cut_short:
            say(f"{budget:.2f} s left for the clock estimate before the warm-up")
        try:
            async with asyncio.timeout(budget):
                fine = await estimator(max(budget - ESTIMATE_SLACK, 0.0))
        except TimeoutError:
            say("the clock estimate ran into the warm-up margin: cut short")
        else:
            try:
                estimate = core_clock.merge([coarse, fine])
            except ProtocolError:  # the clock stepped between them: the later one holds
                estimate = fine
    say(
        f"server clock offset {estimate.offset * 1000:+.1f} ms"
        f" (± {estimate.uncertainty * 1000:.1f} ms, {estimate.samples} probes)"
    )
    return estimate, _offset_to_use(estimate, cut_short, say)


def _offset_to_use(estimate: core_clock.ClockEstimate, cut_short: bool, say: Say) -> float:
    """The estimate's offset; for a coarse one that the time left cut short, the local clock
    if the bracket allows it, else the bracket's low end (the fire is then late, never early).
    """
    if not cut_short or estimate.uncertainty <= COARSE_UNCERTAINTY:
        return estimate.offset
    low = estimate.offset - estimate.uncertainty
    high = estimate.offset + estimate.uncertainty
    if low <= 0.0 <= high:
        say("coarse clock estimate: trusting the local clock, which it agrees with")
        return 0.0
    say(f"coarse clock estimate: firing on its late end ({low * 1000:+.0f} ms), never early")
    return low


async def _cancel(client: BookedClient, attempt: Attempt) -> Cancellation:
    reference = attempt.reference or ""
    if not reference:
        return Cancellation(attempt.resource, "", False, "no reference number to cancel")
    try:
        await client.cancel(reference)
    except BoxofficeError as exc:
        return Cancellation(attempt.resource, reference, False, exc.one_line())
    return Cancellation(attempt.resource, reference, True)
