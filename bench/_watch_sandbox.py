"""Helpers for the watch benchmarks: the simulator in its own process, a silent reporter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from boxoffice.jobs.watch.report import Level, RequestLine


@contextmanager
def marketplace_process() -> Iterator[str]:
    """Serve the pretix-marketplace simulator from a separate process; yields its base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        ports = Path(tmp) / "ports.json"
        proc = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", "-q", "sandbox", "--only",
             "pretix-marketplace", "--ports-file", str(ports)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not ports.exists():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.05)
            yield str(json.loads(ports.read_text())["pretix-marketplace"])
        finally:
            proc.terminate()
            proc.wait(10)


class QuietReporter:
    """Counts requests; calls ``on_request(n)`` after each one."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors: list[str] = []
        self.hook = None

    def request(self, line: RequestLine) -> None:
        self.requests += 1
        if self.hook is not None:
            self.hook(self.requests)

    def event(self, watch: str, level: Level, text: str) -> None:
        if level == "error":
            self.errors.append(text)

    def status(self, watch: str, state: str, *, next_in: float | None = None) -> None:
        pass
