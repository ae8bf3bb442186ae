"""What the user sees after a race: a rich table and a summary (or the JSON document)."""

from __future__ import annotations

from datetime import time as dtime
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from boxoffice.jobs.book.race import RaceReport
from boxoffice.platforms.booked.models import Reservation

if TYPE_CHECKING:
    from boxoffice.jobs.book.commands import Availability

STYLES = {
    "booked": "bold green",
    "pending": "bold yellow",
    "slot_taken": "yellow",
    "one_at_a_time": "dim",
    "window_not_open": "magenta",
    "session_expired": "red",
    "forbidden": "red",
    "error": "bold red",
    "dry_run": "cyan",
    "skipped": "dim",
}


def attempts_table(report: RaceReport) -> Table:
    """Resource, outcome, message, latency — one row per candidate, in preference order."""
    table = Table(title="attempts (preference order)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("resource", justify="right")
    table.add_column("outcome")
    table.add_column("message", overflow="fold")
    table.add_column("latency ms", justify="right")
    kept = report.won.rank if report.won else (report.pending.rank if report.pending else None)
    cancelled = {c.reference for c in report.cancelled if c.ok}
    for a in sorted(report.attempts, key=lambda a: a.rank):
        outcome = a.outcome
        if a.reference and a.reference in cancelled:
            outcome += " → cancelled"
        elif a.rank == kept:
            outcome += " ★ kept"
        if a.reference and a.reference in report.contested:
            outcome += " (contested)"
        table.add_row(
            str(a.rank + 1),
            str(a.resource),
            f"[{STYLES.get(a.outcome, '')}]{outcome}[/]",
            a.message,
            f"{a.latency_ms:.0f}" if a.latency_ms else "–",
        )
    return table


def summary_lines(report: RaceReport) -> list[str]:
    """The summary under the table."""
    lines: list[str] = []
    if report.existing is not None:
        r = report.existing
        if r.pending:
            lines.append(
                f"[bold yellow]pending[/]: you already hold {r.reference} on resource "
                f"{r.resource_id}, awaiting an admin's approval — nothing to do"
            )
            return lines
        lines.append(
            f"[green]already booked[/]: {r.reference} on resource {r.resource_id} — nothing to do"
        )
        return lines
    if report.estimate is not None:
        lines.append(
            f"server clock offset {report.estimate.offset * 1000:+.1f} ms "
            f"(± {report.estimate.uncertainty * 1000:.1f} ms)"
        )
    if report.fire_lateness_ms is not None:
        lines.append(f"fired {report.fire_lateness_ms:.1f} ms after the planned instant")
    if report.attempts:
        sent = sum(1 for a in report.attempts if a.sent_at is not None)
        lines.append(f"{sent} attempt(s) sent in {report.burst_ms:.0f} ms")
    if not report.candidates:
        lines.append("[yellow]no free resource in the range for this slot[/]")
    if report.relogins:
        lines.append("the session expired during the burst: logged in again once")
    for c in report.cancelled:
        if c.ok:
            lines.append(f"surplus {c.reference} on resource {c.resource} cancelled")
        else:
            lines.append(
                f"[bold red]could not cancel surplus {c.reference or '?'} on resource "
                f"{c.resource}[/]: {c.message} — cancel it by hand"
            )
    for ref, others in report.contested.items():
        fate = "kept" if report.won is not None and report.won.reference == ref else "released"
        lines.append(
            f"[bold yellow]contested[/]: {ref} — user {', '.join(others)} holds the same "
            f"resource and slot (the server does not lock); {fate}"
        )
    if report.dry_run:
        lines.append("[cyan]dry run: no reservation was requested[/]")
    elif report.won is not None:
        note = (
            " — contested, ask the admin whose it is"
            if report.won.reference in (report.contested)
            else ""
        )
        lines.append(
            f"[bold green]won[/]: resource {report.won.resource}, reference "
            f"{report.won.reference}{note}"
        )
    elif report.pending is not None:
        lines.append(
            f"[bold yellow]pending[/]: resource {report.pending.resource}, reference "
            f"{report.pending.reference} — stored, but not yours until an admin approves it"
        )
    else:
        lines.append("[bold yellow]no slot won[/]")
    return lines


def render(console: Console, report: RaceReport) -> None:
    """Print the table (when there were attempts) and the summary."""
    if report.attempts:
        console.print(attempts_table(report))
    for line in summary_lines(report):
        console.print(line)


def span_title(found: Availability) -> str:
    """``2026-12-01 09:00–12:00 CET``, or ``2026-12-01 (whole day, CET)`` for a whole day."""
    lo, hi = found.start, found.end
    if lo.time() == hi.time() == dtime(0, 0) and hi.date() == lo.date() + timedelta(days=1):
        return f"{lo:%Y-%m-%d} (whole day, {lo:%Z})"
    return f"{lo:%Y-%m-%d %H:%M}–{hi:%H:%M %Z}"


def reservations_table(rows: list[Reservation], title: str) -> Table:
    """Reservations (availability, list) as a table in the schedule's zone."""
    table = Table(title=title, title_justify="left")
    table.add_column("reference")
    table.add_column("resource", justify="right")
    table.add_column("start")
    table.add_column("end")
    table.add_column("user")
    for r in sorted(rows, key=lambda r: (r.start, r.resource_id)):
        table.add_row(
            r.reference,
            str(r.resource_id),
            r.start.strftime("%Y-%m-%d %H:%M %Z"),
            r.end.strftime("%H:%M %Z"),
            (r.user_id or "") + (" (pending)" if r.pending else ""),
        )
    return table
