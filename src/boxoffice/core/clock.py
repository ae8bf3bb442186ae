"""Server clock offset and precise waiting.

Public API:

``ClockEstimate`` (frozen dataclass): offset (seconds, server − local), uncertainty (seconds,
    half-width of the bracket), samples (int), rtt (seconds of the tightest bracketing pair).
    ``server_time(local: float) -> float`` and ``local_time(server: float) -> float``.

``async estimate_offset(client: httpx.AsyncClient, url: str, *, method="HEAD",
    clock=time.time, max_probes=40, spacing=0.005) -> ClockEstimate``
    htpdate-style: find the instant the server's ``Date`` header ticks to the next second
    with probes a few ms apart around the edge; offset from the RTT midpoint of the tightest
    bracketing pair. Raises ProtocolError if the server sends no usable Date header.

``merge(estimates) -> ClockEstimate`` intersects estimates taken at different times (each is a
    hard bound, so the result is at least as tight as the best).

``async wait_until(t: float, *, clock=time.time, spin=0.002) -> float``
    Wake within 1 ms of local epoch time ``t`` (asyncio sleep, then a short spin); returns
    the lateness in seconds. Honours ``pacing.is_instant()`` (returns at once).

How the estimate works
----------------------
A ``Date`` header has one-second resolution, so one response only says the server's clock was
in ``[D, D+1)`` at some instant between sending the request (local ``a``) and receiving the
answer (local ``b``): the offset lies in ``[D − b, D + 1 − a]``. Every probe adds such an
interval and the estimate is the midpoint of their intersection; ``uncertainty`` is its
half-width, a hard bound on the error as long as the server's clock does not step.

The intersection is only narrow around the instant the server's ``Date`` ticks to the next
second: the last probe still showing second ``S`` (sent at ``a₁``) and the first showing
``S+1`` (answered at ``b₂``) pin the tick between ``a₁`` and ``b₂`` — the "tightest bracketing
pair". Hence three phases, bounded to ``max_probes`` requests and ``max_duration`` seconds:

1. one coarse request (fixes the offset to about a second);
2. a coarse scan, a probe every ``coarse_spacing`` (100 ms) until ``Date`` ticks (≤ 1 s);
3. at the next predicted tick, probes ``spacing`` apart across the remaining bracket (fired on
   schedule without waiting for earlier answers; the scan stops at the first answer showing
   the new second).

Typical cost: 1.1–2.1 s and 15–35 requests. Asymmetric delays (the server stamps ``Date`` and
then takes a while to answer) cannot be seen from the client; they widen the bracket but never
push the true offset outside ``offset ± uncertainty``.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from boxoffice.core import pacing
from boxoffice.errors import ProtocolError, map_exception

Clock = Callable[[], float]
Waiter = Callable[[float], Awaitable[object]]
Sleeper = Callable[[float], Awaitable[None]]

#: The finest spacing the fine scan uses when the probe budget allows more than ``spacing``.
MIN_SPACING = 0.001
#: Probes in flight at once during the fine scan (their connections are opened ahead).
MAX_PARALLEL = 2


@dataclass(frozen=True)
class ClockEstimate:
    """A server's clock relative to ours: ``server = local + offset`` (± ``uncertainty``)."""

    offset: float
    uncertainty: float
    samples: int
    rtt: float

    def server_time(self, local: float) -> float:
        """The server's epoch time at local epoch time ``local``."""
        return local + self.offset

    def local_time(self, server: float) -> float:
        """The local epoch time at which the server's clock reads ``server``."""
        return server - self.offset


@dataclass(frozen=True)
class Probe:
    """One timed request: sent at local ``sent``, answered at ``received``, ``Date`` = ``date``."""

    sent: float
    received: float
    date: int

    @property
    def rtt(self) -> float:
        """Round-trip time of this probe."""
        return self.received - self.sent

    @property
    def low(self) -> float:
        """Lowest offset compatible with this probe."""
        return self.date - self.received

    @property
    def high(self) -> float:
        """Highest offset compatible with this probe."""
        return self.date + 1 - self.sent


def parse_http_date(value: str | None) -> int | None:
    """Epoch seconds of an HTTP ``Date`` header, or None when absent or unparseable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return math.floor(parsed.timestamp())


def combine(probes: list[Probe]) -> ClockEstimate:
    """The estimate from the intersection of every probe's offset interval. Pure.

    Raises ProtocolError when the intervals do not overlap (the server's clock stepped, or a
    cache answered with a stale ``Date``).
    """
    if not probes:
        raise ValueError("no probes")
    low_probe = max(probes, key=lambda p: p.low)
    high_probe = min(probes, key=lambda p: p.high)
    low, high = low_probe.low, high_probe.high
    if low > high:
        raise ProtocolError(
            "the server's Date headers contradict each other",
            hint="its clock stepped or a cache/CDN answered; probe a URL that is not cached",
        )
    return ClockEstimate(
        offset=(low + high) / 2,
        uncertainty=(high - low) / 2,
        samples=len(probes),
        rtt=max(low_probe.rtt, high_probe.rtt),
    )


def merge(estimates: Iterable[ClockEstimate]) -> ClockEstimate:
    """Intersect estimates of the same server taken at different times. Pure.

    Each estimate is a hard bound (``offset ± uncertainty``), so their intersection is too and
    is at least as tight as the best one — e.g. re-estimate a few times before a deadline and
    merge (clock drift over minutes is negligible). Raises ProtocolError if they do not overlap.
    """
    items = list(estimates)
    if not items:
        raise ValueError("no estimates")
    low_est = max(items, key=lambda e: e.offset - e.uncertainty)
    high_est = min(items, key=lambda e: e.offset + e.uncertainty)
    low = low_est.offset - low_est.uncertainty
    high = high_est.offset + high_est.uncertainty
    if low > high:
        raise ProtocolError(
            "clock estimates of the server do not overlap",
            hint="its clock stepped between them; estimate again",
        )
    return ClockEstimate(
        offset=(low + high) / 2,
        uncertainty=(high - low) / 2,
        samples=sum(e.samples for e in items),
        rtt=max(low_est.rtt, high_est.rtt),
    )


async def _probe(
    client: httpx.AsyncClient, method: str, url: str, clock: Clock, sent: float | None = None
) -> Probe:
    start = clock() if sent is None else sent
    try:
        response = await client.request(method, url)
    except httpx.HTTPError as exc:
        raise map_exception(exc, context=f"clock probe {method} {url}") from exc
    received = clock()
    date = parse_http_date(response.headers.get("date"))
    if date is None:
        raise ProtocolError(
            f"{url} sent no usable Date header (HTTP {response.status_code})",
            hint="probe another URL of the same server, or skip the clock estimate",
        )
    return Probe(sent=start, received=received, date=date)


async def estimate_offset(
    client: httpx.AsyncClient,
    url: str,
    *,
    method: str = "HEAD",
    clock: Clock = time.time,
    max_probes: int = 40,
    spacing: float = 0.005,
    coarse_spacing: float = 0.1,
    passes: int = 1,
    max_duration: float | None = None,
    waiter: Waiter | None = None,
) -> ClockEstimate:
    """Estimate the offset (server − local) of the server at ``url`` from its ``Date`` header.

    ``max_probes`` bounds the requests after the first coarse one. ``passes`` is the number of
    fine scans (each costs about a second more; their brackets intersect, so more passes give
    a tighter, still rigorous bound — useful on a busy machine or network; raise
    ``max_probes`` with it). ``max_duration`` (default ``1.5 + passes`` s) bounds the time
    spent: a fine scan that would end later is not started. ``waiter(t)`` waits until local
    time ``t`` (default: :func:`pacing.sleep` on ``clock``; tests pass a fake).
    Network failures raise the mapped :class:`~boxoffice.errors.NetworkError`.
    """
    if max_probes < 2:
        raise ValueError("max_probes must be >= 2")
    if spacing <= 0 or coarse_spacing <= 0:
        raise ValueError("spacing must be > 0")
    if passes < 1:
        raise ValueError("passes must be >= 1")

    async def default_wait(t: float) -> None:
        delay = t - clock()
        if delay > 0:
            await pacing.sleep(delay)

    wait = waiter or default_wait
    deadline = clock() + (1.5 + passes if max_duration is None else max_duration)
    probes = [await _probe(client, method, url, clock)]
    budget = max_probes

    # Phase 2: coarse scan until the Date ticks (keep most of the budget for the fine scans).
    coarse_budget = max(1, budget - 20 * passes)
    first_date = probes[0].date
    next_send = probes[0].sent + coarse_spacing
    while coarse_budget > 0 and clock() < deadline:
        await wait(next_send)
        probe = await _probe(client, method, url, clock)
        probes.append(probe)
        budget -= 1
        coarse_budget -= 1
        if probe.date != first_date:
            break
        next_send = max(probe.sent + coarse_spacing, clock())

    # Phase 3: fine scans across the predicted next ticks.
    remaining = passes
    # Probes overlap during a fine scan: open those connections now, not during the scan.
    if budget > 4 * MAX_PARALLEL:
        probes.extend(
            await asyncio.gather(*(_probe(client, method, url, clock) for _ in range(MAX_PARALLEL)))
        )
        budget -= MAX_PARALLEL
    while remaining > 0 and budget >= 2:
        estimate = combine(probes)
        low = estimate.offset - estimate.uncertainty
        high = estimate.offset + estimate.uncertainty
        fastest = min(p.rtt for p in probes)
        now = clock()
        # The server ticks to second N at local N − offset ∈ [N − high, N − low].
        tick = math.floor(now + low) + 1
        while tick - high - fastest - spacing < now + 0.01:
            tick += 1
        begin = tick - high - fastest - spacing
        end = tick - low + spacing
        if end + fastest > deadline:
            break
        share = budget // remaining
        # As coarse as needed to cover the bracket with this pass's share of the budget; else
        # ``spacing``, or finer when the RTT lets MAX_PARALLEL probes overlap more densely.
        needed = (end - begin) / max(1, share - 1)
        step = max(MIN_SPACING, needed, min(spacing, fastest / MAX_PARALLEL))
        count = min(share, math.floor((end - begin) / step) + 1)
        fine = await _fine_scan(client, method, url, clock, wait, begin, step, count, tick)
        probes.extend(fine)
        budget -= len(fine)
        if any(p.date < tick for p in fine) and any(p.date >= tick for p in fine):
            remaining -= 1  # bracketed; a scan that missed the tick (RTT spike) is retried
    return combine(probes)


async def _fine_scan(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    clock: Clock,
    wait: Waiter,
    begin: float,
    step: float,
    count: int,
    tick: int,
) -> list[Probe]:
    """Fire up to ``count`` probes ``step`` apart from ``begin``, at most ``MAX_PARALLEL`` open.

    A late slot is not caught up with a burst (bursts queue at the server and blur the
    bracket); firing stops once an answer shows second ``tick``.
    """
    pending: set[asyncio.Task[Probe]] = set()
    results: list[Probe] = []
    fired = 0
    slot = begin
    try:
        while fired < count:
            await wait(slot)
            if pending:
                done = {t for t in pending if t.done()}
                if len(pending) - len(done) >= MAX_PARALLEL:
                    more, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    done |= more
                for task in done:
                    results.append(task.result())
                pending -= done
            if any(p.date >= tick for p in results):
                break
            sent = clock()
            pending.add(asyncio.create_task(_probe(client, method, url, clock, sent)))
            fired += 1
            slot = max(slot + step, sent + step)
        results.extend(await asyncio.gather(*pending))
        pending.clear()
        return results
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def wait_until(
    t: float,
    *,
    clock: Clock = time.time,
    spin: float = 0.002,
    sleep: Sleeper | None = None,
) -> float:
    """Wait until local epoch time ``t``: sleep until ``spin`` seconds before, then spin.

    Returns the lateness (``clock() − t``, ≥ 0). The spin yields the GIL (``time.sleep(0)``)
    so threads keep running, but blocks this event loop for at most ``spin`` seconds. Under
    ``pacing.is_instant()`` it returns 0.0 at once. ``sleep`` replaces ``asyncio.sleep``
    (tests with a fake clock).
    """
    if pacing.is_instant():
        await asyncio.sleep(0)
        return 0.0
    nap = sleep or asyncio.sleep
    remaining = t - clock()
    if remaining > spin:
        await nap(remaining - spin)
    while clock() < t:
        time.sleep(0)  # noqa: ASYNC251 — the deliberate sub-ms spin; yields the GIL
    return clock() - t
