"""Drive a Watcher against the simulator in-process, recording every planned wait."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.core import pacing
from boxoffice.core.http import CookieJar, HttpOptions, create_client
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.report import ListReporter
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import Watcher, WatchOutcome

BASE = "http://market.test"
EVENT = "demo/99x1"


class Sleeps:
    """Replaces pacing.sleep: records each wait, runs an optional hook, returns at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waits: list[float] = []
        self.hook: Callable[[float], None] | None = None
        self._real = pacing.sleep

        async def fake(seconds: float) -> None:
            self.waits.append(seconds)
            if self.hook is not None:
                self.hook(seconds)
            await self._real(0)

        monkeypatch.setattr(pacing, "sleep", fake)


def spec(**overrides: Any) -> WatchSpec:
    values: dict[str, Any] = {
        "name": "t",
        "url": BASE,
        "event": EVENT,
        "interval": 15.0,
        "jitter": 0.2,
        "max_polls": 20,
    }
    values.update(overrides)
    return WatchSpec(**values)


async def run_watch(
    app: Any,
    tmp_path: Path,
    *,
    base: str = BASE,
    configure: Callable[[Watcher], None] | None = None,
    options: HttpOptions | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> tuple[WatchOutcome, ListReporter, Watcher]:
    """Run one watch; over ``transport``, else an ASGI transport to ``app``, or over the
    network if app is None.

    Returns outcome, reporter, watcher.
    """
    reporter = ListReporter()
    jar = CookieJar()
    archiver = PageArchiver(tmp_path / "live-responses", limit=10)
    if transport is None and app is not None:
        transport = httpx.ASGITransport(app=app)
    async with create_client(transport=transport, cookies=jar, options=options) as http:
        watcher = Watcher(
            spec(url=base, **overrides),
            http,
            reporter,
            archiver,
            cookies=jar,
            rng=random.Random(1),
            max_unknown_pages=3,
        )
        if configure is not None:
            configure(watcher)
        outcome = await watcher.run()
    return outcome, reporter, watcher
