"""LibreBooking REST API client (the ``librebooking`` dialect, DESIGN §4, observed on 2.8).

``POST Authentication/Authenticate`` → ``{sessionToken, userId, isAuthenticated}``; every later
call carries ``X-Booked-SessionToken`` and ``X-Booked-UserId``. ``POST Reservations/`` needs
every field (a missing one is a 500 HTML page); 201 on success (``isPendingApproval: true``
means stored as *pending*, not won), 400 with the reasons in ``errors`` otherwise. A server with
the API switched off answers **200 text/html** ("…API has been configured as disabled…") on
every URL (older setups: 503). ``DELETE Reservations/{ref}`` answers 200
``{"message": "The item was deleted"}``; an unknown or already-deleted reference is 200 with an
**empty body** (nothing was deleted). Reservation times come back in UTC (``…+0000``); they are
shown in the schedule's zone.
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
    RefusedError,
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


DISABLED_MARK = "configured as disabled"


def api_disabled() -> ConfigurationError:
    """The error for a server whose API is switched off: the admin must switch it on."""
    return ConfigurationError(
        "the server's API is disabled",
        hint="ask the admin to set api.enabled ($conf['settings']['api']['enabled'] = 'true')",
    )


def is_api_disabled(response: httpx.Response) -> bool:
    """LibreBooking's "API disabled" answer: 200 ``text/html`` with its notice."""
    if "json" in response.headers.get("content-type", ""):
        return False
    return DISABLED_MARK in response.text[:2000]


def check_enabled(response: httpx.Response) -> httpx.Response:
    """``response`` unless it is the "API disabled" answer (then :func:`api_disabled`)."""
    if is_api_disabled(response):
        raise api_disabled()
    return response


def reasons(data: Any) -> list[str]:
    """The refusal's reasons: the ``errors`` list (where LibreBooking puts them), else the
    ``message`` (a generic "There were errors processing your request" when errors exist)."""
    if not isinstance(data, dict):
        return []
    errors = data.get("errors") or []
    found = [str(e).strip() for e in errors] if isinstance(errors, list) else [str(errors)]
    found = [e for e in found if e]
    if not found and data.get("message"):
        found = [str(data["message"])]
    return found


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
    """201 → booked (or pending approval); 400 → the ``errors`` classified; 401 → session
    expired; the API switched off → :func:`api_disabled`; else error."""
    check_enabled(response)
    data = _json(response)
    status = response.status_code
    if status in (200, 201) and isinstance(data, dict) and data.get("referenceNumber"):
        pending = data.get("isPendingApproval") is True
        message = str(data.get("message") or "created")
        if pending:
            message = "stored as pending: the resource needs an admin's approval"
        return CreateResult(
            Outcome.PENDING if pending else Outcome.BOOKED,
            message,
            reference=str(data["referenceNumber"]),
            status_code=status,
        )
    messages = reasons(data)
    if not messages and status >= 500:
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
        response = check_enabled(
            await self.send(
                "POST", self.api("Authentication/Authenticate"), json=body, what="logging in"
            )
        )
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
        response = check_enabled(
            await self.send(
                "GET",
                self.api(f"Users/{self.session.user_id}"),
                headers=self._auth_headers(),
                what="checking the session",
            )
        )
        return response.status_code == 200

    async def _reservations(self, params: dict[str, str]) -> list[Reservation]:
        response = check_enabled(
            await self.send(
                "GET",
                self.api("Reservations/"),
                params=params,
                headers=self._auth_headers(),
                what="listing reservations",
            )
        )
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
                        start=parse_when(item["startDate"], self.tz).astimezone(self.tz),
                        end=parse_when(item["endDate"], self.tz).astimezone(self.tz),
                        user_id=None if item.get("userId") is None else str(item["userId"]),
                        title=str(item.get("title") or ""),
                        pending=bool(item.get("requiresApproval")),
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
        """``DELETE Reservations/{ref}``; only the server's "deleted" answer counts as done.

        An empty 200 (what 2.8 answers for an unknown or already-deleted reference) is
        :class:`NotFoundError`; a refusal shows the server's reasons.
        """
        response = check_enabled(
            await self.send(
                "DELETE",
                self.api(f"Reservations/{reference}"),
                headers=self._auth_headers(),
                what=f"cancelling {reference}",
            )
        )
        status = response.status_code
        if status == 401:
            raise SessionExpiredError("the session expired", hint="run `boxoffice book refresh`")
        data = _json(response)
        if status == 404 or (status == 200 and not response.content.strip()):
            raise NotFoundError(
                f"reservation {reference} was not cancelled: the server does not know it"
                " (unknown, or cancelled already)",
                hint="`boxoffice book list` shows your reservations",
            )
        if status == 200 and isinstance(data, dict) and not data.get("errors"):
            return
        found = reasons(data)
        if status in (400, 403) and found:
            raise RefusedError(f"cancelling {reference} refused: {'; '.join(found)}")
        raise ProtocolError(
            f"cancelling {reference} failed (HTTP {status})"
            + (f": {'; '.join(found)}" if found else "")
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
