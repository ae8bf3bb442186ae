"""sync push pacing accuracy at --interval 0.05 over 200 tickets (goal: mean within ±5 %).

Deliveries go to an instant in-process receiver that timestamps each POST; the vivenu side is
the simulator (in-process ASGI). Real sleeps (no instant mode): this measures the core limiter.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._results import record
from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger
from boxoffice.jobs.sync.push import PushConfig, run_push
from boxoffice.jobs.sync.regions import Region, Target
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu

INTERVAL = 0.05
COUNT = 200
EVENT = "pace00000000000000000200"


async def measure(tmp: Path, burst: int) -> list[float]:
    stamps: list[float] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        stamps.append(time.perf_counter())
        return httpx.Response(200, json={"ok": True})

    app = vivenu.create_app(seed=0)
    app.state.vivenu.events[EVENT] = COUNT
    cfg = PushConfig(
        region=Region("BENCH", "BENCH_API", vivenu.DEFAULT_KEY, "http://vivenu.sim", EVENT),
        event=EVENT,
        target=Target("bench", "http://receiver.sim/hook"),
        secret="bench",
        ticket_filter=TicketFilter([], ""),
        interval=INTERVAL,
        burst=burst,
    )
    ledger = Ledger(tmp / "ledger.sqlite3")
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as vhttp,
            httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as whttp,
        ):
            tickets = TicketsClient(vhttp, cfg.region.base_url, vivenu.DEFAULT_KEY)
            await run_push(cfg, tickets=tickets, webhook=whttp, ledger=ledger, spool_dir=tmp)
    finally:
        ledger.close()
    return [b - a for a, b in itertools.pairwise(stamps)]


def main() -> int:
    ok = True
    for burst in (1, 2):
        with tempfile.TemporaryDirectory(prefix="bench-sync-pace-") as name:
            gaps = asyncio.run(measure(Path(name), burst))
        mean = statistics.fmean(gaps)
        error = (mean - INTERVAL) / INTERVAL * 100
        ordered = sorted(gaps)
        p50, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
        verdict = "met" if abs(error) <= 5 else "MISSED"
        ok = ok and abs(error) <= 5
        record(
            "sync",
            f"pacing error of the mean gap at --interval {INTERVAL} (burst {burst})",
            error,
            "%",
            goal="±5 %",
            met=abs(error) <= 5,
        )
        print(
            f"burst {burst}: {len(gaps) + 1} deliveries at --interval {INTERVAL}: "
            f"mean gap {mean * 1000:.2f} ms, error {error:+.2f} % (goal ±5 %: {verdict})"
        )
        print(
            f"  p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, "
            f"min {ordered[0] * 1000:.2f} ms, max {ordered[-1] * 1000:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
