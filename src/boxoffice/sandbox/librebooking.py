"""Simulator of LibreBooking 2.8's REST API (DESIGN §4), sharing the booking world of booked3.

Served under ``/Web/Services/index.php/`` (client base URL ``<server>/Web``):

* ``POST Authentication/Authenticate`` ``{username, password}`` → ``{sessionToken, userId,
  isAuthenticated, sessionExpires}`` (a bad password is 200 with ``isAuthenticated: false``).
  A user with a TOTP secret must add ``"otp"`` to the body (the simulator's stand-in for a 2FA
  gateway; LibreBooking itself has none on the API).
* ``GET Users/{id}`` (session check), ``GET Reservations/?startDateTime&endDateTime&userId``,
  ``POST Reservations/`` (every field required, else 500 HTML; 201 or 400 ``{message, errors}``),
  ``DELETE Reservations/{ref}``; headers ``X-Booked-SessionToken``/``X-Booked-UserId``; an
  expired or unknown token is 401. As the real 2.8.6.2: ``api_enabled: false`` makes every API
  URL answer 200 ``text/html`` with LibreBooking's "configured as disabled" notice; a listing
  gives times in UTC (``+0000``); a delete answers 200 ``{"message": "The item was deleted"}``,
  200 with an empty body for an unknown or already-deleted reference, 400 with the reason in
  ``errors`` for someone else's; a resource in ``approval_resources`` stores the reservation as
  pending (``isPendingApproval: true``).

Knobs and the ``/_sandbox/…`` control surface are those of :mod:`boxoffice.sandbox.booked3`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from boxoffice.core import totp
from boxoffice.sandbox.booked3 import (
    MESSAGES,
    Receive,
    Scope,
    Send,
    SimMiddleware,
    User,
    World,
    control_routes,
    default_world,
    language_of,
    parse_iso,
)

API = "/Web/Services/index.php"
DISABLED_NOTICE = (
    "LibreBooking API has been configured as disabled.<br/><br/>"
    "Set $conf['settings']['api']['enabled'] = 'true' to enable."
)
ERRORS = "There were errors processing your request"
NOT_ALLOWED = "You are not allowed to change this reservation."

REQUIRED_FIELDS = (
    "accessories",
    "customAttributes",
    "description",
    "endDateTime",
    "invitees",
    "participants",
    "participatingGuests",
    "invitedGuests",
    "recurrenceRule",
    "resourceId",
    "resources",
    "startDateTime",
    "title",
    "userId",
    "startReminder",
    "endReminder",
    "allowParticipation",
    "retryParameters",
    "termsAccepted",
)


@dataclass
class Token:
    """An API session."""

    user: User
    created: float


class LibreBookingApp:
    """The librebooking simulator: a Starlette app plus its world."""

    sets_date_header = True  # SandboxServer leaves the Date header to the skewed clock

    def __init__(self, world: World) -> None:
        self.world = world
        self.tokens: dict[str, Token] = {}
        routes = [
            Route(f"{API}/", self.root, methods=["GET", "HEAD"]),
            Route(f"{API}/Authentication/Authenticate", self.authenticate, methods=["POST"]),
            Route(f"{API}/Users/{{user_id}}", self.user, methods=["GET"]),
            Route(f"{API}/Reservations/", self.reservations, methods=["GET", "POST"]),
            Route(f"{API}/Reservations/{{ref}}", self.delete, methods=["DELETE"]),
            *control_routes(world, self.reset),
        ]
        self.starlette = Starlette(routes=routes)
        self.app = SimMiddleware(self.starlette, world, self._session_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def reset(self) -> None:
        """Forget tokens, reservations and the log; knobs back to defaults."""
        self.world.reset()
        self.tokens.clear()

    @staticmethod
    def _session_key(scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"x-booked-sessiontoken":
                return str(value.decode("latin-1"))
        return None

    def _lang(self, request: Request) -> str:
        return language_of(dict(request.headers), dict(request.cookies))

    def _disabled(self) -> Response | None:
        if self.world.api_enabled:
            return None
        return HTMLResponse(DISABLED_NOTICE)  # 200, as LibreBooking's `die(...)`

    def _auth(self, request: Request) -> User | None:
        token = self.tokens.get(request.headers.get("x-booked-sessiontoken", ""))
        if token is None or request.headers.get("x-booked-userid") != token.user.user_id:
            return None
        world = self.world
        if world.now() - token.created > world.session_ttl or token.created < (
            world.sessions_valid_after
        ):
            return None
        return token.user

    @staticmethod
    def _unauthorized() -> Response:
        return JSONResponse({"message": "Unauthorized"}, status_code=401)

    async def root(self, _: Request) -> Response:
        return self._disabled() or JSONResponse({"message": "LibreBooking API"})

    async def authenticate(self, request: Request) -> Response:
        if (off := self._disabled()) is not None:
            return off
        try:
            body = await request.json()
        except ValueError:
            body = {}
        user = self.world.users.get(str(body.get("username", "")))
        ok = user is not None and secrets.compare_digest(
            user.password, str(body.get("password", ""))
        )
        if ok and user is not None and user.totp_secret:
            ok = totp.verify(user.totp_secret, str(body.get("otp", "")), self.world.now())
        if not ok or user is None:
            return JSONResponse(
                {
                    "sessionToken": None,
                    "userId": None,
                    "isAuthenticated": False,
                    "sessionExpires": None,
                }
            )
        token = secrets.token_hex(20)
        now = self.world.now()
        self.tokens[token] = Token(user, now)
        expires = datetime.fromtimestamp(now + self.world.session_ttl, UTC)
        return JSONResponse(
            {
                "sessionToken": token,
                "userId": int(user.user_id),
                "isAuthenticated": True,
                "sessionExpires": expires.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            }
        )

    async def user(self, request: Request) -> Response:
        if (off := self._disabled()) is not None:
            return off
        user = self._auth(request)
        if user is None:
            return self._unauthorized()
        return JSONResponse({"id": int(user.user_id), "emailAddress": user.username})

    def _json_reservation(self, r: Any) -> dict[str, Any]:
        return {  # the real server answers in UTC
            "referenceNumber": r.reference,
            "startDate": r.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "endDate": r.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "requiresApproval": r.pending,
            "resourceId": r.resource_id,
            "resourceName": self.world.resources.get(r.resource_id, ""),
            "userId": int(r.user_id) if r.user_id.isdigit() else r.user_id,
            "title": r.title,
        }

    async def reservations(self, request: Request) -> Response:
        if (off := self._disabled()) is not None:
            return off
        user = self._auth(request)
        if user is None:
            return self._unauthorized()
        if request.method == "GET":
            return self._list(request)
        return await self._create(request, user)

    def _list(self, request: Request) -> Response:
        q = request.query_params
        try:
            start = parse_iso(q["startDateTime"]) if "startDateTime" in q else None
            end = parse_iso(q["endDateTime"]) if "endDateTime" in q else None
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        found = [
            r
            for r in self.world.reservations
            if (start is None or r.end > start)
            and (end is None or r.start < end)
            and ("userId" not in q or r.user_id == q["userId"])
        ]
        return JSONResponse({"reservations": [self._json_reservation(r) for r in found]})

    async def _create(self, request: Request, user: User) -> Response:
        lang = self._lang(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or any(f not in body for f in REQUIRED_FIELDS):
            return HTMLResponse(
                "<html><body><h1>500 Internal Server Error</h1></body></html>", status_code=500
            )
        try:
            start = parse_iso(str(body["startDateTime"]))
            end = parse_iso(str(body["endDateTime"]))
            resource_id = int(body["resourceId"])
        except (ValueError, TypeError):
            return JSONResponse(
                {"message": "There were errors processing your request", "errors": ["bad date"]},
                status_code=400,
            )
        if str(body["userId"]) != user.user_id:
            return JSONResponse({"message": "Forbidden", "errors": []}, status_code=403)
        stored, errors = await self.world.try_create(
            user.user_id, resource_id, start, end, lang, str(body.get("title") or "")
        )
        if stored is None:
            return JSONResponse(
                {"message": ERRORS, "errors": errors},
                status_code=400,
            )
        if resource_id in self.world.approval_resources:
            stored.pending = True
        return JSONResponse(
            {
                "message": MESSAGES[lang]["created"],
                "referenceNumber": stored.reference,
                "isPendingApproval": stored.pending,
            },
            status_code=201,
        )

    async def delete(self, request: Request) -> Response:
        if (off := self._disabled()) is not None:
            return off
        user = self._auth(request)
        if user is None:
            return self._unauthorized()
        ref = request.path_params["ref"]
        held = [r for r in self.world.reservations if r.reference == ref]
        if not held:  # 2.8.6.2: a PHP error after the lookup, 200 with an empty body
            return Response(b"", status_code=200, media_type="text/html")
        if not self.world.cancel(ref, user.user_id):
            return JSONResponse({"message": ERRORS, "errors": [NOT_ALLOWED]}, status_code=400)
        return JSONResponse({"message": "The item was deleted"})


def create_app(seed: int = 0, world: World | None = None) -> LibreBookingApp:
    """The librebooking simulator app (``app.world`` exposes its state and knobs)."""
    del seed
    return LibreBookingApp(world or default_world())
