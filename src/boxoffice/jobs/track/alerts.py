"""track price alerts: after each snapshot, fire once per crossing below a price.

``boxoffice track alert add EVENT --below 80 [--section S] [--quantity N] [--notify URL]``
stores an alert in the track store (SQLite or PostgreSQL). After every snapshot of the event,
the listings of that snapshot are compared with it:

* an *armed* alert fires when a listing (in ``section``, case-insensitive, with at least
  ``quantity`` tickets) costs less than ``below`` per ticket: one ``track.price_alert`` event
  with the event, the cheapest such listing's section, row and price and the capture time;
  the alert is then disarmed;
* a disarmed alert re-arms when no listing is below the price any more (the price went back
  up, or the listings went away), so the next drop fires again — once per crossing.

The state lives in the store, so a restart neither fires twice nor forgets a crossing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from boxoffice.core.events import Event
from boxoffice.core.logging import get_logger
from boxoffice.errors import ConfigurationError
from boxoffice.jobs.track.store import Store, StoredEvent, StoredListing
from boxoffice.jobs.track.store.alerts_sql import PriceAlert, alert_table

log = get_logger(__name__)

MAX_LISTINGS = 100_000
Change = Literal["fire", "rearm", "none"]


@dataclass(frozen=True)
class Verdict:
    """What one snapshot means for one alert."""

    alert: PriceAlert
    change: Change
    cheapest: StoredListing | None


def matches(alert: PriceAlert, listing: StoredListing) -> bool:
    """Whether ``listing`` is one the alert is about (section, quantity)."""
    if alert.section and (listing.section or "").strip().lower() != alert.section.lower():
        return False
    return not (alert.quantity and listing.quantity < alert.quantity)


def judge(alert: PriceAlert, listings: Sequence[StoredListing]) -> Verdict:
    """Pure: fire, re-arm or nothing, from one snapshot's listings."""
    below = [x for x in listings if matches(alert, x) and x.price_per_ticket < alert.below]
    cheapest = min(below, key=lambda x: x.price_per_ticket) if below else None
    if cheapest is not None and alert.armed:
        return Verdict(alert, "fire", cheapest)
    if cheapest is None and not alert.armed:
        return Verdict(alert, "rearm", None)
    return Verdict(alert, "none", cheapest)


def alert_event(event: StoredEvent, verdict: Verdict, zone_label: str = "") -> Event:
    """The ``track.price_alert`` event of a firing alert."""
    listing = verdict.cheapest
    assert listing is not None
    alert = verdict.alert
    currency = f" {listing.currency}" if listing.currency else ""
    where = f"section {listing.section or '?'}, row {listing.row or '?'}"
    at = listing.captured_at.isoformat(timespec="seconds")
    return Event(
        "track",
        "alert",
        "track.price_alert",
        f"boxoffice: {event.name} below {alert.below:g}{currency}",
        f"{event.name} ({event.viagogo_id}): {listing.price_per_ticket:.2f}{currency} per ticket, "
        f"{where}, {listing.quantity} ticket(s) — seen {at}{zone_label}. "
        f"Alert {alert.alert_id}: below {alert.below:g}"
        + (f" in {alert.section}" if alert.section else "")
        + (f", {alert.quantity}+ tickets" if alert.quantity else "")
        + ".",
        fields={
            "alert_id": alert.alert_id,
            "event": event.name,
            "viagogo_id": event.viagogo_id,
            "section": listing.section,
            "row": listing.row,
            "price": listing.price_per_ticket,
            "currency": listing.currency,
            "quantity": listing.quantity,
            "below": alert.below,
            "captured_at": at,
        },
    )


def snapshot_listings(store: Store, event_id: int, captured_at: datetime) -> list[StoredListing]:
    """The listings stored by the snapshot taken at ``captured_at`` (none: an empty snapshot)."""
    rows = store.listings(event_id, limit=MAX_LISTINGS, latest_only=True)
    return [r for r in rows if abs((r.captured_at - captured_at).total_seconds()) < 0.001]


def evaluate(
    store: Store, event: StoredEvent, captured_at: datetime
) -> list[tuple[PriceAlert, Event]]:
    """Judge the event's alerts against the snapshot at ``captured_at``; store the new state.

    Returns the alerts that fire now with their events (the caller sends them).
    """
    table = alert_table(store)
    alerts = table.all(event.event_id)
    if not alerts:
        return []
    listings = snapshot_listings(store, event.event_id, captured_at)
    out = []
    for alert in alerts:
        verdict = judge(alert, listings)
        if verdict.change == "fire":
            assert verdict.cheapest is not None
            table.set_state(
                alert.alert_id,
                armed=False,
                fired_at=captured_at,
                price=verdict.cheapest.price_per_ticket,
            )
            out.append((alert, alert_event(event, verdict)))
            log.info("price alert fired", alert=alert.alert_id, viagogo_id=event.viagogo_id)
        elif verdict.change == "rearm":
            table.set_state(alert.alert_id, armed=True, fired_at=None, price=None)
            log.info("price alert re-armed", alert=alert.alert_id, viagogo_id=event.viagogo_id)
    return out


def add_alert(
    store: Store,
    ref: str,
    below: float,
    *,
    section: str | None = None,
    quantity: int | None = None,
    notify: Sequence[str] = (),
    now: datetime,
) -> tuple[StoredEvent, PriceAlert]:
    """Store a new (armed) alert for the event ``ref`` (id, viagogo id or name)."""
    if below <= 0:
        raise ConfigurationError("--below must be a price above 0", hint="e.g. --below 80")
    if quantity is not None and quantity < 1:
        raise ConfigurationError("--quantity must be 1 or more")
    event = store.find_event(ref)
    alert = alert_table(store).add(
        event.event_id,
        below,
        section=section.strip() if section else None,
        quantity=quantity,
        notify=list(notify),
        now=now,
    )
    return event, alert


def list_alerts(store: Store) -> list[PriceAlert]:
    """Every alert, oldest first."""
    return alert_table(store).all()


def remove_alert(store: Store, alert_id: int) -> None:
    """Delete one alert (NotFoundError when there is none with that id)."""
    alert_table(store).remove(alert_id)
