"""Shared helpers of the track benchmarks (data generation, a private PostgreSQL)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from boxoffice.platforms.listings.models import Listing

START = datetime(2026, 1, 1, tzinfo=UTC)


def env_int(name: str, default: int) -> int:
    """An integer knob from the environment (to scale a benchmark down or up)."""
    return int(os.environ.get(name, default))


def snapshot(event: int, k: int, size: int) -> list[Listing]:
    """A deterministic snapshot of ``size`` listings."""
    return [
        Listing(
            f"{event}-{i}",
            f"S{i % 12}",
            str(i % 30),
            1 + i % 4,
            40.0 + (i * 7919 + k * 104729) % 40000 / 100,
            "EUR",
        )
        for i in range(size)
    ]


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long a block took."""
    began = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - began:.1f} s", flush=True)


def moment(k: int, every: timedelta) -> datetime:
    """Capture time of snapshot ``k``."""
    return START + every * k


def loadavg() -> str:
    """The 1-minute load average (figures on a shared machine are read next to it)."""
    try:
        with open("/proc/loadavg") as f:
            return f"load {f.read().split()[0]}"
    except OSError:
        return "load ?"


def spread(values: list[float], fmt: str) -> str:
    """``median (all: a, b, c)`` of several rounds."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return (
        f"{median:{fmt}} median of {len(values)} (" + ", ".join(f"{v:{fmt}}" for v in values) + ")"
    )
