"""watch reaction time on loopback: the simulator serves the first page with a listing → the
simulator receives the cart POST (goal ≤ 1.5 ms median, p90 ≤ 3 ms over 50 trials), for
``boxoffice watch`` and, interleaved trial by trial in the same run, for the plain-httpx
script (``bench/_plain_watcher.py``) and for boxoffice over httpx's own transport (the wire
it used before the aiohttp one). Both instants are taken in the simulator's own process
(time.perf_counter); the ratios are per pair of neighbouring trials, then the median.

Run: ``python -m bench watch_reaction``. Prints the figures; records boxoffice's, with the
plain-httpx script as the ratio's baseline, for ``bench/results.json``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench._plain_watcher import race
from bench._results import record
from bench._watch_sandbox import QuietReporter, marketplace_process
from boxoffice.core import pacing
from boxoffice.core.http import CookieJar, create_client
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import Watcher

TRIALS = int(os.environ.get("BENCH_TRIALS", "50"))
Client = Callable[[], Awaitable[float]]  # one trial; returns the client's page → checkout ms


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def trials(base: str, workdir: Path) -> dict[str, tuple[list[float], list[float]]]:
    jars = {"boxoffice": CookieJar(), "boxoffice, httpx transport": CookieJar()}
    async with (
        httpx.AsyncClient(base_url=base) as control,
        create_client(cookies=jars["boxoffice"], fast_http1=True) as fast,
        create_client(cookies=jars["boxoffice, httpx transport"]) as plain_wire,
        httpx.AsyncClient(base_url=base, http2=True) as script,
    ):

        def watch(http: httpx.AsyncClient, jar: CookieJar) -> Client:
            async def trial() -> float:
                spec = WatchSpec("bench", base, "demo/99x1", interval=0.0, jitter=0.0, max_polls=10)
                archiver = PageArchiver(workdir, limit=0)
                watcher = Watcher(spec, http, QuietReporter(), archiver, cookies=jar)
                with pacing.instant():
                    outcome = await watcher.run()
                if outcome.status != "carted":
                    raise RuntimeError(f"trial did not cart: {outcome.error}")
                return outcome.reaction_ms or 0.0

            return trial

        async def plain() -> float:
            took = await race(script, f"{base}/demo/99x1/secondhand/?sort=price_asc", 10)
            if took is None:
                raise RuntimeError("the plain script saw no listing")
            return took

        clients: dict[str, Client] = {
            "boxoffice": watch(fast, jars["boxoffice"]),
            "plain httpx script": plain,
            "boxoffice, httpx transport": watch(plain_wire, jars["boxoffice, httpx transport"]),
        }
        results: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in clients}
        order = list(clients)
        for n in range(TRIALS + 2):  # the first round warms connections and caches
            for name in order[n % 3 :] + order[: n % 3]:  # each first as often as the others
                await control.post("/_sandbox/reset")
                await control.post("/_sandbox/listings", json={"price": "95", "after_polls": 2})
                client_ms = await clients[name]()
                (listing,) = (await control.get("/_sandbox/state")).json()["listings"]
                if n >= 2:
                    server = (listing["buy_received_at"] - listing["first_served_at"]) * 1000
                    results[name][0].append(server)
                    results[name][1].append(client_ms)
    return results


def main() -> None:
    with marketplace_process() as base, tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(trials(base, Path(tmp)))
    ours = results["boxoffice"][0]
    print(f"trials per client                        {len(ours)} (interleaved)")
    print("page with listing served → POST arrived (median, p10, p90; goal ≤ 1.5 ms, p90 ≤ 3):")
    for name, (server_ms, _) in results.items():
        print(
            f"  {name:<30} {statistics.median(server_ms):5.2f} ms  "
            f"(p10 {percentile(server_ms, 0.1):.2f}, p90 {percentile(server_ms, 0.9):.2f})"
        )
    for name in ("plain httpx script", "boxoffice, httpx transport"):
        ratio = statistics.median(b / a for a, b in zip(ours, results[name][0], strict=True))
        print(f"  ratio {name + ' / boxoffice':<38} {ratio:5.2f}×")
    print("client: page parsed → checkout page answered (POST + 2 redirects), median:")
    for name, (_, client_ms) in results.items():
        print(f"  {name:<30} {statistics.median(client_ms):5.2f} ms")
    load = os.getloadavg()[0]
    print(f"machine load average (1 min)             {load:.2f} on {os.cpu_count()} CPUs")
    _record(results)


def _record(results: dict[str, tuple[list[float], list[float]]]) -> None:
    """boxoffice's figures for ``bench/results.json``; ratios against the plain script."""
    (ours, ours_client), (plain, plain_client) = results["boxoffice"], results[PLAIN]
    pairs = statistics.median(a / b for a, b in zip(ours, plain, strict=True))
    served = "page with a listing served → cart POST received"
    median, p90 = statistics.median(ours), percentile(ours, 0.9)
    record("watch", f"{served}, median of {len(ours)}", median, "ms", goal="≤ 1.5 ms",
           met=median <= 1.5, baseline=PLAIN, ratio=pairs)  # fmt: skip
    record("watch", f"{served}, p90 of {len(ours)}", p90, "ms", goal="≤ 3 ms", met=p90 <= 3.0,
           baseline=PLAIN, ratio=p90 / percentile(plain, 0.9))  # fmt: skip
    client, baseline = statistics.median(ours_client), statistics.median(plain_client)
    record("watch", "page parsed → checkout page answered (POST + 2 redirects), median", client,
           "ms", goal="≤ the plain httpx script", met=client <= baseline, baseline=PLAIN,
           ratio=client / baseline)  # fmt: skip


PLAIN = "plain httpx script"


if __name__ == "__main__":
    main()
