"""The scheduler's sense of time: real (UTC now + pacing.sleep) or simulated (tests, demo)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from boxoffice.core import pacing


class Clock(Protocol):
    """Now and waiting."""

    def now(self) -> datetime:
        """Current time (aware, UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (through :func:`boxoffice.core.pacing.sleep`)."""
        ...


class RealClock:
    """Wall-clock time; waits via :func:`pacing.sleep` (instant in tests)."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """pacing.sleep."""
        await pacing.sleep(seconds)


class SimulatedClock:
    """Time that jumps forward when slept on (deterministic tests, the accelerated demo)."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        """The simulated now."""
        return self.current

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.current += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` and yield to other tasks (pacing.sleep(0))."""
        if seconds > 0:
            self.advance(seconds)
        await pacing.sleep(0)
