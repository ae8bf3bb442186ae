"""What the user sees while watching: one line per request and a live status per watch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table

Level = Literal["info", "warning", "error", "success"]


@dataclass(frozen=True, slots=True)
class RequestLine:
    """One request of a watch: number, status, timing, size, session, result."""

    watch: str
    number: int
    method: str
    path: str
    status: int | None
    http_version: str
    ttfb_ms: float | None
    ttlb_ms: float | None
    size: int | None
    session: str
    result: str

    def render(self) -> str:
        """``[99x1] #12 GET /demo/99x1/secondhand/ 200 HTTP/2 ttfb 3.1 ms …``"""
        status = str(self.status) if self.status is not None else "---"
        ttfb = f"{self.ttfb_ms:.1f}" if self.ttfb_ms is not None else "-"
        ttlb = f"{self.ttlb_ms:.1f}" if self.ttlb_ms is not None else "-"
        size = f"{self.size / 1024:.1f} KB" if self.size is not None else "-"
        return (
            f"[{self.watch}] #{self.number} {self.method} {self.path} {status} "
            f"{self.http_version or '-'} ttfb {ttfb} ms ttlb {ttlb} ms {size} "
            f"session {self.session or '-'} → {self.result}"
        )


@dataclass
class WatchStatus:
    """The live status row of one watch."""

    name: str
    state: str = "starting"
    requests: int = 0
    last: str = ""
    next_at: float | None = None
    updated: float = field(default_factory=time.monotonic)


class Reporter(Protocol):
    """Receives what a watch does; the console and the tests implement it."""

    def request(self, line: RequestLine) -> None:
        """One request finished."""

    def event(self, watch: str, level: Level, text: str) -> None:
        """Something worth a line of its own happened."""

    def status(self, watch: str, state: str, *, next_in: float | None = None) -> None:
        """The watch's state changed (polling, waiting, backing off, …)."""


class ListReporter:
    """Keeps everything in lists (tests, the demo's facts)."""

    def __init__(self) -> None:
        self.lines: list[RequestLine] = []
        self.events: list[tuple[str, Level, str]] = []
        self.states: list[tuple[str, str]] = []

    def request(self, line: RequestLine) -> None:
        self.lines.append(line)

    def event(self, watch: str, level: Level, text: str) -> None:
        self.events.append((watch, level, text))

    def status(self, watch: str, state: str, *, next_in: float | None = None) -> None:
        self.states.append((watch, state))

    def texts(self, level: Level | None = None) -> list[str]:
        """Event texts, optionally of one level."""
        return [t for _, lvl, t in self.events if level is None or lvl == level]


_STYLES: dict[Level, str] = {
    "info": "",
    "warning": "yellow",
    "error": "bold red",
    "success": "bold green",
}


class ConsoleReporter:
    """Request lines and events on a rich console, plus a live table when it is a terminal."""

    def __init__(
        self,
        console: Console,
        *,
        live: bool | None = None,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.quiet = quiet
        self.clock = clock  # the countdowns' clock (a test steps it)
        self.rows: dict[str, WatchStatus] = {}
        use_live = console.is_terminal if live is None else live
        self._live: Live | None = (
            Live(
                console=console,
                refresh_per_second=4,
                transient=True,
                get_renderable=self._table,  # built at each refresh: the countdown ticks
            )
            if use_live
            else None
        )

    def __enter__(self) -> ConsoleReporter:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()

    def _table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        for col in ("watch", "state", "requests", "last", "next poll"):
            table.add_column(col)
        now = self.clock()
        for row in self.rows.values():
            nxt = f"in {max(0.0, row.next_at - now):.1f} s" if row.next_at else ""
            table.add_row(row.name, row.state, str(row.requests), row.last, nxt)
        return table

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def request(self, line: RequestLine) -> None:
        row = self.rows.setdefault(line.watch, WatchStatus(line.watch))
        row.requests = line.number
        row.last = line.result
        if not self.quiet:
            self.console.print(line.render(), markup=False, highlight=False)
        self._refresh()

    def event(self, watch: str, level: Level, text: str) -> None:
        style = _STYLES[level]
        self.console.print(f"[{watch}] {text}", style=style or None, markup=False)
        self._refresh()

    def status(self, watch: str, state: str, *, next_in: float | None = None) -> None:
        row = self.rows.setdefault(watch, WatchStatus(watch))
        row.state = state
        row.next_at = self.clock() + next_in if next_in is not None else None
        self._refresh()
