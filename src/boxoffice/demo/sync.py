"""Demo step for `sync`: pull ~500 Vivenu tickets, push them, get interrupted, resume.

The vivenu simulator and the webhook receiver run in-process on loopback. The step pulls an
event to ``workdir``, pushes the matching tickets at a fast pace with the progress bar, cancels
the run a third of the way through (as Ctrl-C would), resumes with the same settings and shows
what the receiver counted: every ticket accepted once, nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from boxoffice.core.http import create_client
from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger
from boxoffice.jobs.sync.pull import run_pull
from boxoffice.jobs.sync.push import PushConfig, PushObserver, PushPlan, PushResult, run_push
from boxoffice.jobs.sync.regions import Region, Target
from boxoffice.platforms.vivenu.delivery import Outcome
from boxoffice.platforms.vivenu.envelope import envelope_id
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer

SECRET = "demo-webhook-secret"
EVENT = vivenu.DEV_EVENT
INTERVAL = 0.0125  # 80/s


class _DemoObserver(PushObserver):
    """Progress bar, plus a trigger once a share of the tickets went through."""

    def __init__(self, console: Console, stop_after: int | None) -> None:
        self.console = console
        self.stop_after = stop_after
        self.reached = asyncio.Event()
        self.delivered = 0
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.task: Any = None

    def planned(self, plan: PushPlan) -> None:
        self.console.print(
            f"  total {plan.total}, rejected by status {plan.rejected_status}, by name "
            f"{plan.rejected_name}, matching {plan.filtered}, already delivered "
            f"{plan.already_delivered}, to send {plan.to_send}"
        )
        self.progress.start()
        self.task = self.progress.add_task("delivering", total=plan.to_send)

    def settled(self, ticket_id: str, outcome: Outcome, attempts: int, final: str) -> None:
        if final != "retry":
            self.progress.advance(self.task)
        if final == "delivered":
            self.delivered += 1
            if self.stop_after is not None and self.delivered >= self.stop_after:
                self.reached.set()

    def close(self) -> None:
        self.progress.stop()


async def run(console: Console, workdir: Path) -> dict[str, Any]:
    """Pull, push, interrupt once, resume; facts for the demo summary."""
    receiver_app = webhook_receiver.create_app(seed=0, secret=SECRET)
    apps = {"vivenu": vivenu.create_app(seed=0), "webhook": receiver_app}
    with SandboxServer(apps) as urls:
        region = Region("DEMO", "DEMO_API", vivenu.DEFAULT_KEY, urls["vivenu"], EVENT)
        target = Target("demo", urls["webhook"] + "/ticket-created")
        async with create_client() as http:
            console.print(f"sync pull DEMO {EVENT}  (vivenu sandbox at {urls['vivenu']})")
            tickets = TicketsClient(http, region.base_url, region.api_key, key_name="DEMO_API")
            pulled = await run_pull(tickets, EVENT, workdir, region="DEMO", top=200)
            console.print(f"  pulled {pulled.pulled} tickets to {pulled.directory}")

            ledger = Ledger(workdir / "state" / "ledger.sqlite3")
            try:
                cfg = PushConfig(
                    region=region,
                    event=EVENT,
                    target=target,
                    secret=SECRET,
                    ticket_filter=TicketFilter(["VALID", "DETAILSREQUIRED"], "CHARITY"),
                    interval=INTERVAL,
                    progress_dir=workdir,
                )
                console.print(f"sync push DEMO {EVENT} --target {target.url} --rate 80/s")
                first = await _push_interrupted(console, cfg, http, ledger, workdir)
                console.print("  [yellow]interrupted — resuming with the same command[/]")
                cfg.ticket_filter = TicketFilter(["VALID", "DETAILSREQUIRED"], "CHARITY")
                observer = _DemoObserver(console, None)
                try:
                    second = await _push(cfg, http, ledger, workdir, observer)
                finally:
                    observer.close()
            finally:
                ledger.close()
            stats = (await http.get(urls["webhook"] + "/_sandbox/stats")).json()
    expected = {envelope_id(target.url, str(t["_id"])) for t in _matching(pulled.directory)}
    accepted_ids: list[str] = stats["accepted_ids"]
    lost = len(expected - set(accepted_ids))
    # a ticket accepted twice under different envelope ids would be a duplicate the receiver
    # could not drop: map each accepted envelope id to the ticket its body carried
    ticket_of: dict[str, str] = {}
    for delivery in receiver_app.state.receiver.deliveries:
        if delivery.status == 200:
            body = json.loads(delivery.body)
            ticket_of.setdefault(str(body["id"]), str(body["data"]["ticket"]["_id"]))
    accepted_tickets = [ticket_of[i] for i in accepted_ids]
    duplicates_accepted = len(accepted_tickets) - len(set(accepted_tickets))
    console.print(
        f"  receiver: {stats['accepted']} accepted, {stats['duplicates']} redelivered duplicate(s) "
        f"dropped by id, {stats['invalid_signature']} bad signatures; lost {lost}"
    )
    delivered = first + second.delivered
    return {
        "ok": lost == 0 and duplicates_accepted == 0 and stats["accepted"] == len(expected),
        "pulled": pulled.pulled,
        "to_send": len(expected),
        "delivered": delivered,
        "receiver_accepted": stats["accepted"],
        "redelivered": stats["duplicates"],
        "duplicates_accepted": duplicates_accepted,
        "lost": lost,
        "interrupted_after": first,
    }


def _matching(directory: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((directory / "all_tickets.json").read_text())
    keep = TicketFilter(["VALID", "DETAILSREQUIRED"], "CHARITY")
    return [r for r in rows if keep.verdict(r) == "ok"]


async def _push(
    cfg: PushConfig,
    http: httpx.AsyncClient,
    ledger: Ledger,
    workdir: Path,
    observer: PushObserver,
) -> PushResult:
    tickets = TicketsClient(http, cfg.region.base_url, cfg.region.api_key, key_name="DEMO_API")
    return await run_push(
        cfg,
        tickets=tickets,
        webhook=http,
        ledger=ledger,
        spool_dir=workdir / "state",
        observer=observer,
    )


async def _push_interrupted(
    console: Console, cfg: PushConfig, http: httpx.AsyncClient, ledger: Ledger, workdir: Path
) -> int:
    """Run a push and cancel it a third of the way through; returns deliveries made."""
    observer = _DemoObserver(console, stop_after=90)
    task = asyncio.create_task(_push(cfg, http, ledger, workdir, observer))
    waiter = asyncio.create_task(observer.reached.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        waiter.cancel()
        observer.close()
    return observer.delivered
