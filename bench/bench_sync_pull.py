"""sync pull: 100k tickets at top=1000 from the vivenu simulator (own process) to disk.

Goal: ≤ 10 s; prints the peak RSS of the pulling process (memory stays flat: pages stream).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._results import record
from boxoffice.core.http import create_client
from boxoffice.jobs.sync.pull import run_pull
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu
from boxoffice.sandbox.vivenu import BIG_EVENT, DEFAULT_KEY

GOAL_S = 10.0


def start_sandbox(tmp: Path, only: str) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`boxoffice sandbox --only …` in its own process; returns (process, urls)."""
    ports = tmp / "ports.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "boxoffice.cli",
            "sandbox",
            "--only",
            only,
            "--ports-file",
            str(ports),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not ports.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("sandbox did not start")
        time.sleep(0.1)
    urls: dict[str, str] = json.loads(ports.read_text())
    return proc, urls


async def pull(url: str, out: Path, individual: bool) -> tuple[int, float]:
    async with create_client() as http:
        client = TicketsClient(http, url, DEFAULT_KEY)
        started = time.perf_counter()
        result = await run_pull(
            client, BIG_EVENT, out, region="BENCH", top=1000, individual=individual
        )
        return result.pulled, time.perf_counter() - started


async def client_only(out: Path) -> float:
    """The pull's own cost: pre-rendered pages from an in-process mock (no server work)."""
    template = vivenu.make_ticket(0, BIG_EVENT, 0)
    body_cache: dict[int, bytes] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])
        if skip not in body_cache:
            rows = [
                {**template, "_id": f"{skip + i:024x}"} for i in range(min(1000, 100_000 - skip))
            ]
            body_cache.clear()
            body_cache[skip] = json.dumps({"rows": rows, "total": 100_000}).encode()
        return httpx.Response(200, content=body_cache[skip])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = TicketsClient(http, "http://vivenu.mock", DEFAULT_KEY)
        started = time.perf_counter()
        await run_pull(client, BIG_EVENT, out, region="BENCH", top=1000, individual=False)
        return time.perf_counter() - started


def main() -> int:
    """Streamed pull (all_tickets.json + metadata) on disk, then with the 100k per-ticket files.

    Creating 100k small files is bound by the file system's metadata latency, so the full
    layout is timed on tmpfs (/dev/shm) when there is one, and on the disk only with --disk.
    """
    shm = Path("/dev/shm")
    full_base = None if "--disk" in sys.argv or not shm.is_dir() else shm
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-sync-pull-") as name:
        tmp = Path(name)
        seconds = asyncio.run(client_only(tmp / "mock"))
        print(
            f"client side only (pages pre-rendered in-process, no per-ticket files): "
            f"100,000 tickets in {seconds:.2f} s"
        )
        proc, urls = start_sandbox(tmp, "vivenu")
        try:
            httpx.get(urls["vivenu"] + "/_sandbox/stats")
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            runs = [("streamed, no per-ticket files (disk)", tmp / "a", False)]
            with tempfile.TemporaryDirectory(prefix="bench-sync-pull-", dir=full_base) as full:
                where = "tmpfs" if full_base else "disk"
                runs.append((f"full layout with 100k per-ticket files ({where})", Path(full), True))
                for label, out, individual in runs:
                    count, seconds = asyncio.run(pull(urls["vivenu"], out, individual))
                    folder = out / "purchased_tickets" / BIG_EVENT
                    files = len(os.listdir(folder / "individual"))
                    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    verdict = "met" if seconds <= GOAL_S else "MISSED"
                    print(f"{label}: {count:,} tickets, {files:,} files in {seconds:.2f} s")
                    print(
                        f"  {count / seconds:,.0f} tickets/s; goal ≤ {GOAL_S:.0f} s: {verdict}; "
                        f"peak RSS so far {rss_peak:.0f} MiB (before: {rss_before:.0f} MiB)"
                    )
                    ok = ok and count == 100_000
                    record(
                        "sync",
                        f"pull of 100,000 tickets, {label}",
                        seconds,
                        "s",
                        goal=f"≤ {GOAL_S:.0f} s",
                        met=seconds <= GOAL_S,
                    )
        finally:
            proc.terminate()
            proc.wait(10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
