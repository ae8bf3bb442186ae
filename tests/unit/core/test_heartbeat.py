"""Heartbeats reach a local push monitor: /start, success pings each interval, /fail."""

from __future__ import annotations

import asyncio

import pytest
from tests.monitoring import LocalMonitor

from boxoffice.core import pacing
from boxoffice.core.heartbeat import Heartbeat, guarded, ping_request
from boxoffice.errors import ProtocolError


def test_start_then_periodic_pings_then_success(local_monitor: LocalMonitor) -> None:
    hb = Heartbeat(local_monitor.heartbeat("abc"), interval=0.05)

    async def go() -> None:
        async with hb:
            await asyncio.sleep(0.3)

    asyncio.run(go())
    kinds = local_monitor.monitor.ping_kinds("abc")
    assert kinds[0] == "start"
    assert kinds.count("success") >= 3  # periodic pings plus the final one
    assert "fail" not in kinds


def test_a_fatal_error_pings_fail_with_the_reason(local_monitor: LocalMonitor) -> None:
    hb = Heartbeat(local_monitor.heartbeat("abc"), interval=60)

    async def go() -> None:
        async with hb:
            raise ProtocolError("20 unrecognised marketplace pages in a row")

    with pytest.raises(ProtocolError):
        asyncio.run(go())
    pings = local_monitor.monitor.received()["pings"]
    assert [p["kind"] for p in pings] == ["start", "fail"]
    assert "unrecognised marketplace pages" in pings[-1]["body"]


def test_guarded_fails_on_a_result_that_names_a_reason(local_monitor: LocalMonitor) -> None:
    hb = Heartbeat(local_monitor.heartbeat("g"), interval=60)

    async def work() -> str:
        return "bad"

    out = asyncio.run(guarded(hb, work(), failure=lambda r: "it went bad" if r == "bad" else None))
    assert out == "bad"
    assert local_monitor.monitor.ping_kinds("g") == ["start", "fail"]


def test_an_unreachable_monitor_never_breaks_the_job(instant_waits: None) -> None:
    hb = Heartbeat("http://127.0.0.1:9/ping/x", interval=60, timeout=0.5)

    async def go() -> int:
        async with hb:
            return 42

    assert asyncio.run(go()) == 42
    assert hb.pings
    assert not any(p.ok for p in hb.pings)


def test_kuma_push_urls_use_status_parameters(local_monitor: LocalMonitor) -> None:
    url = f"{local_monitor.base}/api/push/tok123?ping="
    assert ping_request(url, "fail", "boom")[1].endswith("status=down&msg=boom")
    hb = Heartbeat(url, interval=60)

    async def go() -> None:
        hb.start()
        await hb.fail("boom")

    asyncio.run(go())
    pings = local_monitor.monitor.received()["pings"]
    assert [p["kind"] for p in pings] == ["success", "fail"]
    assert pings[-1]["body"] == "boom"


def test_ping_urls_follow_the_healthchecks_convention() -> None:
    base = "https://hc-ping.com/5f1e"
    assert ping_request(base, "start") == ("GET", base + "/start", None)
    assert ping_request(base + "/", "success") == ("GET", base, None)
    assert ping_request(base, "fail", "why") == ("POST", base + "/fail", b"why")


def test_heartbeat_wait_policy() -> None:
    assert pacing.heartbeat_wait(60, 10) == 50
    assert pacing.heartbeat_wait(60, 90) == 0
