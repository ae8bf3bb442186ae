"""LibreBooking REST API client (the ``librebooking`` dialect, DESIGN §4, observed on 2.8).

``POST Authentication/Authenticate`` → ``{sessionToken, userId, isAuthenticated}``; every later
call carries ``X-Booked-SessionToken`` and ``X-Booked-UserId``. ``POST Reservations/`` needs
every field (a missing one is a 500 HTML page); 201 on success, 400 with ``errors`` otherwise.
A server with the API switched off answers 503.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

from boxoffice.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    ProtocolError,
)
from boxoffice.platforms.booked._base import BaseClient
from boxoffice.platforms.booked.booked3 import SessionExpiredError, totp_code
from boxoffice.platforms.booked.client import Credentials, Dialect
from boxoffice.platforms.booked.messages import classify
from boxoffice.platforms.booked.models import (
    BookedSession,
    BookingRequest,
    CreateResult,
    Outcome,
    Reservation,
    iso_offset,
    parse_when,
)

API = "Services/index.php"


def api_disabled() -> ConfigurationError:
    """The error for a 503 from the API root: the admin must switch the API on."""
    return ConfigurationError(
        "the LibreBooking API is disabled on this server (HTTP 503)",
        hint="ask your admin to enable the API (Application Configuration → api → enabled)",
    )


def reservation_payload(request: BookingRequest, *, user_id: str) -> dict[str, Any]:
    """Body of ``POST Reservations/`` with every field the server insists on (times UTC)."""
    return {
        "accessories": [],
        "customAttributes": [
            {"attributeId": attr_id, "attributeValue": value}
            for attr_id, value in request.attributes.items()
        ],
        "description": request.description,
        "endDateTime": iso_offset(request.slot.end),
        "invitees": [],
        "participants": [],
        "participatingGuests": [],
        "invitedGuests": [],
        "recurrenceRule": {
            "type": "none",
            "interval": 1,
            "monthlyType": None,
            "weekdays": [],
            "repeatTerminationDate": None,
        },
        "resourceId": request.resource_id,
        "resources": [],
        "startDateTime": iso_offset(request.slot.start),
        "title": request.title,
        "userId": int(user_id) if str(user_id).isdigit() else user_id,
        "startReminder": None,
        "endReminder": None,
        "allowParticipation": False,
        "retryParameters": [],
        "termsAccepted": True,
    }


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def interpret_create(response: httpx.Response) -> CreateResult:
    """201 → booked; 400 → the ``errors`` classified; 401 → session expired; else error."""
    data = _json(response)
    status = response.status_code
    if status == 503:
        raise api_disabled()
    if status in (200, 201) and isinstance(data, dict) and data.get("referenceNumber"):
        return CreateResult(
            Outcome.BOOKED,
            str(data.get("message") or "created"),
            reference=str(data["referenceNumber"]),
            status_code=status,
        )
    messages: list[str] = []
    if isinstance(data, dict):
        errors = data.get("errors") or []
        messages = [str(e) for e in errors] if isinstance(errors, list) else [str(errors)]
        if not messages and data.get("message"):
            messages = [str(data["message"])]
    elif status >= 500:
        messages = [f"HTTP {status}: server error (a field may be missing in the request)"]
    outcome, message = classify(messages, status_code=status)
    return CreateResult(outcome, message, status_code=status)


class LibreBookingClient(BaseClient):
    """Client of LibreBooking's REST API; ``base_url`` is the ``…/Web`` folder."""

    dialect: Dialect = "librebooking"
    probe_path = f"{API}/"

    def api(self, path: str) -> str:
        """Path of an API endpoint under ``Web/Services/index.php``."""
        return f"{API}/{path.lstrip('/')}"

    def _auth_headers(self) -> dict[str, str]:
        if self.session is None or not self.session.session_token:
            raise SessionExpiredError("not logged in", hint="run `boxoffice book refresh`")
        return {
            "X-Booked-SessionToken": self.session.session_token,
            "X-Booked-UserId": self.session.user_id or "",
        }

    async def login(self, credentials: Credentials) -> BookedSession:
        """``Authentication/Authenticate``; a refused password is 200 + isAuthenticated false."""
        body = {"username": credentials.username, "password": credentials.password}
        if credentials.totp_secret:  # for 2FA gateways in front of the API; ignored otherwise
            body["otp"] = totp_code(credentials.totp_secret)
        response = await self.send(
            "POST", self.api("Authentication/Authenticate"), json=body, what="logging in"
        )
        if response.status_code == 503:
            raise api_disabled()
        data = _json(response)
        if not isinstance(data, dict):
            raise ProtocolError(
                f"login answer is not JSON (HTTP {response.status_code})",
                hint="check --url: it should end with the /Web folder of LibreBooking",
            )
        if not data.get("isAuthenticated") or not data.get("sessionToken"):
            raise AuthenticationError(
                "username or password refused",
                hint="check BOXOFFICE_BOOK_USERNAME and BOXOFFICE_BOOK_PASSWORD",
            )
        self.session = BookedSession(
            dialect=self.dialect,
            base_url=self.base_url,
            username=credentials.username,
            session_token=str(data["sessionToken"]),
            user_id=str(data.get("userId") or ""),
            created_at=time.time(),
        )
        return self.session

    def restore(self, session: BookedSession) -> None:
        """Reuse a cached token."""
        self.session = session

    async def validate(self) -> bool:
        """``GET Users/{id}`` answers 200 while the token is valid."""
        if self.session is None or not self.session.session_token:
            return False
        response = await self.send(
            "GET",
            self.api(f"Users/{self.session.user_id}"),
            headers=self._auth_headers(),
            what="checking the session",
        )
        if response.status_code == 503:
            raise api_disabled()
        return response.status_code == 200

    async def _reservations(self, params: dict[str, str]) -> list[Reservation]:
        response = await self.send(
            "GET",
            self.api("Reservations/"),
            params=params,
            headers=self._auth_headers(),
            what="listing reservations",
        )
        if response.status_code == 503:
            raise api_disabled()
        if response.status_code == 401:
            raise SessionExpiredError("the session expired", hint="run `boxoffice book refresh`")
        data = _json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            raise ProtocolError(f"listing reservations failed (HTTP {response.status_code})")
        out = []
        for item in data.get("reservations") or []:
            try:
                out.append(
                    Reservation(
                        reference=str(item["referenceNumber"]),
                        resource_id=int(item["resourceId"]),
                        start=parse_when(item["startDate"], self.tz),
                        end=parse_when(item["endDate"], self.tz),
                        user_id=None if item.get("userId") is None else str(item["userId"]),
                        title=str(item.get("title") or ""),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ProtocolError(f"unexpected reservation entry: {exc}") from exc
        return out

    async def availability(
        self, start: datetime, end: datetime, schedule_id: int
    ) -> list[Reservation]:
        """``GET Reservations/?startDateTime&endDateTime&scheduleId``."""
        found = await self._reservations(
            {
                "startDateTime": iso_offset(start),
                "endDateTime": iso_offset(end),
                "scheduleId": str(schedule_id),
            }
        )
        return [r for r in found if r.start < end and r.end > start]

    def prepare(self, request: BookingRequest) -> httpx.Request:
        """The ``POST Reservations/`` request with every field, encoded, ready for T0."""
        headers = self._auth_headers()
        user = request.owner_id or (self.session.user_id if self.session else None) or ""
        return self.build(
            "POST",
            self.api("Reservations/"),
            json=reservation_payload(request, user_id=user),
            headers=headers,
        )

    async def submit(self, prepared: httpx.Request, *, lane: int | None = None) -> CreateResult:
        """Send a prepared create request; the answer interpreted to an outcome."""
        return interpret_create(
            await self.send_built(prepared, what="sending a booking", lane=lane)
        )

    async def create(self, request: BookingRequest, lane: int | None = None) -> CreateResult:
        """``POST Reservations/`` with every field."""
        return await self.submit(self.prepare(request), lane=lane)

    async def cancel(self, reference: str) -> None:
        """``DELETE Reservations/{ref}``."""
        response = await self.send(
            "DELETE",
            self.api(f"Reservations/{reference}"),
            headers=self._auth_headers(),
            what=f"cancelling {reference}",
        )
        if response.status_code == 503:
            raise api_disabled()
        if response.status_code == 401:
            raise SessionExpiredError("the session expired", hint="run `boxoffice book refresh`")
        if response.status_code == 404:
            raise NotFoundError(f"reservation {reference} not found")
        if response.status_code >= 400:
            data = _json(response)
            detail = data.get("message") if isinstance(data, dict) else None
            raise ProtocolError(
                f"cancelling {reference} failed (HTTP {response.status_code})"
                + (f": {detail}" if detail else "")
            )

    async def list_mine(
        self, start: datetime, end: datetime, schedule_id: int = 1
    ) -> list[Reservation]:
        """``GET Reservations/?userId=…`` in [start, end)."""
        mine = self.owner_id or (self.session.user_id if self.session else None) or ""
        found = await self._reservations(
            {"userId": mine, "startDateTime": iso_offset(start), "endDateTime": iso_offset(end)}
        )
        return [r for r in found if r.user_id in (None, mine)]
