"""sync push unthrottled: deliveries/s to the sandbox webhook receiver over 20k tickets.

The sandbox (vivenu + webhook receiver) runs in its own process (`boxoffice sandbox`); the push
runs here through the job layer with a real ledger (one SQLite commit per delivery), signing
every body. Goal ≥ 1,500 deliveries/s; the ratio to the seed's fixed 1.8 s pace is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from bench._results import record
from boxoffice.core.http import HttpOptions, create_client
from boxoffice.core.posting import AiohttpPoster, HttpxPoster, Posted, Poster
from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger
from boxoffice.jobs.sync.push import PushConfig, PushObserver, PushPlan, run_push
from boxoffice.jobs.sync.regions import Region, Target
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu
from boxoffice.sandbox.vivenu import DEFAULT_KEY

TICKETS = 20_000
# (client, concurrency): the default aiohttp client (sync.webhook_client); `httpx` on the
# command line adds the httpx client (HTTP/1.1 keep-alive) for comparison
VARIANTS: tuple[tuple[str, int], ...] = (("aiohttp", 1), ("aiohttp", 16)) + (
    (("httpx", 16),) if "httpx" in sys.argv[1:] else ()
)
GOAL = 1_500.0
DEFAULT_PACE = 1 / 1.8
SECRET = "bench-secret"
EVENT = "bench0000000000000020000"


def start_sandbox(tmp: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    ports = tmp / "ports.json"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "boxoffice.cli", "sandbox", "--only", "vivenu,webhook",
            "--ports-file", str(ports),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "VIVENU_SECRET": SECRET},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not ports.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("sandbox did not start")
        time.sleep(0.1)
    urls: dict[str, str] = json.loads(ports.read_text())
    return proc, urls


async def push(
    urls: dict[str, str], tmp: Path, client: str, concurrency: int, label: str
) -> tuple[int, float, float]:
    target = Target("bench", f"{urls['webhook']}/{label}")
    cfg = PushConfig(
        region=Region("BENCH", "BENCH_API", DEFAULT_KEY, urls["vivenu"], EVENT),
        event=EVENT,
        target=target,
        secret=SECRET,
        ticket_filter=TicketFilter([], ""),
        interval=0.0,
        concurrency=concurrency,
    )
    ledger = Ledger(tmp / f"ledger-{label}.sqlite3")
    options = HttpOptions(max_connections=concurrency + 1)
    try:
        async with (
            create_client(options=HttpOptions()) as vhttp,
            contextlib.AsyncExitStack() as stack,
        ):
            webhook: Poster
            if client == "aiohttp":
                webhook = await stack.enter_async_context(AiohttpPoster(options))
            else:
                whttp = await stack.enter_async_context(
                    create_client(options=HttpOptions(http2=False, max_connections=concurrency + 1))
                )
                webhook = HttpxPoster(whttp)
            tickets = TicketsClient(vhttp, cfg.region.base_url, DEFAULT_KEY)
            clock = Clock()
            started = time.perf_counter()
            result = await run_push(
                cfg, tickets=tickets, webhook=webhook, ledger=ledger, spool_dir=tmp, observer=clock
            )
            ended = time.perf_counter()
            # deliveries only: from the plan (pull, filter and ledger registration done) to the end
            return result.delivered, ended - clock.marks["wall"], ended - started
    finally:
        ledger.close()


class Clock(PushObserver):
    """Marks the moment the plan is ready: what follows is delivery only."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def planned(self, plan: PushPlan) -> None:
        self.marks["wall"], self.marks["cpu"] = time.perf_counter(), time.process_time()


class Instant:
    """A receiver that answers 200 without any HTTP: what is left is the job's own cost."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Posted:
        return Posted(200, {}, "")


async def in_process(tmp: Path) -> tuple[int, float, float]:
    """The job's own cost: an instant in-process receiver, tickets pre-pulled from an in-process
    simulator; returns (delivered, seconds delivering, CPU ms per delivery)."""
    app = vivenu.create_app(seed=0)
    app.state.vivenu.events[EVENT] = TICKETS
    cfg = PushConfig(
        region=Region("BENCH", "BENCH_API", DEFAULT_KEY, "http://vivenu.sim", EVENT),
        event=EVENT,
        target=Target("bench", "http://receiver.sim/hook"),
        secret=SECRET,
        ticket_filter=TicketFilter([], ""),
        interval=0.0,
        concurrency=8,
    )
    ledger = Ledger(tmp / "ledger-in-process.sqlite3")
    clock = Clock()

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as vhttp:
            tickets = TicketsClient(vhttp, cfg.region.base_url, DEFAULT_KEY)
            result = await run_push(
                cfg,
                tickets=tickets,
                webhook=Instant(),
                ledger=ledger,
                spool_dir=tmp,
                observer=clock,
            )
            wall = time.perf_counter() - clock.marks["wall"]
            cpu_ms = (time.process_time() - clock.marks["cpu"]) / max(1, result.delivered) * 1000
            return result.delivered, wall, cpu_ms
    finally:
        ledger.close()


async def pull_only(urls: dict[str, str]) -> float:
    async with create_client() as http:
        client = TicketsClient(http, urls["vivenu"], DEFAULT_KEY)
        started = time.perf_counter()
        async for _ in client.pages(EVENT, top=1000):
            pass
        return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-sync-push-") as name:
        tmp = Path(name)
        delivered, seconds, cpu_ms = asyncio.run(in_process(tmp))
        print(
            f"job overhead (instant in-process receiver): {delivered:,} in {seconds:.2f} s = "
            f"{delivered / seconds:,.0f}/s; {cpu_ms:.2f} ms CPU per delivery "
            "(envelope, sign, ledger commit; no HTTP)"
        )
        proc, urls = start_sandbox(tmp)
        try:
            httpx.post(urls["vivenu"] + "/_sandbox/events", json={"event": EVENT, "count": TICKETS})
            pull_s = asyncio.run(pull_only(urls))
            print(f"pulling {TICKETS:,} tickets alone takes {pull_s:.2f} s")
            best = 0.0
            for client, concurrency in VARIANTS:
                httpx.post(urls["webhook"] + "/_sandbox/reset")
                label = f"{client}-c{concurrency}"
                delivered, deliver_s, total_s = asyncio.run(
                    push(urls, tmp, client, concurrency, label)
                )
                rate = delivered / deliver_s
                stats = httpx.get(urls["webhook"] + "/_sandbox/stats").json()
                best = max(best, rate)
                print(
                    f"{client:>7}, concurrency {concurrency:>2}: {delivered:,} delivered "
                    f"in {deliver_s:.2f} s = {rate:,.0f}/s (whole push incl. pull and plan "
                    f"{total_s:.2f} s; receiver accepted {stats['accepted']:,}, "
                    f"duplicates {stats['duplicates']}, "
                    f"bad signatures {stats['invalid_signature']})"
                )
        finally:
            proc.terminate()
            proc.wait(10)
    verdict = "met" if best >= GOAL else "MISSED"
    print(f"best {best:,.0f} deliveries/s; goal ≥ {GOAL:,.0f}/s: {verdict}")
    print(f"ratio to the default 1.8 s pace ({DEFAULT_PACE:.3f}/s): {best / DEFAULT_PACE:,.0f}×")
    record(
        "sync",
        f"unthrottled deliveries to the sandbox receiver, {TICKETS:,} tickets (best client)",
        best,
        "/s",
        goal=f"≥ {GOAL:,.0f}/s",
        met=best >= GOAL,
        baseline="the default 1.8 s pace",
        ratio=best / DEFAULT_PACE,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
