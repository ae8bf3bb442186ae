"""A booked3 simulator in its own process (as a real server would be), driven over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


@contextmanager
def booked3_process() -> Iterator[str]:
    """Serve the booked3 simulator from a child process; yields its base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        ports = Path(tmp) / "ports.json"
        proc = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", "-q", "sandbox", "--only", "booked3",
             "--ports-file", str(ports)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not ports.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox process did not start")
                time.sleep(0.05)
            yield str(json.loads(ports.read_text())["booked3"])
        finally:
            proc.terminate()
            proc.wait(10)


def control(base: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """Call the simulator's /_sandbox control surface."""
    if payload is None:
        return httpx.get(f"{base}/_sandbox/{path}").json()
    return httpx.post(f"{base}/_sandbox/{path}", json=payload).json()
