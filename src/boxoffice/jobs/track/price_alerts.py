"""The `track alert …` entries: price alerts kept in the configured store, as rows to show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boxoffice.jobs.track import alerts, runtime

if TYPE_CHECKING:
    from boxoffice.jobs.track.store.alerts_sql import PriceAlert
    from boxoffice.settings import Settings


def alert_row(alert: PriceAlert, event_name: str) -> dict[str, Any]:
    """One alert as a row (JSON and the table): its event by name, how many own channels."""
    return {
        "id": alert.alert_id,
        "event": event_name,
        "event_id": alert.event_id,
        "below": alert.below,
        "section": alert.section,
        "quantity": alert.quantity,
        "armed": alert.armed,
        "last_fired_at": alert.last_fired_at.isoformat() if alert.last_fired_at else None,
        "last_price": alert.last_price,
        "notify": len(alert.notify),
    }


def add(
    settings: Settings,
    ref: str,
    below: float,
    *,
    section: str | None = None,
    quantity: int | None = None,
    notify: Sequence[str] = (),
) -> dict[str, Any]:
    """Store a new (armed) alert for the event ``ref`` (id, viagogo id or name); its row."""
    with runtime.store(settings) as store:
        stored, alert = alerts.add_alert(
            store, ref, below, section=section, quantity=quantity, notify=notify,
            now=datetime.now(UTC),
        )  # fmt: skip
    return alert_row(alert, stored.name)


def rows(settings: Settings) -> list[dict[str, Any]]:
    """Every alert's row, oldest first."""
    with runtime.store(settings) as store:
        names = {e.event_id: e.name for e in store.events()}
        return [alert_row(a, names.get(a.event_id, "?")) for a in alerts.list_alerts(store)]


def remove(settings: Settings, alert_id: int) -> None:
    """Delete one alert (NotFoundError when there is none with that id)."""
    with runtime.store(settings) as store:
        alerts.remove_alert(store, alert_id)
