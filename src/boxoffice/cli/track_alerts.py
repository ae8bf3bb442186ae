"""`boxoffice track alert …`: price alerts kept in the track store, fired after snapshots."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from boxoffice.cli.context import get_ctx

if TYPE_CHECKING:
    from boxoffice.settings import Settings

app = typer.Typer(
    help="Price alerts: be told once when an event's price drops below a level (re-armed when "
    "it goes back up). Checked after every snapshot of the scheduler.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="postgresql://… or a SQLite file (default: as for track).", show_default=False
    ),
]


def _settings(ctx: typer.Context, db: str | None) -> Settings:
    from boxoffice.jobs.track.runtime import db_overrides

    return get_ctx(ctx).settings(cli=db_overrides(db))


@app.command("add")
def add(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="Event: id, viagogo id or name.")],
    below: Annotated[float, typer.Option("--below", help="Fire when a ticket costs less.")],
    section: Annotated[
        str | None, typer.Option("--section", help="Only listings in this section.")
    ] = None,
    quantity: Annotated[
        int | None, typer.Option("--quantity", help="Only listings with at least N tickets.")
    ] = None,
    notify_urls: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help="Also send this alert here: Apprise URL or http(s) webhook (repeatable).",
        ),
    ] = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the alert as JSON.")] = False,
) -> None:
    """Add a price alert for an event.

    Example: boxoffice track alert add 123456789 --below 80 --section "Floor A" --quantity 2
    """
    from boxoffice.jobs.track import price_alerts

    row = price_alerts.add(
        _settings(ctx, db), event, below, section=section, quantity=quantity,
        notify=notify_urls or [],
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(row))
        return
    get_ctx(ctx).console.print(
        f"alert {row['id']}: {row['event']} below {below:g}"
        + (f" in {section}" if section else "")
        + (f", {quantity}+ tickets" if quantity else "")
        + " — checked after each snapshot",
        markup=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
) -> None:
    """List the price alerts and whether each is armed.

    Example: boxoffice track alert list
    """
    from boxoffice.jobs.track import price_alerts

    rows = price_alerts.rows(_settings(ctx, db))
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="price alerts", title_justify="left")
    for col in ("id", "event", "below", "section", "quantity", "state", "last fired", "price"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]), r["event"], f"{r['below']:g}", r["section"] or "any",
            str(r["quantity"] or "any"), "armed" if r["armed"] else "fired (waits for a rise)",
            r["last_fired_at"] or "—", "—" if r["last_price"] is None else f"{r['last_price']:.2f}",
        )  # fmt: skip
    get_ctx(ctx).console.print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="Alert id (see `track alert list`).")],
    db: DbOpt = None,
) -> None:
    """Remove a price alert.

    Example: boxoffice track alert remove 3
    """
    from boxoffice.jobs.track import price_alerts

    price_alerts.remove(_settings(ctx, db), alert_id)
    get_ctx(ctx).console.print(f"alert {alert_id} removed", markup=False)
