"""RunLock: one holder at a time, the second learns who holds it, the lock dies with its holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from boxoffice.core.runlock import RunLock, read_holder
from boxoffice.errors import BusyError

HOLD = """
import sys, time
from pathlib import Path
from boxoffice.core.runlock import RunLock
lock = RunLock(Path(sys.argv[1]), "the test job")
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_second_holder_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "x.lock"
    first = RunLock(path, "sync push PROD evt → http://hook")
    first.acquire()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(BusyError) as info:
        RunLock(path, "sync push PROD evt → http://hook").acquire()
    line = info.value.one_line()
    assert f"held by pid {os.getpid()} on {socket.gethostname()} since 20" in line
    assert "sync push PROD evt → http://hook" in line
    assert "--wait" in line
    assert info.value.exit_code == 14
    first.release()
    with RunLock(path, "again") as second:
        assert second.held
        assert read_holder(path).what == "again"


def test_lock_dies_with_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(BusyError) as info:
            RunLock(path, "mine").acquire()
        assert f"pid {proc.pid}" in info.value.message
    finally:
        proc.kill()  # like kill -9: no cleanup runs in the holder
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    lock = RunLock(path, "mine")
    lock.acquire()  # free at once, nothing stale left behind
    assert read_holder(path).pid == os.getpid()
    lock.release()


def test_wait_blocks_until_the_holder_releases(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first = RunLock(path, "one")
    first.acquire()
    seen: list[int | None] = []
    got = threading.Event()

    def waiter() -> None:
        second = RunLock(path, "two")
        second.acquire(wait=True, on_wait=lambda holder: seen.append(holder.pid))
        got.set()
        second.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [os.getpid()]
    assert not got.is_set()
    first.release()
    thread.join(timeout=10)
    assert got.is_set()
