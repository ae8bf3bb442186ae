"""book: which burst shape wins the preferred resource on a real LibreBooking 2.8.6.2?

PHP serializes the requests of one session in whichever order its workers take the session
lock, so attempts sent together do not reach the booking code in preference order; and the
server has no one-at-a-time rule, so every attempt in flight can become a booking (surplus,
held until cancelled). For each strategy, RACES races of alice over 32 rooms with 4 preferred
ones; in race i another user takes the first i % 3 preferred rooms just before T0 (after
alice read the slot's availability), so "the preferred free resource" moves. Twice: as the
server comes (no one-at-a-time rule: every attempt in flight can become a booking), and with a
quota of one reservation per user and day (LibreBooking's way to say "one at a time": the
attempt PHP handles first wins, the others are refused). Printed per strategy: the preferred
free resource won (of RACES), time from the fire instant to the kept win (median, max), peak
surplus bookings held at once, attempts sent per race (mean); ratios against the first
strategy of the same table.

Needs the LibreBooking source (the peer in tests/integration/librebooking); prints the reason
and exits 0 when it is missing. Run: ``python -m bench book_real_order``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "librebooking")
)

import librebooking_peer as lbp

from bench._results import record
from boxoffice.core.clock import ClockEstimate
from boxoffice.jobs.book.race import RacePlan, run_race
from boxoffice.jobs.book.session import SessionCache
from boxoffice.platforms.booked import Credentials, Slot, make_client

RACES = int(os.environ.get("BENCH_RACES", "20"))
STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("all at once (8 in flight)", {"first_alone": False, "wave": 0, "concurrency": 8}),
    ("first alone, then 8 in flight", {"first_alone": True, "wave": 0, "concurrency": 8}),
    ("waves of 2", {"first_alone": False, "wave": 2, "concurrency": 8}),
    ("first alone, then waves of 2", {"first_alone": True, "wave": 2, "concurrency": 8}),
    ("one at a time", {"first_alone": True, "wave": 1, "concurrency": 8}),
]
DEFAULT = "first alone, then waves of 2"  # book.first_alone / book.wave defaults


async def _local_clock(_: float) -> ClockEstimate:
    return ClockEstimate(offset=0.0, uncertainty=0.0005, samples=1, rtt=0.001)


def _take(peer: lbp.LibreBookingPeer, resources: list[int], slot: Slot, at: float) -> None:
    """Other users (bob, then user — one each, for the quota) book ``resources`` for the slot
    at local time ``at`` (before alice's T0)."""
    from boxoffice.platforms.booked.librebooking import reservation_payload
    from boxoffice.platforms.booked.models import BookingRequest

    time.sleep(max(0.0, at - time.time()))
    with httpx.Client(base_url=peer.api_url, timeout=10) as http:
        for rid, user in zip(resources, ("bob", "user"), strict=False):
            auth = http.post(
                "/Authentication/Authenticate",
                json={"username": user, "password": peer.users[user]},
            ).json()
            headers = {
                "X-Booked-SessionToken": auth["sessionToken"],
                "X-Booked-UserId": str(auth["userId"]),
            }
            body = reservation_payload(
                BookingRequest(slot=slot, resource_id=rid), user_id=str(auth["userId"])
            )
            answer = http.post("/Reservations/", json=body, headers=headers)
            assert answer.status_code == 201, answer.text


async def one_race(
    peer: lbp.LibreBookingPeer, shape: dict[str, Any], index: int, state: Path
) -> dict[str, Any]:
    peer.clear_reservations()
    zone = ZoneInfo(peer.timezone)
    day = datetime.now(zone).date() + timedelta(days=2 + index % 20)
    slot = Slot.local(
        day,
        datetime.min.time().replace(hour=10),
        datetime.min.time().replace(hour=11),
        peer.timezone,
    )
    rooms = peer.room_ids
    prefer = [rooms[9], rooms[20], rooms[3], rooms[27]]
    taken = prefer[: index % 3]
    t0 = time.time() + 1.2
    taker = threading.Thread(target=_take, args=(peer, taken, slot, t0 - 0.9))
    taker.start()
    client = make_client("librebooking", peer.base_url, timezone=peer.timezone)
    plan = RacePlan(
        slot=slot,
        resources=rooms,
        prefer=prefer,
        timezone=peer.timezone,
        at=datetime.fromtimestamp(t0, UTC),
        lead=5.0,
        recheck_delay=0.0,
        **shape,
    )
    creds = Credentials("alice", peer.users["alice"])
    try:
        report = await run_race(
            client,
            plan,
            creds,
            SessionCache(state, "librebooking", peer.base_url, "alice"),
            estimator=_local_clock,
        )
    finally:
        await client.aclose()
        taker.join()
    booked = [a for a in report.attempts if a.outcome == "booked"]
    won = report.won
    win_ms = None
    if won is not None and won.sent_at is not None and report.fired_at is not None:
        win_ms = (won.sent_at - report.fired_at) * 1000 + won.latency_ms
    return {
        "preferred_won": won is not None and won.resource == prefer[len(taken)],
        "win_ms": win_ms,
        "surplus": max(0, len(booked) - 1),
        "sent": sum(1 for a in report.attempts if a.sent_at is not None),
    }


def table(peer: lbp.LibreBookingPeer, tmp: str, title: str, label: str) -> None:
    print(f"\n{title}")
    print(
        f"{'strategy':32} {'preferred won':>13} {'T0→win median':>14} {'max':>7}"
        f" {'peak surplus':>12} {'sent/race':>9}"
    )
    baseline: float | None = None
    for name, shape in STRATEGIES:
        rows = [asyncio.run(one_race(peer, shape, i, Path(tmp) / "state")) for i in range(RACES)]
        wins = [r["win_ms"] for r in rows if r["win_ms"] is not None]
        median = statistics.median(wins) if wins else float("nan")
        baseline = baseline or median
        print(
            f"{name:32} {sum(r['preferred_won'] for r in rows):>6}/{RACES:<6}"
            f" {median:>11.0f} ms {max(wins, default=float('nan')):>5.0f}ms"
            f" {max(r['surplus'] for r in rows):>12}"
            f" {statistics.mean(r['sent'] for r in rows):>9.1f}"
            f"   (median ×{median / baseline:.2f} of the first)",
            flush=True,
        )
        if name == DEFAULT:
            won = sum(r["preferred_won"] for r in rows)
            surplus = max(r["surplus"] for r in rows)
            record("book", f"real LibreBooking {label}: preferred free resource won, "
                   f"default burst ({name})", won, f"of {RACES}", goal=f"{RACES} of {RACES}",
                   met=won == RACES)  # fmt: skip
            record("book", f"real LibreBooking {label}: T0 → kept win, median", median, "ms",
                   baseline="all at once (8 in flight)", ratio=median / baseline)  # fmt: skip
            record("book", f"real LibreBooking {label}: peak surplus bookings held", surplus,
                   "bookings", goal="≤ 1", met=surplus <= 1)  # fmt: skip


def main() -> None:
    try:
        lbp.find_source()
    except lbp.SourceMissing as exc:
        print(f"skipped: {exc}")
        return
    with tempfile.TemporaryDirectory(prefix="bench-lb-") as tmp:
        peer = lbp.start(Path(tmp) / "run")
        try:
            print(f"LibreBooking {lbp.VERSION} up in {peer.timings['total']:.1f} s; {RACES} races")
            table(peer, tmp, "as the server comes (no one-at-a-time rule)", "as it comes")
            peer.sql(
                "INSERT INTO quotas (quota_limit, unit, duration, schedule_id)"
                " VALUES (1, 'reservations', 'day', 1)"
            )
            table(peer, tmp, "with a quota of 1 reservation per user and day", "quota 1/day")
        finally:
            peer.stop()


if __name__ == "__main__":
    main()
