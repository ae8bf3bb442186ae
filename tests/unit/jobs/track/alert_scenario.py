"""A price-alert scenario over several scheduled snapshots, for every store backend."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from tests.monitoring import LocalMonitor

from boxoffice.core.events import Announcer
from boxoffice.core.notify import WebhookChannel
from boxoffice.errors import NetworkError
from boxoffice.jobs.track import alerts
from boxoffice.jobs.track.clock import SimulatedClock
from boxoffice.jobs.track.notices import TrackNotices
from boxoffice.jobs.track.scheduler import ScheduleConfig, Scheduler
from boxoffice.jobs.track.store import Store
from boxoffice.platforms.listings.models import FetchResult, Listing
from boxoffice.platforms.sheets.rows import EventRow

# derived from now (never today's calendar date), whole seconds as the stores keep them
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
HOURLY = ScheduleConfig(
    interval_hours=1, min_factor=1, max_factor=1, concurrency=1, poll_seconds=600, retries=0
)

#: cheapest price of each snapshot (plus a dearer one); None = the source fails
PRICES: list[float | None] = [120.0, 75.0, 70.0, 90.0, 60.0, None, None, None, 65.0]


class SequenceSource:
    """Returns the next snapshot of :data:`PRICES` on each fetch."""

    name = "proxy"

    def __init__(self, prices: list[float | None]) -> None:
        self.prices = list(prices)
        self.calls = 0

    async def fetch(self, external_id: str) -> FetchResult:
        price = self.prices[min(self.calls, len(self.prices) - 1)]
        self.calls += 1
        if price is None:
            raise NetworkError("simulated outage")
        return FetchResult(
            listings=[
                Listing(f"L{self.calls}a", "Floor A", "12", 2, price, "EUR"),
                Listing(f"L{self.calls}b", "Balcony", "3", 1, price + 40, "EUR"),
            ]
        )


def run_crossings(store: Store, monitor: LocalMonitor) -> None:
    """Snapshots hourly through :data:`PRICES`; an alert below 80 fires once per crossing."""
    store.upsert_events([EventRow("9001", "Grand Show", "Arena", "Town", "UK", None, True)], now=T0)
    _, alert = alerts.add_alert(store, "9001", 80, section="floor a", now=T0)
    _, never = alerts.add_alert(store, "9001", 80, quantity=4, now=T0)  # no listing has 4
    source = SequenceSource(PRICES)
    notices = TrackNotices(
        store, Announcer([WebhookChannel(monitor.webhook)], retry_delays=[]), threshold=3
    )
    clock = SimulatedClock(T0)
    scheduler = Scheduler(store, {"proxy": source}, HOURLY, clock=clock, rng=random.Random(1))
    scheduler.observer = notices

    async def go() -> None:
        await scheduler.run(until=T0 + timedelta(hours=len(PRICES) - 0.5))
        await notices.drain()

    asyncio.run(go())
    assert source.calls == len(PRICES)
    fired = monitor.bodies("track.price_alert")
    # 120 → 75 fires; 70 (still below) does not; 90 re-arms; 60 fires; after the outage the
    # alert is still disarmed (a failed snapshot says nothing), so 65 does not fire again
    assert [b["data"]["fields"]["price"] for b in fired] == [75.0, 60.0]  # type: ignore[index]
    first = fired[0]["data"]["fields"]  # type: ignore[index]
    assert first["event"] == "Grand Show"
    assert (first["section"], first["row"], first["currency"]) == ("Floor A", "12", "EUR")
    assert datetime.fromisoformat(first["captured_at"]) == T0 + timedelta(hours=1)
    assert "Grand Show" in str(fired[0]["body"])
    assert "75.00 EUR" in str(fired[0]["body"])
    kept = {a.alert_id: a for a in alerts.list_alerts(store)}
    assert kept[alert.alert_id].armed is False
    assert kept[alert.alert_id].last_price == 60.0
    assert kept[never.alert_id].armed is True
    # three failed snapshots in a row: one failing notice, then one recovered notice
    assert monitor.monitor.events().count("track.source_failing") == 1
    assert monitor.monitor.events()[-1] in ("track.source_recovered", "track.price_alert")
    assert "track.source_recovered" in monitor.monitor.events()
