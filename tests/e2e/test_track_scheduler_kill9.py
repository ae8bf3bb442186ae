"""A scheduler killed with kill -9 while it holds claims: the restarted one takes them back at
once (same host, dead pid) instead of idling until the 15-minute lease ends."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e import track_scenarios

from boxoffice.sandbox import listings as listings_sim
from boxoffice.sandbox.server import SandboxServer


@pytest.fixture
def silent_proxy() -> Iterator[str]:
    """A proxy URL whose server accepts connections and never answers (a fetch hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def sandbox() -> Iterator[str]:
    server = SandboxServer({"listings": listings_sim.create_app(seed=5)})
    yield server.start()["listings"]
    server.stop()


def scheduler(db: Path, proxy: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "track", "start-scheduler", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BOXOFFICE_TRACK_PROXY_URL": proxy, "BOXOFFICE_TRACK_RETRIES": "0"},
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_restarted_scheduler_takes_back_the_claims_of_a_killed_one(
    tmp_path: Path, silent_proxy: str, sandbox: str
) -> None:
    db = tmp_path / "t.sqlite3"
    events = tmp_path / "events.csv"
    events.write_text(track_scenarios.HEADER + track_scenarios.ROWS)
    track_scenarios.ok("fetch-events", "--db", str(db), "--events", f"csv:{events}")
    first = scheduler(db, silent_proxy)
    try:
        claimed: list[tuple[object, ...]] = []
        for _ in range(300):  # the three due runs claimed, their fetches hanging
            claimed = query(db, "SELECT claimed_by FROM schedule WHERE claimed_by IS NOT NULL")
            if len(claimed) == 3 or first.poll() is not None:
                break
            time.sleep(0.05)
        assert len(claimed) == 3, first.communicate()[1]
        assert all(str(c[0]).startswith(f"{socket.gethostname()}:{first.pid}:") for c in claimed)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=30)
        for stream in (first.stdout, first.stderr):
            if stream is not None:
                stream.close()
    assert query(db, "SELECT count(*) FROM runs") == [(0,)]
    second = scheduler(db, sandbox)
    started = time.monotonic()
    runs = 0
    try:
        while time.monotonic() - started < 60 and second.poll() is None:
            runs = int(str(query(db, "SELECT count(*) FROM runs WHERE status = 'ok'")[0][0]))
            if runs == 3:
                break
            time.sleep(0.1)
        waited = time.monotonic() - started
    finally:
        second.send_signal(signal.SIGINT)
        out, err = second.communicate(timeout=30)
    assert runs == 3, err
    assert waited < 30, waited  # at once, not after the 15-minute lease (nor a poll of 60 s)
    assert "claims of a dead scheduler taken back" in err
    assert f":{first.pid}:" in err
    assert "scheduler stopped after 3 snapshot(s)" in out
