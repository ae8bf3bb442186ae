"""A whole watch against the local pretix-marketplace simulator: the demo and test-handoff.

A listing appears after a few polls; the watch adds it to the cart, exports the cookies,
notifies and hands the session to a browser — everything a real run does, without a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from boxoffice.core import notify
from boxoffice.core.http import HttpOptions
from boxoffice.jobs.watch.report import Reporter
from boxoffice.jobs.watch.runner import RunOptions, WatchReport, run_one
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.success import HandoffOptions
from boxoffice.sandbox.pretix_marketplace import create_app
from boxoffice.sandbox.server import SandboxServer


@dataclass
class SelfTestResult:
    """The watch's report plus what the simulator saw."""

    report: WatchReport
    sandbox_url: str
    polls_seen: int
    server_reaction_ms: float | None


async def sandbox_watch(
    *,
    save_dir: Path,
    reporter: Reporter,
    notifier: notify.Notifier | None,
    handoff: HandoffOptions,
    appear_after_polls: int = 3,
    interval: float = 0.2,
    tls: bool = False,
    state_dir: Path | None = None,
) -> SelfTestResult:
    """Serve the simulator, list a ticket after ``appear_after_polls`` polls, and watch it."""
    app = create_app(seed=7)
    market = app.state.market
    server = SandboxServer({"pretix-marketplace": app}, tls=tls)
    urls = server.start()
    try:
        base = urls["pretix-marketplace"]
        market.add_listing("Ticket – Standard", "95.00", after_polls=appear_after_polls)
        market.add_listing("Ticket – VIP", "240.00", after_polls=appear_after_polls)
        spec = WatchSpec(
            name="sandbox",
            url=base,
            event=market.event,
            interval=interval,
            jitter=0.2,
            max_price=None,
            max_polls=appear_after_polls + 20,
        )
        http = HttpOptions(verify=str(server.ca_file) if server.ca_file else True)
        options = RunOptions(
            http=http,
            save_dir=save_dir,
            handoff=handoff,
            notifier=notifier,
            seed=7,
            state_dir=state_dir,
        )
        if tls:
            options.handoff.ignore_https_errors = True
        report = await run_one(spec, options, reporter)
        reaction = None
        for listing in market.listings.values():
            if listing.first_served_at is not None and listing.buy_received_at is not None:
                reaction = (listing.buy_received_at - listing.first_served_at) * 1000
                break
        return SelfTestResult(report, base, market.polls, reaction)
    finally:
        server.stop()
