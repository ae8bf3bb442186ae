"""`sync pull`: a region's event tickets to ``purchased_tickets/<event>/`` (Vivenu only read)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from boxoffice.jobs.sync.pull import PullResult, run_pull
from boxoffice.jobs.sync.regions import Region, load_env, resolve_event, resolve_region
from boxoffice.jobs.sync.runner import run_cancellable, tickets_client, vivenu_http

if TYPE_CHECKING:
    from boxoffice.settings import Settings


class PullReporter(Protocol):
    """What a pull tells its user while it runs."""

    def starting(self, region: Region, event: str) -> None:
        """The region and event are resolved; the first page is next."""

    def page(self, pulled: int, total: int) -> None:
        """After each page: tickets pulled so far, of the total the server announces."""

    def retrying(self, reason: str, wait: float) -> None:
        """Vivenu answered with a transient failure; the next try in ``wait`` s."""


def pull(
    settings: Settings,
    region: str,
    event: str | None,
    reporter: PullReporter,
    *,
    status: str | None = None,
    individual: bool = True,
) -> PullResult:
    """Download the event's tickets (``event`` None: the region's ``<REGION>_EVENT``);
    ``status`` asks the server for these statuses only. Ctrl-C or SIGTERM interrupts it
    (KeyboardInterrupt or CancelledError)."""
    reg = resolve_region(region, settings.sync, load_env())
    event_id = resolve_event(reg, event)
    reporter.starting(reg, event_id)

    async def go() -> PullResult:
        async with vivenu_http(settings) as http:
            client = tickets_client(http, reg, on_retry=reporter.retrying)
            return await run_pull(
                client,
                event_id,
                settings.sync.out_dir,
                region=reg.name,
                top=settings.sync.page_size,
                status=status.upper() if status else None,
                individual=individual,
                on_page=reporter.page,
            )

    return run_cancellable(go)
