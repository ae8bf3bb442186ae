"""`boxoffice track …`: events from a sheet, scheduled listing snapshots, price analytics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from boxoffice.cli import track_alerts
from boxoffice.cli._notify import HeartbeatOpt, NotifyOpt, announcer_for, heartbeat_for
from boxoffice.cli.context import get_ctx
from boxoffice.core import pacing
from boxoffice.core.heartbeat import guarded
from boxoffice.core.logging import redact_text
from boxoffice.core.pacing import JITTER_STRATEGIES
from boxoffice.errors import ConfigurationError, NotFoundError, StorageError
from boxoffice.jobs.track import analytics, charts, events, imports, runtime
from boxoffice.jobs.track.notices import TrackNotices
from boxoffice.jobs.track.scheduler import ScheduleConfig, Scheduler
from boxoffice.jobs.track.snapshot import choose_source, snapshot
from boxoffice.jobs.track.store import Store
from boxoffice.settings import Settings
from boxoffice.settings.track import TrackSettings

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
    cli: dict[str, Any] = {"track": track}
    if db:
        if db.startswith("sqlite:///"):
            cli["track"]["db_path"] = db[len("sqlite:///") :]
        elif "://" in db:
            cli["db_url"] = db
        else:
            cli["track"]["db_path"] = db
    return get_ctx(ctx).settings(cli=cli)


def _console(ctx: typer.Context) -> Console:
    return get_ctx(ctx).console


@contextlib.contextmanager
def _store(settings: Settings, *, read_only: bool = False) -> Iterator[Store]:
    """The configured store; readers never create (or migrate) a SQLite file."""
    store = runtime.open_from_settings(settings, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


@app.command("init-db")
def init_db(ctx: typer.Context, db: DbOpt = None) -> None:
    """Create or migrate the store (SQLite file or PostgreSQL/TimescaleDB).

    Example: boxoffice track init-db --db postgresql://track@db.example/track
    """
    settings = _settings(ctx, db)
    with _store(settings) as store:
        version = store.schema_version()
        extra = ""
        out = _console(ctx)
        ts = getattr(store, "timescale", None)
        if ts is not None:
            for change in ts.changes:
                out.print(f"changed: {change}", soft_wrap=True)
            extra = f", {ts.summary()}"
            if ts.installed is None:
                extra += " (date_bin buckets)"
        out.print(
            f"store ready: {store.describe()} — schema version {version}{extra}", soft_wrap=True
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
    settings = _settings(
        ctx, db, events=events_source, worksheet=worksheet, credentials_file=credentials
    )
    console = _console(ctx)
    with _store(settings) as store:
        result = asyncio.run(_fetch_events(settings, store))
    _print_import(console, result, source_counts=True)


def _print_import(console: Console, result: events.ImportResult, *, source_counts: bool) -> None:
    r = result.result
    line = f"events: {r.inserted} new, {r.updated} updated, {r.unchanged} unchanged"
    if source_counts:
        line += (
            f" ({result.tracked} tracked in the source, {result.untracked_in_source} not tracked)"
        )
    console.print(line)
    for error in result.errors:
        console.print(f"[yellow]skipped[/yellow] {error}")


async def _fetch_events(settings: Settings, store: Store) -> events.ImportResult:
    async with runtime.http_client(settings) as client:
        parsed = await events.read_events(settings.track.events, settings.track, client)
    return events.import_events(store, parsed, now=datetime.now(UTC))


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
    settings = _settings(ctx, db, timezone=tz)
    zone = runtime.zone(settings.track.timezone)
    with _store(settings, read_only=True) as store:
        rows = store.events(tracked_only=tracked_only)
    if as_json:
        sys.stdout.write(
            json.dumps(
                [
                    {
                        "event_id": e.event_id,
                        "viagogo_id": e.viagogo_id,
                        "name": e.name,
                        "venue": e.venue,
                        "city": e.city,
                        "country": e.country,
                        "event_date": analytics.iso_utc(e.event_date) if e.event_date else None,
                        "is_tracked": e.is_tracked,
                        "source": e.source,
                        "last_listings_fetch": analytics.iso_utc(e.last_listings_fetch)
                        if e.last_listings_fetch
                        else None,
                        "next_run_at": analytics.iso_utc(e.next_run_at) if e.next_run_at else None,
                    }
                    for e in rows
                ],
                indent=2,
            )
            + "\n"
        )
        return
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
            analytics.local(e.event_date, zone),
            "yes" if e.is_tracked else "no",
            analytics.local(e.last_listings_fetch, zone),
            analytics.local(e.next_run_at, zone) if e.is_tracked else "—",
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
    settings = _settings(ctx, db, events=events_source)
    console = _console(ctx)
    with _store(settings) as store:

        async def read() -> Any:
            async with runtime.http_client(settings) as client:
                return await events.read_events(settings.track.events, settings.track, client)

        parsed = asyncio.run(read())
        plan = events.cleanup_plan(
            store, parsed, events.describe_source(settings.track.events), delete=delete
        )
        items = plan.items
        if not items:
            console.print("no untracked events: nothing to do")
            return
        verb = "delete" if delete else "mark untracked"
        table = Table(title=f"{'would ' if dry_run else ''}{verb}: {len(items)} event(s)")
        for column in ("id", "viagogo", "name", "listings", "reason"):
            table.add_column(column)
        for item in items:
            table.add_row(
                str(item.event.event_id),
                item.event.viagogo_id,
                item.event.name,
                str(store.count_listings(item.event.event_id)),
                item.reason,
            )
        console.print(table)
        ids = [i.event.event_id for i in items]
        if plan.refusal is not None and not force:
            if dry_run:
                console.print(
                    f"[yellow]warning[/yellow]: {plan.refusal} — --no-dry-run would refuse "
                    "this without --force"
                )
            else:
                raise ConfigurationError(
                    f"refusing to {verb} {len(items)} event(s): {plan.refusal}",
                    hint="check the events source (an empty sheet?); pass --force if this "
                    "is really meant",
                )
        if dry_run:
            console.print("dry run: nothing changed (use --no-dry-run to apply)")
        elif delete:
            n_events, n_listings = store.delete_events(ids)
            console.print(f"deleted {n_events} event(s) and {n_listings} listing row(s)")
        else:
            n = store.mark_untracked(ids, now=datetime.now(UTC))
            console.print(f"marked {n} event(s) untracked (data kept, no more snapshots)")


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
    settings = _settings(ctx, db, listing_source=source, proxy_url=proxy_url)
    console = _console(ctx)
    with _store(settings) as store:
        targets = [store.find_event(viagogo_id)] if viagogo_id else store.events(tracked_only=True)
        if not targets:
            raise NotFoundError(
                "no tracked events", hint="import them with `boxoffice track fetch-events`"
            )
        outcomes = asyncio.run(_snapshot_all(settings, store, targets, source))
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
    console.print(table)
    if not any(o.status == "ok" for o in outcomes):
        raise typer.Exit(1)


async def _snapshot_all(
    settings: Settings, store: Store, targets: list[Any], forced: str | None
) -> list[Any]:
    track = settings.track
    sem = asyncio.Semaphore(track.concurrency)
    async with runtime.http_client(settings) as client:
        sources = runtime.listing_sources(settings, client)

        async def one(event: Any) -> Any:
            async with sem:
                src = choose_source(sources, forced or event.source, track.listing_source)
                return await snapshot(
                    store,
                    event_id=event.event_id,
                    viagogo_id=event.viagogo_id,
                    source=src,
                    captured_at=datetime.now(UTC),
                    retries=track.retries,
                    retry_base=track.retry_base_seconds,
                )

        return list(await asyncio.gather(*(one(e) for e in targets)))


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
    settings = _settings(ctx, db, timezone=tz)
    zone = runtime.zone(settings.track.timezone)
    with _store(settings, read_only=True) as store:
        found = store.find_event(event)
        rows = store.listings(found.event_id, limit=limit)
    if as_json:
        sys.stdout.write(
            json.dumps(
                [
                    {
                        "listing_id": r.listing_id,
                        "section": r.section,
                        "row": r.row,
                        "quantity": r.quantity,
                        "price_per_ticket": r.price_per_ticket,
                        "total_price": r.total_price,
                        "currency": r.currency,
                        "provider": r.provider,
                        "captured_at": analytics.iso_utc(r.captured_at),
                    }
                    for r in rows
                ],
                indent=2,
            )
            + "\n"
        )
        return
    when = analytics.local(rows[0].captured_at, zone) if rows else "never"
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
    settings = _settings(ctx, db)
    console = _console(ctx)
    if not file.is_file():
        raise NotFoundError(f"listings CSV {file} does not exist")
    with _store(settings) as store, file.open(encoding="utf-8-sig", newline="") as fh:
        result = imports.import_listings(
            store,
            fh,
            source=str(file),
            clock_skew=timedelta(seconds=settings.track.clock_skew_seconds),
        )
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
    settings = _settings(ctx, db, timezone=tz)
    zone = runtime.zone(settings.track.timezone)
    with _store(settings, read_only=True) as store:
        history = analytics.price_history(store, event, days=days, bucket=bucket)
    rows = analytics.history_dicts(history.rows)
    console = _console(ctx) if not as_json else Console(stderr=True, highlight=False)
    if csv_file:
        analytics.write_csv(csv_file, rows, analytics.HISTORY_FIELDS)
        console.print(f"CSV written: {csv_file}")
    if plot:
        charts.plot(history, plot, tz=zone)
        console.print(f"chart written: {plot}")
    if as_json:
        sys.stdout.write(analytics.to_json(rows) + "\n")
        return
    ev = history.event
    title = f"{ev.name} ({ev.viagogo_id}) — last {days:g} days, buckets of {bucket}"
    if history.from_stats:
        title += " (from stats snapshots)"
    table = Table(title=title)
    for column in ("bucket", "min", "avg", "median", "max", "listings", "tickets"):
        table.add_column(column, justify="left" if column == "bucket" else "right")
    for r in history.rows:
        table.add_row(
            analytics.local(r.bucket, zone),
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
    settings = _settings(ctx, db)
    with _store(settings, read_only=True) as store:
        found, stats = analytics.section_prices(store, event, days=days)
    rows = analytics.section_dicts(stats)
    console = _console(ctx) if not as_json else Console(stderr=True, highlight=False)
    if csv_file:
        analytics.write_csv(csv_file, rows, analytics.SECTION_FIELDS)
        console.print(f"CSV written: {csv_file}")
    if as_json:
        sys.stdout.write(analytics.to_json(rows) + "\n")
        return
    table = Table(title=f"{found.name} ({found.viagogo_id}) — sections, last {days:g} days")
    for column in ("section", "min", "avg", "median", "max", "listings", "tickets"):
        table.add_column(column, justify="left" if column == "section" else "right")
    for s in stats:
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


def _strategy(value: str | None) -> str | None:
    if value is not None and value not in JITTER_STRATEGIES:
        raise ConfigurationError(
            f"unknown randomization {value!r}", hint=f"use {', '.join(JITTER_STRATEGIES)}"
        )
    return value


_DEFAULT = ScheduleConfig()  # its defaults are the [track] settings' defaults
IntervalOpt = Annotated[
    float | None,
    typer.Option("--interval-hours", help=f"Base interval (default {_DEFAULT.interval_hours:g})."),
]
RandOpt = Annotated[
    str | None,
    typer.Option("--randomization", help=f"uniform | poisson | normal ({_DEFAULT.strategy})."),
]
MinOpt = Annotated[
    float | None, typer.Option("--min-factor", help=f"Lowest factor ({_DEFAULT.min_factor:g}).")
]
MaxOpt = Annotated[
    float | None, typer.Option("--max-factor", help=f"Highest factor ({_DEFAULT.max_factor:g}).")
]
ConcOpt = Annotated[
    int | None, typer.Option("--concurrency", help=f"Snapshots at once ({_DEFAULT.concurrency}).")
]
_REFRESH_DEFAULT = TrackSettings.model_fields["events_refresh_hours"].default
RefreshOpt = Annotated[
    str | None,
    typer.Option(
        "--events-refresh",
        help=f'Re-read the events source this often: "3h", "30m", "off" '
        f"(default {_REFRESH_DEFAULT:g} h).",
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
    refresh = events.parse_refresh(events_refresh) if events_refresh is not None else None
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


def _open_when_up(ctx: typer.Context, settings: Settings) -> Store:
    """Open the store; while the database is down, say so in one line and retry."""
    while True:
        try:
            return runtime.open_from_settings(settings)
        except StorageError as exc:
            wait = settings.track.db_retry_seconds
            get_ctx(ctx).err.print(
                f"{redact_text(exc.one_line())} — retrying in {wait:g} s (Ctrl-C to stop)",
                soft_wrap=True,
                markup=False,
            )
            asyncio.run(pacing.sleep(wait))


def _run_scheduler(
    ctx: typer.Context,
    settings: Settings,
    store: Store,
    *,
    notify_urls: list[str] | None = None,
    heartbeat: str | None = None,
) -> None:
    console = _console(ctx)
    config = ScheduleConfig.from_settings(settings.track)
    console.print(
        f"scheduler: every {config.interval_hours:g} h × [{config.min_factor}, "
        f"{config.max_factor}] ({config.strategy}), {config.concurrency} at once, "
        f"store {store.describe()} — Ctrl-C to stop"
    )

    track = settings.track
    refresh_hours = track.events_refresh_hours if track.events else 0.0
    source = events.describe_source(track.events)
    if refresh_hours > 0:
        every = events.describe_hours(refresh_hours)
        console.print(f"events: {source} re-read every {every}", soft_wrap=True)
    elif track.events:
        console.print(f"events: {source} not re-read (--events-refresh off)", soft_wrap=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        err = get_ctx(ctx).err
        notices = TrackNotices(
            store,
            announcer_for(settings, "track", extra=notify_urls or [], err=err),
            threshold=settings.track.notify_after_failures,
            alert_announcer=lambda urls: announcer_for(settings, "track", extra=urls, err=err),
        )
        async with runtime.http_client(settings) as client:
            sources = runtime.listing_sources(settings, client)

            async def refresh(now: datetime) -> events.RefreshResult:
                async def read() -> Any:
                    return await events.read_events(track.events, track, client)

                return await events.refresh_events(store, read, source=source, now=now)

            scheduler = Scheduler(
                store, sources, config, refresh=refresh, refresh_seconds=refresh_hours * 3600
            )
            scheduler.observer = notices
            report = await guarded(
                heartbeat_for(settings, "track", heartbeat), scheduler.run(stop=stop)
            )
            await notices.drain()
        console.print(f"scheduler stopped after {report.runs} snapshot(s)")

    asyncio.run(main())


def _serve(
    ctx: typer.Context,
    settings: Settings,
    *,
    import_events: bool,
    notify_urls: list[str] | None = None,
    heartbeat: str | None = None,
) -> None:
    """Wait for the store, import the events first if asked, then schedule until stopped."""
    with contextlib.closing(_open_when_up(ctx, settings)) as store:
        if import_events:
            result = asyncio.run(_fetch_events(settings, store))
            _print_import(_console(ctx), result, source_counts=False)
        _run_scheduler(ctx, settings, store, notify_urls=notify_urls, heartbeat=heartbeat)


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
