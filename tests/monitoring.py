"""A local notification inbox and heartbeat monitor (the sandbox monitor app on 127.0.0.1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from boxoffice.sandbox import monitor as monitor_app
from boxoffice.sandbox.server import SandboxServer


@dataclass
class LocalMonitor:
    """URLs of the running monitor and its recorded state."""

    base: str
    monitor: monitor_app.Monitor

    @property
    def webhook(self) -> str:
        """A JSON webhook channel URL."""
        return f"{self.base}/hooks/boxoffice"

    def heartbeat(self, check: str = "4f0c2a") -> str:
        """A healthchecks-style ping URL."""
        return f"{self.base}/ping/{check}"

    def wait_for(self, count: int, *, pings: bool = False, timeout: float = 10.0) -> None:
        """Wait until ``count`` notifications (or pings) arrived (the server is a thread)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.monitor.received()["pings" if pings else "notifications"]
            if len(got) >= count:
                return
            time.sleep(0.02)

    def bodies(self, event: str) -> list[dict[str, object]]:
        """The notifications of one event name."""
        return [
            b
            for b in self.monitor.received()["notifications"]
            if isinstance(b, dict) and (b.get("data") or {}).get("event") == event
        ]


@pytest.fixture
def local_monitor() -> Iterator[LocalMonitor]:
    """Serve the monitor app on 127.0.0.1 for one test."""
    app = monitor_app.create_app()
    with SandboxServer({"monitor": app}) as urls:
        yield LocalMonitor(urls["monitor"], app.state.monitor)
