"""watch memory: RSS growth of the watching process over 20,000 polls at interval 0 against
the simulator (goal ≤ 5 MB), over ``watch run``'s client (aiohttp's HTTP/1.1 wire), and
the number of connections the polls used (goal: one). The simulator runs in its own process;
growth is measured from poll 1,000 (warm: connection, caches, imports) to the last poll.

Run: ``python -m bench watch_rss`` (``BENCH_WATCH_POLLS=N`` for a shorter run).
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil

from bench._watch_sandbox import QuietReporter, marketplace_process
from boxoffice.core import pacing
from boxoffice.core.http import CookieJar, HttpOptions, MetricsRecorder, create_client
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import Watcher

POLLS = int(os.environ.get("BENCH_WATCH_POLLS", "20000"))
WARM = min(1000, POLLS // 4)


async def watch(base: str, workdir: Path) -> tuple[int, int, int, float]:
    process = psutil.Process()
    samples: dict[str, int] = {}
    reporter = QuietReporter()

    def sample(n: int) -> None:
        if n == WARM:
            gc.collect()
            samples["warm"] = process.memory_info().rss

    reporter.hook = sample
    jar = CookieJar()
    started = time.perf_counter()
    async with create_client(
        options=HttpOptions(), cookies=jar, metrics=MetricsRecorder(maxlen=64), fast_http1=True
    ) as http:
        spec = WatchSpec("rss", base, "demo/99x1", interval=0.0, jitter=0.0, max_polls=POLLS + 1)
        watcher = Watcher(spec, http, reporter, PageArchiver(workdir, limit=50), cookies=jar)
        with pacing.instant():
            outcome = await watcher.run()
        elapsed = time.perf_counter() - started
        gc.collect()
        end = process.memory_info().rss
    if outcome.error is not None or reporter.errors:
        raise RuntimeError(f"watch failed: {outcome.error} {reporter.errors[:3]}")
    return outcome.polls, samples["warm"], end, elapsed


def polls_per_connection(base: str) -> int:
    """The most marketplace polls one connection carried, among the latest the simulator
    logged (its server ends a connection after 1,000 requests: that many is one connection
    reused until the server closed it)."""
    log = httpx.get(f"{base}/_sandbox/log", timeout=30).json()
    ports = Counter(r["client_port"] for r in log if "/secondhand/" in r["path"])
    return max(ports.values())


def main() -> None:
    with marketplace_process() as base, tempfile.TemporaryDirectory() as tmp:
        polls, warm, end, elapsed = asyncio.run(watch(base, Path(tmp)))
        per_connection = polls_per_connection(base)
    growth = (end - warm) / 2**20
    print(f"polls                         {polls} at interval 0 ({polls / elapsed:.0f} polls/s)")
    print(f"RSS after {WARM} polls          {warm / 2**20:.1f} MB")
    print(f"RSS after {polls} polls        {end / 2**20:.1f} MB")
    print(f"growth                        {growth:+.2f} MB   (goal ≤ 5 MB)")
    print(
        f"polls on one connection       {per_connection}   (goal: 1000, the server's limit "
        "per connection)"
    )


if __name__ == "__main__":
    main()
