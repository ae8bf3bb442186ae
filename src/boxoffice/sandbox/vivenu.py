"""Simulator of Vivenu's tickets API (read-only part): ``GET /api/tickets``.

* ``GET /api/tickets?event=<id>&top=<1..1000>&skip=<k>[&status=A,B]`` with
  ``Authorization: Bearer <key>`` → ``{"rows": [...], "total": N}``; 401 without a known key,
  400 for a bad ``top``/missing ``event``; an unknown event has no tickets (``total`` 0).
  Any other method on ``/api/…`` → 405 (and is logged, so tests can assert none arrived).
* Tickets are generated deterministically from (seed, event, index): realistic statuses
  (mostly VALID, some DETAILSREQUIRED/RESERVED/INVALID/BLANK), CHARITY and non-CHARITY ticket
  names, unicode buyer names (and a few awkward ones: slashes, dots, long names), sorted by
  ``createdAt`` ascending — new sales are appended.
* Built-in events: ``68108c20c5c88849372bfb61`` (1,000 tickets), ``6864d4f427c2aa9b05cd17ee``
  (500), ``6500000000000000000186a0`` (100,000; generated page by page, never held whole).
* Valid keys: ``sandbox-key`` plus any set with ``/_sandbox/keys``.

Control (JSON):

* ``POST /_sandbox/events`` ``{"event": id, "count": n}`` — create or resize an event.
* ``POST /_sandbox/fail`` ``{"status": 429|503|…, "count": n, "retry_after": s|null,
  "delay": s}`` — the next ``n`` ticket requests answer ``status`` (``Retry-After`` if given)
  after sleeping ``delay`` seconds (a ``delay`` beyond the client's timeout is a timeout;
  ``status`` 200 with a delay only slows the answer down).
* ``POST /_sandbox/grow`` ``{"event": id, "after_requests": k, "add": n}`` — after ``k`` more
  ticket requests for ``event``, ``n`` new tickets are sold (``total`` changes mid-pull).
* ``POST /_sandbox/keys`` ``{"keys": [...]}`` — replace the accepted keys.
* ``GET /_sandbox/log`` → ``{"requests": [{method, path, query, status}, ...]}``;
  ``GET /_sandbox/stats``; ``POST /_sandbox/reset``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_KEY = "sandbox-key"
SEED_EVENT = "68108c20c5c88849372bfb61"
DEV_EVENT = "6864d4f427c2aa9b05cd17ee"
BIG_EVENT = "6500000000000000000186a0"
DEFAULT_EVENTS: dict[str, int] = {SEED_EVENT: 1000, DEV_EVENT: 500, BIG_EVENT: 100_000}
MAX_TOP = 1000
LOG_LIMIT = 100_000
SELLER_ID = "5f9a1c2b3d4e5f6a7b8c9d0e"
EPOCH = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# (status, weight out of 100)
STATUSES: tuple[tuple[str, int], ...] = (
    ("VALID", 82),
    ("DETAILSREQUIRED", 6),
    ("RESERVED", 5),
    ("INVALID", 5),
    ("BLANK", 2),
)
TICKET_TYPES: tuple[tuple[str, str], ...] = (
    ("HYROX MEN | CHARITY HIA", "65a1b2c3d4e5f60718293a01"),
    ("HYROX WOMEN | CHARITY HIA", "65a1b2c3d4e5f60718293a02"),
    ("CHARITY | HYROX DOUBLES WOMEN", "65a1b2c3d4e5f60718293a03"),
    ("CHARITY | HYROX DOUBLES MEN", "65a1b2c3d4e5f60718293a04"),
    ("HYROX Doubles Mixed | Charity", "65a1b2c3d4e5f60718293a05"),
    ("HYROX MEN | CHARITY HIA", "65a1b2c3d4e5f60718293a01"),
    ("HYROX WOMEN", "65a1b2c3d4e5f60718293a06"),
    ("HYROX PRO MEN", "65a1b2c3d4e5f60718293a07"),
    ("HYROX RELAY", "65a1b2c3d4e5f60718293a08"),
    ("SPECTATOR", "65a1b2c3d4e5f60718293a09"),
)
FIRST_NAMES = (
    "Paddy",
    "Zoë",
    "José",
    "Łukasz",
    "Søren",
    "Siobhán",
    "Anaïs",
    "Jürgen",
    "Mia",
    "Noah",
    "Chloé",
    "Björn",
    "Ines",
    "Matteo",
    "Giulia",
    "Hana",
    "Kenji",
    "Olúwadámilọ́lá",
    "Elif",
    "Aleksandra",
    "Émile",
    "Renée",
    "Dmitri",
    "Yusuf",
    "Ana/Beatriz",
    "芳",
    "Мария",
    "Sam",
)
LAST_NAMES = (
    "McCann",
    "Müller",
    "Ñúñez",
    "Żółć",
    "Kierkegård",
    "O'Brien",
    "Dubois",
    "Schröder",
    "Rossi",
    "García",
    "Nowak",
    "Yılmaz",
    "Østergaard",
    "Nguyễn",
    "王",
    "Иванова",
    "Smith",
    "van der Berg",
    "Da Silva",
    "Lefèvre",
    "..",
    "Fernández-López",
    "Al-Hassan",
    "Brown",
)


def _digest(seed: int, event: str, index: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{event}:{index}".encode(), digest_size=32).digest()


def _status_of(d: bytes) -> str:
    roll = d[12] % 100
    acc = 0
    for status, weight in STATUSES:
        acc += weight
        if roll < acc:
            return status
    return "VALID"


@functools.lru_cache(maxsize=4096)
def _email_local(first: str, last: str) -> str:
    text = f"{first}.{last}".lower()
    return "".join(c for c in text if (c.isascii() and c.isalnum()) or c == ".").strip(".")


def make_ticket(seed: int, event: str, index: int) -> dict[str, Any]:
    """Ticket number ``index`` of ``event`` (deterministic)."""
    d = _digest(seed, event, index)
    ticket_id = d[:12].hex()
    name, type_id = TICKET_TYPES[d[13] % len(TICKET_TYPES)]
    first = FIRST_NAMES[d[14] % len(FIRST_NAMES)]
    last = LAST_NAMES[d[15] % len(LAST_NAMES)]
    if d[16] % 50 == 0:
        last = last + " " + "-".join(LAST_NAMES[: 1 + d[17] % 6])  # a long, awkward name
    created = EPOCH + timedelta(minutes=7 * index + d[18] % 7)
    email_local = _email_local(first, last) or f"buyer{index}"
    return {
        "_id": ticket_id,
        "sellerId": SELLER_ID,
        "eventId": event,
        "ticketTypeId": type_id,
        "ticketName": name,
        "name": f"{first} {last}",
        "firstname": first,
        "lastname": last,
        "email": f"{email_local}.{index}@example.org",
        "status": _status_of(d),
        "barcode": d[19:27].hex().upper()[:10],
        "origin": "yourticket",
        "price": [49.0, 59.0, 89.0, 119.0][d[20] % 4],
        "currency": "EUR",
        "transactionId": d[21:29].hex(),
        "createdAt": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "updatedAt": (created + timedelta(hours=d[22] % 48))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }


@dataclass
class Failure:
    """One planned misbehaviour of the tickets endpoint."""

    status: int
    retry_after: float | None = None
    delay: float = 0.0


@dataclass
class Growth:
    """Tickets sold while a pull runs."""

    after_requests: int
    add: int


@dataclass
class VivenuSim:
    """State of the simulator (``app.state.vivenu``)."""

    seed: int = 0
    events: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_EVENTS))
    keys: set[str] = field(default_factory=lambda: {DEFAULT_KEY})
    failures: deque[Failure] = field(default_factory=deque)
    growth: dict[str, Growth] = field(default_factory=dict)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    served_rows: int = 0
    _filtered: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)

    def reset(self) -> None:
        """Back to the defaults (keeps the seed)."""
        self.events = dict(DEFAULT_EVENTS)
        self.keys = {DEFAULT_KEY}
        self.failures.clear()
        self.growth.clear()
        self.log.clear()
        self.served_rows = 0
        self._filtered.clear()

    def ticket(self, event: str, index: int) -> dict[str, Any]:
        """Ticket ``index`` of ``event``."""
        return make_ticket(self.seed, event, index)

    def matching(self, event: str, statuses: frozenset[str]) -> list[int]:
        """Indices of ``event``'s tickets whose status is in ``statuses`` (cached)."""
        count = self.events.get(event, 0)
        key = (event, count, ",".join(sorted(statuses)))
        cached = self._filtered.get(key)
        if cached is None:
            cached = [
                i for i in range(count) if _status_of(_digest(self.seed, event, i)) in statuses
            ]
            self._filtered[key] = cached
        return cached

    def page(
        self, event: str, skip: int, top: int, statuses: frozenset[str] | None
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows and total for one request."""
        if statuses:
            indices = self.matching(event, statuses)
            chosen = indices[skip : skip + top]
            return [self.ticket(event, i) for i in chosen], len(indices)
        count = self.events.get(event, 0)
        stop = min(count, skip + top)
        return [self.ticket(event, i) for i in range(skip, stop)], count

    def tick_growth(self, event: str) -> None:
        """Count one request for ``event``; sell the planned tickets when due."""
        plan = self.growth.get(event)
        if plan is None:
            return
        plan.after_requests -= 1
        if plan.after_requests < 0:
            self.events[event] = self.events.get(event, 0) + plan.add
            del self.growth[event]


def _bad(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(seed: int = 0) -> Starlette:
    """The vivenu simulator app (``app.state.vivenu`` is its :class:`VivenuSim`)."""
    sim = VivenuSim(seed=seed)

    def record(request: Request, status: int) -> None:
        sim.log.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "status": status,
            }
        )

    async def tickets(request: Request) -> Response:
        if request.method != "GET":
            record(request, 405)
            return _bad(405, "method not allowed")
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if token not in sim.keys:
            record(request, 401)
            return _bad(401, "Unauthorized")
        params = request.query_params
        event = params.get("event", "")
        try:
            top = int(params.get("top", "20"))
            skip = int(params.get("skip", "0"))
        except ValueError:
            record(request, 400)
            return _bad(400, "top and skip must be integers")
        if not event:
            record(request, 400)
            return _bad(400, "event is required")
        if not 1 <= top <= MAX_TOP or skip < 0:
            record(request, 400)
            return _bad(400, f"top must be between 1 and {MAX_TOP}, skip >= 0")
        if sim.failures:
            failure = sim.failures.popleft()
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.status != 200:
                record(request, failure.status)
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = f"{failure.retry_after:g}"
                return JSONResponse(
                    {"error": "simulated failure"}, status_code=failure.status, headers=headers
                )
        sim.tick_growth(event)
        raw_status = params.get("status")
        statuses = (
            frozenset(s.strip().upper() for s in raw_status.split(",") if s.strip())
            if raw_status
            else None
        )
        rows, total = sim.page(event, skip, top, statuses)
        sim.served_rows += len(rows)
        record(request, 200)
        body = json.dumps({"rows": rows, "total": total}, ensure_ascii=False).encode()
        return Response(body, media_type="application/json")

    async def other_api(request: Request) -> Response:
        record(request, 404 if request.method == "GET" else 405)
        return _bad(404 if request.method == "GET" else 405, "not simulated")

    async def control_events(request: Request) -> Response:
        data = await request.json()
        sim.events[str(data["event"])] = int(data["count"])
        return JSONResponse({"ok": True, "events": sim.events})

    async def control_fail(request: Request) -> Response:
        data = await request.json()
        for _ in range(int(data.get("count", 1))):
            sim.failures.append(
                Failure(
                    status=int(data.get("status", 503)),
                    retry_after=data.get("retry_after"),
                    delay=float(data.get("delay", 0.0)),
                )
            )
        return JSONResponse({"ok": True, "queued": len(sim.failures)})

    async def control_grow(request: Request) -> Response:
        data = await request.json()
        sim.growth[str(data["event"])] = Growth(
            after_requests=int(data.get("after_requests", 1)), add=int(data["add"])
        )
        return JSONResponse({"ok": True})

    async def control_keys(request: Request) -> Response:
        data = await request.json()
        sim.keys = {str(k) for k in data["keys"]}
        return JSONResponse({"ok": True})

    async def control_log(request: Request) -> Response:
        return JSONResponse({"requests": list(sim.log)})

    async def control_stats(request: Request) -> Response:
        methods: dict[str, int] = {}
        for entry in sim.log:
            methods[entry["method"]] = methods.get(entry["method"], 0) + 1
        return JSONResponse(
            {
                "requests": len(sim.log),
                "methods": methods,
                "served_rows": sim.served_rows,
                "events": sim.events,
            }
        )

    async def control_reset(request: Request) -> Response:
        sim.reset()
        return JSONResponse({"ok": True})

    all_methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(
        routes=[
            Route("/api/tickets", tickets, methods=all_methods),
            Route("/api/{rest:path}", other_api, methods=all_methods),
            Route("/_sandbox/events", control_events, methods=["POST"]),
            Route("/_sandbox/fail", control_fail, methods=["POST"]),
            Route("/_sandbox/grow", control_grow, methods=["POST"]),
            Route("/_sandbox/keys", control_keys, methods=["POST"]),
            Route("/_sandbox/log", control_log, methods=["GET"]),
            Route("/_sandbox/stats", control_stats, methods=["GET"]),
            Route("/_sandbox/reset", control_reset, methods=["POST"]),
        ]
    )
    app.state.vivenu = sim
    return app
