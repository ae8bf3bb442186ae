"""Run several watches concurrently on one event loop, sharing the notification channels."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from boxoffice.core import notify, state
from boxoffice.core.http import CookieJar, HttpOptions, MetricsRecorder, create_client
from boxoffice.errors import BoxofficeError, ConfigurationError, map_exception
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.report import Reporter
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.success import Delivery, HandoffOptions, deliver, fallback_dir
from boxoffice.jobs.watch.watcher import Watcher, WatchOutcome


@dataclass
class RunOptions:
    """Everything shared by the watches of one run."""

    http: HttpOptions = field(default_factory=HttpOptions)
    save_dir: Path = Path("live-responses")
    handoff: HandoffOptions = field(default_factory=HandoffOptions)
    notifier: notify.Notifier | None = None
    secrets: Sequence[str] = ()
    max_archived_pages: int = 50
    max_unknown_pages: int = 20
    transport: httpx.AsyncBaseTransport | None = None
    seed: int | None = None
    state_dir: Path | None = None
    """Where the cookies go when ``save_dir`` cannot be written (``<state dir>/watch``)."""


def check_save_dirs(options: RunOptions) -> None:
    """Before the first poll: every folder a cart add will write to must be writable (the
    page archive and cookie export in ``save_dir``, the fallback in the state dir), else one
    :class:`ConfigurationError` line — finding out after winning the race loses the ticket."""
    checks = [
        (options.save_dir, "the save dir (changed pages, cookie export)", "--save-responses DIR")
    ]
    if options.state_dir is not None:
        checks.append((fallback_dir(options.state_dir), "the state dir", "BOXOFFICE_STATE_DIR"))
    for path, what, fix in checks:
        reason = state.unwritable_reason(path)
        if reason is not None:
            raise ConfigurationError(
                f"cannot write to {what} {path}: {reason}",
                hint=f"run from a folder you can write to, or set {fix} to one; nothing was polled",
            )


@dataclass
class WatchReport:
    """One watch's outcome and, when it carted, what happened next."""

    outcome: WatchOutcome
    delivery: Delivery | None = None

    @property
    def ok(self) -> bool:
        """True when the ticket is in the cart."""
        return self.outcome.status == "carted"

    def to_json(self) -> dict[str, object]:
        """Facts for ``--json`` and the demo."""
        o, d = self.outcome, self.delivery
        return {
            "watch": o.spec.name,
            "status": o.status,
            "requests": o.requests,
            "polls": o.polls,
            "checkout_url": o.checkout_url,
            "reaction_ms": round(o.reaction_ms, 3) if o.reaction_ms is not None else None,
            "listing": o.listing.to_json() | {"csrf_token": "***"} if o.listing else None,
            "cookie_file": str(d.cookie_file) if d and d.cookie_file else None,
            "handoff": d.handoff if d else None,
            "notified": d.notified if d else False,
            "detections": [x.to_json() | {"csrf_token": "***"} for x in o.detections],
            "archived": [str(p) for p in o.archived],
            "error": o.error.one_line() if o.error else None,
        }


async def run_one(spec: WatchSpec, options: RunOptions, reporter: Reporter) -> WatchReport:
    """One watch with its own connection and cookie jar; delivery after a cart add."""
    jar = CookieJar()
    archiver = PageArchiver(options.save_dir, options.secrets, limit=options.max_archived_pages)
    rng = random.Random(options.seed) if options.seed is not None else None
    metrics = MetricsRecorder(maxlen=64)  # a long watch must not grow: keep only recent ones
    async with create_client(
        options=options.http, transport=options.transport, cookies=jar, metrics=metrics
    ) as http:
        watcher = Watcher(
            spec,
            http,
            reporter,
            archiver,
            cookies=jar,
            rng=rng,
            max_unknown_pages=options.max_unknown_pages,
        )
        try:
            outcome = await watcher.run()
        except BoxofficeError as exc:
            if watcher.outcome.status != "carted":
                raise
            # the ticket is in the cart: whatever failed after that must not hide it
            reporter.event(spec.name, "error", f"after the cart add: {exc.one_line()}")
            outcome = watcher.outcome
    report = WatchReport(outcome)
    if outcome.status == "carted":
        listing = outcome.listing
        reporter.event(
            spec.name,
            "success",
            f"IN CART: {listing.ticket_type if listing else 'ticket'} "
            f"{listing.display_price() if listing else ''} — checkout at {outcome.checkout_url}"
            + (f" ({outcome.reaction_ms:.1f} ms after the page)" if outcome.reaction_ms else ""),
        )
        try:
            report.delivery = await deliver(
                outcome,
                notifier=options.notifier,
                handoff=options.handoff,
                save_dir=options.save_dir,
                reporter=reporter,
                state_dir=options.state_dir,
            )
        except Exception as exc:
            reporter.event(
                spec.name,
                "error",
                f"after the cart add: {map_exception(exc).one_line()} — check out at "
                f"{outcome.checkout_url}",
            )
    elif outcome.error is not None:
        reporter.event(spec.name, "error", outcome.error.one_line())
    return report


async def run_watches(
    specs: Sequence[WatchSpec], options: RunOptions, reporter: Reporter
) -> list[WatchReport]:
    """All watches concurrently; each ends on its own (cart, budget, or error)."""
    tasks = [asyncio.create_task(run_one(spec, options, reporter)) for spec in specs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def exit_error(reports: Sequence[WatchReport]) -> BoxofficeError | None:
    """The error to exit with: None if any watch carted or all ended without error."""
    if any(r.ok for r in reports):
        return None
    errors = [r.outcome.error for r in reports if r.outcome.error is not None]
    return errors[0] if errors else None
