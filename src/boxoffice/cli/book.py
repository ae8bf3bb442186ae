"""`boxoffice book …`: win a Booked/LibreBooking slot the instant its window opens."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from boxoffice.cli._notify import NotifyOpt
from boxoffice.cli.context import get_ctx
from boxoffice.errors import EXIT_NO_RESULT, EXIT_PENDING

if TYPE_CHECKING:  # the job (httpx, pydantic-settings) loads when a command runs
    from boxoffice.settings import Settings

EXIT_NONE_WON = EXIT_NO_RESULT  # 3: the run worked but won nothing

app = typer.Typer(
    help="Book a desk/room on Booked Scheduler 3.x or LibreBooking the instant the window opens.",
    no_args_is_help=True,
)

Url = Annotated[str | None, typer.Option("--url", help="Scheduler base URL (the …/Web folder).")]
Dialect = Annotated[
    str | None, typer.Option("--dialect", help="booked3 (Booked 3.x web API) or librebooking.")
]
Timezone = Annotated[
    str | None, typer.Option("--timezone", help="The schedule's time zone, e.g. Europe/Zurich.")
]
Schedule = Annotated[int | None, typer.Option("--schedule", help="Schedule id.")]
Owner = Annotated[str | None, typer.Option("--owner", help="Your user id (ownerId).")]
Day = Annotated[str | None, typer.Option("--date", help="Slot date YYYY-MM-DD or +N days.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _common(
    url: str | None,
    dialect: str | None,
    timezone: str | None,
    schedule: int | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    return {
        "url": url,
        "dialect": dialect,
        "timezone": timezone,
        "schedule": schedule,
        "owner": owner,
    }


def _settings(ctx: typer.Context, book: dict[str, Any]) -> Settings:
    return get_ctx(ctx).settings(cli={"book": book})


@app.command("run")
def run(
    ctx: typer.Context,
    date: Day = None,
    start: Annotated[str | None, typer.Option("--start", help="Slot start HH:MM.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Slot end HH:MM.")] = None,
    resources: Annotated[
        str | None, typer.Option("--resources", help="Resource ids, e.g. 231-262 or 1,4,7-9.")
    ] = None,
    prefer: Annotated[
        str | None, typer.Option("--prefer", help="Resource ids to try first, e.g. 240,241.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Window opening instant T0 (server time), ISO 8601."),
    ] = None,
    opens: Annotated[
        str | None,
        typer.Option("--opens", help='Window relative to the slot: "7 days before 00:00".'),
    ] = None,
    now: Annotated[
        bool, typer.Option("--now", help="Fire at once even if book.opens is configured.")
    ] = False,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="Attempts in flight at once (1–32).")
    ] = None,
    attribute: Annotated[
        list[str] | None,
        typer.Option("--attribute", help="Custom attribute ID=VALUE (repeatable)."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Reservation title.")] = None,
    lead: Annotated[
        float | None, typer.Option("--lead", help="Seconds before T0 to log in and prepare.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything but the create calls.")
    ] = False,
    keep_trying: Annotated[
        str | None,
        typer.Option(
            "--keep-trying",
            help="After a lost race, keep re-checking this long (e.g. 10m) and book a place "
            "freed by a cancellation.",
        ),
    ] = None,
    retry_interval: Annotated[
        str, typer.Option("--retry-interval", help="Re-check every (±20 %), e.g. 30s.")
    ] = "30s",
    notify_urls: NotifyOpt = None,
    json_out: JsonOut = False,
    url: Url = None,
    dialect: Dialect = None,
    timezone: Timezone = None,
    schedule: Schedule = None,
    owner: Owner = None,
) -> None:
    """Race for a slot: log in ahead, fire at the server's T0, keep the best win.

    Example: boxoffice book run --date 2026-12-01 --start 09:00 --end 12:00
    --resources 231-262 --prefer 240,241 --at 2026-11-24T00:00:00+01:00

    Exit 0 when a slot was won, 3 when none was, 13 when the one held awaits approval.
    """
    from boxoffice.jobs.book import commands
    from boxoffice.jobs.book.plan import parse_attributes
    from boxoffice.jobs.book.report import render

    book: dict[str, Any] = _common(url, dialect, timezone, schedule, owner)
    book.update(
        date=date,
        start=start,
        end=end,
        resources=resources,
        prefer=prefer,
        opens=opens,
        concurrency=concurrency,
        title=title,
        lead=lead,
    )
    if attribute:
        book["attributes"] = {str(k): v for k, v in parse_attributes(attribute).items()}
    app_ctx = get_ctx(ctx)
    err = app_ctx.err

    def say(line: str) -> None:
        err.print(f"[dim]· {line}[/]")

    report = commands.run(
        _settings(ctx, book),
        at=at,
        now=now,
        dry_run=dry_run,
        keep_for=keep_trying,
        retry_interval=retry_interval,
        notify=notify_urls or [],
        say=say,
        err=err,
    )
    if json_out:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        render(app_ctx.console, report)
    if report.pending is not None or (report.existing is not None and report.existing.pending):
        raise typer.Exit(EXIT_PENDING)
    if report.won_reference is None and not report.dry_run:
        raise typer.Exit(EXIT_NONE_WON)


@app.command("availability")
def availability(
    ctx: typer.Context,
    date: Day = None,
    start: Annotated[str | None, typer.Option("--start", help="Only this slot: start.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Only this slot: end.")] = None,
    resources: Annotated[
        str | None, typer.Option("--resources", help="Show which of these are free.")
    ] = None,
    json_out: JsonOut = False,
    url: Url = None,
    dialect: Dialect = None,
    timezone: Timezone = None,
    schedule: Schedule = None,
) -> None:
    """Reservations on a day (or one slot) and which resources of the range are free.

    Example: boxoffice book availability --date 2026-12-01 --start 09:00 --end 12:00
    """
    from boxoffice.jobs.book import commands
    from boxoffice.jobs.book.report import reservations_table, span_title

    book = _common(url, dialect, timezone, schedule)
    book.update(date=date, start=start, end=end, resources=resources)
    settings = _settings(ctx, book)
    found = commands.availability(settings)
    free = found.free
    if json_out:
        doc: dict[str, Any] = {"reservations": [r.to_json() for r in found.reservations]}
        if free is not None:
            doc["free"] = free
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    out = get_ctx(ctx).console
    out.print(reservations_table(found.reservations, f"reservations {span_title(found)}"))
    if free is not None:
        out.print(f"free in range: {', '.join(map(str, free)) or 'none'}")


@app.command("list")
def list_mine(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", help="How many days ahead to look.")] = 14,
    json_out: JsonOut = False,
    url: Url = None,
    dialect: Dialect = None,
    timezone: Timezone = None,
    schedule: Schedule = None,
    owner: Owner = None,
) -> None:
    """Your reservations from today on.

    Example: boxoffice book list --json
    """
    from boxoffice.jobs.book import commands
    from boxoffice.jobs.book.report import reservations_table

    settings = _settings(ctx, _common(url, dialect, timezone, schedule, owner))
    found = commands.list_mine(settings, days)
    if json_out:
        typer.echo(json.dumps([r.to_json() for r in found], ensure_ascii=False))
        return
    get_ctx(ctx).console.print(reservations_table(found, f"your reservations, next {days} days"))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="Reference number of your reservation.")],
    url: Url = None,
    dialect: Dialect = None,
) -> None:
    """Cancel one of your reservations.

    Example: boxoffice book cancel 6a1b2c3d4e5f6
    """
    from boxoffice.jobs.book import commands

    settings = _settings(ctx, _common(url, dialect, None))
    commands.cancel(settings, reference)
    get_ctx(ctx).console.print(f"cancelled {reference}")


@app.command("refresh")
def refresh(ctx: typer.Context, url: Url = None, dialect: Dialect = None) -> None:
    """Force a fresh login (with TOTP) and cache the session for 6 h.

    Example: boxoffice book refresh --url https://booking.example.edu/Web/
    """
    from boxoffice.jobs.book import commands

    settings = _settings(ctx, _common(url, dialect, None))
    session, path = commands.refresh(settings)
    get_ctx(ctx).console.print(
        f"logged in as {session.username} (user id {session.user_id or '?'}); "
        f"session cached in {path} (0600, 6 h)"
    )
