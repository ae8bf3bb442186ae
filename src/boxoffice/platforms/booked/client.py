"""The one interface both dialects implement, and the factory choosing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import httpx

from boxoffice.core.http import BoxofficeClient, HttpOptions
from boxoffice.errors import ConfigurationError, http_url_problem
from boxoffice.platforms.booked.models import (
    BookedSession,
    BookingRequest,
    CreateResult,
    Reservation,
)

Dialect = Literal["booked3", "librebooking"]
DIALECTS: tuple[Dialect, ...] = ("booked3", "librebooking")


@dataclass(frozen=True)
class Credentials:
    """Login data; the secrets stay in memory only (never logged or cached)."""

    username: str
    password: str
    totp_secret: str | None = None


class BookedClient(Protocol):
    """Login, validate, availability, create, cancel, list mine — for one scheduler."""

    dialect: Dialect
    base_url: str
    owner_id: str | None
    session: BookedSession | None
    http: BoxofficeClient
    probe_path: str
    """A cheap page whose ``Date`` header the clock estimate reads and warm-up requests hit."""

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` under the base URL."""
        ...

    async def login(self, credentials: Credentials) -> BookedSession:
        """Log in (with TOTP when asked); the session is kept on the client and returned."""
        ...

    def restore(self, session: BookedSession) -> None:
        """Use a cached session (cookies/token) without logging in."""
        ...

    async def validate(self) -> bool:
        """Whether the current session is still accepted by the server."""
        ...

    async def availability(
        self, start: datetime, end: datetime, schedule_id: int
    ) -> list[Reservation]:
        """Reservations overlapping [start, end) on the schedule."""
        ...

    async def create(self, request: BookingRequest, lane: int | None = None) -> CreateResult:
        """One create attempt, interpreted (never raises for a refused booking).

        ``lane`` picks a burst lane opened by :meth:`warm` (default: the main client).
        """
        ...

    def prepare(self, request: BookingRequest) -> httpx.Request:
        """The create request built and encoded ahead of time (cookies, CSRF, body)."""
        ...

    async def submit(self, prepared: httpx.Request, *, lane: int | None = None) -> CreateResult:
        """Send a prepared create request and interpret the answer."""
        ...

    async def cancel(self, reference: str) -> None:
        """Cancel (delete) one of the user's reservations."""
        ...

    async def list_mine(
        self, start: datetime, end: datetime, schedule_id: int = 1
    ) -> list[Reservation]:
        """The user's own reservations in [start, end)."""
        ...

    def open_lanes(self, count: int) -> None:
        """Create ``count`` burst lanes (clients sharing the cookies), without connecting."""
        ...

    async def warm(self, connections: int) -> None:
        """Open ``connections`` burst lanes, each with a kept-alive connection."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client."""
        ...


def make_client(
    dialect: str,
    base_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    language: str = "en_us",
    timezone: str = "UTC",
    verify: bool | str = True,
    max_connections: int = 100,
    owner_id: str | None = None,
    options: HttpOptions | None = None,
) -> BookedClient:
    """A client for ``dialect`` at ``base_url`` (e.g. ``https://host/booked/Web``).

    ``options`` carries timeouts, HTTP/2 and the User-Agent (``HttpOptions.from_settings``).
    """
    if not base_url:
        raise ConfigurationError(
            "no scheduler URL", hint="pass --url or set book.url / BOXOFFICE_BOOK_URL"
        )
    problem = http_url_problem(base_url)
    if problem is not None:
        raise ConfigurationError(
            f"scheduler URL {base_url!r} {problem}",
            hint="give the scheduler's …/Web folder, e.g. https://booking.uni.example/ub/Web "
            "(--url / book.url)",
        )
    if dialect == "booked3":
        from boxoffice.platforms.booked.booked3 import Booked3Client

        return Booked3Client(
            base_url,
            transport=transport,
            language=language,
            timezone=timezone,
            verify=verify,
            max_connections=max_connections,
            owner_id=owner_id,
            options=options,
        )
    if dialect == "librebooking":
        from boxoffice.platforms.booked.librebooking import LibreBookingClient

        return LibreBookingClient(
            base_url,
            transport=transport,
            language=language,
            timezone=timezone,
            verify=verify,
            max_connections=max_connections,
            owner_id=owner_id,
            options=options,
        )
    raise ConfigurationError(
        f"unknown dialect {dialect!r}", hint=f"choose one of {', '.join(DIALECTS)}"
    )
