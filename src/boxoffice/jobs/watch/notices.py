"""What a watch tells the user beyond the console: carted, stopped, marketplace open, filtered.

The events (see :mod:`boxoffice.core.events`):

* ``watch.carted`` (success) — the checkout link and, from pretix's checkout page, until when
  the cart is reserved; sent after the cart add, through the success path's notifier;
* ``watch.error`` (failure) — what happened and the archived page;
* ``watch.marketplace_opened`` (info) — the marketplace link appeared after
  ``--poll-inactive-marketplace`` waited for it;
* ``watch.filtered`` (info) — listings seen but none matching (price, type); at most once an
  hour per watch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from boxoffice.core import notify
from boxoffice.core.events import Announcer, Event, Throttle
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.watcher import WatchOutcome
from boxoffice.platforms.pretix.models import Listing

FILTERED_PERIOD = 3600.0


def deadline_text(deadline: datetime) -> str:
    """``12:30 UTC (reserved until then)``-style text in the deadline's own zone."""
    return f"{deadline:%Y-%m-%d %H:%M %Z}".strip() or deadline.isoformat()


def error_event(outcome: WatchOutcome) -> Event:
    """The watch stopped on an error: what happened and where the page was saved."""
    error = outcome.error
    archived: Path | None = getattr(error, "archived", None)
    if archived is None and outcome.archived:
        archived = outcome.archived[-1]
    what = error.one_line() if error is not None else "stopped"
    lines = [f"The watch {outcome.spec.name} stopped: {what}"]
    if archived is not None:
        lines.append(f"Archived page: {archived}")
        lines.append(f"Check it with: boxoffice watch parse {archived}")
    lines.append(f"After {outcome.requests} request(s), {outcome.polls} marketplace poll(s).")
    return Event(
        "watch",
        "failure",
        "watch.error",
        f"boxoffice: watch {outcome.spec.name} stopped with an error",
        "\n".join(lines),
        fields={
            "watch": outcome.spec.name,
            "event": outcome.spec.event,
            "error": what,
            "archived": str(archived) if archived else None,
            "requests": outcome.requests,
        },
        url=outcome.spec.event_url,
    )


def marketplace_opened_event(spec: WatchSpec, url: str) -> Event:
    """The marketplace the watch waited for is there."""
    return Event(
        "watch",
        "info",
        "watch.marketplace_opened",
        f"boxoffice: the marketplace of {spec.name} is open",
        f"The secondhand marketplace appeared: {url}\nThe watch is polling it now.",
        fields={"watch": spec.name, "event": spec.event, "marketplace_url": url},
        url=url,
    )


def filtered_event(spec: WatchSpec, listings: Sequence[Listing]) -> Event:
    """Listings were on the page but none matched the filters."""
    shown = [f"{x.ticket_type} at {x.display_price()}" for x in listings[:5]]
    more = f" … and {len(listings) - 5} more" if len(listings) > 5 else ""
    return Event(
        "watch",
        "info",
        "watch.filtered",
        f"boxoffice: {len(listings)} listing(s) on {spec.name}, none matching",
        f"Seen but filtered out ({spec.describe_filters()}): " + "; ".join(shown) + more,
        fields={
            "watch": spec.name,
            "listings": [
                {"ticket_type": x.ticket_type, "price": x.price, "currency": x.currency}
                for x in listings
            ],
        },
    )


class WatchNotices:
    """Turns a watcher's notices into events for one watch's announcer."""

    def __init__(self, spec: WatchSpec, announcer: Announcer, *, period: float = FILTERED_PERIOD):
        self.spec = spec
        self.announcer = announcer
        self.throttle = Throttle(period)

    def __call__(self, name: str, data: dict[str, Any]) -> None:
        """The watcher's hook: ``marketplace_opened`` (url) or ``filtered`` (listings)."""
        if name == "marketplace_opened":
            self.announcer.soon(marketplace_opened_event(self.spec, str(data.get("url"))))
        elif (
            name == "filtered"
            and self.announcer.wants("info")
            and self.announcer
            and self.throttle.allow()
        ):
            self.announcer.soon(filtered_event(self.spec, data.get("listings") or []))


class CartedNotifier(notify.Notifier):
    """The success path's notifier: its message goes out as the ``watch.carted`` event (kind
    filter, retries, redaction of the session's cookie values), with the reservation deadline."""

    def __init__(
        self, announcer: Announcer, outcome: WatchOutcome, deadline: datetime | None
    ) -> None:
        super().__init__(announcer.channels)
        self.announcer = announcer
        self.outcome = outcome
        self.deadline = deadline
        if outcome.cookies is not None:
            announcer.add_secrets(r.value for r in outcome.cookies.items())

    async def send_all(self, n: notify.Notification) -> list[notify.ChannelResult]:
        """Send ``n`` as the carted event."""
        body = n.body
        fields = dict(n.data)
        if self.deadline is not None:
            body += f"\nReserved for you until {deadline_text(self.deadline)}."
            fields["reservation_deadline"] = self.deadline.isoformat()
        event = Event("watch", "success", "watch.carted", n.title, body, fields=fields, url=n.url)
        return await self.announcer.send(event)
