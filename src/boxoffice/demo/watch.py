"""Demo step for `watch`: a ticket appears on the simulated marketplace and is carted at once.

The pretix-marketplace simulator and a tiny JSON webhook receiver run in-process on loopback.
A listing appears after a few polls (short intervals — only allowed against our own sandbox),
the watch adds it to the cart, saves the session cookies, notifies the webhook and hands the
session to a headless Chromium when one is installed (which then shows the checkout page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from boxoffice.core import browser, notify
from boxoffice.demo.watch_selftest import sandbox_watch
from boxoffice.errors import BrowserError
from boxoffice.jobs.watch.report import ConsoleReporter
from boxoffice.jobs.watch.success import HandoffMode, HandoffOptions
from boxoffice.sandbox.server import SandboxServer


def _receiver(received: list[dict[str, Any]]) -> Starlette:
    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


async def run(console: Console, workdir: Path) -> dict[str, Any]:
    """Watch the sandbox marketplace until the ticket is in the cart; return the facts."""
    received: list[dict[str, Any]] = []
    mode: HandoffMode = "headless"
    skipped = ""
    try:
        executable = browser.find_browser()
    except BrowserError as exc:
        executable, mode = None, "none"
        skipped = f"browser handoff skipped: {exc.one_line()}"
        console.print(skipped, style="yellow", markup=False)
    with SandboxServer({"webhook": _receiver(received)}) as urls:
        notifier = notify.Notifier([notify.WebhookChannel(f"{urls['webhook']}/hook")])
        result = await sandbox_watch(
            save_dir=workdir / "live-responses",
            reporter=ConsoleReporter(console, live=False),
            notifier=notifier,
            handoff=HandoffOptions(mode=mode, executable=executable),
            appear_after_polls=3,
            interval=0.2,
        )
    report = result.report
    outcome, delivery = report.outcome, report.delivery
    handoff = skipped or "not attempted"
    if delivery is not None and mode != "none":
        handoff = f"{delivery.handoff}: {delivery.page_title or delivery.handoff_detail}"
    if report.ok:
        console.print(
            f"ticket carted after {outcome.polls} polls; the server saw the cart POST "
            f"{result.server_reaction_ms:.1f} ms after serving the listing"
            if result.server_reaction_ms is not None
            else f"ticket carted after {outcome.polls} polls",
            markup=False,
        )
    return {
        "ok": report.ok and bool(received),
        "polls": outcome.polls,
        "reaction_ms": round(result.server_reaction_ms, 2)
        if result.server_reaction_ms is not None
        else None,
        "checkout_url": outcome.checkout_url,
        "cookie_file": str(delivery.cookie_file) if delivery and delivery.cookie_file else None,
        "handoff": handoff,
        "checkout_page_shown": bool(
            delivery and delivery.page_title and "Step 1 of" in delivery.page_title
        ),
        "notified": bool(received) and bool(delivery and delivery.notified),
        "error": outcome.error.one_line() if outcome.error else None,
    }
