"""The figures a bench run measured, kept for the results file and the benchmarks page.

A bench script calls :func:`record` for each figure it prints; ``python -m bench`` writes each
script's figures, with the machine's calibration while it ran, to ``bench/results.json``, and
``scripts/gen_benchmarks_page.py`` turns that file into the table of docs/benchmarks.md. A
script run on its own records nothing to disk.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Figure:
    """One measured figure: ``measured`` in ``unit``; ``goal`` a phrase such as ``≤ 0.5 s``;
    ``ratio`` against ``baseline`` (a thing measured in the same run), when there is one."""

    job: str
    figure: str
    measured: float
    unit: str
    goal: str = ""
    met: bool | None = None
    baseline: str = ""
    ratio: float | None = None


_recorded: list[Figure] = []


def record(
    job: str,
    figure: str,
    measured: float,
    unit: str,
    *,
    goal: str = "",
    met: bool | None = None,
    baseline: str = "",
    ratio: float | None = None,
) -> Figure:
    """Keep one figure of this run (see :class:`Figure`); returns it."""
    item = Figure(job, figure, measured, unit, goal, met, baseline, ratio)
    _recorded.append(item)
    return item


def take() -> list[Figure]:
    """The figures recorded since the last call (and forget them)."""
    out = list(_recorded)
    _recorded.clear()
    return out


def calibration() -> dict[str, Any]:
    """How fast this machine is right now: ``sum(range(1000))`` in µs (median of 20 rounds of
    200 calls; ≈ 8–10 µs on an idle modern core), cores and load."""
    rounds = []
    for _ in range(20):
        began = time.perf_counter()
        for _ in range(200):
            sum(range(1000))
        rounds.append((time.perf_counter() - began) / 200 * 1e6)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "sum_range_1000_us": round(statistics.median(rounds), 2),
        "cores": os.cpu_count(),
        "load_1min": None if load is None else round(load, 2),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def update(bench: str, figures: list[Figure], calib: dict[str, Any], path: Path = RESULTS) -> Path:
    """Put one bench script's figures and calibration into the results file, replacing what an
    earlier run of that script left there; other scripts' entries stay."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    benches: dict[str, Any] = doc.get("benches", {})
    benches[bench] = {
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "calibration": calib,
        "figures": [{k: v for k, v in asdict(f).items() if k != "bench"} for f in figures],
    }
    doc = {"benches": dict(sorted(benches.items()))}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
