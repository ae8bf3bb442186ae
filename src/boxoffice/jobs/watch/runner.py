"""Run several watches concurrently on one event loop, sharing the notification channels."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from boxoffice.core import notify, state
from boxoffice.core.events import Announcer
from boxoffice.core.http import CookieJar, HttpOptions, MetricsRecorder, create_client
from boxoffice.errors import BoxofficeError, ConfigurationError, map_exception
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.notices import CartedNotifier, WatchNotices, error_event
from boxoffice.jobs.watch.report import Reporter
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.success import Delivery, HandoffOptions, deliver, fallback_dir
from boxoffice.jobs.watch.watcher import Watcher, WatchOutcome
from boxoffice.platforms.pretix.cart import reservation_deadline


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
    #: job events (carted, error, marketplace opened, filtered) per watch name, else ``announcer``
    announcers: dict[str, Announcer] = field(default_factory=dict)
    announcer: Announcer | None = None
    state_dir: Path | None = None
    """Where the cookies go when ``save_dir`` cannot be written (``<state dir>/watch``)."""
    report_errors: bool = True
    """Report a watch's final error as an event (the CLI prints them itself, each once)."""

    def announcer_for(self, spec: WatchSpec) -> Announcer | None:
        """The announcer of one watch (its own ``notify`` table, else the run's)."""
        return self.announcers.get(spec.name, self.announcer)


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
        options=options.http,
        transport=options.transport,
        cookies=jar,
        metrics=metrics,
        fast_http1=True,  # the race: aiohttp's HTTP/1.1 wire, HTTP/2 where offered
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
        announcer = options.announcer_for(spec)
        if announcer is not None:
            watcher.notice = WatchNotices(spec, announcer)
        try:
            outcome = await watcher.run()
        except BoxofficeError as exc:
            if watcher.outcome.status != "carted":
                raise
            # the ticket is in the cart: whatever failed after that must not hide it
            reporter.event(spec.name, "error", f"after the cart add: {exc.one_line()}")
            outcome = watcher.outcome
    report = WatchReport(outcome)
    notifier = options.notifier
    if announcer is not None and outcome.status == "carted":
        chain = watcher.client.last_chain
        deadline = reservation_deadline(chain[-1].text) if chain else None
        notifier = CartedNotifier(announcer, outcome, deadline)
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
                notifier=notifier,
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
        if options.report_errors:  # the CLI prints the errors itself, each once
            reporter.event(spec.name, "error", outcome.error.one_line())
        if announcer is not None:
            announcer.soon(error_event(outcome))
    return report


async def run_watches(
    specs: Sequence[WatchSpec], options: RunOptions, reporter: Reporter
) -> list[WatchReport]:
    """All watches concurrently; each ends on its own (cart, budget, or error)."""
    tasks = [asyncio.create_task(run_one(spec, options, reporter)) for spec in specs]
    try:
        reports = list(await asyncio.gather(*tasks))
        for announcer in {id(a): a for a in _announcers(options)}.values():
            await announcer.drain(timeout=60)
        return reports
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _announcers(options: RunOptions) -> list[Announcer]:
    return [a for a in (options.announcer, *options.announcers.values()) if a is not None]


def other_errors(reports: Sequence[WatchReport]) -> list[tuple[str, BoxofficeError]]:
    """The watches' errors that :func:`exit_error` does not return, as (watch, error)."""
    fatal = exit_error(reports)
    return [
        (r.outcome.spec.name, r.outcome.error)
        for r in reports
        if r.outcome.error is not None and r.outcome.error is not fatal
    ]


def exit_error(reports: Sequence[WatchReport]) -> BoxofficeError | None:
    """The error to exit with: None if any watch carted or all ended without error."""
    if any(r.ok for r in reports):
        return None
    errors = [r.outcome.error for r in reports if r.outcome.error is not None]
    return errors[0] if errors else None
