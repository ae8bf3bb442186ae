"""book: 32 create attempts against the booked3 simulator at 100 ms server latency.

Concurrent (32 in flight) vs sequential (1 in flight) wall time of the burst; every attempt
is refused (window not open) so all 32 are really sent. Goal: concurrent ≤ 0.3 s (the seed's
client took 3–5 s for 32). Also shown: the same burst against a PHP-like server that
processes one session's requests one at a time (width cannot help there; order does).

The simulator runs in its own process (as a real server would), so client and server do not
share one interpreter. Run: ``python -m bench book_burst``. Prints figures only.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import date, time, timedelta
from pathlib import Path

from bench._book_sandbox import booked3_process, control
from bench._results import record
from boxoffice.jobs.book.race import RacePlan, run_race
from boxoffice.jobs.book.session import SessionCache
from boxoffice.platforms.booked import Credentials, Slot, make_client
from boxoffice.sandbox import booked3 as sim

ZURICH = "Europe/Zurich"
# a week ahead: beyond the window (max_notice 0), so every attempt is refused and sent
SLOT = Slot.local(date.today() + timedelta(days=7), time(9), time(12), ZURICH)
LATENCY = 0.1
ATTEMPTS = 32


async def burst(url: str, concurrency: int, state: Path) -> float:
    client = make_client("booked3", url, timezone=ZURICH, max_connections=40)
    creds = Credentials(sim.DEFAULT_USERNAME, sim.DEFAULT_PASSWORD, sim.DEFAULT_TOTP_SECRET)
    plan = RacePlan(
        slot=SLOT,
        resources=list(range(231, 231 + ATTEMPTS)),
        timezone=ZURICH,
        concurrency=concurrency,
    )
    try:
        report = await run_race(
            client, plan, creds, SessionCache(state, "booked3", url, creds.username)
        )
    finally:
        await client.aclose()
    sent = [a for a in report.attempts if a.sent_at is not None]
    assert len(sent) == ATTEMPTS, f"only {len(sent)} attempts sent"
    return report.burst_ms / 1000


def measure(base: str, php_mode: bool, concurrency: int) -> float:
    control(base, "reset", {})
    # every attempt is refused (window not open), so all of them are sent
    control(base, "config", {"latency": LATENCY, "php_mode": php_mode, "max_notice": 0.0})
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(burst(base + "/Web", concurrency, Path(tmp)))


def main() -> None:
    with booked3_process() as base:
        concurrent = min(measure(base, False, ATTEMPTS) for _ in range(3))
        sequential = measure(base, False, 1)
        php = measure(base, True, ATTEMPTS)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{ATTEMPTS} attempts at {LATENCY * 1000:.0f} ms server latency (load {load})")
    print(f"  concurrent (32 in flight, best of 3): {concurrent:.3f} s   (goal ≤ 0.3 s)")
    print(f"  sequential (1 in flight):  {sequential:.3f} s")
    print(f"  speed-up:                  {sequential / concurrent:.1f}×")
    print(f"  PHP-like server (one session serialized), 32 in flight: {php:.3f} s")
    record(
        "book",
        f"{ATTEMPTS} attempts at {LATENCY * 1000:.0f} ms server latency, concurrent (best of 3)",
        concurrent,
        "s",
        goal="≤ 0.3 s",
        met=concurrent <= 0.3,
        baseline="the same attempts one at a time",
        ratio=sequential / concurrent,
    )


if __name__ == "__main__":
    main()
