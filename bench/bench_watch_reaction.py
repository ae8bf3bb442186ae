"""watch reaction time on loopback: the simulator serves the first page with a listing → the
simulator receives the cart POST (goal ≤ 5 ms median over 50 trials). The simulator runs in
its own process; both instants are taken there (time.perf_counter).

Run: ``python -m bench watch_reaction``. Prints figures only.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from pathlib import Path

import httpx

from bench._watch_sandbox import QuietReporter, marketplace_process
from boxoffice.core import pacing
from boxoffice.core.http import CookieJar, HttpOptions, create_client
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import Watcher

TRIALS = 50


async def trials(base: str, workdir: Path) -> tuple[list[float], list[float]]:
    server_ms: list[float] = []
    client_ms: list[float] = []
    jar = CookieJar()
    async with (
        httpx.AsyncClient(base_url=base) as control,
        create_client(options=HttpOptions(), cookies=jar) as http,
    ):
        for _ in range(TRIALS):
            await control.post("/_sandbox/reset")
            await control.post("/_sandbox/listings", json={"price": "95", "after_polls": 2})
            spec = WatchSpec("bench", base, "demo/99x1", interval=0.0, jitter=0.0, max_polls=10)
            watcher = Watcher(
                spec, http, QuietReporter(), PageArchiver(workdir, limit=0), cookies=jar
            )
            with pacing.instant():
                outcome = await watcher.run()
            if outcome.status != "carted":
                raise RuntimeError(f"trial did not cart: {outcome.error}")
            (listing,) = (await control.get("/_sandbox/state")).json()["listings"]
            server_ms.append((listing["buy_received_at"] - listing["first_served_at"]) * 1000)
            client_ms.append(outcome.reaction_ms or 0.0)
    return server_ms, client_ms


def main() -> None:
    with marketplace_process() as base, tempfile.TemporaryDirectory() as tmp:
        server_ms, client_ms = asyncio.run(trials(base, Path(tmp)))
    server_ms.sort()
    p10, p90 = server_ms[len(server_ms) // 10], server_ms[len(server_ms) * 9 // 10]
    print(f"trials                                  {len(server_ms)}")
    print(
        f"page with listing served → POST arrived {statistics.median(server_ms):.2f} ms median "
        f"(p10 {p10:.2f}, p90 {p90:.2f})   (goal ≤ 5 ms)"
    )
    print(
        f"client: page parsed → checkout reached  {statistics.median(client_ms):.2f} ms median "
        "(POST + 2 redirects)"
    )
    load = os.getloadavg()[0]
    print(f"machine load average (1 min)            {load:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
