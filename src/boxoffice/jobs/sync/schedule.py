"""Retry schedule for webhook deliveries, modelled on Svix.

The first attempt is immediate; attempt ``n`` (n ≥ 2) waits ``schedule[n - 2]`` seconds (the last
entry repeats), capped at ``cap``. After ``max_attempts`` failed attempts a ticket is a dead
letter. A ``Retry-After`` from the receiver replaces the scheduled wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry and when to give up."""

    schedule: Sequence[float] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    cap: float = 36000.0
    max_attempts: int = 8

    def delay_before(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based; attempt 1 is immediate)."""
        if attempt <= 1:
            return 0.0
        if retry_after is not None:
            return max(0.0, min(retry_after, self.cap))
        if not self.schedule:
            return 0.0
        index = min(attempt - 2, len(self.schedule) - 1)
        return max(0.0, min(float(self.schedule[index]), self.cap))

    def exhausted(self, attempts: int) -> bool:
        """Whether ``attempts`` failed attempts mean giving up."""
        return attempts >= self.max_attempts

    def describe(self, count: int = 8) -> str:
        """The first waits, human-readable (for --help and the docs)."""
        return ", ".join(_human(self.delay_before(n)) for n in range(2, count + 1))


def _human(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"
