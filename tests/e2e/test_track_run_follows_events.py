"""`track run` follows the events CSV while it runs: an event added to the file is snapshotted
without a restart; the file emptied to its header is reported, not obeyed."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.e2e import track_scenarios

from boxoffice.sandbox import listings as listings_sim
from boxoffice.sandbox.server import SandboxServer

NEW = "Dua Lipa,O2 Arena,London,UK,2027-10-01 20:00:00,151000009,yes\n"


@pytest.fixture
def sandbox() -> Iterator[str]:
    server = SandboxServer({"listings": listings_sim.create_app(seed=9)})
    yield server.start()["listings"]
    server.stop()


def ok_runs(db: Path) -> set[str]:
    """viagogo ids with a successful snapshot run."""
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT DISTINCT e.viagogo_id FROM runs r JOIN events e USING (event_id) "
                "WHERE r.status = 'ok'"
            ).fetchall()
    except sqlite3.OperationalError:  # the store is still being created
        return set()
    return {str(r[0]) for r in rows}


def wait_for(check: Callable[[], bool], proc: subprocess.Popen[str], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_an_event_added_to_the_csv_while_running_is_snapshotted(
    tmp_path: Path, sandbox: str
) -> None:
    db, csv_file = tmp_path / "t.sqlite3", tmp_path / "events.csv"
    csv_file.write_text(track_scenarios.HEADER + track_scenarios.ROWS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "track", "run", "--db", str(db),
         "--events", f"csv:{csv_file}", "--events-refresh", "1s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BOXOFFICE_TRACK_PROXY_URL": sandbox, "BOXOFFICE_TRACK_RETRIES": "0"},
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    stderr = proc.stderr
    threading.Thread(target=lambda: [lines.put(x) for x in stderr], daemon=True).start()
    first = {"151000001", "151000002", "151000004"}
    try:
        assert wait_for(lambda: ok_runs(db) == first, proc, 60), ok_runs(db)
        with csv_file.open("a") as fh:  # the user adds a row while the scheduler runs
            fh.write(NEW)
        assert wait_for(lambda: "151000009" in ok_runs(db), proc, 60), ok_runs(db)
        csv_file.write_text(track_scenarios.HEADER)  # the sheet suddenly loses its rows
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("not obeyed" in x for x in seen):
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 130  # stopped by Ctrl-C (SIGINT)
    assert "re-read every 1 s" in out
    warning = [x for x in seen if "not obeyed" in x]
    assert warning, seen
    assert "returned no events" in warning[0]
    assert track_scenarios.stored(str(db)) == dict.fromkeys([*sorted(first), "151000009"], True)
