"""book: fire precision at the window instant, and connections opened after T0.

The booked3 simulator (in its own process) runs its clock 2.5 s ahead; each run starts the
race with ``at`` = 3 s ahead on the server's clock (login, availability, clock estimate and
warm-up all happen inside those 3 s). Figures: arrival of the first create at the server
relative to the server's T0 (goal |median| ≤ 10 ms over 10 runs), the error of the offset
estimate, and the number of new TCP connections the server sees after T0 (goal 0).

Run: ``python -m bench book_fire``. Prints figures only (~40 s).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bench._book_sandbox import booked3_process, control
from bench._results import record
from boxoffice.jobs.book.race import RacePlan, run_race
from boxoffice.jobs.book.session import SessionCache
from boxoffice.platforms.booked import Credentials, Slot, make_client
from boxoffice.sandbox import booked3 as sim

ZURICH = "Europe/Zurich"
SLOT = Slot.local(date.today() + timedelta(days=7), time(9), time(12), ZURICH)
RUNS = 10
SKEW = 2.5
AHEAD = 3.0


async def race(base: str, t0: float, state: Path) -> tuple[float, float]:
    client = make_client("booked3", base + "/Web", timezone=ZURICH)
    creds = Credentials(sim.DEFAULT_USERNAME, sim.DEFAULT_PASSWORD, sim.DEFAULT_TOTP_SECRET)
    plan = RacePlan(
        slot=SLOT,
        resources=list(range(231, 239)),
        timezone=ZURICH,
        at=datetime.fromtimestamp(t0, UTC),
        lead=60.0,
        warm_ahead=0.5,
    )
    cache = SessionCache(state, "booked3", base + "/Web", creds.username)
    try:
        report = await run_race(client, plan, creds, cache)
    finally:
        await client.aclose()
    offset_error = (report.estimate.offset - SKEW) * 1000 if report.estimate else float("nan")
    return offset_error, report.fire_lateness_ms or 0.0


def main() -> None:
    arrivals: list[float] = []
    new_conns: list[int] = []
    offset_errors: list[float] = []
    with booked3_process() as base, tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS):
            control(base, "reset", {})
            control(base, "config", {"clock_offset": SKEW})
            t0 = float(control(base, "state")["server_time"]) + AHEAD
            control(base, "config", {"max_notice": SLOT.start.timestamp() - t0})
            offset_error, _ = asyncio.run(race(base, t0, Path(tmp) / str(run)))
            log = control(base, "log")
            creates = [e for e in log if "action=create" in e["path"]]
            arrivals.append((creates[0]["t"] - t0) * 1000)
            new_conns.append(sum(1 for e in log if e["t"] >= t0 and e["new_connection"]))
            offset_errors.append(offset_error)
    print(f"{RUNS} runs, server clock {SKEW:+.1f} s, T0 {AHEAD:.0f} s ahead (load {_load()})")
    print("  first create vs server T0 (ms): " + ", ".join(f"{a:+.1f}" for a in arrivals))
    print(f"  median {statistics.median(arrivals):+.1f} ms   (goal |median| ≤ 10 ms)")
    print(f"  offset estimate error, median: {statistics.median(offset_errors):+.1f} ms")
    print(f"  new TCP connections after T0: {sum(new_conns)} in total   (goal 0)")
    median = statistics.median(arrivals)
    record(
        "book",
        f"fire precision: first create vs the server's T0 (clock {SKEW:+.1f} s, median of {RUNS})",
        median,
        "ms",
        goal="|median| ≤ 10 ms",
        met=abs(median) <= 10,
    )
    record(
        "book",
        "new TCP connections after T0",
        sum(new_conns),
        "",
        goal="0",
        met=sum(new_conns) == 0,
    )


def _load() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
