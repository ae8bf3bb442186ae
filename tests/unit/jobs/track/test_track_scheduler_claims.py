"""Claims of a scheduler that died on this host are taken back at once; others are logged."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from tests.unit.jobs.track.test_track_scheduler import CONFIG, T0, FakeSource, make_store

from boxoffice.jobs.track.clock import SimulatedClock
from boxoffice.jobs.track.scheduler import Scheduler, process_alive, worker_process

LEASE = timedelta(minutes=15)


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # exited and reaped: the pid names no process
    return proc.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_worker_ids_carry_host_and_pid() -> None:
    assert worker_process("box-1.lan:4242:a1b2c3") == ("box-1.lan", 4242)
    assert worker_process("demo") is None
    assert worker_process("host:0:abc") is None


def test_a_zombie_or_missing_process_is_dead(dead_pid: int, live_pid: int) -> None:
    assert not process_alive(dead_pid)
    assert process_alive(live_pid)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # exited, not reaped yet
            with open(f"/proc/{zombie.pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[-1].split()[0] == "Z":
                    break
            import time

            time.sleep(0.01)
        assert not process_alive(zombie.pid)
    finally:
        zombie.wait()


async def test_claims_of_a_dead_scheduler_on_this_host_are_taken_back_at_once(
    tmp_path: Path, dead_pid: int
) -> None:
    store = make_store(tmp_path)
    store.ensure_schedule(now=T0)
    dead = f"{socket.gethostname()}:{dead_pid}:dead01"
    assert len(store.claim_due(now=T0, limit=10, lease=LEASE, worker=dead)) == 3
    source = FakeSource()
    with capture_logs() as logs:
        report = await Scheduler(
            store, {"proxy": source}, CONFIG, clock=SimulatedClock(T0), worker="new"
        ).run(until=T0 + timedelta(minutes=1))
    assert report.runs == 3  # within the minute, not after the 15-minute lease
    assert sorted(source.calls) == ["100", "101", "102"]
    taken = [e for e in logs if e["event"] == "claims of a dead scheduler taken back"]
    assert [(e["worker"], e["events"], e["released"]) for e in taken] == [(dead, "100,101,102", 3)]


@pytest.mark.parametrize("where", ["live on this host", "another host"])
async def test_claims_of_a_live_or_remote_scheduler_are_kept_and_logged(
    tmp_path: Path, live_pid: int, where: str
) -> None:
    store = make_store(tmp_path)
    host = socket.gethostname() if where == "live on this host" else "elsewhere.example"
    holder = f"{host}:{live_pid}:abc123"
    store.ensure_schedule(now=T0)
    store.claim_due(now=T0, limit=2, lease=LEASE, worker=holder)
    source = FakeSource()
    with capture_logs() as logs:
        report = await Scheduler(
            store, {"proxy": source}, CONFIG, clock=SimulatedClock(T0), worker="new"
        ).run(until=T0 + timedelta(minutes=1))
    assert source.calls == ["102"]  # only the unclaimed one
    assert report.runs == 1
    held = [e for e in logs if e["event"] == "runs held by another scheduler"]
    assert [(e["worker"], e["events"], e["until"]) for e in held] == [
        (holder, "100,101", (T0 + LEASE).isoformat())
    ]
    assert not [e for e in logs if "taken back" in e["event"]]
    assert len(store.held_claims(now=T0)) == 2
