"""After a lost race: keep re-checking the slot at a fair pace and book a place freed later.

``book run --keep-trying 10m --retry-interval 30s``: when the race won nothing (every
candidate taken, or refused), the slot's availability is read again every ``interval``
seconds (±20 % jitter, never below :data:`MIN_INTERVAL`) until ``duration`` has passed. When
a resource of the range is free — someone cancelled — one create attempt is sent for the
best free resource (preference order); on a refusal the next free one is tried in the same
round, and the loop stops at the first booking: one booking is held, never more. A 429
backs off (``Retry-After`` honoured); the window not being open yet just waits.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from boxoffice.core import pacing
from boxoffice.core.logging import get_logger
from boxoffice.errors import BoxofficeError, ConfigurationError, RateLimitedError
from boxoffice.jobs.book.plan import candidates
from boxoffice.jobs.book.race import Attempt, RacePlan, RaceReport, Say
from boxoffice.jobs.book.session import SessionCache, ensure_session, with_relogin
from boxoffice.platforms.booked.client import BookedClient, Credentials
from boxoffice.platforms.booked.models import BookingRequest, Outcome

log = get_logger(__name__)

MIN_INTERVAL = 1.0
JITTER = 0.2
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str, *, what: str) -> float:
    """``"10m"``, ``"30s"``, ``"1h"``, ``"45"`` (seconds) → seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigurationError(
            f"{what} {text!r} is not a duration", hint="use e.g. 30s, 10m or 1h"
        )
    return float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]


@dataclass(frozen=True)
class KeepTrying:
    """How long to keep trying after a lost race, and how often to look."""

    duration: float
    interval: float = 30.0

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ConfigurationError("--keep-trying must be more than 0 s")
        if self.interval < MIN_INTERVAL:
            raise ConfigurationError(
                f"--retry-interval {self.interval:g} s is below the {MIN_INTERVAL:g} s floor",
                hint="re-check at a fair pace, e.g. --retry-interval 30s",
            )


def next_wait(interval: float, rng: random.Random, retry_after: float | None = None) -> float:
    """The wait before the next re-check: ``interval`` ±20 %, or longer if the server said so."""
    wait = pacing.jitter(interval, "uniform", fraction=JITTER, rng=rng)
    return max(wait, retry_after or 0.0)


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


async def keep_trying(
    client: BookedClient,
    plan: RacePlan,
    credentials: Credentials,
    cache: SessionCache,
    report: RaceReport,
    options: KeepTrying,
    *,
    say: Say,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> RaceReport:
    """Re-check and book a freed place until ``options.duration`` is over; updates ``report``.

    Returns at once when the race already holds a booking (or the user held one before).
    """
    if report.won_reference is not None or plan.dry_run:
        return report
    rng = rng or random.Random()
    deadline = clock() + options.duration
    session, _ = await ensure_session(client, credentials, cache)
    owner = plan.owner_id or session.user_id
    rounds = 0
    retry_after: float | None = None
    say(
        f"keep trying for {options.duration:g} s: re-checking every ~{options.interval:g} s "
        "for a place freed by a cancellation"
    )
    while True:
        wait = next_wait(options.interval, rng, retry_after)
        if clock() + wait > deadline:
            say(f"gave up after {rounds} re-check(s): no place was freed")
            return report
        await pacing.sleep(wait)
        rounds += 1
        retry_after = None
        try:
            found = await with_relogin(
                client,
                credentials,
                cache,
                lambda: client.availability(plan.slot.start, plan.slot.end, plan.schedule_id),
            )
        except RateLimitedError as exc:
            retry_after = exc.retry_after or options.interval * 2
            say(f"the server said 429: waiting {retry_after:g} s")
            continue
        except BoxofficeError as exc:
            say(f"re-check {rounds} failed: {exc.one_line()}")
            continue
        if any(owner and r.user_id == owner for r in found):
            mine = next(r for r in found if owner and r.user_id == owner)
            report.existing = mine
            say(f"you hold {mine.reference} on resource {mine.resource_id} now: done")
            return report
        taken = {r.resource_id for r in found}
        free = candidates(plan.resources, plan.prefer, taken)
        if not free:
            continue
        say(f"re-check {rounds}: {len(free)} place(s) free — trying {free[0]}")
        for resource in free:  # preference order, one at a time: at most one booking
            began = time.perf_counter()
            try:
                result = await client.create(_request(plan, resource, owner))
            except RateLimitedError as exc:
                retry_after = exc.retry_after or options.interval * 2
                break
            except BoxofficeError as exc:
                say(f"attempt on {resource} failed: {exc.one_line()}")
                continue
            rank = plan.resources.index(resource) if resource in plan.resources else 0
            attempt = Attempt(
                resource,
                rank,
                result.outcome.value,
                result.message,
                (time.perf_counter() - began) * 1000,
                reference=result.reference,
            )
            report.attempts.append(attempt)
            if result.outcome is Outcome.BOOKED:
                report.won = attempt
                say(f"booked resource {resource} ({result.reference}) after {rounds} re-check(s)")
                log.info("keep-trying won", resource=resource, rounds=rounds)
                return report
            if result.outcome is Outcome.ONE_AT_A_TIME:
                break  # the user holds something else now: never a second booking
