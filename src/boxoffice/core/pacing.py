"""Timing policy: jitter, backoff, Retry-After, rate limiting — pure functions plus one sleeper.

Everything here but :func:`sleep` and :class:`RateLimiter` is pure (no I/O, RNG injected).
One switch, :func:`set_instant` (or the :func:`instant` context manager), makes every wait that
goes through :func:`sleep` return at once — tests use it; jobs must sleep only via :func:`sleep`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

JitterStrategy = Literal["uniform", "poisson", "normal"]
JITTER_STRATEGIES: tuple[JitterStrategy, ...] = ("uniform", "poisson", "normal")

_instant = False


def set_instant(value: bool) -> None:
    """Make every :func:`sleep` return immediately (True) or sleep for real (False)."""
    global _instant
    _instant = value


def is_instant() -> bool:
    """Whether waits are currently instant."""
    return _instant


@contextlib.contextmanager
def instant() -> Iterator[None]:
    """Context manager: waits are instant inside."""
    previous = _instant
    set_instant(True)
    try:
        yield
    finally:
        set_instant(previous)


async def sleep(seconds: float) -> None:
    """The one place jobs wait; instant when :func:`set_instant` is on (still yields once)."""
    if _instant or seconds <= 0:
        await asyncio.sleep(0)
        return
    await asyncio.sleep(seconds)


def jitter(
    interval: float,
    strategy: JitterStrategy = "uniform",
    *,
    fraction: float = 0.2,
    min_factor: float = 0.7,
    max_factor: float = 1.3,
    rng: random.Random | None = None,
) -> float:
    """A randomized wait around ``interval``.

    * ``uniform``: uniform in ``[interval·(1−fraction), interval·(1+fraction)]``.
    * ``poisson``: exponential inter-arrival with mean ``interval`` (a Poisson process),
      clipped to ``[interval·min_factor, interval·max_factor]``.
    * ``normal``: normal with mean ``interval`` and σ = ``interval·fraction``, clipped the same.
    """
    if interval < 0:
        raise ValueError("interval must be >= 0")
    if not 0 <= fraction < 1:
        raise ValueError("fraction must be in [0, 1)")
    if not 0 <= min_factor <= 1 <= max_factor:
        raise ValueError("need 0 <= min_factor <= 1 <= max_factor")
    r = rng or random.Random()
    if strategy == "uniform":
        return interval * r.uniform(1 - fraction, 1 + fraction)
    if strategy == "poisson":
        value = r.expovariate(1.0 / interval) if interval > 0 else 0.0
    elif strategy == "normal":
        value = r.gauss(interval, interval * fraction)
    else:
        raise ValueError(f"unknown jitter strategy {strategy!r}")
    return min(max(value, interval * min_factor), interval * max_factor)


@dataclass
class Backoff:
    """Exponential backoff: ``base·factor^n`` capped at ``cap``; :meth:`reset` after success.

    With the defaults the delays are 30, 60, 120, 240, 300, 300, … seconds.
    """

    base: float = 30.0
    factor: float = 2.0
    cap: float = 300.0
    failures: int = field(default=0)

    def delay_for(self, failures: int) -> float:
        """Delay after the ``failures``-th consecutive failure (1-based). Pure."""
        if failures <= 0:
            return 0.0
        exponent = min(failures - 1, 64)
        return float(min(self.cap, self.base * math.pow(self.factor, exponent)))

    def next(self, retry_after: float | None = None) -> float:
        """Record a failure; return how long to wait. ``Retry-After`` wins when given."""
        self.failures += 1
        if retry_after is not None:
            return max(0.0, retry_after)
        return self.delay_for(self.failures)

    def reset(self) -> None:
        """A success: the next failure starts from ``base`` again."""
        self.failures = 0


def backoff_schedule(base: float, factor: float, cap: float, count: int) -> list[float]:
    """The first ``count`` delays of :class:`Backoff` (for display and tests)."""
    b = Backoff(base=base, factor=factor, cap=cap)
    return [b.delay_for(n) for n in range(1, count + 1)]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    All three HTTP-date formats of RFC 9110 are understood; a date in the past means "now" (0).
    Returns None when absent or unparseable (including negative numbers); never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
            return None  # not a delta-seconds value: let the caller's own backoff decide
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    return max(0.0, (when - reference).total_seconds())


class RateLimiter:
    """Async token bucket: at most ``rate`` acquisitions per second, bursts up to ``burst``.

    ``burst=1`` makes it a minimum-interval limiter (``1/rate`` seconds apart). Safe for many
    concurrent tasks (they are served in arrival order). Waits go through ``sleeper``
    (:func:`sleep` by default, so instant in tests); a test can inject ``clock`` and a
    ``sleeper`` that advances that clock to observe the exact spacing without waiting.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleeper or sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    @classmethod
    def every(
        cls,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], Awaitable[None]] | None = None,
    ) -> RateLimiter:
        """A limiter allowing one acquisition per ``interval`` seconds."""
        if interval <= 0:
            raise ValueError("interval must be > 0")
        return cls(1.0 / interval, burst=1, clock=clock, sleeper=sleeper)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def wait_time(self) -> float:
        """Seconds until a token is available (0 if one is). Does not take it."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    async def acquire(self) -> float:
        """Take one token, waiting as needed; returns the seconds waited (by plan)."""
        async with self._lock:
            waited = 0.0
            delay = self.wait_time()
            if delay > 0:
                waited = delay
                await self._sleep(delay)
                self._refill()
                if self._tokens < 1:  # instant mode or a coarse clock: account the token anyway
                    self._tokens = 1.0
            self._tokens -= 1
            return waited


#: A failed notification channel is retried after these waits (then reported).
NOTIFY_RETRY_BASE = 2.0
NOTIFY_RETRY_CAP = 30.0


def notify_retry_delays(retries: int = 3) -> list[float]:
    """Waits before each retry of a failed notification channel: 2, 4, 8 … capped at 30 s."""
    if retries < 0:
        raise ValueError("retries must be >= 0")
    return backoff_schedule(NOTIFY_RETRY_BASE, 2.0, NOTIFY_RETRY_CAP, retries)


def quiet_period_over(last: float | None, now: float, period: float) -> bool:
    """Whether a rate-limited message may go out again: never sent, or ``period`` s passed."""
    return last is None or now - last >= period


def heartbeat_wait(interval: float, elapsed: float) -> float:
    """Seconds until the next heartbeat ping, ``elapsed`` s after the previous one."""
    if interval <= 0:
        raise ValueError("interval must be > 0")
    return max(0.0, interval - elapsed)
