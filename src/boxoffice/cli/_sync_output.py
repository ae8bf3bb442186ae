"""What `sync pull` and `sync push` show while they run: progress bars and their lines.

Imported by the commands when they run (rich.progress and the sync job are not needed for
``--help``).
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from boxoffice.jobs.sync.push import Outcome, PushConfig, PushPlan
from boxoffice.jobs.sync.pushing import PushReporter
from boxoffice.jobs.sync.regions import Region


class RateColumn(ProgressColumn):
    """Deliveries per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("–/s" if speed is None else f"{speed:,.1f}/s", style="progress.data.speed")


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


class PullLines:
    """`sync pull`: the line before, a bar of the pages on stderr, the retries."""

    def __init__(self, console: Console, err: Console) -> None:
        self.console = console
        self.err = err
        self.progress: Progress | None = None
        self.task: Any = None

    def starting(self, region: Region, event: str) -> None:
        self.console.print(
            f"Pulling tickets of event {event} from {region.base_url} ({region.name})…"
        )
        self.progress = progress_bar(self.err)
        self.progress.start()
        self.task = self.progress.add_task("pulling", total=None)

    def page(self, pulled: int, total: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=pulled, total=max(total, pulled))

    def retrying(self, reason: str, wait: float) -> None:
        self.err.print(f"[yellow]{reason}: retrying in {wait:.1f} s[/]")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class PushLines(PushReporter):
    """`sync push`: the plan's counts, a bar of the deliveries, dead letters and waits."""

    def __init__(self, console: Console, err: Console, *, quiet: bool, show_bar: bool) -> None:
        self.console = console
        self.err = err
        self.quiet = quiet
        self.show_bar = show_bar
        self.progress: Progress | None = None
        self.task: Any = None
        self.delivered = 0
        self.dead = 0
        self.last_pull = 0.0
        self.cfg: PushConfig | None = None

    def starting(self, cfg: PushConfig) -> None:
        self.cfg = cfg
        if not self.quiet:
            self.console.print(
                f"Pulling tickets of event {cfg.event} from {cfg.region.base_url} "
                f"({cfg.region.name}); target {cfg.target.name} → {cfg.target.url}"
            )

    def lock_busy(self, holder: str) -> None:
        assert self.cfg is not None  # starting() came first
        self.err.print(
            f"another run holds {self.cfg.event} → {self.cfg.target.url} ({holder}); "
            "waiting for it to finish (--wait)…",
            markup=False,
        )

    def retrying(self, reason: str, wait: float) -> None:
        self.err.print(f"[yellow]Vivenu {reason}: retrying in {wait:.1f} s[/]")

    def pulled(self, pulled: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last_pull > 0.5:
            self.last_pull = now
            self.err.print(f"pulled {pulled}/{total} tickets…", style="dim")

    def planned(self, plan: PushPlan) -> None:
        if not self.quiet:
            self._print_plan(plan)
        if self.show_bar and plan.to_send:
            self.start(plan.to_send)

    def _print_plan(self, plan: PushPlan) -> None:
        out = self.console.print
        out(f"Found {plan.total} total tickets")
        if plan.total_changed:
            changes = ", ".join(f"{a} → {b}" for a, b in plan.total_changed)
            out(f"[yellow]the event's total changed during the pull ({changes})[/]")
        out("Filtering results:")
        out(f"  - Total tickets: {plan.total}")
        out(f"  - Rejected (wrong status): {plan.rejected_status}")
        out(f"  - Rejected (name filter): {plan.rejected_name}")
        out(f"  - Matching: {plan.filtered}")
        out(f"  - Already delivered: {plan.already_delivered}")
        if plan.requeued:
            out(f"  - Dead letters re-queued: {plan.requeued}")
        if plan.dead_skipped:
            out(f"  - Dead letters skipped: {plan.dead_skipped} (re-queue with --retry-dead)")
        out(f"  - ✅ Tickets to send: {plan.to_send}")

    def start(self, total: int) -> None:
        self.progress = progress_bar(self.err)
        self.progress.start()
        self.task = self.progress.add_task("delivering", total=total)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def settled(self, ticket_id: str, outcome: Outcome, attempts: int, final: str) -> None:
        if final == "delivered":
            self.delivered += 1
        elif final == "dead":
            self.dead += 1
            self.err.print(f"[red]dead letter {ticket_id}: {outcome.error}[/]")
        if final != "retry" and self.progress is not None:
            self.progress.advance(self.task)

    def waiting(self, reason: str, seconds: float) -> None:
        self.err.print(f"{reason} — retry in {seconds:g} s", style="yellow", markup=False)
