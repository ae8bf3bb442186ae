"""`boxoffice watch …`: race a pretix secondhand marketplace to the cart, hand over the session."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from boxoffice.cli._notify import HeartbeatOpt
from boxoffice.cli.context import get_ctx
from boxoffice.errors import (
    EXIT_INTERRUPTED,
    EXIT_NO_RESULT,
    BoxofficeError,
    BrowserError,
    NotificationError,
)

if TYPE_CHECKING:  # the job loads when a command runs: `watch --help` stays light
    from boxoffice.jobs.watch.runner import WatchReport

app = typer.Typer(
    help="Watch a pretix secondhand marketplace: add a listed ticket to the cart within "
    "milliseconds, then hand the session to your browser and notify you.",
    no_args_is_help=True,
)

EXIT_NO_TICKET = EXIT_NO_RESULT  # 3: the run worked but won nothing


@app.command("run")
def run(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(help="pretix instance, e.g. https://tickets.example.com")
    ] = None,
    event: Annotated[str | None, typer.Option(help="event slug (99x1) or organizer/event")] = None,
    interval: Annotated[
        float | None, typer.Option(help="seconds between polls [default: 15]")
    ] = None,
    jitter: Annotated[
        float | None, typer.Option(help="± fraction of the interval [default: 0.2]")
    ] = None,
    max_price: Annotated[
        float | None, typer.Option(help="only buy at or below this price", min=0)
    ] = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="only buy ticket types matching this regex")
    ] = None,
    notify_urls: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help="Apprise URL (ntfy://ntfy.sh/topic) or http(s) JSON webhook (repeatable)",
        ),
    ] = None,
    heartbeat_url: HeartbeatOpt = None,
    imessage: Annotated[
        list[str] | None, typer.Option(help="iMessage number, macOS only (repeatable)")
    ] = None,
    webhook: Annotated[list[str] | None, typer.Option(help="JSON webhook URL (repeatable)")] = None,
    headless: Annotated[
        bool,
        typer.Option(
            "--headless",
            help="no browser at all: after the cart add, notify with the checkout link and "
            "the saved cookie file (a browser without a window is --browser-headless)",
        ),
    ] = False,
    browser_headless: Annotated[
        bool,
        typer.Option(
            "--browser-headless",
            help="hand off to a headless browser (no window) — to check the handoff on a server",
        ),
    ] = False,
    poll_inactive_marketplace: Annotated[
        float | None,
        typer.Option(
            help="wait for a missing/inactive marketplace, checking the event page every N s"
        ),
    ] = None,
    browser_path: Annotated[
        Path | None, typer.Option("--browser", help="Chromium/Chrome binary for the handoff")
    ] = None,
    cdp: Annotated[
        str | None, typer.Option(help="attach to your running browser over CDP (URL)")
    ] = None,
    save_responses: Annotated[
        Path | None,
        typer.Option(help="folder for changed pages and cookie exports [default: live-responses]"),
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option(help="extra CA to trust (self-signed pretix over HTTPS)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="detect and report listings, never POST")
    ] = False,
    max_polls: Annotated[
        int | None,
        typer.Option(
            help="stop after this many page fetches per watch: marketplace polls and event-page "
            "visits but the first (cart POSTs are not counted)",
            min=1,
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="one marketplace poll, then stop (= --max-polls 1)")
    ] = False,
    i_know: Annotated[
        bool,
        typer.Option(
            "--i-know-what-i-am-doing", help="allow intervals below 2 s (your own server only)"
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="print only a JSON summary on stdout (progress goes to stderr)"
        ),
    ] = False,
) -> None:
    """Poll the marketplace; on a matching listing add it to the cart first, then notify.

    Example: boxoffice watch run --url https://tickets.example.com --event 99x1 --max-price 120
    --notify ntfy://ntfy.sh/my-topic
    """
    import asyncio

    from boxoffice.jobs.watch import entry
    from boxoffice.jobs.watch.report import ConsoleReporter
    from boxoffice.jobs.watch.runner import exit_error, other_errors

    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings(
        cli={
            "watch": {
                "interval": interval,
                "jitter": jitter,
                "max_price": Decimal(str(max_price)) if max_price is not None else None,
                "type_pattern": type_,
                "poll_inactive_marketplace": poll_inactive_marketplace,
                "headless": headless or None,
                "save_responses": save_responses,
                "ca_file": ca_file,
                "i_know_what_i_am_doing": i_know or None,
            },
            "browser": {"executable": browser_path, "cdp_url": cdp},
        }
    )
    console, err = app_ctx.console, app_ctx.err
    out = err if as_json else console  # with --json, stdout carries the JSON document only
    prepared = entry.prepare(
        settings,
        url=url,
        event=event,
        dry_run=dry_run,
        max_polls=1 if once else max_polls,
        channels=entry.Channels(notify_urls or [], imessage or [], webhook or []),
        heartbeat=heartbeat_url,
        browser_headless=browser_headless,
        err=err,
        out=out,
    )
    reporter = ConsoleReporter(out)
    try:
        with reporter:
            reports = asyncio.run(entry.watch(prepared, reporter))
    except KeyboardInterrupt:
        done = ", ".join(f"{r.name}: {r.requests} requests" for r in reporter.rows.values())
        err.print(f"stopped by Ctrl-C ({done or 'nothing sent yet'})", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _summarize(console, err, reports, as_json)
    for name, other in other_errors(reports):
        err.print(f"[{name}] error: {other.one_line()}", style="bold red", markup=False)
    error = exit_error(reports)
    if error is not None:
        raise error
    if not any(r.ok for r in reports) and not dry_run:
        err.print("no ticket in the cart (--max-polls used up)", markup=False)
        raise typer.Exit(EXIT_NO_TICKET)


def _summarize(
    console: Any, err: Any, reports: list[WatchReport], as_json: bool, ok: bool | None = None
) -> None:
    """Checkout link and cookie file of each carted watch; with ``as_json`` those lines go to
    stderr and stdout gets the JSON document alone (``ok``: default, any watch carted)."""
    out = err if as_json else console
    for report in reports:
        if report.ok:
            out.print(f"checkout: {report.outcome.checkout_url}", markup=False, soft_wrap=True)
        if report.ok and report.delivery is not None:
            if report.delivery.cookies_inline:
                out.print(
                    f"session cookies (no file could be written): {report.delivery.cookies_inline}",
                    markup=False,
                    soft_wrap=True,
                )
            if report.delivery.cookie_file:
                out.print(f"cookies: {report.delivery.cookie_file}", markup=False, soft_wrap=True)
                out.print(
                    f"reopen later: boxoffice watch handoff --cookies "
                    f"{report.delivery.cookie_file} --url {report.outcome.checkout_url}",
                    markup=False,
                )
    if as_json:
        payload = {
            "ok": any(r.ok for r in reports) if ok is None else ok,
            "watches": [r.to_json() for r in reports],
        }
        console.print(json.dumps(payload), markup=False, highlight=False, soft_wrap=True)


@app.command("parse")
def parse(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a saved marketplace page (HTML)")],
    as_json: Annotated[
        bool, typer.Option("--json", help="print only the parse result as JSON on stdout")
    ] = False,
    url: Annotated[
        str | None, typer.Option(help="the page's URL, to make buy URLs absolute")
    ] = None,
) -> None:
    """Parse a saved marketplace page and show what the watch would see ("why no cart add?").

    Example: boxoffice watch parse live-responses/20260801-120000-000000_marketplace.html --json
    """
    from boxoffice.jobs.watch.inspect import describe_page, parse_saved_page

    parsed = parse_saved_page(file, url or "")
    console = get_ctx(ctx).console
    if as_json:
        console.print(json.dumps(parsed), markup=False, highlight=False, soft_wrap=True)
        return
    for line in describe_page(parsed):
        console.print(line, markup=False, soft_wrap=True)


@app.command("handoff")
def handoff(
    ctx: typer.Context,
    cookies: Annotated[Path, typer.Option(help="cookie file saved by `watch run`")],
    url: Annotated[str, typer.Option(help="page to open, e.g. the checkout URL")],
    browser_path: Annotated[
        Path | None, typer.Option("--browser", help="Chromium/Chrome binary")
    ] = None,
    cdp: Annotated[str | None, typer.Option(help="attach to a running browser over CDP")] = None,
    headless: Annotated[
        bool,
        typer.Option(
            "--headless",
            help="use a headless browser (no window): open the page, print its title and close",
        ),
    ] = False,
    ca_file: Annotated[
        Path | None,
        typer.Option(help="the server uses this private CA (self-signed): accept its certificate"),
    ] = None,
) -> None:
    """Reopen a saved session in a browser (cookies injected, including __Host- ones).

    Example: boxoffice watch handoff --cookies live-responses/cookies_20260801_120000.txt
    --url https://tickets.example.com/org/99x1/checkout/questions/
    """
    from boxoffice.jobs.watch.entry import reopen

    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings(cli={"browser": {"executable": browser_path, "cdp_url": cdp}})
    console = app_ctx.console
    line = reopen(
        settings,
        cookies,
        url,
        headless=headless,
        ignore_https_errors=ca_file is not None,
        instructions=lambda text: console.print(text, markup=False),
    )
    console.print(line, markup=False)


@app.command("test-handoff")
def rehearse_handoff(
    ctx: typer.Context,
    imessage: Annotated[list[str] | None, typer.Option(help="iMessage number (repeatable)")] = None,
    notify_urls: Annotated[
        list[str] | None, typer.Option("--notify", help="Apprise URL (repeatable)")
    ] = None,
    webhook: Annotated[list[str] | None, typer.Option(help="JSON webhook URL")] = None,
    browser_path: Annotated[
        Path | None, typer.Option("--browser", help="Chromium/Chrome binary")
    ] = None,
    cdp: Annotated[str | None, typer.Option(help="attach to a running browser over CDP")] = None,
    headless: Annotated[
        bool,
        typer.Option(
            "--headless",
            help="no browser at all: only the cookie export and the notifications (a browser "
            "without a window is --browser-headless)",
        ),
    ] = False,
    browser_headless: Annotated[
        bool,
        typer.Option("--browser-headless", help="hand off to a headless browser (no window)"),
    ] = False,
    save_responses: Annotated[
        Path | None, typer.Option(help="folder for the cookie export [default: live-responses]")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="print only a JSON summary on stdout (progress goes to stderr)"
        ),
    ] = False,
) -> None:
    """Rehearse the whole success path against the local sandbox marketplace (no real ticket).

    Example: boxoffice watch test-handoff --notify ntfy://ntfy.sh/my-topic
    """
    import asyncio

    from boxoffice.core import state
    from boxoffice.demo.watch_selftest import sandbox_watch
    from boxoffice.jobs.watch import entry
    from boxoffice.jobs.watch.report import ConsoleReporter
    from boxoffice.jobs.watch.success import HandoffOptions

    app_ctx = get_ctx(ctx)
    settings = app_ctx.settings(
        cli={
            "browser": {"executable": browser_path, "cdp_url": cdp},
            "watch": {"save_responses": save_responses},
        }
    )
    notifier = entry.notifier_for(
        settings, entry.Channels(notify_urls or [], imessage or [], webhook or [])
    )
    console, err = app_ctx.console, app_ctx.err
    reporter = ConsoleReporter(err if as_json else console, live=False)
    result = asyncio.run(
        sandbox_watch(
            state_dir=state.state_dir_path(settings.state_dir),
            save_dir=settings.watch.save_responses,
            reporter=reporter,
            notifier=notifier,
            handoff=HandoffOptions(
                mode=entry.handoff_mode(headless=headless, browser_headless=browser_headless),
                executable=settings.browser.executable,
                cdp_url=settings.browser.cdp_url,
            ),
        )
    )
    problem = _rehearsal_problem(result.report)
    _summarize(console, err, [result.report], as_json, ok=problem is None)
    if problem is not None:
        raise problem


def _rehearsal_problem(report: WatchReport) -> BoxofficeError | None:
    """What went wrong in a rehearsal (None: every step worked) — the JSON ``ok`` and the exit
    code follow this one judgement."""
    if not report.ok:
        return BoxofficeError(
            "the sandbox rehearsal did not reach the checkout",
            hint="run with -v and look at the request lines above",
        )
    delivery = report.delivery
    if delivery is not None and delivery.notifications and not delivery.notified:
        return NotificationError(
            "the cart add worked but a notification channel failed",
            hint="see the error lines above",
        )
    if delivery is not None and delivery.handoff == "failed":
        return BrowserError(
            "the cart add worked but the browser handoff failed", hint="see the error lines above"
        )
    return None
