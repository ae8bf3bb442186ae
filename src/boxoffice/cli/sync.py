"""`boxoffice sync …`: pull Vivenu tickets, push them to a webhook exactly once, show the ledger.

Workflow (the seed's): ``sync pull PROD EVENT`` → ``sync push PROD EVENT --test`` →
``sync push PROD EVENT`` → ``sync status PROD EVENT``.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
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
from rich.table import Table
from rich.text import Text

from boxoffice.cli._notify import HeartbeatOpt, NotifyOpt, announcer_for, heartbeat_for
from boxoffice.cli.context import get_ctx
from boxoffice.core.events import Announcer, Event
from boxoffice.core.heartbeat import guarded
from boxoffice.errors import EXIT_NO_RESULT, BoxofficeError, ConfigurationError
from boxoffice.jobs.sync.notices import blocked_event, interrupted_event, sync_events
from boxoffice.jobs.sync.pull import run_pull
from boxoffice.jobs.sync.push import Outcome, PushObserver, PushPlan, PushResult, run_push
from boxoffice.jobs.sync.regions import load_env, resolve_event, resolve_region, resolve_target
from boxoffice.jobs.sync.runner import (
    PushRequest,
    build_push_config,
    ledger_for,
    parse_rate,
    push_lock,
    read_only_ledger,
    spool_dir,
    tickets_client,
    vivenu_http,
    webhook_http,
)

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


class RateColumn(ProgressColumn):
    """Deliveries per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("–/s" if speed is None else f"{speed:,.1f}/s", style="progress.data.speed")


def _progress(console: Console) -> Progress:
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


def _resume_line(extra: str = "") -> str:
    return f"interrupted{extra} — resume with the same command: {_command()}"


def _run(coro_factory: Any) -> Any:
    """Run a coroutine; SIGTERM cancels it like Ctrl-C does."""

    async def main() -> Any:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            try:
                loop.add_signal_handler(signal.SIGTERM, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        return await coro_factory()

    return asyncio.run(main())


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
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings(cli={"sync": {"out_dir": out, "page_size": top}})
    env = load_env()
    reg = resolve_region(region, settings.sync, env)
    event_id = resolve_event(reg, event)
    console = app_ctx.console
    console.print(f"Pulling tickets of event {event_id} from {reg.base_url} ({reg.name})…")

    async def go() -> Any:
        async with vivenu_http(settings) as http:
            client = tickets_client(
                http,
                reg,
                on_retry=lambda reason, wait: app_ctx.err.print(
                    f"[yellow]{reason}: retrying in {wait:.1f} s[/]"
                ),
            )
            with _progress(app_ctx.err) as progress:
                task = progress.add_task("pulling", total=None)

                def on_page(pulled: int, total: int) -> None:
                    progress.update(task, completed=pulled, total=max(total, pulled))

                return await run_pull(
                    client,
                    event_id,
                    settings.sync.out_dir,
                    region=reg.name,
                    top=settings.sync.page_size,
                    status=status.upper() if status else None,
                    individual=not no_individual,
                    on_page=on_page,
                )

    try:
        result = _run(go)
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


class _CliObserver(PushObserver):
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
        self.progress = _progress(self.err)
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
    env = load_env()
    cfg = build_push_config(
        settings,
        env,
        PushRequest(
            region=region,
            event=event,
            target=target,
            test=test,
            dry_run=dry_run,
            limit=limit,
            retry_dead=retry_dead,
        ),
    )
    console, err = app_ctx.console, app_ctx.err
    if not as_json:
        console.print(
            f"Pulling tickets of event {cfg.event} from {cfg.region.base_url} "
            f"({cfg.region.name}); target {cfg.target.name} → {cfg.target.url}"
        )
    observer = _CliObserver(console, err, quiet=as_json, show_bar=not cfg.dry_run)
    lock = push_lock(settings, cfg)
    if not cfg.dry_run:  # a dry run sends nothing: it needs no lock
        try:
            lock.acquire(
                wait=wait,
                on_wait=lambda holder: err.print(
                    f"another run holds {cfg.event} → {cfg.target.url} "
                    f"({holder.describe()}); waiting for it to finish (--wait)…",
                    markup=False,
                ),
            )
        except KeyboardInterrupt:
            typer.echo("interrupted while waiting for the other run; nothing was sent", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    try:
        ledger = ledger_for(settings)
    except BaseException:
        lock.release()
        raise
    announcer = announcer_for(settings, "sync", extra=notify_urls or [], err=err)
    hb = None if cfg.dry_run else heartbeat_for(settings, "sync", heartbeat_url)

    async def go() -> PushResult:
        return await guarded(hb, push_once())

    async def push_once() -> PushResult:
        async with vivenu_http(settings) as vhttp, webhook_http(settings) as whttp:
            client = tickets_client(
                vhttp,
                cfg.region,
                on_retry=lambda reason, wait: err.print(
                    f"[yellow]Vivenu {reason}: retrying in {wait:.1f} s[/]"
                ),
            )
            try:
                return await run_push(
                    cfg,
                    tickets=client,
                    webhook=whttp,
                    ledger=ledger,
                    spool_dir=spool_dir(settings),
                    observer=observer,
                )
            finally:
                observer.stop()

    try:
        result: PushResult = _run(go)
    except (KeyboardInterrupt, asyncio.CancelledError):
        counts = ledger.counts(cfg.key)
        _announce(announcer, [interrupted_event(cfg, counts["delivered"], counts["pending"])])
        typer.echo(
            _resume_line(
                f" after {observer.delivered} deliveries this run "
                f"({counts['delivered']} delivered, {counts['pending']} pending in the ledger)"
            ),
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BoxofficeError as exc:
        _announce(announcer, [blocked_event(cfg, exc.one_line())])
        ledger.close()
        lock.release()
        raise
    try:
        _announce(announcer, sync_events(cfg, result, ledger))
    finally:
        ledger.close()
        lock.release()
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


def _announce(announcer: Announcer, events: list[Event]) -> None:
    """Send the run's outcome (the deliveries are over by then)."""

    async def send() -> None:
        for event in events:
            await announcer.send(event)

    if announcer and events:
        asyncio.run(send())


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
    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings()
    name = region.strip().upper()
    ledger = read_only_ledger(settings)  # reading needs no write access to the ledger
    if ledger is None:
        lines, dead = [], []
    try:
        if ledger is not None:
            lines = ledger.summary(name, event)
            dead = ledger.dead_letters(name, limit=20)
        if target:
            url = resolve_target(target, settings.sync).url
            dead = [d for d in dead if d[1] == url]
        if event:
            dead = [d for d in dead if d[0] == event]
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "region": name,
                        "runs": [line.__dict__ for line in lines],
                        "dead_letters": [
                            {"event": e, "target": t, **row.__dict__} for e, t, row in dead
                        ],
                    }
                )
            )
            return
        console = app_ctx.console
        if not lines:
            where = f" event {event}" if event else ""
            console.print(f"No deliveries recorded for {name}{where}")
            return
        names = {url: tname for tname, url in settings.sync.targets.items()}
        table = Table(title=f"sync ledger — {name}")
        table.add_column("event", overflow="fold")
        table.add_column("target", overflow="fold", min_width=12)
        for column in ("pending", "delivered", "dead"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("last update", overflow="fold")
        for line in lines:
            label = (
                Text(names[line.target] + "\n", style="bold") if line.target in names else Text()
            )
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
    finally:
        if ledger is not None:
            ledger.close()
