"""Simulator of a Booked Scheduler 3.x web API (and the booking world LibreBooking's shares).

Served under ``/Web/`` like a real installation (client base URL ``<server>/Web``):

* ``GET|HEAD /Web/index.php`` login page (sets ``PHPSESSID``, carries ``CSRF_TOKEN``);
  ``POST /Web/index.php`` login form → passcode form (action ``auth/validate-2fa.php``) when the
  user has a TOTP secret; ``POST /Web/auth/validate-2fa.php`` (``CSRF_TOKEN``, ``OTP``, a real
  TOTP check) → ``login_token`` cookie + 302 to ``dashboard.php``.
* ``GET /Web/schedule.php`` (CSRF token, ``data-user-id``) — 302 to ``index.php`` when logged out.
* ``POST /Web/schedule.php?dr=reservations`` multipart → JSON list of reservations (naive
  local times in the schedule's zone).
* ``POST /Web/api/reservation.php?action=create|delete`` multipart (``request`` JSON part,
  ``CSRF_TOKEN``, header ``X-Csrf-Token``) →
  ``{success, data: {success, errors, referenceNumber}}``.

Rules: conflicts per resource, one reservation at a time per user, a "latest bookable time"
window (``max_notice`` seconds ahead of the *server* clock), session expiry (``session_ttl``).
Knobs: ``clock_offset`` (server clock = local + offset; the ``Date`` header and the window rule
use it), ``latency`` per request,
``php_mode`` (one session's requests are processed one at a time), ``no_lock`` (check and insert
are not atomic: concurrent creates can double-book), ``rate_limit_after`` (after N creates every
create is answered 429 with ``Retry-After: 30``). The Date header is the simulator's own (the
app sets ``sets_date_header``, which :class:`SandboxServer` honours). Messages are German or
English by the ``language`` cookie / ``Accept-Language``.

Control (JSON): ``GET /_sandbox/state``, ``POST /_sandbox/config`` (any knob above),
``POST /_sandbox/reservations`` (``{resource_id, start, end, user_id}`` ISO times) to occupy a
slot, ``POST /_sandbox/expire-sessions``, ``GET /_sandbox/log`` (request log with server
timestamps, client ports and whether each request opened a new TCP connection),
``POST /_sandbox/reset-log``, ``POST /_sandbox/reset``.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from boxoffice.core import totp

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEFAULT_USERNAME = "student@uni.example"
DEFAULT_PASSWORD = "correct horse battery staple"
DEFAULT_USER_ID = "42"

MESSAGES: dict[str, dict[str, str]] = {
    "de": {
        "conflict": "Es gibt in Konflikt stehende Reservierungen: {resource} am {when}",
        "one": "Es ist nur eine Reservierung zur selben Zeit möglich",
        "window": "Die Reservierung liegt zu weit in der Zukunft. Der späteste Zeitpunkt ist "
        "{latest}.",
        "login": "Ungültiger Benutzername oder Passwort",
        "otp": "Ungültiger Code",
        "notfound": "Reservierung nicht gefunden",
        "csrf": "Ungültiges Sicherheitstoken",
        "deleted": "Reservierung gelöscht",
        "created": "Reservierung erstellt",
    },
    "en": {
        "conflict": "There are conflicting reservations: {resource} on {when}",
        "one": "Only one reservation at a time is allowed",
        "window": "This reservation is too far in the future. The latest date and time is "
        "{latest}.",
        "login": "Invalid username or password",
        "otp": "Invalid passcode",
        "notfound": "Reservation not found",
        "csrf": "Invalid security token",
        "deleted": "Reservation deleted",
        "created": "Reservation created",
    },
}


def language_of(headers: dict[str, str], cookies: dict[str, str]) -> str:
    """``de`` or ``en``: the ``language`` cookie first, then ``Accept-Language``."""
    cookie = cookies.get("language", "")
    if cookie:
        return "de" if cookie.lower().startswith("de") else "en"
    accept = headers.get("accept-language", "")
    return "de" if accept.lower().startswith("de") else "en"


@dataclass
class User:
    """A scheduler account."""

    username: str
    password: str
    user_id: str
    totp_secret: str | None = None


@dataclass
class StoredReservation:
    """One reservation in the simulated database."""

    reference: str
    resource_id: int
    start: datetime
    end: datetime
    user_id: str
    title: str = ""
    pending: bool = False


@dataclass
class LogEntry:
    """One request as the server saw it."""

    t: float
    method: str
    path: str
    port: int | None
    new_connection: bool
    session: str | None


@dataclass
class World:
    """Shared state and knobs of a booking simulator (one per app)."""

    timezone: str = "Europe/Zurich"
    resources: dict[int, str] = field(
        default_factory=lambda: {i: f"Desk {i}" for i in range(231, 263)}
    )
    users: dict[str, User] = field(default_factory=dict)
    reservations: list[StoredReservation] = field(default_factory=list)
    clock_offset: float = 0.0
    latency: float = 0.0
    php_mode: bool = False
    no_lock: bool = False
    no_lock_window: float = 0.05
    one_at_a_time: bool = True
    max_notice: float | None = None
    session_ttl: float = 3600.0
    api_enabled: bool = True
    rate_limit_after: int | None = None
    approval_resources: list[int] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    seen_ports: set[int] = field(default_factory=set)
    _lock: asyncio.Lock | None = None
    _session_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _refs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    sessions_valid_after: float = 0.0
    in_flight: int = 0
    peak_in_flight: int = 0
    attempt_order: list[int] = field(default_factory=list)

    KNOBS = (
        "clock_offset",
        "latency",
        "php_mode",
        "no_lock",
        "no_lock_window",
        "one_at_a_time",
        "max_notice",
        "session_ttl",
        "api_enabled",
        "rate_limit_after",
        "timezone",
        "approval_resources",
    )

    @property
    def tz(self) -> ZoneInfo:
        """The schedule's zone."""
        return ZoneInfo(self.timezone)

    def now(self) -> float:
        """Server clock (epoch seconds): local clock + ``clock_offset``."""
        return time.time() + self.clock_offset

    def now_dt(self) -> datetime:
        """Server clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    def lock(self) -> asyncio.Lock:
        """The global booking lock (created in the server's loop)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def session_lock(self, key: str) -> asyncio.Lock:
        """The per-session lock of PHP mode."""
        if key not in self._session_locks:
            self._session_locks[key] = asyncio.Lock()
        return self._session_locks[key]

    def reset(self) -> None:
        """Knobs back to their defaults; forget reservations, the log and attempt order."""
        fresh = default_world()
        for name in World.KNOBS:
            setattr(self, name, getattr(fresh, name))
        self.reservations.clear()
        self.log.clear()
        self.peak_in_flight = 0
        self.attempt_order.clear()

    def configure(self, data: dict[str, Any]) -> None:
        """Apply knob values from a control request."""
        for key, value in data.items():
            if key not in self.KNOBS:
                raise KeyError(key)
            setattr(self, key, value)

    def add_reservation(
        self, resource_id: int, start: datetime, end: datetime, user_id: str, title: str = ""
    ) -> StoredReservation:
        """Insert without checks (control surface, and the tail of a successful create)."""
        ref = f"{secrets.token_hex(6)}{next(self._refs)}"
        stored = StoredReservation(ref, resource_id, start, end, user_id, title)
        self.reservations.append(stored)
        return stored

    def _check(
        self, user_id: str, resource_id: int, start: datetime, end: datetime, lang: str
    ) -> list[str]:
        text = MESSAGES[lang]
        if self.max_notice is not None:
            latest = self.now_dt() + timedelta(seconds=self.max_notice)
            if start > latest:
                shown = latest.astimezone(self.tz).strftime("%d.%m.%Y %H:%M:%S")
                return [text["window"].format(latest=shown)]
        if resource_id not in self.resources:
            return [f"unknown resource {resource_id}"]
        for r in self.reservations:
            if r.resource_id == resource_id and r.start < end and r.end > start:
                when = start.astimezone(self.tz).strftime("%d.%m.%Y %H:%M")
                return [text["conflict"].format(resource=self.resources[resource_id], when=when)]
        if self.one_at_a_time:
            for r in self.reservations:
                if r.user_id == user_id and r.start < end and r.end > start:
                    return [text["one"]]
        return []

    async def try_create(
        self,
        user_id: str,
        resource_id: int,
        start: datetime,
        end: datetime,
        lang: str,
        title: str = "",
    ) -> tuple[StoredReservation | None, list[str]]:
        """Apply the rules; in ``no_lock`` mode check and insert are not atomic."""
        self.attempt_order.append(resource_id)
        if self.no_lock:
            errors = self._check(user_id, resource_id, start, end, lang)
            await asyncio.sleep(max(self.latency, self.no_lock_window))  # a real DB's race window
            if errors:
                return None, errors
            return self.add_reservation(resource_id, start, end, user_id, title), []
        async with self.lock():
            errors = self._check(user_id, resource_id, start, end, lang)
            if errors:
                return None, errors
            return self.add_reservation(resource_id, start, end, user_id, title), []

    def expire_sessions(self) -> None:
        """Every session created until now is no longer accepted."""
        self.sessions_valid_after = self.now() + 1e-6

    def cancel(self, reference: str, user_id: str) -> bool:
        """Remove one of the user's reservations."""
        for r in self.reservations:
            if r.reference == reference and r.user_id == user_id:
                self.reservations.remove(r)
                return True
        return False

    def state(self) -> dict[str, Any]:
        """What ``GET /_sandbox/state`` shows."""
        return {
            "config": {k: getattr(self, k) for k in self.KNOBS},
            "server_time": self.now(),
            "peak_in_flight": self.peak_in_flight,
            "reservations": [
                {
                    "reference": r.reference,
                    "resource_id": r.resource_id,
                    "start": r.start.isoformat(),
                    "end": r.end.isoformat(),
                    "user_id": r.user_id,
                }
                for r in self.reservations
            ],
        }

    def log_json(self) -> list[dict[str, Any]]:
        """The request log as JSON."""
        return [
            {
                "t": e.t,
                "method": e.method,
                "path": e.path,
                "port": e.port,
                "new_connection": e.new_connection,
            }
            for e in self.log
        ]


def default_world() -> World:
    """A world with one user (password + TOTP) and desks 231–262 in Europe/Zurich."""
    world = World()
    world.users[DEFAULT_USERNAME] = User(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_USER_ID, DEFAULT_TOTP_SECRET
    )
    world.users["other@uni.example"] = User("other@uni.example", "other-password", "7", None)
    return world


def parse_iso(value: str) -> datetime:
    """ISO 8601 with Z, ±HH:MM or ±HHMM → aware datetime."""
    text = value.strip().replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and ":" not in text[-5:]:
        text = text[:-2] + ":" + text[-2:]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without zone: {value}")
    return moment


class SimMiddleware:
    """Request log, skewed ``Date`` header, per-request latency and PHP-like serialization."""

    def __init__(
        self, app: ASGIApp, world: World, session_key: Callable[[Scope], str | None]
    ) -> None:
        self.app = app
        self.world = world
        self.session_key = session_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        world = self.world
        arrived = world.now()
        path = scope.get("path", "")
        client = scope.get("client")
        port = int(client[1]) if client else None
        control = path.startswith("/_sandbox")
        if not control:
            new = port is not None and port not in world.seen_ports
            if port is not None:
                world.seen_ports.add(port)
            query = scope.get("query_string", b"").decode()
            world.log.append(
                LogEntry(
                    arrived,
                    scope.get("method", ""),
                    path + (f"?{query}" if query else ""),
                    port,
                    new,
                    self.session_key(scope),
                )
            )

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                date = email.utils.formatdate(world.now(), usegmt=True)
                headers.append((b"date", date.encode()))
                message["headers"] = headers
            await send(message)

        if control:
            await self.app(scope, receive, send_with_date)
            return
        key = self.session_key(scope) if world.php_mode else None
        if key:
            async with world.session_lock(key):
                await self._handle(scope, receive, send_with_date)
        else:
            await self._handle(scope, receive, send_with_date)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        world = self.world
        if world.rate_limit_after is not None and scope.get("method") == "POST":
            path = scope.get("path", "")
            if path.endswith("reservation.php") or path.endswith("/Reservations/"):
                if world.rate_limit_after <= 0:
                    response = JSONResponse(
                        {"message": "Too Many Requests"},
                        status_code=429,
                        headers={"Retry-After": "30"},
                    )
                    await response(scope, receive, send)
                    return
                world.rate_limit_after -= 1
        world.in_flight += 1
        world.peak_in_flight = max(world.peak_in_flight, world.in_flight)
        try:
            if world.latency > 0:
                await asyncio.sleep(world.latency)
            await self.app(scope, receive, send)
        finally:
            world.in_flight -= 1


def _cookies_of(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key:
                    out[key] = val
    return out


def control_routes(world: World, reset: Callable[[], None]) -> list[Route]:
    """The ``/_sandbox/…`` control surface shared by both simulators."""

    async def state(_: Request) -> Response:
        return JSONResponse(world.state())

    async def config(request: Request) -> Response:
        try:
            world.configure(await request.json())
        except KeyError as exc:
            return JSONResponse({"error": f"unknown knob {exc}"}, status_code=400)
        return JSONResponse(world.state()["config"])

    async def add(request: Request) -> Response:
        data = await request.json()
        stored = world.add_reservation(
            int(data["resource_id"]),
            parse_iso(data["start"]),
            parse_iso(data["end"]),
            str(data.get("user_id", "7")),
        )
        return JSONResponse({"reference": stored.reference}, status_code=201)

    async def expire(_: Request) -> Response:
        world.expire_sessions()
        return JSONResponse({"ok": True})

    async def log(_: Request) -> Response:
        return JSONResponse(world.log_json())

    async def reset_log(_: Request) -> Response:
        world.log.clear()
        return JSONResponse({"ok": True})

    async def do_reset(_: Request) -> Response:
        reset()
        return JSONResponse({"ok": True})

    return [
        Route("/_sandbox/state", state),
        Route("/_sandbox/config", config, methods=["POST"]),
        Route("/_sandbox/reservations", add, methods=["POST"]),
        Route("/_sandbox/expire-sessions", expire, methods=["POST"]),
        Route("/_sandbox/log", log),
        Route("/_sandbox/reset-log", reset_log, methods=["POST"]),
        Route("/_sandbox/reset", do_reset, methods=["POST"]),
    ]


# --- booked3 pages -------------------------------------------------------------------------


@dataclass
class PhpSession:
    """Server-side PHP session."""

    csrf: str
    created: float
    user: User | None = None
    pending: User | None = None
    login_token: str | None = None


def _page(title: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


def _login_page(csrf: str, error: str | None) -> str:
    err = f'<div class="error">{error}</div>' if error else ""
    return _page(
        "Log In",
        f'{err}<form method="post" action="index.php" id="login-form">'
        f'<input type="hidden" name="CSRF_TOKEN" value="{csrf}"/>'
        '<input type="text" name="email" id="email"/>'
        '<input type="password" name="password" id="password"/>'
        '<input type="hidden" name="captcha" value=""/>'
        '<input type="hidden" name="resume" value=""/>'
        '<button type="submit" name="login" value="submit">Log In</button></form>',
    )


def _passcode_page(csrf: str, error: str | None) -> str:
    err = f'<div class="alert alert-danger">{error}</div>' if error else ""
    return _page(
        "Passcode",
        f'{err}<form method="post" action="auth/validate-2fa.php" id="form-otp">'
        f'<input type="hidden" name="CSRF_TOKEN" value="{csrf}"/>'
        '<input type="text" name="OTP" autocomplete="one-time-code"/>'
        '<button type="submit">Verify</button></form>',
    )


class Booked3App:
    """The booked3 simulator: a Starlette app plus its world."""

    sets_date_header = True  # SandboxServer leaves the Date header to the skewed clock

    def __init__(self, world: World) -> None:
        self.world = world
        self.sessions: dict[str, PhpSession] = {}
        routes = [
            Route("/Web/index.php", self.index, methods=["GET", "HEAD", "POST"]),
            Route("/Web/auth/validate-2fa.php", self.validate_2fa, methods=["POST"]),
            Route("/Web/dashboard.php", self.dashboard, methods=["GET"]),
            Route("/Web/schedule.php", self.schedule, methods=["GET", "POST"]),
            Route("/Web/api/reservation.php", self.reservation_api, methods=["POST"]),
            *control_routes(world, self.reset),
        ]
        self.starlette = Starlette(routes=routes)
        self.app = SimMiddleware(self.starlette, world, self._session_key)

    def reset(self) -> None:
        """Forget sessions, reservations and the log; knobs back to defaults."""
        self.world.reset()
        self.sessions.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    @staticmethod
    def _session_key(scope: Scope) -> str | None:
        return _cookies_of(scope).get("PHPSESSID")

    def _lang(self, request: Request) -> str:
        return language_of(dict(request.headers), dict(request.cookies))

    def _session(self, request: Request) -> tuple[str, PhpSession]:
        sid = request.cookies.get("PHPSESSID", "")
        sess = self.sessions.get(sid)
        if sess is None:
            sid = secrets.token_hex(16)
            sess = PhpSession(csrf=secrets.token_hex(24), created=self.world.now())
            self.sessions[sid] = sess
        return sid, sess

    def _user(self, request: Request) -> User | None:
        sess = self.sessions.get(request.cookies.get("PHPSESSID", ""))
        if sess is None or sess.user is None:
            return None
        if request.cookies.get("login_token") != sess.login_token:
            return None
        world = self.world
        if world.now() - sess.created > world.session_ttl or sess.created < (
            world.sessions_valid_after
        ):
            return None
        return sess.user

    @staticmethod
    def _with_session(response: Response, sid: str) -> Response:
        response.set_cookie("PHPSESSID", sid, path="/", httponly=True)
        return response

    async def index(self, request: Request) -> Response:
        sid, sess = self._session(request)
        lang = self._lang(request)
        if request.method in ("GET", "HEAD"):
            return self._with_session(HTMLResponse(_login_page(sess.csrf, None)), sid)
        form = await request.form()
        user = self.world.users.get(str(form.get("email", "")))
        if (
            str(form.get("CSRF_TOKEN", "")) != sess.csrf
            or user is None
            or not secrets.compare_digest(user.password, str(form.get("password", "")))
        ):
            page = _login_page(sess.csrf, MESSAGES[lang]["login"])
            return self._with_session(HTMLResponse(page), sid)
        if user.totp_secret:
            sess.pending = user
            return self._with_session(HTMLResponse(_passcode_page(sess.csrf, None)), sid)
        return self._finish_login(sid, sess, user)

    def _finish_login(self, sid: str, sess: PhpSession, user: User) -> Response:
        sess.user, sess.pending = user, None
        sess.login_token = secrets.token_hex(20)
        sess.created = self.world.now()
        sess.csrf = secrets.token_hex(24)
        response = RedirectResponse("dashboard.php", status_code=302)
        response.set_cookie("login_token", sess.login_token, path="/", httponly=True)
        return self._with_session(response, sid)

    async def validate_2fa(self, request: Request) -> Response:
        sid, sess = self._session(request)
        form = await request.form()
        user = sess.pending
        code = str(form.get("OTP", ""))
        ok = (
            user is not None
            and user.totp_secret is not None
            and str(form.get("CSRF_TOKEN", "")) == sess.csrf
            and totp.verify(user.totp_secret, code, self.world.now(), window=1)
        )
        if not ok or user is None:
            page = _passcode_page(sess.csrf, MESSAGES[self._lang(request)]["otp"])
            return self._with_session(HTMLResponse(page), sid)
        return self._finish_login(sid, sess, user)

    def _page_for(self, request: Request, title: str) -> Response:
        user = self._user(request)
        if user is None:
            return RedirectResponse("index.php", status_code=302)
        _, sess = self._session(request)
        body = (
            f'<div id="page" data-user-id="{user.user_id}">'
            f'<input type="hidden" name="CSRF_TOKEN" value="{sess.csrf}"/>{title}</div>'
        )
        return HTMLResponse(_page(title, body))

    async def dashboard(self, request: Request) -> Response:
        return self._page_for(request, "Dashboard")

    async def schedule(self, request: Request) -> Response:
        if request.method == "GET":
            return self._page_for(request, "Schedule")
        user = self._user(request)
        if user is None:
            return RedirectResponse("index.php", status_code=302)
        form = await request.form()
        _, sess = self._session(request)
        if str(form.get("CSRF_TOKEN", "")) != sess.csrf:
            return JSONResponse({"error": MESSAGES[self._lang(request)]["csrf"]}, 403)
        tz = self.world.tz
        begin = datetime.fromisoformat(str(form.get("beginDate"))).replace(tzinfo=tz)
        end = datetime.fromisoformat(str(form.get("endDate"))).replace(tzinfo=tz)
        end += timedelta(days=1)
        items = [
            {
                "referenceNumber": r.reference,
                "resourceId": r.resource_id,
                "startDate": r.start.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                "endDate": r.end.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                "userId": r.user_id,
                "isReservation": True,
            }
            for r in self.world.reservations
            if r.start < end and r.end > begin
        ]
        return JSONResponse(items)

    async def reservation_api(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return RedirectResponse("index.php", status_code=302)
        lang = self._lang(request)
        _, sess = self._session(request)
        form = await request.form()
        if (
            request.headers.get("x-csrf-token") != sess.csrf
            or str(form.get("CSRF_TOKEN", "")) != sess.csrf
        ):
            return _answer(False, [MESSAGES[lang]["csrf"]], status=403)
        try:
            payload = json.loads(str(form.get("request", "")))
            reservation = payload["reservation"]
        except (ValueError, KeyError, TypeError):
            return _answer(False, ["malformed request"], status=400)
        action = request.query_params.get("action", "")
        if action == "delete":
            ok = self.world.cancel(str(reservation.get("referenceNumber")), user.user_id)
            return _answer(ok, [] if ok else [MESSAGES[lang]["notfound"]])
        if action != "create":
            return _answer(False, [f"unsupported action {action}"], status=400)
        try:
            start = parse_iso(reservation["start"])
            end = parse_iso(reservation["end"])
            resource_id = int(reservation["resourceIds"][0])
            owner = str(reservation["ownerId"])
        except (KeyError, ValueError, TypeError, IndexError):
            return _answer(False, ["malformed reservation"], status=400)
        if owner != user.user_id:
            return _answer(False, ["You do not have permission to book for this user"], 403)
        stored, errors = await self.world.try_create(
            user.user_id, resource_id, start, end, lang, str(reservation.get("title") or "")
        )
        if stored is None:
            return _answer(False, errors)
        return _answer(True, [], reference=stored.reference)


def _answer(
    ok: bool, errors: list[str], status: int = 200, reference: str | None = None
) -> JSONResponse:
    data: dict[str, Any] = {"success": ok, "errors": errors}
    if reference:
        data["referenceNumber"] = reference
    return JSONResponse({"success": True, "data": data}, status_code=status)


def create_app(seed: int = 0, world: World | None = None) -> Booked3App:
    """The booked3 simulator app (``app.world`` exposes its state and knobs)."""
    del seed  # deterministic already: no generated data
    return Booked3App(world or default_world())
