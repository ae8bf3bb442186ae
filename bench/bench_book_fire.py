"""book: fire precision at the window instant, and connections opened after T0.

The booked3 simulator's clock runs 2.5 s ahead; the race gets ``--at`` = 3 s ahead on the
server's clock. Figure: arrival of the first create at the server relative to the server's
T0 (goal |median| ≤ 10 ms over 10 runs), and the number of new TCP connections the server
sees after T0 (goal 0: connections are warmed before T0).

Run: ``python -m bench book_fire``. Prints figures only (~35 s).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.unit.platforms.booked.booked_testkit import SLOT, ZURICH

from boxoffice.jobs.book.race import RacePlan, run_race
from boxoffice.jobs.book.session import SessionCache
from boxoffice.platforms.booked import Credentials, make_client
from boxoffice.sandbox import booked3 as sim
from boxoffice.sandbox.server import SandboxServer

RUNS = 10
SKEW = 2.5
AHEAD = 3.0


async def one_run(app: sim.Booked3App, url: str, state: Path) -> tuple[float, int, float]:
    world = app.world
    t0 = world.now() + AHEAD
    world.max_notice = SLOT.start.timestamp() - t0
    client = make_client("booked3", url, timezone=ZURICH)
    creds = Credentials(sim.DEFAULT_USERNAME, sim.DEFAULT_PASSWORD, sim.DEFAULT_TOTP_SECRET)
    plan = RacePlan(
        slot=SLOT,
        resources=list(range(231, 239)),
        timezone=ZURICH,
        at=datetime.fromtimestamp(t0, UTC),
        lead=60.0,
        warm_ahead=0.5,
    )
    try:
        report = await run_race(
            client, plan, creds, SessionCache(state, "booked3", url, creds.username)
        )
    finally:
        await client.aclose()
    creates = [e for e in world.log if "action=create" in e.path]
    new_after = sum(1 for e in world.log if e.t >= t0 and e.new_connection)
    offset_error = (report.estimate.offset - SKEW) * 1000 if report.estimate else float("nan")
    return (creates[0].t - t0) * 1000, new_after, offset_error


def main() -> None:
    arrivals: list[float] = []
    new_conns: list[int] = []
    offset_errors: list[float] = []
    app = sim.create_app()
    with SandboxServer({"b": app}) as urls, tempfile.TemporaryDirectory() as tmp:
        for _ in range(RUNS):
            app.reset()
            app.world.clock_offset = SKEW
            arrival, new_after, offset_error = asyncio.run(
                one_run(app, urls["b"] + "/Web", Path(tmp))
            )
            arrivals.append(arrival)
            new_conns.append(new_after)
            offset_errors.append(offset_error)
    print(f"{RUNS} runs, server clock {SKEW:+.1f} s, T0 {AHEAD:.0f} s ahead")
    print("  first create vs server T0 (ms): " + ", ".join(f"{a:+.1f}" for a in arrivals))
    print(f"  median {statistics.median(arrivals):+.1f} ms   (goal |median| ≤ 10 ms)")
    print(f"  offset estimate error median {statistics.median(offset_errors):+.1f} ms")
    print(f"  new TCP connections after T0: {sum(new_conns)} in total   (goal 0)")


if __name__ == "__main__":
    main()
