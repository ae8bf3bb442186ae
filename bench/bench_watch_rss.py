"""watch memory: the RSS of a real ``boxoffice watch run`` process once it polls (goal
≤ 60 MiB: it loads nothing a watch never uses), the RSS growth of the watching process over
20,000 polls at interval 0 against the simulator (goal ≤ 5 MB), over ``watch run``'s client
(aiohttp's HTTP/1.1 wire), and the number of connections the polls used (goal: one). The
simulator runs in its own process; growth is measured from poll 1,000 (warm: connection,
caches, imports) to the last poll.

Run: ``python -m bench watch_rss`` (``BENCH_WATCH_POLLS=N`` for a shorter run).
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil

from bench._results import record
from bench._watch_sandbox import QuietReporter, marketplace_process
from boxoffice.core import pacing
from boxoffice.core.http import CookieJar, HttpOptions, MetricsRecorder, create_client
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import Watcher

POLLS = int(os.environ.get("BENCH_WATCH_POLLS", "20000"))
WARM = min(1000, POLLS // 4)
RSS_RUNS = 3  # `watch run` processes measured; the median is the figure
RSS_AFTER_POLLS = 20  # marketplace polls a `watch run` has made when its RSS is read


def marketplace_polls(base: str) -> int:
    """How many marketplace pages the simulator has served so far."""
    log = httpx.get(f"{base}/_sandbox/log", timeout=30).json()
    return sum(1 for r in log if "/secondhand/" in r["path"])


def watch_run_rss(base: str) -> float:
    """RSS (MiB) of a ``boxoffice watch run`` process after its first polls: started as a user
    would (headless, a price no listing meets), read once the simulator has served it
    ``RSS_AFTER_POLLS`` marketplace pages (the start-up is over: imports, settings, first
    responses, start-up memory handed back)."""
    before = marketplace_polls(base)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", "-q", "watch", "run", "--url", base,
             "--event", "demo/99x1", "--interval", "0.05", "--jitter", "0", "--max-price", "1",
             "--max-polls", "100000", "--headless", "--i-know-what-i-am-doing"],
            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while marketplace_polls(base) - before < RSS_AFTER_POLLS:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"watch run stopped or stalled (exit {proc.returncode})")
                time.sleep(0.1)
            return float(psutil.Process(proc.pid).memory_info().rss) / 2**20
        finally:
            proc.terminate()
            proc.wait(10)


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
        rss = [watch_run_rss(base) for _ in range(RSS_RUNS)]
        polls, warm, end, elapsed = asyncio.run(watch(base, Path(tmp)))
        per_connection = polls_per_connection(base)
    growth = (end - warm) / 2**20
    after_start = statistics.median(rss)
    shown = ", ".join(f"{v:.1f}" for v in rss)
    print(f"RSS of watch run after start  {after_start:.1f} MiB   (goal ≤ 60 MiB; runs: {shown})")
    record(
        "watch",
        f"RSS of `watch run` after {RSS_AFTER_POLLS} polls (median of {RSS_RUNS} processes)",
        after_start,
        "MiB",
        goal="≤ 60 MiB",
        met=after_start <= 60,
    )
    record(
        "watch",
        f"RSS growth over {polls:,} polls at interval 0",
        growth,
        "MB",
        goal="≤ 5 MB",
        met=growth <= 5,
    )
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
