"""Scheduler: randomized intervals, persisted next runs, missed runs, concurrency, DB down."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from boxoffice.core import pacing
from boxoffice.errors import NetworkError, StorageError
from boxoffice.jobs.track.clock import SimulatedClock
from boxoffice.jobs.track.scheduler import ScheduleConfig, Scheduler, next_delay
from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store.sqlite import SqliteStore
from boxoffice.platforms.listings.models import FetchResult, Listing
from boxoffice.platforms.sheets.rows import EventRow

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = 3600.0


class FakeSource:
    """A listing source that counts calls and can fail the first N calls."""

    name = "proxy"

    def __init__(self, *, fail_first: int = 0, gate: asyncio.Event | None = None) -> None:
        self.calls: list[str] = []
        self.fail_first = fail_first
        self.gate = gate
        self.running = 0
        self.max_running = 0

    async def fetch(self, external_id: str) -> FetchResult:
        self.calls.append(external_id)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await pacing.sleep(0)
            if len(self.calls) <= self.fail_first:
                raise NetworkError("simulated outage")
            n = len(self.calls)
            return FetchResult(
                listings=[
                    Listing(f"{external_id}-{n}-{i}", "A", None, 1, 10.0 + i, "EUR")
                    for i in range(3)
                ]
            )
        finally:
            self.running -= 1


def make_store(tmp_path: Path, n: int = 3) -> SqliteStore:
    store = open_store(tmp_path / "s.sqlite3")
    assert isinstance(store, SqliteStore)
    rows = [EventRow(str(100 + i), f"E{i}", "V", "C", "UK", None, True) for i in range(n)]
    store.upsert_events(rows, now=T0)
    return store


CONFIG = ScheduleConfig(interval_hours=12, concurrency=2, poll_seconds=600, retries=0)


@pytest.mark.parametrize("strategy", ["uniform", "poisson", "normal"])
def test_next_delay_stays_in_the_factor_range(strategy: str) -> None:
    config = ScheduleConfig(interval_hours=12, min_factor=0.7, max_factor=1.3, strategy=strategy)  # type: ignore[arg-type]
    rng = random.Random(1)
    delays = [next_delay(config, rng) for _ in range(2000)]
    assert min(delays) >= 0.7 * 12 * HOUR - 1e-6
    assert max(delays) <= 1.3 * 12 * HOUR + 1e-6
    assert len({round(d) for d in delays}) > 100  # actually random


def test_uniform_covers_asymmetric_ranges() -> None:
    config = ScheduleConfig(interval_hours=10, min_factor=0.5, max_factor=1.1)
    rng = random.Random(2)
    delays = [next_delay(config, rng) / HOUR for _ in range(3000)]
    assert min(delays) == pytest.approx(5, abs=0.05)
    assert max(delays) == pytest.approx(11, abs=0.05)


async def test_runs_each_event_once_per_interval(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    source = FakeSource()
    clock = SimulatedClock(T0)
    sched = Scheduler(
        store, {"proxy": source}, CONFIG, clock=clock, rng=random.Random(1), worker="w"
    )
    await sched.run(until=T0 + timedelta(hours=1))
    assert sorted(source.calls) == ["100", "101", "102"]
    assert store.count_listings() == 9
    for event in store.events():
        assert event.next_run_at is not None
        delay = (event.next_run_at - T0).total_seconds() / HOUR
        assert 0.7 * 12 <= delay <= 1.3 * 12 + 0.1


async def test_restart_neither_doubles_nor_skips(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    source = FakeSource()
    clock = SimulatedClock(T0)
    await Scheduler(store, {"proxy": source}, CONFIG, clock=clock, worker="a").run(
        until=T0 + timedelta(hours=1)
    )
    assert len(source.calls) == 3
    # restart two hours later: nothing is due yet, nothing runs again
    clock.current = T0 + timedelta(hours=2)
    await Scheduler(store, {"proxy": source}, CONFIG, clock=clock, worker="b").run(
        until=T0 + timedelta(hours=3)
    )
    assert len(source.calls) == 3
    # by the end of the longest interval every event ran exactly once more
    clock.current = T0 + timedelta(hours=3)
    await Scheduler(store, {"proxy": source}, CONFIG, clock=clock, worker="c").run(
        until=T0 + timedelta(hours=1.3 * 12 + 0.5)
    )
    assert sorted(source.calls) == ["100", "100", "101", "101", "102", "102"]
    assert store.run_counts() == {e.event_id: 2 for e in store.events()}


async def test_a_missed_run_runs_once_on_start(tmp_path: Path) -> None:
    store = make_store(tmp_path, n=1)
    source = FakeSource()
    clock = SimulatedClock(T0)
    await Scheduler(store, {"proxy": source}, CONFIG, clock=clock).run(
        until=T0 + timedelta(minutes=1)
    )
    assert len(source.calls) == 1
    # the machine was off for three days: three intervals were missed
    clock.current = T0 + timedelta(days=3)
    await Scheduler(store, {"proxy": source}, CONFIG, clock=clock).run(
        until=T0 + timedelta(days=3, hours=1)
    )
    assert len(source.calls) == 2


async def test_concurrency_is_bounded(tmp_path: Path) -> None:
    store = make_store(tmp_path, n=6)
    gate = asyncio.Event()
    source = FakeSource(gate=gate)
    clock = SimulatedClock(T0)
    sched = Scheduler(store, {"proxy": source}, CONFIG, clock=clock)
    task = asyncio.create_task(sched.run(until=T0 + timedelta(minutes=1)))
    for _ in range(50):
        await asyncio.sleep(0)
    assert source.running == 2
    gate.set()
    await task
    assert source.max_running == 2
    assert len(source.calls) == 6


async def test_failed_fetch_is_logged_and_rescheduled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store(tmp_path, n=1)
    source = FakeSource(fail_first=10)
    clock = SimulatedClock(T0)
    report = await Scheduler(store, {"proxy": source}, CONFIG, clock=clock).run(
        until=T0 + timedelta(minutes=5)
    )
    assert [o.status for o in report.outcomes] == ["failed"]
    assert "simulated outage" in (report.outcomes[0].error or "")
    assert store.events()[0].next_run_at is not None
    assert store.events()[0].next_run_at > T0  # type: ignore[operator]


async def test_retries_with_backoff_then_succeeds(tmp_path: Path) -> None:
    store = make_store(tmp_path, n=1)
    source = FakeSource(fail_first=2)
    config = ScheduleConfig(interval_hours=12, retries=3, retry_base_seconds=1)
    with pacing.instant():
        report = await Scheduler(store, {"proxy": source}, config, clock=SimulatedClock(T0)).run(
            until=T0 + timedelta(minutes=1)
        )
    assert [o.status for o in report.outcomes] == ["ok"]
    assert len(source.calls) == 3


class FlakyStore:
    """Wraps a store; claim_due fails while ``down`` is set."""

    def __init__(self, inner: SqliteStore, down_for: int) -> None:
        self.inner = inner
        self.down_for = down_for

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def ensure_schedule(self, *, now: datetime) -> int:
        if self.down_for > 0:
            self.down_for -= 1
            raise StorageError("cannot connect to PostgreSQL db:5432/track: connection refused")
        return self.inner.ensure_schedule(now=now)


async def test_database_down_is_one_line_and_retried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FlakyStore(make_store(tmp_path, n=2), down_for=3)
    source = FakeSource()
    clock = SimulatedClock(T0)
    config = ScheduleConfig(interval_hours=12, db_retry_seconds=30, retries=0)
    report = await Scheduler(store, {"proxy": source}, config, clock=clock).run(  # type: ignore[arg-type]
        until=T0 + timedelta(minutes=5)
    )
    assert report.db_failures == 3
    assert len(source.calls) == 2  # ran once the database came back
    err = capsys.readouterr()
    lines = [line for line in (err.out + err.err).splitlines() if "database unavailable" in line]
    assert len(lines) == 3
    assert all("connection refused" in line for line in lines)
    assert "Traceback" not in err.out + err.err
