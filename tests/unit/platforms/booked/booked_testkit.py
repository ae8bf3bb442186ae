"""Helpers shared by the book tests: simulators in-process (ASGI) and clients bound to them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from boxoffice.platforms.booked import BookedClient, Credentials, Slot, make_client
from boxoffice.sandbox import booked3 as sim_booked3
from boxoffice.sandbox import librebooking as sim_libre

ZURICH = "Europe/Zurich"
BASE = "http://booked.sandbox.test/Web"
CREDS = Credentials(
    sim_booked3.DEFAULT_USERNAME, sim_booked3.DEFAULT_PASSWORD, sim_booked3.DEFAULT_TOTP_SECRET
)
SLOT = Slot.local(date(2026, 12, 1), time(9), time(12), ZURICH)


def make_app(dialect: str) -> Any:
    """A fresh simulator app of ``dialect``."""
    if dialect == "booked3":
        return sim_booked3.create_app()
    return sim_libre.create_app()


def client_for(app: Any, dialect: str, *, language: str = "en_us") -> BookedClient:
    """A dialect client talking to ``app`` in-process."""
    return make_client(
        dialect,
        BASE,
        transport=httpx.ASGITransport(app=app),
        timezone=ZURICH,
        language=language,
    )


def occupy(app: Any, resource: int, slot: Slot = SLOT, user_id: str = "7") -> None:
    """Someone else holds ``resource`` for the slot."""
    app.world.add_reservation(resource, slot.start.astimezone(UTC), slot.end, user_id)


def open_window_at(app: Any, t0: float, slot: Slot = SLOT) -> None:
    """The window rule: ``slot`` becomes bookable at server time ``t0``."""
    app.world.max_notice = slot.start.timestamp() - t0


def close_window(app: Any, slot: Slot = SLOT) -> None:
    """The slot is not bookable yet (opens in an hour)."""
    open_window_at(app, app.world.now() + 3600, slot)


def stored_starts(app: Any) -> list[datetime]:
    """Start times (UTC) of every reservation the simulator holds."""
    return [r.start.astimezone(UTC) for r in app.world.reservations]


def day_after(slot: Slot) -> datetime:
    """End of the slot's day plus one (a generous listing range)."""
    return slot.end + timedelta(days=1)
