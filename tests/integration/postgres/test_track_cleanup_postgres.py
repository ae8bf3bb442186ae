"""track on a real PostgreSQL store: the cleanup emptiness guard, --delete, windows end at now."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e import track_scenarios

pytestmark = pytest.mark.postgres


def test_cleanup_refuses_an_empty_source_and_a_total_wipe_unless_forced(
    postgres_url: str, tmp_path: Path
) -> None:
    track_scenarios.empty_sheet_is_refused_unless_forced(postgres_url, tmp_path)


def test_cleanup_delete_removes_events_marked_untracked_earlier(
    postgres_url: str, tmp_path: Path
) -> None:
    track_scenarios.delete_after_mark_removes_already_untracked(postgres_url, tmp_path)


def test_history_windows_end_at_now_on_postgres(postgres_url: str) -> None:
    track_scenarios.history_window_ends_at_now(postgres_url)


@pytest.fixture
def dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # exited and reaped: the pid names no process
    return proc.pid


async def test_claims_of_a_dead_scheduler_are_taken_back_on_postgres(
    postgres_url: str, dead_pid: int
) -> None:
    import socket
    from datetime import UTC, datetime, timedelta

    from tests.unit.jobs.track.test_track_scheduler import CONFIG, FakeSource

    from boxoffice.jobs.track.clock import SimulatedClock
    from boxoffice.jobs.track.scheduler import Scheduler
    from boxoffice.jobs.track.store import open_store
    from boxoffice.platforms.sheets.rows import EventRow

    t0 = datetime.now(UTC)
    dead, live = f"{socket.gethostname()}:{dead_pid}:dead01", "elsewhere.example:1:abc"
    store = open_store(postgres_url)
    try:
        store.upsert_events(
            [EventRow(str(100 + i), f"E{i}", "V", "C", "UK", None, True) for i in range(3)],
            now=t0,
        )
        store.ensure_schedule(now=t0)
        lease = timedelta(minutes=15)
        assert len(store.claim_due(now=t0, limit=2, lease=lease, worker=dead)) == 2
        assert len(store.claim_due(now=t0, limit=1, lease=lease, worker=live)) == 1
        source = FakeSource()
        report = await Scheduler(
            store, {"proxy": source}, CONFIG, clock=SimulatedClock(t0), worker="new"
        ).run(until=t0 + timedelta(minutes=1))
        assert sorted(source.calls) == ["100", "101"]  # the dead one's, at once
        assert report.runs == 2
        assert [(c.viagogo_id, c.worker) for c in store.held_claims(now=t0)] == [("102", live)]
    finally:
        store.close()
