"""Timing policy: jitter distributions, backoff, Retry-After, the rate limiter, instant waits."""

from __future__ import annotations

import asyncio
import math
import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.core import pacing
from boxoffice.core.pacing import (
    JITTER_STRATEGIES,
    Backoff,
    RateLimiter,
    backoff_schedule,
    jitter,
    parse_retry_after,
)

N = 10_000


def _samples(strategy: pacing.JitterStrategy, interval: float, **kw: float) -> list[float]:
    rng = random.Random(20261122)
    return [jitter(interval, strategy, rng=rng, **kw) for _ in range(N)]


# --- jitter: bounds and means over 10k seeded samples ----------------------------------------


def test_uniform_stays_within_fraction_and_centres_on_the_interval() -> None:
    xs = _samples("uniform", 15.0, fraction=0.2)
    assert min(xs) >= 12.0
    assert max(xs) <= 18.0
    # both ends are actually reached (not a narrower distribution)
    assert min(xs) < 12.1
    assert max(xs) > 17.9
    assert statistics.fmean(xs) == pytest.approx(15.0, rel=0.01)
    # uniform on [a, b] has σ = (b − a)/√12
    assert statistics.pstdev(xs) == pytest.approx(6.0 / math.sqrt(12), rel=0.03)


def test_poisson_is_exponential_with_the_interval_as_mean_clipped() -> None:
    interval, lo, hi = 100.0, 0.7, 1.3
    xs = _samples("poisson", interval, min_factor=lo, max_factor=hi)
    assert min(xs) == pytest.approx(interval * lo)
    assert max(xs) == pytest.approx(interval * hi)
    # X ~ Exp(mean 1) clipped to [lo, hi] has mean lo + e^-lo − e^-hi
    expected_mean = interval * (lo + math.exp(-lo) - math.exp(-hi))
    assert statistics.fmean(xs) == pytest.approx(expected_mean, rel=0.01)
    # the share clipped at each end follows the exponential CDF
    at_floor = sum(1 for x in xs if x == pytest.approx(interval * lo)) / N
    at_ceiling = sum(1 for x in xs if x == pytest.approx(interval * hi)) / N
    assert at_floor == pytest.approx(1 - math.exp(-lo), abs=0.02)
    assert at_ceiling == pytest.approx(math.exp(-hi), abs=0.02)


def test_poisson_without_clipping_has_the_interval_as_mean() -> None:
    xs = _samples("poisson", 10.0, min_factor=0.0, max_factor=1e9)
    assert statistics.fmean(xs) == pytest.approx(10.0, rel=0.03)
    assert statistics.pstdev(xs) == pytest.approx(10.0, rel=0.05)  # exponential: σ = mean


def _phi(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_normal_has_sigma_interval_times_fraction_and_is_clipped() -> None:
    interval, fraction, lo, hi = 60.0, 0.2, 0.7, 1.3
    xs = _samples("normal", interval, fraction=fraction, min_factor=lo, max_factor=hi)
    assert min(xs) >= interval * lo
    assert max(xs) <= interval * hi
    assert statistics.fmean(xs) == pytest.approx(interval, rel=0.01)  # symmetric clipping
    c = (hi - 1) / fraction  # clip point in σ units (1.5)
    clipped_var = (2 * _cdf(c) - 1) - 2 * c * _phi(c) + 2 * c * c * (1 - _cdf(c))
    expected_sd = interval * fraction * math.sqrt(clipped_var)
    assert statistics.pstdev(xs) == pytest.approx(expected_sd, rel=0.03)


def test_same_seed_same_sequence() -> None:
    a = [jitter(5, "normal", rng=random.Random(7)) for _ in range(3)]
    b = [jitter(5, "normal", rng=random.Random(7)) for _ in range(3)]
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"interval": -1.0}, "interval"),
        ({"interval": 1.0, "fraction": 1.0}, "fraction"),
        ({"interval": 1.0, "min_factor": 1.2}, "min_factor"),
        ({"interval": 1.0, "strategy": "gaussian"}, "strategy"),
    ],
)
def test_bad_jitter_arguments_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        jitter(**kwargs)  # type: ignore[arg-type]


@given(
    interval=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    strategy=st.sampled_from(JITTER_STRATEGIES),
    fraction=st.floats(min_value=0.0, max_value=0.99),
    min_factor=st.floats(min_value=0.0, max_value=1.0),
    max_factor=st.floats(min_value=1.0, max_value=10.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_jitter_never_leaves_its_bounds(
    interval: float,
    strategy: pacing.JitterStrategy,
    fraction: float,
    min_factor: float,
    max_factor: float,
    seed: int,
) -> None:
    value = jitter(
        interval,
        strategy,
        fraction=fraction,
        min_factor=min_factor,
        max_factor=max_factor,
        rng=random.Random(seed),
    )
    assert value >= 0
    if strategy == "uniform":
        assert interval * (1 - fraction) <= value <= interval * (1 + fraction)
    else:
        assert interval * min_factor <= value <= interval * max_factor


# --- backoff ---------------------------------------------------------------------------------


def test_backoff_sequence_is_30_60_120_240_then_capped_at_300() -> None:
    b = Backoff()
    assert [b.next() for _ in range(7)] == [30, 60, 120, 240, 300, 300, 300]
    assert backoff_schedule(30, 2, 300, 6) == [30, 60, 120, 240, 300, 300]


def test_retry_after_overrides_the_schedule_and_still_counts_as_a_failure() -> None:
    b = Backoff()
    assert b.next() == 30
    assert b.next(retry_after=7.5) == 7.5  # exactly what the server asked, even below base
    assert b.next(retry_after=900) == 900  # and above the cap
    assert b.next() == 240  # the fourth failure in a row
    assert b.next(retry_after=-3) == 0.0


def test_reset_after_success_starts_over() -> None:
    b = Backoff()
    for _ in range(5):
        b.next()
    b.reset()
    assert b.failures == 0
    assert b.next() == 30
    assert b.next() == 60


def test_huge_failure_counts_do_not_overflow() -> None:
    assert Backoff().delay_for(10_000) == 300
    assert Backoff().delay_for(0) == 0


@given(
    base=st.floats(min_value=0.01, max_value=100),
    factor=st.floats(min_value=1.0, max_value=4),
    cap=st.floats(min_value=0.01, max_value=1000),
    n=st.integers(min_value=1, max_value=200),
)
def test_backoff_is_non_decreasing_and_capped(
    base: float, factor: float, cap: float, n: int
) -> None:
    delays = backoff_schedule(base, factor, cap, n)
    assert all(0 < d <= cap for d in delays)
    assert delays == sorted(delays)


# --- Retry-After -----------------------------------------------------------------------------


NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("  5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),  # IMF-fixdate, 60 s after NOW
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: go now, never negative
        ("Wed, 21 Oct 2015 09:28:00 +0200", 60.0),  # offset honoured
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Wed Oct 21 07:28:00 2015", 60.0),  # obsolete asctime form
    ],
)
def test_parse_retry_after(header: str, expected: float) -> None:
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "soon", "NaN", "inf", "1e999", "-5", "5s", "Wed, 99 Foo 2015", "12 apples"],
)
def test_parse_retry_after_garbage_is_none(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_parse_retry_after_accepts_a_naive_now_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:30 GMT", now=naive) == 30.0


def test_parse_retry_after_defaults_to_the_current_time() -> None:
    future = datetime.now(UTC) + timedelta(hours=1)
    header = future.strftime("%a, %d %b %Y %H:%M:%S GMT")
    value = parse_retry_after(header)
    assert value is not None
    assert 3500 < value <= 3600


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises_and_never_negative(text: str) -> None:
    value = parse_retry_after(text, now=NOW)
    assert value is None or value >= 0


# --- rate limiter with a fake clock ----------------------------------------------------------


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_interval_limiter_spaces_acquisitions_exactly() -> None:
    clock = FakeClock()
    limiter = RateLimiter.every(2.0, clock=clock, sleeper=clock.sleep)
    times = []
    for _ in range(5):
        await limiter.acquire()
        times.append(clock.now)
    assert times == pytest.approx([0, 2, 4, 6, 8])


async def test_time_already_spent_counts_towards_the_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter.every(10.0, clock=clock, sleeper=clock.sleep)
    await limiter.acquire()
    clock.now += 7.0  # the request itself took 7 s
    waited = await limiter.acquire()
    assert waited == pytest.approx(3.0)
    assert clock.now == pytest.approx(10.0)


async def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, burst=3, clock=clock, sleeper=clock.sleep)
    times = []
    for _ in range(6):
        await limiter.acquire()
        times.append(clock.now)
    assert times == pytest.approx([0, 0, 0, 1, 2, 3])


async def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, burst=2, clock=clock, sleeper=clock.sleep)
    await limiter.acquire()
    await limiter.acquire()
    clock.now += 100.0  # a long pause must not bank 100 tokens
    times = []
    for _ in range(4):
        await limiter.acquire()
        times.append(clock.now)
    assert times == pytest.approx([100, 100, 101, 102])


async def test_concurrent_tasks_are_served_one_interval_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter.every(1.5, clock=clock, sleeper=clock.sleep)
    times: list[float] = []

    async def worker() -> None:
        await limiter.acquire()
        times.append(clock.now)

    await asyncio.gather(*(worker() for _ in range(6)))
    assert sorted(times) == pytest.approx([0, 1.5, 3.0, 4.5, 6.0, 7.5])
    assert limiter.wait_time() == pytest.approx(1.5)


def test_limiter_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="burst"):
        RateLimiter(1, burst=0)
    with pytest.raises(ValueError, match="interval"):
        RateLimiter.every(0)


async def test_instant_switch_makes_limiter_waits_free_but_still_planned() -> None:
    limiter = RateLimiter.every(3600.0)  # real monotonic clock, real pacing.sleep
    with pacing.instant():
        waits = await asyncio.wait_for(
            asyncio.gather(*(limiter.acquire() for _ in range(4))), timeout=5
        )
    assert sorted(waits)[0] == 0.0
    assert sorted(waits)[1:] == pytest.approx([3600.0] * 3, abs=1.0)


# --- the one sleeper -------------------------------------------------------------------------


async def test_instant_makes_sleep_return_at_once_and_restores() -> None:
    assert not pacing.is_instant()
    with pacing.instant():
        assert pacing.is_instant()
        await asyncio.wait_for(pacing.sleep(3600), timeout=5)
    assert not pacing.is_instant()


async def test_sleep_really_waits_when_not_instant() -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pacing.sleep(30), timeout=0.05)


async def test_instant_waits_fixture(instant_waits: None) -> None:
    await asyncio.wait_for(pacing.sleep(600), timeout=5)
