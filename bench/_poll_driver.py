"""One watching process for the poll bench: ``python -m bench._poll_driver KIND BASE SHAPE N``.

KIND ``boxoffice`` runs boxoffice's Watcher (whichever boxoffice is on the path: the working
tree, or the baseline commit's sources) over ``watch run``'s client, never buying (the
listings are above its max price); KIND ``plain`` is the plain-httpx script's poll loop.
Prints one JSON line: CPU ms per poll (after 100 warm-up polls) and the RSS at the end.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

WARM = 100


async def boxoffice(base: str, shape: str, polls: int) -> float:
    from bench._watch_sandbox import QuietReporter
    from boxoffice.core import pacing
    from boxoffice.core.http import CookieJar, MetricsRecorder, create_client
    from boxoffice.jobs.watch.archive import PageArchiver
    from boxoffice.jobs.watch.spec import WatchSpec
    from boxoffice.jobs.watch.watcher import Watcher

    jar = CookieJar()
    extra = (
        {"fast_http1": True} if "fast_http1" in inspect.signature(create_client).parameters else {}
    )
    marks: dict[int, float] = {}
    reporter = QuietReporter()

    def mark(n: int) -> None:
        if n in (WARM, polls):
            marks[n] = time.process_time()

    reporter.hook = mark
    with tempfile.TemporaryDirectory() as tmp:
        async with create_client(cookies=jar, metrics=MetricsRecorder(maxlen=64), **extra) as http:
            spec = WatchSpec(
                "cpu", base, f"{shape}/ev", interval=0.0, jitter=0.0, max_polls=polls, max_price=1
            )
            watcher = Watcher(spec, http, reporter, PageArchiver(Path(tmp), limit=50), cookies=jar)
            with pacing.instant():
                outcome = await watcher.run()
    if outcome.error is not None:
        raise SystemExit(f"watch failed: {outcome.error}")
    return (marks[polls] - marks[WARM]) / (polls - WARM) * 1000


async def plain(base: str, shape: str, polls: int) -> float:
    from bench._plain_watcher import parse

    url = f"{base}/{shape}/ev/secondhand/?sort=price_asc"
    async with httpx.AsyncClient(http2=True) as client:
        for n in range(polls):
            if n == WARM:
                started = time.process_time()
            page = await client.get(url)
            found = [x for x in parse(page.text, url) if float(x[0].strip("€")) <= 1]
            assert not found
            await asyncio.sleep(0)
    return (time.process_time() - started) / (polls - WARM) * 1000


def main() -> None:
    kind, base, shape, polls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    run = boxoffice if kind == "boxoffice" else plain
    cpu = asyncio.run(run(base, shape, polls))
    rss = psutil.Process().memory_info().rss / 2**20
    print(json.dumps({"cpu_ms": cpu, "rss_mib": rss}))


if __name__ == "__main__":
    main()
