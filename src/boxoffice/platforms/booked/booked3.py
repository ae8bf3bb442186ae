"""Booked Scheduler 3.x web API client (the ``booked3`` dialect, DESIGN §4).

Login: ``GET index.php`` → ``POST index.php`` (email, password, captcha, login=submit, resume,
language) → if a passcode form comes back, ``POST`` its action with ``CSRF_TOKEN`` + ``OTP``
(TOTP) → success is a ``login_token`` cookie. CSRF comes from ``<input name="CSRF_TOKEN">``.
Create: multipart ``POST api/reservation.php?action=create`` with the JSON ``request`` part.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from boxoffice.core import totp
from boxoffice.core.http import CookieRecord
from boxoffice.errors import (
    AuthenticationError,
    BoxofficeError,
    ConfigurationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
)
from boxoffice.platforms.booked import booked3_pages as pages
from boxoffice.platforms.booked._base import BaseClient
from boxoffice.platforms.booked.client import Credentials, Dialect
from boxoffice.platforms.booked.messages import classify
from boxoffice.platforms.booked.models import (
    BookedSession,
    BookingRequest,
    CreateResult,
    Outcome,
    Reservation,
    iso_utc_ms,
)

LOGIN_COOKIE = "login_token"


class SessionExpiredError(AuthenticationError):
    """The server no longer accepts the session (redirect to login, 401, login page)."""


def totp_code(secret: str) -> str:
    """The current TOTP code for ``secret``; a malformed secret is a ConfigurationError."""
    try:
        return totp.code(secret)
    except ValueError as exc:
        raise ConfigurationError(
            f"the TOTP secret is not usable ({exc})",
            hint="copy the secret shown when 2FA was set up (letters A-Z and digits 2-7)",
        ) from exc


def reservation_payload(
    request: BookingRequest, *, owner_id: str, accepted_at: datetime | None = None
) -> dict[str, Any]:
    """The JSON ``request`` part of ``api/reservation.php?action=create`` (times UTC, ms, Z)."""
    accepted = accepted_at or datetime.now(UTC)
    return {
        "reservation": {
            "referenceNumber": None,
            "ownerId": int(owner_id) if str(owner_id).isdigit() else owner_id,
            "resourceIds": [request.resource_id],
            "accessories": [],
            "title": request.title,
            "description": request.description,
            "start": iso_utc_ms(request.slot.start),
            "end": iso_utc_ms(request.slot.end),
            "recurrence": {
                "type": "none",
                "interval": 1,
                "weekdays": [],
                "monthlyType": None,
                "weekOfMonth": None,
                "terminationDate": None,
                "repeatDates": [],
            },
            "startReminder": None,
            "endReminder": None,
            "inviteeIds": [],
            "coOwnerIds": [],
            "participantIds": [],
            "guestEmails": [],
            "participantEmails": [],
            "allowSelfJoin": False,
            "attachments": [],
            "requiresApproval": False,
            "checkinDate": None,
            "checkoutDate": None,
            "termsAcceptedDate": iso_utc_ms(accepted),
            "attributeValues": [
                {"id": attr_id, "value": value} for attr_id, value in request.attributes.items()
            ],
            "meetingLink": None,
            "displayColor": None,
        },
        "retryParameters": [],
        "updateScope": "full",
    }


def interpret_create(status: int, body: str, headers: httpx.Headers) -> CreateResult:
    """Turn an answer of ``api/reservation.php?action=create`` into a typed result."""
    if status in (301, 302, 303, 307, 401) or (status == 200 and pages.is_login_page(body)):
        return CreateResult(Outcome.SESSION_EXPIRED, "session expired", status_code=status)
    try:
        data = json.loads(body)
    except ValueError:
        outcome, message = classify([pages.error_text(body) or ""], status_code=status)
        if outcome is Outcome.ERROR:
            message = f"HTTP {status}: not a JSON answer"
        return CreateResult(outcome, message, status_code=status)
    inner = data.get("data") if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        inner = data if isinstance(data, dict) else {}
    errors = inner.get("errors") or (data.get("errors") if isinstance(data, dict) else None)
    if isinstance(errors, str):
        errors = [errors]
    ok = bool(inner.get("success")) and bool(data.get("success", True))
    if ok and status < 400:
        ref = inner.get("referenceNumber")
        if ref is None and isinstance(inner.get("reservation"), dict):
            ref = inner["reservation"].get("referenceNumber")
        return CreateResult(
            Outcome.BOOKED,
            str(inner.get("message") or "created"),
            reference=None if ref is None else str(ref),
            status_code=status,
        )
    outcome, message = classify([str(e) for e in (errors or [])], status_code=status)
    return CreateResult(outcome, message, status_code=status)


class Booked3Client(BaseClient):
    """Client of a Booked Scheduler 3.x web API at ``base_url`` (the ``…/Web`` folder)."""

    dialect: Dialect = "booked3"
    probe_path = "index.php"

    async def login(self, credentials: Credentials) -> BookedSession:
        """Log in, answering the passcode step with a TOTP code when the server asks."""
        self.http.cookies.delete(LOGIN_COOKIE)
        first = await self.send("GET", "index.php", what="opening the login page")
        if first.status_code != 200 or not pages.is_login_page(first.text):
            raise self._not_booked(first)
        form: dict[str, str] = {
            "email": credentials.username,
            "password": credentials.password,
            "captcha": "",
            "login": "submit",
            "resume": "",
            "language": self.language,
        }
        token = pages.csrf_token(first.text)
        if token:
            form["CSRF_TOKEN"] = token
        answer = await self.send("POST", "index.php", data=form, what="logging in")
        passcode = pages.passcode_form(answer.text)
        if passcode is not None:
            if not credentials.totp_secret:
                raise AuthenticationError(
                    "the server asks for a 2FA passcode but no TOTP secret is configured",
                    hint="set BOXOFFICE_BOOK_TOTP_SECRET (or book.totp_secret in the config)",
                )
            data = {"OTP": totp_code(credentials.totp_secret)}
            if passcode.csrf_token:
                data["CSRF_TOKEN"] = passcode.csrf_token
            action = passcode.action or "index.php"
            answer = await self.send("POST", action, data=data, what="sending the 2FA passcode")
            if pages.passcode_form(answer.text) is not None or not self._logged_in():
                raise AuthenticationError(
                    "the 2FA passcode was refused",
                    hint="check the TOTP secret and that this machine's clock is right",
                )
        elif not self._logged_in():
            detail = pages.error_text(answer.text)
            if detail is None and not pages.is_login_page(answer.text):
                raise self._not_booked(answer, step="the login answer")
            raise AuthenticationError(
                "username or password refused" + (f" ({detail})" if detail else ""),
                hint="check BOXOFFICE_BOOK_USERNAME and BOXOFFICE_BOOK_PASSWORD",
            )
        page = await self.send("GET", "schedule.php", what="reading the schedule page")
        csrf = pages.csrf_token(page.text)
        if page.status_code != 200 or csrf is None:
            raise ProtocolError(
                f"logged in, but the schedule page has no CSRF token (HTTP {page.status_code})",
                hint="the server may not be Booked 3.x; try --dialect librebooking",
            )
        self.session = BookedSession(
            dialect=self.dialect,
            base_url=self.base_url,
            username=credentials.username,
            cookies=self._cookie_records(),
            csrf_token=csrf,
            user_id=pages.user_id(page.text),
            created_at=time.time(),
        )
        return self.session

    def _not_booked(self, response: httpx.Response, step: str = "") -> BoxofficeError:
        """The URL answers, but not as Booked's login page: say what was found there."""
        found = pages.describe_page(response.headers.get("content-type", ""), response.text)
        where = f"{step} from {response.request.url}" if step else f"{self.url('index.php')}"
        message = f"not a Booked login page — check --url: {where} answered HTTP "
        message += f"{response.status_code} with {found}"
        hint = "--url must be the scheduler's …/Web folder (where index.php shows the login form)"
        if response.status_code == 404:
            return NotFoundError(message, hint=hint)
        if response.status_code >= 500:
            return NetworkError(message, hint=hint)
        return ProtocolError(message, hint=hint)

    def _logged_in(self) -> bool:
        return any(c.name == LOGIN_COOKIE for c in self.http.cookies.jar)

    def _cookie_records(self) -> list[CookieRecord]:
        """The session's cookies with their domain, path and flags (not the language one)."""
        return [c for c in self.http.cookie_jar.items() if c.name != "language"]

    def restore(self, session: BookedSession) -> None:
        """Reuse cached cookies (each bound where the server set it) and CSRF token."""
        for record in session.cookies:
            self.http.cookie_jar.set(record)
        self.session = session

    async def validate(self) -> bool:
        """The schedule page loads with a CSRF token (not a redirect to the login page)."""
        if self.session is None:
            return False
        page = await self.send("GET", "schedule.php", what="checking the session")
        if page.status_code != 200 or pages.is_login_page(page.text):
            return False
        token = pages.csrf_token(page.text)
        if token:
            self.session.csrf_token = token
        return token is not None

    def _csrf(self) -> str:
        if self.session is None or not self.session.csrf_token:
            raise SessionExpiredError("not logged in", hint="run `boxoffice book refresh`")
        return self.session.csrf_token

    async def availability(
        self, start: datetime, end: datetime, schedule_id: int
    ) -> list[Reservation]:
        """``schedule.php?dr=reservations`` for the days covering [start, end)."""
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        fields = {
            "beginDate": local_start.strftime("%Y-%m-%d"),
            "endDate": local_end.strftime("%Y-%m-%d"),
            "scheduleId": str(schedule_id),
            "MIN_DATE": local_start.strftime("%Y-%m-%d"),
            "MAX_DATE": local_end.strftime("%Y-%m-%d"),
            "CSRF_TOKEN": self._csrf(),
        }
        response = await self.send(
            "POST",
            "schedule.php?dr=reservations",
            files={k: (None, v) for k, v in fields.items()},
            headers={"X-Csrf-Token": self._csrf()},
            what="fetching availability",
        )
        if response.status_code in (301, 302, 303, 401) or pages.is_login_page(response.text):
            raise SessionExpiredError("the session expired", hint="run `boxoffice book refresh`")
        try:
            data = response.json()
        except ValueError as exc:
            raise ProtocolError(
                f"availability answer is not JSON (HTTP {response.status_code})"
            ) from exc
        return [r for r in pages.reservations(data, self.tz) if r.start < end and r.end > start]

    def prepare(self, request: BookingRequest) -> httpx.Request:
        """The multipart create request, fully encoded, ready to send at T0."""
        owner = request.owner_id or (self.session.user_id if self.session else None)
        if not owner:
            raise ConfigurationError(
                "booked3 needs the owner (your user id) for a reservation",
                hint="pass --owner ID or set book.owner",
            )
        csrf = self._csrf()
        payload = reservation_payload(request, owner_id=owner)
        parts = {
            "request": (None, json.dumps(payload)),
            "CSRF_TOKEN": (None, csrf),
            "BROWSER_TIMEZONE": (None, request.timezone),
        }
        return self.build(
            "POST",
            "api/reservation.php?action=create",
            files=parts,
            headers={"X-Csrf-Token": csrf},
        )

    async def submit(self, prepared: httpx.Request, *, lane: int | None = None) -> CreateResult:
        """Send a prepared create request; the answer interpreted to an outcome."""
        response = await self.send_built(prepared, what="sending a booking", lane=lane)
        return interpret_create(response.status_code, response.text, response.headers)

    async def create(self, request: BookingRequest, lane: int | None = None) -> CreateResult:
        """One multipart create call; the answer interpreted to an outcome."""
        return await self.submit(self.prepare(request), lane=lane)

    async def cancel(self, reference: str) -> None:
        """``api/reservation.php?action=delete`` for one reference number."""
        csrf = self._csrf()
        payload = {"reservation": {"referenceNumber": reference}, "updateScope": "full"}
        response = await self.send(
            "POST",
            "api/reservation.php?action=delete",
            files={"request": (None, json.dumps(payload)), "CSRF_TOKEN": (None, csrf)},
            headers={"X-Csrf-Token": csrf},
            what=f"cancelling {reference}",
        )
        result = interpret_create(response.status_code, response.text, response.headers)
        if result.outcome is Outcome.BOOKED:
            return
        if result.outcome is Outcome.SESSION_EXPIRED:
            raise SessionExpiredError("the session expired", hint="run `boxoffice book refresh`")
        if response.status_code == 404 or "not found" in result.message.lower():
            raise NotFoundError(f"reservation {reference} not found")
        raise ProtocolError(f"cancelling {reference} failed: {result.message}")

    async def list_mine(
        self, start: datetime, end: datetime, schedule_id: int = 1
    ) -> list[Reservation]:
        """The user's reservations: availability filtered by the logged-in user's id."""
        mine = self.owner_id or (self.session.user_id if self.session else None)
        if not mine:
            raise ConfigurationError(
                "cannot tell which reservations are yours: the user id is unknown",
                hint="pass --owner ID or set book.owner",
            )
        found = await self.availability(start, end, schedule_id)
        return [r for r in found if r.user_id == mine]
