"""watch CPU and memory per poll, before/after in the same run: the watching process's CPU
per poll (interval 0, pages unchanged but for their per-response CSRF tokens) on the 14 KB
page with 3 listings (goal ≤ 1 ms) and the 48 KB page with 30 (goal ≤ 0.5× the baseline
commit), for boxoffice now, boxoffice at the baseline commit (its sources taken with
``git archive``) and the plain-httpx script; and the RSS of ``boxoffice watch run`` a few
seconds after its start (goal ≤ 60 MiB), now and at the baseline. Each client runs in a
process of its own, against ``bench/_page_server.py``; rounds interleave the clients.

Run: ``python -m bench watch_poll`` (``BENCH_POLLS=N`` polls per process, default 1500;
``BENCH_BASELINE=<commit>``). Prints the figures; records the CPU ones for
``bench/results.json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from bench._results import record

REPO = Path(__file__).resolve().parents[1]
BASELINE = os.environ.get("BENCH_BASELINE", "78bbcc9")
POLLS = int(os.environ.get("BENCH_POLLS", "1500"))
ROUNDS = 3


@contextlib.contextmanager
def page_server() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench._page_server", str(port_file)], cwd=REPO
        )
        try:
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text()):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the page server did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            proc.terminate()
            proc.wait(10)


def baseline_sources(into: Path) -> Path | None:
    """The baseline commit's ``src/`` unpacked under ``into`` (None without git/the commit)."""
    try:
        data = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", BASELINE, "src"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def env_for(src: Path | None) -> dict[str, str]:
    paths = [str(src)] if src is not None else []
    paths.append(str(REPO))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def drive(kind: str, base: str, shape: str, src: Path | None) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "bench._poll_driver", kind, base, shape, str(POLLS)],
        cwd=REPO,
        env=env_for(src),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.splitlines()[-1])["cpu_ms"])


def watch_run_rss(base: str, src: Path | None) -> float:
    """RSS (MiB) of ``boxoffice watch run`` 4 s after it started polling the 14 KB page."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "boxoffice.cli", "-q", "watch", "run", "--url", base,
             "--event", "p14/ev", "--interval", "0.1", "--jitter", "0", "--max-price", "1",
             "--max-polls", "1000", "--headless", "--i-know-what-i-am-doing"],
            cwd=tmp, env=env_for(src), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(4)
            return psutil.Process(proc.pid).memory_info().rss / 2**20
        finally:
            proc.terminate()
            proc.wait(10)


def _record_cpu(cpu: dict[tuple[str, str], list[float]], names: list[str]) -> None:
    """The CPU figures for ``bench/results.json`` (RSS is the RSS bench's), the plain-httpx
    script as the ratio's baseline; the 48 KB goal is relative to the baseline commit."""
    plain = {shape: statistics.median(cpu[shape, "plain httpx script"]) for shape in SHAPES}
    ours = {shape: statistics.median(cpu[shape, "boxoffice"]) for shape in SHAPES}
    before = f"boxoffice at {BASELINE}"
    record(
        "watch",
        f"CPU per poll, {SHAPES['p14']} (median of {ROUNDS} × {POLLS} polls)",
        ours["p14"],
        "ms",
        goal="≤ 1 ms",
        met=ours["p14"] <= 1.0,
        baseline="plain httpx script",
        ratio=ours["p14"] / plain["p14"],
    )
    old = statistics.median(cpu["p48", before]) if before in names else None
    record(
        "watch",
        f"CPU per poll, {SHAPES['p48']} (median of {ROUNDS} × {POLLS} polls)",
        ours["p48"],
        "ms",
        goal=f"≤ 0.5× {BASELINE}" + (f" ({old:.2f} ms)" if old is not None else ""),
        met=None if old is None else ours["p48"] <= 0.5 * old,
        baseline="plain httpx script",
        ratio=ours["p48"] / plain["p48"],
    )


SHAPES = {"p14": "14 KB, 3 listings", "p48": "48 KB, 30 listings"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, page_server() as base:
        before_src = baseline_sources(Path(tmp))
        clients: dict[str, tuple[str, Path | None]] = {
            "boxoffice": ("boxoffice", None),
            "plain httpx script": ("plain", None),
        }
        if before_src is not None:
            clients[f"boxoffice at {BASELINE}"] = ("boxoffice", before_src)
        names = list(clients)
        cpu: dict[tuple[str, str], list[float]] = {}
        for shape in ("p14", "p48"):
            for n in range(ROUNDS):
                for name in names[n % len(names) :] + names[: n % len(names)]:
                    kind, src = clients[name]
                    cpu.setdefault((shape, name), []).append(drive(kind, base, shape, src))
        rss = {"boxoffice": [watch_run_rss(base, None) for _ in range(2)]}
        if before_src is not None:
            rss[f"boxoffice at {BASELINE}"] = [watch_run_rss(base, before_src) for _ in range(2)]
    print(f"CPU per poll (ms, median of {ROUNDS} processes × {POLLS} polls), interval 0:")
    for shape, label in (("p14", "14 KB, 3 listings"), ("p48", "48 KB, 30 listings")):
        ours = statistics.median(cpu[shape, "boxoffice"])
        row = [f"  {label:<20}"]
        for name in names:
            row.append(f"{name} {statistics.median(cpu[shape, name]):.2f}")
        for name in names[1:]:
            row.append(f"ratio ours/{name.split()[0] if 'plain' in name else 'baseline'} "
                       f"{ours / statistics.median(cpu[shape, name]):.2f}×")  # fmt: skip
        print("   ".join(row))
    print("  (goals: ≤ 1 ms on the 14 KB page; ≤ 0.5× the baseline on the 48 KB page)")
    _record_cpu(cpu, names)
    for name, values in rss.items():
        print(f"RSS of watch run after start, {name:<22} {statistics.median(values):.1f} MiB")
    print("  (goal ≤ 60 MiB)")
    load = os.getloadavg()[0]
    print(f"machine load average (1 min)  {load:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
