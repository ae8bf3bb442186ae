"""`boxoffice track …`: events from a sheet, scheduled listing snapshots, price analytics."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from boxoffice.cli import track_alerts
from boxoffice.cli._notify import HeartbeatOpt, NotifyOpt
from boxoffice.cli.context import get_ctx
from boxoffice.errors import ConfigurationError

if TYPE_CHECKING:
    from boxoffice.jobs.track.events import ImportResult
    from boxoffice.jobs.track.scheduler import ScheduleConfig
    from boxoffice.settings import Settings

app = typer.Typer(
    help="Track resale prices: events from a sheet, scheduled snapshots, history and charts.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="postgresql://user:pass@host/db or a SQLite file (default: BOXOFFICE_DB_URL, "
        "config, then <data dir>/track.sqlite3).",
        show_default=False,
    ),
]
EventsOpt = Annotated[
    str | None,
    typer.Option("--events", help="sheet:SHEET_ID | csv:PATH | https://…/export?format=csv&gid=…"),
]
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="Show times in this zone (default: local).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON rows on stdout.")]
ProxyOpt = Annotated[str | None, typer.Option(help="Listings proxy base URL.")]
app.add_typer(track_alerts.app, name="alert")


def _settings(ctx: typer.Context, db: str | None, **track: Any) -> Settings:
    from boxoffice.jobs.track.runtime import db_overrides

    cli = db_overrides(db)
    cli["track"] = {**track, **cli["track"]}
    return get_ctx(ctx).settings(cli=cli)


def _console(ctx: typer.Context) -> Console:
    return get_ctx(ctx).console


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


@app.command("init-db")
def init_db(ctx: typer.Context, db: DbOpt = None) -> None:
    """Create or migrate the store (SQLite file or PostgreSQL/TimescaleDB).

    Example: boxoffice track init-db --db postgresql://track@db.example/track
    """
    from boxoffice.jobs.track import manage

    ready = manage.init_db(_settings(ctx, db))
    extra = ""
    out = _console(ctx)
    ts = ready.timescale
    if ts is not None:
        for change in ts.changes:
            out.print(f"changed: {change}", soft_wrap=True)
        extra = f", {ts.summary()}"
        if ts.installed is None:
            extra += " (date_bin buckets)"
    out.print(
        f"store ready: {ready.description} — schema version {ready.version}{extra}",
        soft_wrap=True,
    )
    if ts is not None and ts.old_key:
        out.print(
            f"[yellow]note:[/] listings has an older layout ({ts.old_key}): imports are "  # noqa: S608 (advice text)
            "slower (~45 % here). A hypertable cannot rebuild its key in place: for the "
            "current layout, run init-db on a new database and copy the rows over (psql: "
            "`\\copy (SELECT * FROM listings) TO 'l.csv' CSV` here, `\\copy listings FROM "
            "'l.csv' CSV` there).",
            soft_wrap=True,
        )


@app.command("fetch-events")
def fetch_events(
    ctx: typer.Context,
    db: DbOpt = None,
    events_source: EventsOpt = None,
    worksheet: Annotated[str | None, typer.Option(help="Worksheet (tab) name.")] = None,
    credentials: Annotated[
        Path | None, typer.Option("--credentials", help="Service-account JSON file.")
    ] = None,
) -> None:
    """Import the tracked events of the sheet/CSV; update the ones already stored.

    Example: boxoffice track fetch-events --events sheet:1AbC… --credentials sa.json
    """
    from boxoffice.jobs.track import manage

    settings = _settings(
        ctx, db, events=events_source, worksheet=worksheet, credentials_file=credentials
    )
    _print_import(_console(ctx), manage.fetch_events(settings), source_counts=True)


def _print_import(console: Console, result: ImportResult, *, source_counts: bool) -> None:
    r = result.result
    line = f"events: {r.inserted} new, {r.updated} updated, {r.unchanged} unchanged"
    if source_counts:
        line += (
            f" ({result.tracked} tracked in the source, {result.untracked_in_source} not tracked)"
        )
    console.print(line)
    for error in result.errors:
        console.print(f"[yellow]skipped[/yellow] {error}")


@app.command("show-events")
def show_events(
    ctx: typer.Context,
    db: DbOpt = None,
    tz: TzOpt = None,
    as_json: JsonOpt = False,
    tracked_only: Annotated[
        bool, typer.Option("--tracked-only", help="Hide untracked events.")
    ] = False,
) -> None:
    """List the stored events with their last and next snapshot.

    Example: boxoffice track show-events --db postgresql://track@db/prices
    """
    from boxoffice.jobs.track import queries
    from boxoffice.jobs.track.analytics import local

    view = queries.list_events(_settings(ctx, db, timezone=tz), tracked_only=tracked_only)
    if as_json:
        sys.stdout.write(json.dumps(view.dicts(), indent=2) + "\n")
        return
    rows, zone = view.events, view.zone
    table = Table(title=f"events ({len(rows)})")
    for column in (
        "id",
        "viagogo",
        "name",
        "venue",
        "city",
        "date",
        "tracked",
        "last fetch",
        "next run",
    ):
        table.add_column(column)
    for e in rows:
        table.add_row(
            str(e.event_id),
            e.viagogo_id,
            e.name,
            e.venue,
            e.city,
            local(e.event_date, zone),
            "yes" if e.is_tracked else "no",
            local(e.last_listings_fetch, zone),
            local(e.next_run_at, zone) if e.is_tracked else "—",
        )
    _console(ctx).print(table)


@app.command("cleanup-untracked-events")
def cleanup_untracked_events(
    ctx: typer.Context,
    db: DbOpt = None,
    events_source: EventsOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--no-dry-run", help="Only show what would change.")
    ] = True,
    delete: Annotated[
        bool,
        typer.Option(
            "--delete",
            help="Delete the events and their listings (also those already marked untracked).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Apply even when the source returned no events or every tracked event would go.",
        ),
    ] = False,
) -> None:
    """Find stored events the source no longer tracks; mark (or delete) them.

    Dry run by default. A source that returns no events, or that would take every tracked
    event away, is refused unless --force. Example:
    boxoffice track cleanup-untracked-events --no-dry-run --delete
    """
    from boxoffice.jobs.track import manage

    settings = _settings(ctx, db, events=events_source)
    console = _console(ctx)
    report = manage.cleanup_untracked(settings, delete=delete, dry_run=dry_run, force=force)
    if not report.rows:
        console.print("no untracked events: nothing to do")
        return
    table = Table(title=f"{'would ' if dry_run else ''}{report.verb}: {len(report.rows)} event(s)")
    for column in ("id", "viagogo", "name", "listings", "reason"):
        table.add_column(column)
    for row in report.rows:
        item = row.item
        table.add_row(
            str(item.event.event_id),
            item.event.viagogo_id,
            item.event.name,
            str(row.listings),
            item.reason,
        )
    console.print(table)
    if report.refused:
        raise report.refusal_error()
    if report.plan.refusal is not None and not force and dry_run:
        console.print(
            f"[yellow]warning[/yellow]: {report.plan.refusal} — --no-dry-run would refuse "
            "this without --force"
        )
    if report.deleted is not None:
        n_events, n_listings = report.deleted
        console.print(f"deleted {n_events} event(s) and {n_listings} listing row(s)")
    elif report.marked is not None:
        console.print(f"marked {report.marked} event(s) untracked (data kept, no more snapshots)")
    else:
        console.print("dry run: nothing changed (use --no-dry-run to apply)")


@app.command("fetch-listings")
def fetch_listings(
    ctx: typer.Context,
    viagogo_id: Annotated[str | None, typer.Argument(help="Only this event.")] = None,
    db: DbOpt = None,
    source: Annotated[
        str | None, typer.Option(help="Listing source: proxy or seatgeek (default: config).")
    ] = None,
    proxy_url: ProxyOpt = None,
) -> None:
    """Snapshot the listings of every tracked event (or one) right now.

    Example: boxoffice track fetch-listings 151000001
    """
    from boxoffice.jobs.track import listings
    from boxoffice.jobs.track.snapshot import failed_exit_code

    settings = _settings(ctx, db, listing_source=source, proxy_url=proxy_url)
    outcomes = listings.fetch_listings(settings, viagogo_id, source=source)
    table = Table(title="snapshot")
    for column in ("event", "source", "status", "listings", "skipped", "s"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.viagogo_id,
            o.source,
            "[green]ok[/green]" if o.status == "ok" else f"[red]{o.error}[/red]",
            str(o.listings),
            str(o.skipped),
            f"{o.duration_s:.2f}",
        )
    _console(ctx).print(table)
    code = failed_exit_code(outcomes)
    if code is not None:
        raise typer.Exit(code)


@app.command("show-listings")
def show_listings(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="Event id or viagogo id.")],
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The latest snapshot of an event, cheapest first.

    Example: boxoffice track show-listings 151000001
    """
    from boxoffice.jobs.track import queries
    from boxoffice.jobs.track.analytics import local

    latest = queries.latest_listings(_settings(ctx, db, timezone=tz), event, limit=limit)
    if as_json:
        sys.stdout.write(json.dumps(latest.dicts(), indent=2) + "\n")
        return
    found, rows = latest.event, latest.listings
    when = local(rows[0].captured_at, latest.zone) if rows else "never"
    table = Table(title=f"{found.name} ({found.viagogo_id}) — snapshot of {when}")
    for column in ("listing", "section", "row", "qty", "price", "total", "cur"):
        table.add_column(column, justify="right" if column in ("qty", "price", "total") else "left")
    for r in rows:
        table.add_row(
            r.listing_id,
            r.section or "",
            r.row or "",
            str(r.quantity),
            _fmt(r.price_per_ticket),
            _fmt(r.total_price),
            r.currency or "",
        )
    _console(ctx).print(table)


@app.command("import-listings")
def import_listings(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: viagogo_id,listing_id,section,row,…")],
    db: DbOpt = None,
) -> None:
    """Import listings from a CSV file (events must already be stored).

    Example: boxoffice track import-listings listings.csv
    """
    from boxoffice.jobs.track import listings

    result = listings.import_listings_file(_settings(ctx, db), file)
    console = _console(ctx)
    console.print(
        f"imported {result.inserted} listing row(s); {len(result.errors)} bad row(s); "
        f"{result.unknown_rows} row(s) for unknown events"
    )
    for error in result.errors[:20]:
        console.print(f"[yellow]line {error.line}[/yellow]: {error.reason}", soft_wrap=True)
    if result.unknown_ids:
        console.print(
            f"unknown viagogo ids (run fetch-events first): {', '.join(result.unknown_ids[:10])}"
        )


def _table_console(ctx: typer.Context, as_json: bool) -> Console:
    """Where the human lines go: stdout, or stderr when stdout carries JSON."""
    return _console(ctx) if not as_json else Console(stderr=True, highlight=False)


@app.command("price-history")
def price_history(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="Event id or viagogo id.")],
    days: Annotated[float, typer.Option(help="Window: the last N days.")] = 30,
    bucket: Annotated[str, typer.Option(help='Bucket width: "1 day", "6 hours", …')] = "1 day",
    db: DbOpt = None,
    tz: TzOpt = None,
    as_json: JsonOpt = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write CSV here.")] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Chart to FILE.png or FILE.html.")
    ] = None,
) -> None:
    """Min/avg/median/max price, listings and tickets per time bucket.

    Example: boxoffice track price-history 151000001 --days 30 --bucket "1 day" --plot p.png
    """
    from boxoffice.jobs.track import queries
    from boxoffice.jobs.track.analytics import local

    console = _table_console(ctx, as_json)
    view = queries.price_history(
        _settings(ctx, db, timezone=tz), event, days=days, bucket=bucket, csv_file=csv_file,
        plot=plot, written=lambda what, path: console.print(f"{what} written: {path}"),
    )  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(view.rows, indent=2) + "\n")
        return
    history = view.history
    ev = history.event
    title = f"{ev.name} ({ev.viagogo_id}) — last {days:g} days, buckets of {bucket}"
    if history.from_stats:
        title += " (from stats snapshots)"
    table = Table(title=title)
    for column in ("bucket", "min", "avg", "median", "max", "listings", "tickets"):
        table.add_column(column, justify="left" if column == "bucket" else "right")
    for r in history.rows:
        table.add_row(
            local(r.bucket, view.zone),
            _fmt(r.min),
            _fmt(r.avg),
            _fmt(r.median),
            _fmt(r.max),
            str(r.count),
            str(r.quantity),
        )
    console.print(table)
    if not history.rows:
        console.print("no listings in this window (has the scheduler run? see show-events)")


@app.command("section-prices")
def section_prices(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="Event id or viagogo id.")],
    days: Annotated[float, typer.Option(help="Window: the last N days.")] = 7,
    db: DbOpt = None,
    as_json: JsonOpt = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write CSV here.")] = None,
) -> None:
    """Min/avg/median/max price per section.

    Example: boxoffice track section-prices 151000001 --days 7 --json
    """
    from boxoffice.jobs.track import queries

    console = _table_console(ctx, as_json)
    view = queries.section_prices(
        _settings(ctx, db), event, days=days, csv_file=csv_file,
        written=lambda what, path: console.print(f"{what} written: {path}"),
    )  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(view.rows, indent=2) + "\n")
        return
    found = view.event
    table = Table(title=f"{found.name} ({found.viagogo_id}) — sections, last {days:g} days")
    for column in ("section", "min", "avg", "median", "max", "listings", "tickets"):
        table.add_column(column, justify="left" if column == "section" else "right")
    for s in view.sections:
        table.add_row(
            s.section or "(none)",
            _fmt(s.min),
            _fmt(s.avg),
            _fmt(s.median),
            _fmt(s.max),
            str(s.count),
            str(s.quantity),
        )
    console.print(table)


#: The strategies ``--randomization`` takes (core.pacing.JITTER_STRATEGIES, pinned by a test).
STRATEGIES = ("uniform", "poisson", "normal")


def _strategy(value: str | None) -> str | None:
    if value is not None and value not in STRATEGIES:
        raise ConfigurationError(
            f"unknown randomization {value!r}", hint=f"use {', '.join(STRATEGIES)}"
        )
    return value


#: The [track] settings' defaults as the help shows them (pinned to the settings by a test;
#: the settings models are not imported for --help).
HELP_DEFAULTS: dict[str, Any] = {
    "interval_hours": 12.0,
    "randomization": "uniform",
    "min_factor": 0.7,
    "max_factor": 1.3,
    "concurrency": 4,
    "events_refresh_hours": 3.0,
}
IntervalOpt = Annotated[
    float | None,
    typer.Option(
        "--interval-hours", help=f"Base interval (default {HELP_DEFAULTS['interval_hours']:g})."
    ),
]
RandOpt = Annotated[
    str | None,
    typer.Option(
        "--randomization",
        help=f"uniform | poisson | normal ({HELP_DEFAULTS['randomization']}).",
    ),
]
MinOpt = Annotated[
    float | None,
    typer.Option("--min-factor", help=f"Lowest factor ({HELP_DEFAULTS['min_factor']:g})."),
]
MaxOpt = Annotated[
    float | None,
    typer.Option("--max-factor", help=f"Highest factor ({HELP_DEFAULTS['max_factor']:g})."),
]
ConcOpt = Annotated[
    int | None,
    typer.Option("--concurrency", help=f"Snapshots at once ({HELP_DEFAULTS['concurrency']})."),
]
RefreshOpt = Annotated[
    str | None,
    typer.Option(
        "--events-refresh",
        help=f'Re-read the events source this often: "3h", "30m", "off" '
        f"(default {HELP_DEFAULTS['events_refresh_hours']:g} h).",
    ),
]


def _scheduler_settings(
    ctx: typer.Context,
    db: str | None,
    interval_hours: float | None,
    randomization: str | None,
    min_factor: float | None,
    max_factor: float | None,
    concurrency: int | None,
    events_refresh: str | None = None,
    **extra: Any,
) -> Settings:
    from boxoffice.jobs.track.events import parse_refresh

    refresh = parse_refresh(events_refresh) if events_refresh is not None else None
    return _settings(
        ctx,
        db,
        events_refresh_hours=refresh,
        interval_hours=interval_hours,
        randomization=_strategy(randomization),
        min_factor=min_factor,
        max_factor=max_factor,
        concurrency=concurrency,
        **extra,
    )


class _ServeLines:
    """A scheduler run's lines: progress on stdout, a store that is down on stderr."""

    def __init__(self, ctx: typer.Context) -> None:
        self.console = _console(ctx)
        self.err = get_ctx(ctx).err

    def store_down(self, error: str, retry_in: float) -> None:
        self.err.print(
            f"{error} — retrying in {retry_in:g} s (Ctrl-C to stop)", soft_wrap=True, markup=False
        )

    def imported(self, result: ImportResult) -> None:
        _print_import(self.console, result, source_counts=False)

    def scheduling(self, config: ScheduleConfig, store: str) -> None:
        self.console.print(
            f"scheduler: every {config.interval_hours:g} h × [{config.min_factor}, "
            f"{config.max_factor}] ({config.strategy}), {config.concurrency} at once, "
            f"store {store} — Ctrl-C to stop"
        )

    def events_refresh(self, source: str, every: str | None) -> None:
        if every is not None:
            self.console.print(f"events: {source} re-read every {every}", soft_wrap=True)
        else:
            self.console.print(
                f"events: {source} not re-read (--events-refresh off)", soft_wrap=True
            )

    def stopped(self, runs: int) -> None:
        self.console.print(f"scheduler stopped after {runs} snapshot(s)")


def _serve(
    ctx: typer.Context,
    settings: Settings,
    *,
    import_events: bool,
    notify_urls: list[str] | None = None,
    heartbeat: str | None = None,
) -> None:
    """Wait for the store, import the events first if asked, then schedule until stopped."""
    from boxoffice.cli._notify import announcer_for, heartbeat_for
    from boxoffice.jobs.track import serve

    err = get_ctx(ctx).err
    serve.serve(
        settings,
        _ServeLines(ctx),
        import_events=import_events,
        announcer=lambda urls: announcer_for(settings, "track", extra=urls, err=err),
        notify_urls=notify_urls or [],
        heartbeat=heartbeat_for(settings, "track", heartbeat),
    )


@app.command("start-scheduler")
def start_scheduler(
    ctx: typer.Context,
    db: DbOpt = None,
    interval_hours: IntervalOpt = None,
    randomization: RandOpt = None,
    min_factor: MinOpt = None,
    max_factor: MaxOpt = None,
    concurrency: ConcOpt = None,
    proxy_url: ProxyOpt = None,
    events_source: EventsOpt = None,
    events_refresh: RefreshOpt = None,
    notify_urls: NotifyOpt = None,
    heartbeat: HeartbeatOpt = None,
) -> None:
    """Snapshot every tracked event on a randomized schedule until stopped.

    Several schedulers may share one PostgreSQL store: each run is claimed by one of them.
    With an events source (--events / track.events) it is re-read every --events-refresh.
    Example: boxoffice track start-scheduler --interval-hours 6 --randomization poisson
    """
    settings = _scheduler_settings(
        ctx, db, interval_hours, randomization, min_factor, max_factor, concurrency,
        events_refresh, proxy_url=proxy_url, events=events_source,
    )  # fmt: skip
    _serve(ctx, settings, import_events=False, notify_urls=notify_urls, heartbeat=heartbeat)


@app.command("run")
def run(
    ctx: typer.Context,
    db: DbOpt = None,
    events_source: EventsOpt = None,
    interval_hours: IntervalOpt = None,
    randomization: RandOpt = None,
    min_factor: MinOpt = None,
    max_factor: MaxOpt = None,
    concurrency: ConcOpt = None,
    proxy_url: ProxyOpt = None,
    events_refresh: RefreshOpt = None,
    notify_urls: NotifyOpt = None,
    heartbeat: HeartbeatOpt = None,
) -> None:
    """init-db + fetch-events + start-scheduler (the events are re-read every --events-refresh).

    Example: boxoffice track run --events sheet:1AbC… --interval-hours 12 --events-refresh 3h
    """
    settings = _scheduler_settings(
        ctx, db, interval_hours, randomization, min_factor, max_factor, concurrency,
        events_refresh, events=events_source, proxy_url=proxy_url,
    )  # fmt: skip
    _serve(ctx, settings, import_events=True, notify_urls=notify_urls, heartbeat=heartbeat)
