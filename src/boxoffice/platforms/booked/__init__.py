"""Booked Scheduler 3.x web API (``booked3``) and LibreBooking REST API (``librebooking``).

Protocol knowledge only: request builders, response interpreters and two async clients behind
one interface (:class:`~boxoffice.platforms.booked.client.BookedClient`). Orchestration (the
race at T0, surplus cancellation) lives in :mod:`boxoffice.jobs.book`.
"""

from __future__ import annotations

from boxoffice.platforms.booked.client import BookedClient, Credentials, make_client
from boxoffice.platforms.booked.models import (
    BookedSession,
    BookingRequest,
    CreateResult,
    Outcome,
    Reservation,
    Slot,
)

__all__ = [
    "BookedClient",
    "BookedSession",
    "BookingRequest",
    "CreateResult",
    "Credentials",
    "Outcome",
    "Reservation",
    "Slot",
    "make_client",
]
