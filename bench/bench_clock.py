"""Clock figures: wait_until lateness, and offset estimates against a skewed local server.

Prints: wait_until lateness percentiles (goal: p99 < 1 ms), and for the estimator the error
against a known +2.5 s skew (server answers 3 ms after stamping its Date), the reported
uncertainty, requests used and time taken, for 1 and 2 fine passes.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from bench._results import record
from boxoffice.core.clock import estimate_offset, wait_until

SKEW = 2.5
SERVER = textwrap.dedent(
    """
    import asyncio, email.utils, sys, time
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from boxoffice.sandbox.server import SandboxServer

    async def home(request):
        date = email.utils.formatdate(time.time() + float(sys.argv[1]), usegmt=True)
        await asyncio.sleep(0.003)
        return Response(b"", headers={"Date": date})

    app = Starlette(routes=[Route("/", home)])
    with SandboxServer({"skewed": app}, include_date_header=False) as urls:
        print(urls["skewed"], flush=True)
        sys.stdin.read()
    """
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_wait_until(rounds: int = 60) -> None:
    rng = random.Random(1)
    late: list[float] = []
    for _ in range(rounds):
        target = time.time() + rng.uniform(0.01, 0.05)
        late.append(await wait_until(target))
    ms = [x * 1000 for x in late]
    median = statistics.median(ms)
    record(
        "core",
        f"wait_until lateness (median of {rounds} waits)",
        median,
        "ms",
        goal="< 1 ms",
        met=median < 1,
    )
    print(
        f"wait_until lateness over {rounds} waits: median {statistics.median(ms):.3f} ms, "
        f"p90 {pct(ms, 0.9):.3f} ms, p99 {pct(ms, 0.99):.3f} ms, max {max(ms):.3f} ms "
        f"(goal < 1 ms)"
    )


async def bench_estimate(url: str, passes: int, runs: int) -> None:
    errors, uncertainties, durations, samples = [], [], [], []
    async with httpx.AsyncClient() as client:
        for _ in range(runs):
            start = time.perf_counter()
            est = await estimate_offset(client, url, passes=passes, max_probes=35 * passes + 5)
            durations.append(time.perf_counter() - start)
            errors.append(abs(est.offset - SKEW) * 1000)
            uncertainties.append(est.uncertainty * 1000)
            samples.append(est.samples)
    record(
        "core",
        f"server clock offset estimate, |error| (passes={passes}, median of {runs} runs)",
        statistics.median(errors),
        "ms",
    )
    print(
        f"estimate_offset passes={passes} ({runs} runs): |error| median "
        f"{statistics.median(errors):.2f} ms, max {max(errors):.2f} ms; uncertainty median "
        f"{statistics.median(uncertainties):.2f} ms; requests median "
        f"{statistics.median(samples):.0f}; time median {statistics.median(durations):.2f} s"
    )


def main() -> None:
    asyncio.run(bench_wait_until())
    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(SKEW)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    try:
        url = proc.stdout.readline().strip() + "/"
        asyncio.run(bench_estimate(url, passes=1, runs=4))
        asyncio.run(bench_estimate(url, passes=2, runs=3))
    finally:
        proc.stdin.close()
        proc.wait(10)
        proc.stdout.close()
    print(f"(load average now: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
