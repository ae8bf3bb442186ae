"""Watch notices: filtered listings at most once an hour; the error notice names the page."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.monitoring import LocalMonitor

from boxoffice.core.events import Announcer
from boxoffice.core.notify import WebhookChannel
from boxoffice.errors import ProtocolError
from boxoffice.jobs.watch.notices import WatchNotices, error_event
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import WatchOutcome
from boxoffice.platforms.pretix.models import Listing

SPEC = WatchSpec(name="99x1", url="https://tickets.example.com", event="99x1")


def test_filtered_listings_are_sent_at_most_once_per_period(local_monitor: LocalMonitor) -> None:
    listing = Listing("VIP", "300.00", "EUR", "https://t.example/buy/1/", "csrf-token-value")
    announcer = Announcer([WebhookChannel(local_monitor.webhook)], on=["info"], retry_delays=[])
    notices = WatchNotices(SPEC, announcer, period=3600)

    async def go() -> None:
        for _ in range(5):
            notices("filtered", {"listings": [listing]})
        await announcer.drain(10)

    asyncio.run(go())
    assert local_monitor.monitor.events() == ["watch.filtered"]
    (body,) = local_monitor.bodies("watch.filtered")
    assert "VIP at 300.00 EUR" in str(body["body"])
    assert "csrf-token-value" not in str(body)


def test_filtered_is_off_by_default(local_monitor: LocalMonitor) -> None:
    announcer = Announcer([WebhookChannel(local_monitor.webhook)], retry_delays=[])
    notices = WatchNotices(SPEC, announcer)

    async def go() -> None:
        notices("filtered", {"listings": []})
        await announcer.drain(10)

    asyncio.run(go())
    assert local_monitor.monitor.events() == []


def test_error_event_names_what_happened_and_the_archived_page(tmp_path: Path) -> None:
    page = tmp_path / "20260801-marketplace_unknown.html"
    outcome = WatchOutcome(
        SPEC, "error", requests=21, polls=20,
        error=ProtocolError("20 unrecognised marketplace pages in a row", archived=page),
    )  # fmt: skip
    event = error_event(outcome)
    assert (event.kind, event.name) == ("failure", "watch.error")
    assert str(page) in event.body
    assert f"boxoffice watch parse {page}" in event.body
    assert event.fields["requests"] == 21
