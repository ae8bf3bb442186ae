"""Demo step for `book`: a skewed-clock sandbox, a window opening in ~3 s, the race at T0.

The booked3 simulator runs with its clock 2.5 s ahead, 5 ms latency per request and no lock
(so two attempts can both succeed and the surplus must be released). The job logs in with
password + TOTP ahead of time, measures the offset, warms connections, fires at the server's
T0 and keeps the most preferred win.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from rich.console import Console

from boxoffice.jobs.book.race import RacePlan, run_race
from boxoffice.jobs.book.report import render
from boxoffice.jobs.book.session import SessionCache
from boxoffice.platforms.booked import Credentials, Slot, make_client
from boxoffice.platforms.booked.models import zone
from boxoffice.sandbox import booked3 as sim
from boxoffice.sandbox.server import SandboxServer

SKEW = 2.5
OPENS_IN = 3.5
TIMEZONE = "Europe/Zurich"
SLOT_DAYS_AHEAD = 30  # the slot raced for: a morning a month from today


async def run(console: Console, workdir: Path) -> dict[str, Any]:
    """Race for desk 238 (then 239, then the rest of 231–240) at a window opening in ~3 s."""
    app = sim.create_app()
    world = app.world
    world.clock_offset, world.latency, world.no_lock = SKEW, 0.005, True
    day = datetime.now(zone(TIMEZONE)).date() + timedelta(days=SLOT_DAYS_AHEAD)
    slot = Slot.local(day, dtime(9, 0), dtime(12, 0), TIMEZONE)
    with SandboxServer({"booked3": app}, include_date_header=False) as urls:
        t0 = world.now() + OPENS_IN
        world.max_notice = slot.start.timestamp() - t0  # the window opens at server time t0
        base = urls["booked3"] + "/Web"
        console.print(
            f"booked3 sandbox at {base}: server clock {SKEW:+.1f} s ahead, "
            f"window opens at server {datetime.fromtimestamp(t0, UTC):%H:%M:%S.%f} UTC"
        )
        client = make_client("booked3", base, timezone=TIMEZONE)
        plan = RacePlan(
            slot=slot,
            resources=list(range(231, 241)),
            prefer=[238, 239],
            timezone=TIMEZONE,
            at=datetime.fromtimestamp(t0, UTC),
            concurrency=2,  # two in flight: both win on the lock-free server, one is released
            lead=10.0,  # prepare at once (the sandbox window opens in seconds)
            warm_ahead=0.3,
        )
        creds = Credentials(sim.DEFAULT_USERNAME, sim.DEFAULT_PASSWORD, sim.DEFAULT_TOTP_SECRET)
        cache = SessionCache(workdir / "state", "booked3", base, creds.username)
        try:
            report = await run_race(
                client, plan, creds, cache, say=lambda s: console.print(f"[dim]· {s}[/]")
            )
        finally:
            await client.aclose()
        creates = [e for e in world.log if "action=create" in e.path]
    render(console, report)
    fire_error_ms = (creates[0].t - t0) * 1000 if creates else None
    offset_ms = report.estimate.offset * 1000 if report.estimate else None
    if fire_error_ms is not None:
        handled_ms = fire_error_ms + world.latency * 1000
        console.print(
            f"on the server's clock the first attempt arrived {abs(fire_error_ms):.1f} ms "
            f"{'after' if fire_error_ms >= 0 else 'before'} the window opened; the server "
            f"applies its window rule when it handles a request ({world.latency * 1000:.0f} ms "
            f"after arrival here, {handled_ms:+.1f} ms from T0), so an attempt handled before "
            "T0 is refused as 'too far in the future'"
        )
    cancelled = [c.to_json() for c in report.cancelled]
    return {
        "ok": report.won is not None
        and len(cancelled) >= 1
        and all(c["ok"] for c in cancelled)
        and offset_ms is not None
        and abs(offset_ms - SKEW * 1000) < 100,
        "won": report.won_reference,
        "resource": report.won_resource,
        "offset_ms": None if offset_ms is None else round(offset_ms, 1),
        "arrived_vs_t0_ms": None if fire_error_ms is None else round(fire_error_ms, 1),
        "cancelled": cancelled,
        "attempts": len([a for a in report.attempts if a.sent_at is not None]),
    }
