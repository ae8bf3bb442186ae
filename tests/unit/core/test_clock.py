"""Clock offset estimation (fake clock + MockTransport, and a real skewed server) and wait_until."""

from __future__ import annotations

import asyncio
import email.utils
import math
import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boxoffice.core import pacing
from boxoffice.core.clock import (
    ClockEstimate,
    Probe,
    combine,
    estimate_offset,
    merge,
    parse_http_date,
    wait_until,
)
from boxoffice.errors import NetworkError, ProtocolError


class FakeClock:
    """Local time that only moves when the fake network or the fake waiter moves it."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def wait(self, t: float) -> None:
        for _ in range(5):  # let probes already fired run before time moves on
            await asyncio.sleep(0)
        self.now = max(self.now, t)


class FakeServer:
    """A server whose clock is ``offset`` ahead; stamps Date ``pre`` s after the request left
    and answers ``post`` s later (asymmetric when pre != post). ``rng`` adds RTT noise."""

    def __init__(
        self,
        clock: FakeClock,
        offset: float,
        *,
        pre: float = 0.001,
        post: float = 0.004,
        rng: random.Random | None = None,
        date: bool = True,
    ) -> None:
        self.clock, self.offset, self.pre, self.post = clock, offset, pre, post
        self.rng = rng
        self.date = date
        self.requests = 0
        self.stamps: list[float] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        noise = self.rng.uniform(0, 0.01) if self.rng else 0.0
        self.clock.now += self.pre + noise / 2
        server_time = self.clock.now + self.offset
        self.stamps.append(server_time)
        self.clock.now += self.post + noise / 2
        headers = {"Date": email.utils.formatdate(server_time, usegmt=True)} if self.date else {}
        return httpx.Response(200, headers=headers)


def run_fake(
    offset: float, start: float, **kwargs: object
) -> tuple[ClockEstimate, FakeServer, float]:
    clock = FakeClock(start)
    server_kwargs = {k: kwargs.pop(k) for k in ("pre", "post", "rng", "date") if k in kwargs}
    server = FakeServer(clock, offset, **server_kwargs)  # type: ignore[arg-type]

    async def main() -> ClockEstimate:
        transport = httpx.MockTransport(server.handler)
        async with httpx.AsyncClient(transport=transport) as client:
            return await estimate_offset(
                client,
                "http://clock.test/",
                clock=clock,
                waiter=clock.wait,
                **kwargs,  # type: ignore[arg-type]
            )

    estimate = asyncio.run(main())
    return estimate, server, clock.now - start


@settings(max_examples=40, deadline=None)
@given(
    offset=st.floats(min_value=-5000, max_value=5000, allow_nan=False),
    phase=st.floats(min_value=0, max_value=0.999),
    post=st.floats(min_value=0.0005, max_value=0.02),
)
def test_fake_offset_is_found_within_its_uncertainty(
    offset: float, phase: float, post: float
) -> None:
    estimate, server, elapsed = run_fake(offset, 1_700_000_000 + phase, post=post)
    assert abs(estimate.offset - offset) <= estimate.uncertainty + 1e-6
    # The bracket is set by the RTT and the spacing, not by the 1 s Date resolution.
    assert estimate.uncertainty <= (0.001 + post) + 0.005
    assert server.requests == estimate.samples <= 41
    assert elapsed < 2.5


def test_fake_asymmetric_delay_skew_plus_2_5s_within_5ms() -> None:
    estimate, _, _ = run_fake(2.5, 1_700_000_000.37, pre=0.0005, post=0.004)
    assert estimate.offset == pytest.approx(2.5, abs=0.005)
    assert estimate.server_time(100.0) == pytest.approx(102.5, abs=0.005)
    assert estimate.local_time(estimate.server_time(100.0)) == pytest.approx(100.0)
    assert 0 < estimate.rtt < 0.01


def test_more_passes_tighten_the_bracket_under_rtt_noise() -> None:
    one, _, _ = run_fake(-1.25, 1_700_000_000.8, rng=random.Random(7))
    three, _, t3 = run_fake(-1.25, 1_700_000_000.8, rng=random.Random(7), passes=3, max_probes=90)
    assert abs(three.offset + 1.25) <= three.uncertainty + 1e-6
    assert three.uncertainty < one.uncertainty
    assert three.samples > one.samples
    assert t3 < 1.5 + 3


def test_probe_budget_is_respected() -> None:
    estimate, server, _ = run_fake(0.3, 1_700_000_000.05, max_probes=12)
    assert server.requests <= 13
    assert abs(estimate.offset - 0.3) <= estimate.uncertainty + 1e-6


def test_missing_date_header_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="no usable Date header"):
        run_fake(1.0, 1_700_000_000.0, date=False)


def test_unparseable_date_is_a_protocol_error() -> None:
    async def main() -> None:
        transport = httpx.MockTransport(lambda r: httpx.Response(200, headers={"Date": "soon"}))
        async with httpx.AsyncClient(transport=transport) as client:
            await estimate_offset(client, "http://clock.test/")

    with pytest.raises(ProtocolError, match="no usable Date header"):
        asyncio.run(main())


def test_unreachable_server_is_a_network_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            await estimate_offset(client, "http://clock.test/")

    with pytest.raises(NetworkError, match=r"clock probe HEAD http://clock\.test/"):
        asyncio.run(main())


def test_contradicting_dates_are_reported() -> None:
    # Sent/received in the same instant, but the server says 10 s, then 5 s: its clock stepped.
    probes = [Probe(100.0, 100.01, 110), Probe(100.02, 100.03, 105)]
    with pytest.raises(ProtocolError, match="contradict"):
        combine(probes)


def test_tightest_bracketing_pair_sets_the_estimate() -> None:
    # Date ticks from 1000 to 1001 between the stamps of the last two probes.
    probes = [
        Probe(900.0, 900.2, 1000),  # coarse
        Probe(900.500, 900.504, 1000),  # last showing S
        Probe(900.506, 900.510, 1001),  # first showing S+1
        Probe(900.600, 900.700, 1001),  # slow, adds nothing
    ]
    est = combine(probes)
    # tick in [900.500, 900.510] local → offset in [1001 − 900.510, 1001 − 900.500]
    assert est.offset == pytest.approx(1001 - 900.505)
    assert est.uncertainty == pytest.approx(0.005)
    assert est.rtt == pytest.approx(0.004)
    assert est.samples == 4


def test_merge_intersects_hard_bounds() -> None:
    a = ClockEstimate(offset=2.500, uncertainty=0.006, samples=20, rtt=0.004)  # [2.494, 2.506]
    b = ClockEstimate(offset=2.503, uncertainty=0.005, samples=25, rtt=0.003)  # [2.498, 2.508]
    m = merge([a, b])
    assert m.offset == pytest.approx(2.502)
    assert m.uncertainty == pytest.approx(0.004)
    assert m.samples == 45
    with pytest.raises(ProtocolError, match="do not overlap"):
        merge([a, ClockEstimate(offset=3.0, uncertainty=0.001, samples=1, rtt=0.001)])


def test_parse_http_date() -> None:
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert parse_http_date(None) is None
    assert parse_http_date("yesterday") is None
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37") is None  # no zone: unusable


# --- a real server whose Date is 2.5 s ahead and which answers 3 ms after stamping ---------

SKEWED_SERVER = textwrap.dedent(
    """
    import asyncio, email.utils, sys, time
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from boxoffice.sandbox.server import SandboxServer

    async def home(request):
        date = email.utils.formatdate(time.time() + 2.5, usegmt=True)
        await asyncio.sleep(0.003)  # asymmetric: stamped early, answered late
        return Response(b"", headers={"Date": date})

    app = Starlette(routes=[Route("/", home)])
    with SandboxServer({"skewed": app}, include_date_header=False) as urls:
        print(urls["skewed"], flush=True)
        sys.stdin.read()  # serve until the test closes our stdin
    """
)


@pytest.fixture(scope="module")
def skewed_url() -> Iterator[str]:
    """The skewed server in its own process, so it does not share our GIL and event loop."""
    src = str(Path(__file__).resolve().parents[3] / "src")
    proc = subprocess.Popen(
        [sys.executable, "-c", SKEWED_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    url = proc.stdout.readline().strip()
    try:
        assert url.startswith("http://127.0.0.1:"), "skewed server did not start"
        yield url + "/"
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


async def test_real_server_skewed_by_2_5s_is_measured_within_5ms(skewed_url: str) -> None:
    estimates: list[ClockEstimate] = []
    async with httpx.AsyncClient() as client:
        # A loaded machine blurs some brackets (RTT spikes); each estimate is a hard bound, so
        # merging them keeps the clean ones. Usually one attempt is enough.
        for _ in range(5):
            estimates.append(await estimate_offset(client, skewed_url, passes=2, max_probes=70))
            if merge(estimates).uncertainty <= 0.004:
                break
    best = merge(estimates)
    assert best.uncertainty <= min(e.uncertainty for e in estimates)
    assert best.offset == pytest.approx(2.5, abs=0.005), estimates
    # The bound is honest: the true offset is inside offset ± uncertainty for every estimate.
    for estimate in estimates:
        assert abs(estimate.offset - 2.5) <= estimate.uncertainty + 1e-4, estimate


async def test_real_server_get_method(skewed_url: str) -> None:
    async with httpx.AsyncClient() as client:
        estimate = await estimate_offset(client, skewed_url, method="GET", max_probes=30)
    assert math.isclose(estimate.offset, 2.5, abs_tol=estimate.uncertainty + 1e-4)
    assert estimate.uncertainty < 0.1


# --- wait_until ------------------------------------------------------------------------------


class TickingClock:
    """A clock that advances ``tick`` s per reading; ``sleep`` wakes ``late`` s late."""

    def __init__(self, start: float, tick: float = 0.00005, late: float = 0.0015) -> None:
        self.now = start
        self.tick = tick
        self.late = late
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        self.now += self.tick
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.late


async def test_wait_until_sleeps_then_spins_to_within_1ms() -> None:
    clock = TickingClock(1000.0)
    lateness = await wait_until(1001.0, clock=clock, sleep=clock.sleep)
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] == pytest.approx(1.0 - 0.002, abs=0.001)
    assert 0 <= lateness < 0.001
    assert clock.now >= 1001.0


async def test_wait_until_never_wakes_early_even_if_sleep_is_early() -> None:
    clock = TickingClock(50.0, late=-0.0019)  # the sleep returns too soon
    lateness = await wait_until(50.5, clock=clock, sleep=clock.sleep)
    assert clock.now >= 50.5
    assert 0 <= lateness < 0.001


async def test_wait_until_in_the_past_returns_at_once() -> None:
    clock = TickingClock(10.0)
    lateness = await wait_until(9.0, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []
    assert lateness == pytest.approx(1.0, abs=0.001)


async def test_wait_until_is_instant_under_pacing_instant() -> None:
    clock = TickingClock(0.0)
    with pacing.instant():
        lateness = await wait_until(3600.0, clock=clock, sleep=clock.sleep)
    assert lateness == 0.0
    assert clock.sleeps == []
    assert clock.now < 1.0
