"""Job events reach a local webhook channel: filtered by kind, retried, redacted, after."""

from __future__ import annotations

import asyncio

import pytest
from tests.monitoring import LocalMonitor

from boxoffice.core import logging as bo_logging
from boxoffice.core import pacing
from boxoffice.core.events import Announcer, Event, Throttle, channels_for
from boxoffice.core.notify import WebhookChannel
from boxoffice.settings.notify import NotifyOverride, NotifySettings, heartbeat_url, merged

EVENT = Event("book", "failure", "book.lost", "no slot won", "best outcome: slot_taken")


def _announcer(url: str, **kw: object) -> Announcer:
    return Announcer([WebhookChannel(url)], **kw)  # type: ignore[arg-type]


def test_an_event_arrives_with_its_job_kind_and_fields(local_monitor: LocalMonitor) -> None:
    event = Event(
        "sync", "failure", "sync.dead_letters", "1 dead letter", "first: HTTP 410",
        fields={"dead": 1, "first_reason": "HTTP 410"},
    )  # fmt: skip
    asyncio.run(_announcer(local_monitor.webhook).send(event))
    (body,) = local_monitor.monitor.received()["notifications"]
    assert body["title"] == "1 dead letter"
    assert body["data"]["job"] == "sync"
    assert body["data"]["kind"] == "failure"
    assert body["data"]["fields"] == {"dead": 1, "first_reason": "HTTP 410"}


def test_kinds_not_in_on_are_not_sent_but_alerts_always_are(
    local_monitor: LocalMonitor,
) -> None:
    announcer = _announcer(local_monitor.webhook, on=["failure"])

    async def go() -> None:
        await announcer.send(Event("book", "success", "book.won", "won", ""))
        await announcer.send(Event("track", "alert", "track.price_alert", "cheap", ""))
        await announcer.send(EVENT)

    asyncio.run(go())
    assert local_monitor.monitor.events() == ["track.price_alert", "book.lost"]
    assert [e.name for e in announcer.skipped] == ["book.won"]


def test_default_on_is_success_and_failure() -> None:
    assert NotifySettings().on == ["success", "failure"]
    announcer = Announcer([])
    assert announcer.wants("success")
    assert announcer.wants("failure")
    assert not announcer.wants("info")
    assert not announcer.wants("warning")


def test_a_failing_channel_is_retried_with_backoff_then_delivered(
    local_monitor: LocalMonitor,
) -> None:
    local_monitor.monitor.fail_count = 2
    waits: list[float] = []
    real_sleep = pacing.sleep

    async def recording(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    announcer = _announcer(local_monitor.webhook)
    pacing_sleep = pacing.sleep
    pacing.sleep = recording  # type: ignore[assignment]
    try:
        (result,) = asyncio.run(announcer.send(EVENT))
    finally:
        pacing.sleep = pacing_sleep  # type: ignore[assignment]
    assert result.ok
    assert waits == [2.0, 4.0]
    assert local_monitor.monitor.received()["failed"] == 2
    assert local_monitor.monitor.events() == ["book.lost"]


def test_a_channel_failing_every_retry_is_reported(
    local_monitor: LocalMonitor, instant_waits: None
) -> None:
    local_monitor.monitor.fail_count = 10
    seen: list[str] = []
    announcer = _announcer(local_monitor.webhook, report=lambda e, r: seen.append(r.detail))
    (result,) = asyncio.run(announcer.send(EVENT))
    assert not result.ok
    assert local_monitor.monitor.received()["failed"] == 4  # first try + 3 retries
    assert "after 4 attempts" in result.detail
    assert announcer.failures
    assert seen == [result.detail]


def test_retry_delays_policy() -> None:
    assert pacing.notify_retry_delays(3) == [2.0, 4.0, 8.0]
    assert pacing.notify_retry_delays(6)[-1] == 30.0
    assert pacing.notify_retry_delays(0) == []
    with pytest.raises(ValueError, match="retries"):
        pacing.notify_retry_delays(-1)


def test_messages_carry_no_secret_and_no_cookie_value(local_monitor: LocalMonitor) -> None:
    bo_logging.add_secrets(["hunter2-password"])
    try:
        announcer = _announcer(local_monitor.webhook, secrets=["sessioncookievalue123"])
        event = Event(
            "watch", "failure", "watch.error", "stopped",
            "login hunter2-password failed; Cookie: pretix_session=abc123def; "
            "jar sessioncookievalue123",
            fields={"detail": "token hunter2-password"},
        )  # fmt: skip
        asyncio.run(announcer.send(event))
    finally:
        bo_logging.clear_secrets()
    (body,) = local_monitor.monitor.received()["notifications"]
    text = str(body)
    assert "hunter2-password" not in text
    assert "sessioncookievalue123" not in text
    assert "abc123def" not in text
    assert "***" in body["body"]


def test_soon_does_not_wait_for_a_slow_channel(local_monitor: LocalMonitor) -> None:
    class Slow:
        name = "slow"

        def __init__(self) -> None:
            self.release = asyncio.Event()
            self.done = False

        async def send(self, n: object) -> object:
            from boxoffice.core.notify import ChannelResult

            await self.release.wait()
            self.done = True
            return ChannelResult("slow", True, "ok")

    async def go() -> tuple[bool, bool]:
        slow = Slow()
        announcer = Announcer([slow])  # type: ignore[list-item]
        announcer.soon(EVENT)
        returned_before_delivery = not slow.done
        slow.release.set()
        await announcer.drain(timeout=5)
        return returned_before_delivery, slow.done

    assert asyncio.run(go()) == (True, True)


def test_throttle_lets_one_message_per_period() -> None:
    now = [1000.0]
    gate = Throttle(3600, clock=lambda: now[0])
    assert gate.allow()
    now[0] += 1800
    assert not gate.allow()
    now[0] += 1801
    assert gate.allow()


def test_notify_urls_http_is_a_webhook_else_apprise() -> None:
    chans = channels_for(
        NotifySettings(), extra=["https://hooks.example.org/x", "json://127.0.0.1:9/x"]
    )
    assert [type(c).__name__ for c in chans] == ["AppriseChannel", "WebhookChannel"]


def test_job_override_replaces_what_it_names() -> None:
    base = NotifySettings(webhook=["https://a.example/h"], on=["success", "failure"])
    job = NotifyOverride(on=["failure", "warning"], heartbeat="https://hc.example/ping/1")
    watch = NotifyOverride(webhook=["https://b.example/h"])
    out = merged(base, job, watch)
    assert out.webhook == ["https://b.example/h"]
    assert out.on == ["failure", "warning"]
    assert heartbeat_url(job, watch) == "https://hc.example/ping/1"
    assert base.on == ["success", "failure"]
