"""`boxoffice sync …`: pull Vivenu tickets, push them to a webhook exactly once, show the ledger.

Workflow (the seed's): ``sync pull PROD EVENT`` → ``sync push PROD EVENT --test`` →
``sync push PROD EVENT`` → ``sync status PROD EVENT``.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from boxoffice.cli._notify import HeartbeatOpt, NotifyOpt
from boxoffice.cli.context import get_ctx
from boxoffice.errors import EXIT_NO_RESULT, BoxofficeError, ConfigurationError

if TYPE_CHECKING:
    from rich.console import Console

    from boxoffice.jobs.sync.push import PushResult

EXIT_INTERRUPTED = 130

app = typer.Typer(
    help="Deliver historical Vivenu tickets to a webhook as signed ticket.created events "
    "(pull → push --test → push → status).",
    no_args_is_help=True,
)

RegionArg = Annotated[
    str, typer.Argument(help="Region: its API key is read from <REGION>_API (env or .env).")
]
EventArg = Annotated[
    str | None,
    typer.Argument(help="Vivenu event id (default: <REGION>_EVENT).", show_default=False),
]


def _resume_line(extra: str = "") -> str:
    return f"interrupted{extra} — resume with the same command: {_command()}"


@app.command()
def pull(
    ctx: typer.Context,
    region: RegionArg,
    event: EventArg = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for purchased_tickets/ (default: .).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Ask the server for these statuses only (e.g. VALID,DETAILSREQUIRED)."),
    ] = None,
    top: Annotated[int | None, typer.Option(help="Tickets per page (1–1000).")] = None,
    no_individual: Annotated[
        bool, typer.Option("--no-individual", help="Skip the per-ticket files.")
    ] = False,
) -> None:
    """Download an event's tickets to purchased_tickets/<event>/ (read-only on Vivenu).

    Example: boxoffice sync pull PROD 68108c20c5c88849372bfb61
    """
    from boxoffice.cli._sync_output import PullLines
    from boxoffice.jobs.sync.pulling import pull as run_pull

    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings(cli={"sync": {"out_dir": out, "page_size": top}})
    console = app_ctx.console
    lines = PullLines(console, app_ctx.err)
    try:
        try:
            result = run_pull(
                settings, region, event, lines, status=status, individual=not no_individual
            )
        finally:
            lines.close()
    except (KeyboardInterrupt, asyncio.CancelledError):
        typer.echo(_resume_line(), err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    console.print(
        f"Found {result.total} total tickets; saved {result.pulled} to {result.directory}"
    )
    for name, count in sorted(result.by_status.items()):
        console.print(f"  - {name}: {count}")
    if result.report.total_changed:
        changes = ", ".join(f"{a} → {b}" for a, b in result.report.total_changes)
        console.print(
            f"[yellow]the event's total changed during the pull ({changes}); "
            f"{result.pulled} unique tickets saved — run pull again for a stable snapshot[/]"
        )
    if result.pulled == 0:
        console.print(
            "[yellow]no tickets found — check the event id and that the key belongs to "
            "the event's seller[/]"
        )


@app.command()
def push(
    ctx: typer.Context,
    region: RegionArg,
    event: EventArg = None,
    target: Annotated[
        str | None,
        typer.Option(help="Webhook target: a name from \\[sync.targets] (test, prod) or a URL."),
    ] = None,
    test: Annotated[
        bool, typer.Option("--test", help="Send one ticket to the test target.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between deliveries (default 1.8; 0 = unpaced).")
    ] = None,
    rate: Annotated[
        str | None, typer.Option(help="Deliveries per second instead of --interval (e.g. 5/s).")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Deliveries in flight at once.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Statuses to send (default VALID,DETAILSREQUIRED).")
    ] = None,
    name_contains: Annotated[
        str | None,
        typer.Option(help="Only ticket names containing this (default CHARITY; '' = any)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Send at most N tickets in this run.")] = None,
    max_attempts: Annotated[
        int | None, typer.Option(help="Attempts before a ticket becomes a dead letter.")
    ] = None,
    retry_dead: Annotated[
        bool, typer.Option("--retry-dead", help="Re-queue dead letters before sending.")
    ] = False,
    notify_urls: NotifyOpt = None,
    heartbeat_url: HeartbeatOpt = None,
    max_wait: Annotated[
        float | None,
        typer.Option(
            help="Seconds this run may wait for a ticket's next retry once the others are done "
            "(default 600); later retries end the run (exit 3) and the same command resumes them.",
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="If another push of the same event and target is running, wait for it to "
            "finish instead of exiting (exit 14).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Send every matching ticket as a signed ticket.created event, exactly once, resumably.

    Example: boxoffice sync push PROD 68108c20c5c88849372bfb61 --target prod
    """
    from boxoffice.cli._notify import announcer_for, heartbeat_for
    from boxoffice.cli._sync_output import PushLines
    from boxoffice.jobs.sync import pushing
    from boxoffice.jobs.sync.regions import load_env
    from boxoffice.jobs.sync.runner import PushRequest, parse_rate

    if interval is not None and rate is not None:
        raise ConfigurationError("give --interval or --rate, not both")
    if rate is not None:
        interval = parse_rate(rate)
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings(
        cli={
            "sync": {
                "interval": interval,
                "concurrency": concurrency,
                "statuses": status,
                "name_contains": name_contains,
                "max_attempts": max_attempts,
                "max_wait": max_wait,
            }
        }
    )
    request = PushRequest(
        region=region,
        event=event,
        target=target,
        test=test,
        dry_run=dry_run,
        limit=limit,
        retry_dead=retry_dead,
    )
    console, err = app_ctx.console, app_ctx.err
    lines = PushLines(console, err, quiet=as_json, show_bar=not dry_run)
    try:
        run = pushing.push(
            settings,
            load_env(),
            request,
            lines,
            wait=wait,
            announcer=announcer_for(settings, "sync", extra=notify_urls or [], err=err),
            heartbeat=heartbeat_for(settings, "sync", heartbeat_url),
        )
    except pushing.PushInterrupted as stop:
        if stop.counts is None:
            typer.echo("interrupted while waiting for the other run; nothing was sent", err=True)
        else:
            typer.echo(
                _resume_line(
                    f" after {lines.delivered} deliveries this run "
                    f"({stop.counts['delivered']} delivered, {stop.counts['pending']} pending "
                    "in the ledger)"
                ),
                err=True,
            )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    cfg, result = run.cfg, run.result
    if as_json:
        typer.echo(json.dumps(result.as_json()))
    else:
        _print_result(console, cfg.target.url, result)
    if result.dead:
        raise BoxofficeError(
            f"{result.dead} ticket(s) became dead letters",
            hint=f"see `boxoffice sync status {cfg.region.name} {cfg.event}`; fix the cause, "
            "then run the same command with --retry-dead",
        )
    if result.waiting:
        typer.echo(_waiting_line(result), err=True)
        raise typer.Exit(EXIT_NO_RESULT)


def _waiting_line(result: PushResult) -> str:
    span = (
        f"at {result.next_retry_at}"
        if result.next_retry_at == result.last_retry_at
        else f"from {result.next_retry_at} until {result.last_retry_at}"
    )
    return (
        f"{result.waiting} ticket(s) wait for a retry {span} (beyond --max-wait) — "
        f"run the same command then to resume them: {_command()}"
    )


def _command() -> str:
    return shlex.join(["boxoffice", *sys.argv[1:]]) if sys.argv[1:] else "the same command"


def _print_result(console: Console, url: str, result: PushResult) -> None:
    plan = result.plan
    if result.dry_run:
        console.print(f"Dry run: would send {plan.to_send} ticket(s) to {url}; nothing was sent.")
        for item in plan.preview:
            console.print(
                f"  {item['ticket_id']}  id={item['envelope_id']}  {item['status']:<15} "
                f"{item['ticketName']}"
            )
        if plan.to_send > len(plan.preview):
            console.print(f"  … and {plan.to_send - len(plan.preview)} more")
        return
    if plan.to_send == 0:
        console.print("Nothing to send: every matching ticket is already delivered.")
        return
    waiting = f", waiting {result.waiting}" if result.waiting else ""
    console.print(
        f"Done: delivered {result.delivered}, dead {result.dead}{waiting}, retries "
        f"{result.retries} in {result.duration_s:.1f} s → {url}"
    )


@app.command()
def status(
    ctx: typer.Context,
    region: RegionArg,
    event: Annotated[
        str | None, typer.Argument(help="Only this event (default: all).", show_default=False)
    ] = None,
    target: Annotated[str | None, typer.Option(help="Show this target's dead letters.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the delivery ledger: pending / delivered / dead per event and target.

    Example: boxoffice sync status PROD 68108c20c5c88849372bfb61
    """
    from boxoffice.jobs.sync.status import ledger_status

    app_ctx = get_ctx(ctx)
    report = ledger_status(app_ctx.settings(), region, event, target)
    name, lines, dead, names = report.region, report.lines, report.dead, report.target_names
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    console = app_ctx.console
    if not lines:
        where = f" event {event}" if event else ""
        console.print(f"No deliveries recorded for {name}{where}")
        return
    table = Table(title=f"sync ledger — {name}")
    table.add_column("event", overflow="fold")
    table.add_column("target", overflow="fold", min_width=12)
    for column in ("pending", "delivered", "dead"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("last update", overflow="fold")
    for line in lines:
        label = Text(names[line.target] + "\n", style="bold") if line.target in names else Text()
        label.append(line.target)
        table.add_row(
            line.event,
            label,
            str(line.pending),
            str(line.delivered),
            str(line.dead),
            line.last_update,
        )
    console.print(table)
    for line in lines:
        if line.pending and line.next_retry:
            console.print(
                f"{line.event} → {names.get(line.target, line.target)}: {line.pending} "
                f"pending, next retry at {line.next_retry} — resume with "
                f"`boxoffice sync push {name} {line.event} --target "
                f"{names.get(line.target, line.target)}` then",
                markup=False,
                soft_wrap=True,
            )
    if dead:
        console.print("Dead letters (most recent first):")
        for ev, tgt, row in dead:
            console.print(
                f"  {row.ticket_id} event {ev} → {tgt}: {row.attempts} attempt(s), "
                f"{row.last_error}",
                markup=False,
            )
        console.print("Re-queue them with: boxoffice sync push REGION EVENT --retry-dead")
