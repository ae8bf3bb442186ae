"""Listing sources simulator: the proxy contract, a SeatGeek-shaped stats endpoint, events CSV.

Routes:

* ``GET /listings/{viagogo_id}`` — the proxy contract (DESIGN §6). Prices follow a random walk
  per event and section (each request is one step); listings come and go. With an API key
  configured, requests without the right ``x-api-key`` get 401.
* ``GET /2/events/{id}`` — SeatGeek-shaped ``{"id", "title", "stats": {lowest_price,
  average_price, median_price, highest_price, listing_count}}``.
* ``GET /events.csv`` — the events as a sheet's CSV export (Name, Venue, City, Country, Date,
  viagogoID, is_tracked).

Control surface (``/_sandbox/…``):

* ``POST /_sandbox/config`` JSON ``{"api_key": str|null, "fail_next": n, "fail_status": 503,
  "retry_after": s, "malformed_next": n, "events": [{…}]}`` — fail the next *n* listing
  requests with ``fail_status``; add *malformed_next* broken listings to the next answers.
* ``GET /_sandbox/stats`` — requests served per event, failures injected.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

DEFAULT_EVENTS: tuple[dict[str, str], ...] = (
    {"Name": "Coldplay", "Venue": "Wembley Stadium", "City": "London", "Country": "UK",
     "Date": "2027-06-12 19:30:00", "viagogoID": "151000001", "is_tracked": "TRUE"},
    {"Name": "Taylor Swift", "Venue": "Olympiastadion", "City": "Berlin", "Country": "DE",
     "Date": "2027-07-03 20:00:00", "viagogoID": "151000002", "is_tracked": "yes"},
    {"Name": "Adele", "Venue": "Ziggo Dome", "City": "Amsterdam", "Country": "NL",
     "Date": "2027-08-21 20:30:00", "viagogoID": "151000003", "is_tracked": "false"},
)  # fmt: skip
SECTIONS: tuple[tuple[str, float], ...] = (
    ("Floor", 240.0),
    ("Lower 101", 160.0),
    ("Lower 112", 150.0),
    ("Upper 203", 95.0),
    ("Upper 230", 80.0),
)


@dataclass
class _Section:
    name: str
    level: float
    listings: dict[str, tuple[str, int, float]] = field(default_factory=dict)


@dataclass
class _Event:
    viagogo_id: str
    sections: list[_Section]
    next_listing: int = 0


class ListingsSimulator:
    """State of the simulator (one random generator, deterministic per seed)."""

    def __init__(self, seed: int = 0, *, api_key: str | None = None) -> None:
        self.rng = random.Random(seed)
        self.api_key = api_key
        self.events_rows: list[dict[str, str]] = [dict(e) for e in DEFAULT_EVENTS]
        self.events: dict[str, _Event] = {}
        self.fail_next = 0
        self.fail_status = 503
        self.retry_after: float | None = None
        self.malformed_next = 0
        self.requests: dict[str, int] = {}
        self.failures_injected = 0

    def _event(self, viagogo_id: str) -> _Event:
        event = self.events.get(viagogo_id)
        if event is None:
            scale = 0.8 + (sum(map(ord, viagogo_id)) % 7) / 10
            event = _Event(viagogo_id, [_Section(name, level * scale) for name, level in SECTIONS])
            self.events[viagogo_id] = event
        return event

    def step(self, viagogo_id: str) -> list[dict[str, Any]]:
        """Advance the walk one step and return the current listings (proxy shape)."""
        event = self._event(viagogo_id)
        out: list[dict[str, Any]] = []
        for section in event.sections:
            section.level = max(20.0, section.level * (1 + self.rng.gauss(0.0, 0.04)))
            for key in list(section.listings):
                if self.rng.random() < 0.15:  # sold or withdrawn
                    del section.listings[key]
            while len(section.listings) < 3 or self.rng.random() < 0.3:
                event.next_listing += 1
                listing_id = f"{viagogo_id}-{event.next_listing}"
                row = str(self.rng.randint(1, 30))
                spread = self.rng.uniform(0.85, 1.3)
                section.listings[listing_id] = (row, self.rng.randint(1, 4), spread)
                if len(section.listings) >= 8:
                    break
            for listing_id, (row, qty, spread) in section.listings.items():
                out.append(
                    {
                        "listingId": listing_id,
                        "section": section.name,
                        "row": row,
                        "availableTickets": qty,
                        "sellerAllInPrice": {"amt": round(section.level * spread, 2)},
                        "currencyCode": "EUR",
                        "listingNotes": [],
                    }
                )
        return out

    def proxy_answer(self, viagogo_id: str) -> dict[str, Any]:
        """The proxy contract's answer for one event."""
        listings = self.step(viagogo_id)
        prices = [item["sellerAllInPrice"]["amt"] for item in listings]
        if self.malformed_next > 0:
            self.malformed_next -= 1
            listings.append({"listingId": None, "sellerAllInPrice": "n/a"})
            listings.append({"listingId": "broken", "availableTickets": 1})
        row = next((e for e in self.events_rows if e["viagogoID"] == viagogo_id), None)
        return {
            "event_id": viagogo_id,
            "event_name": row["Name"] if row else f"Event {viagogo_id}",
            "event_datetime": row["Date"] if row else None,
            "venue": row["Venue"] if row else None,
            "listings": listings,
            "stats": {"count": len(prices), "min": min(prices, default=None)},
        }

    def seatgeek_answer(self, event_id: str) -> dict[str, Any]:
        """A SeatGeek-shaped event with stats (derived from the same walk)."""
        prices = sorted(item["sellerAllInPrice"]["amt"] for item in self.step(event_id))
        n = len(prices)
        median = (prices[(n - 1) // 2] + prices[n // 2]) / 2 if n else None
        return {
            "id": event_id,
            "title": f"Event {event_id}",
            "stats": {
                "listing_count": n,
                "lowest_price": prices[0] if n else None,
                "average_price": round(sum(prices) / n, 2) if n else None,
                "median_price": median,
                "highest_price": prices[-1] if n else None,
            },
        }

    def events_csv(self) -> str:
        """The events as a sheet's CSV export."""
        buffer = io.StringIO()
        columns = ["Name", "Venue", "City", "Country", "Date", "viagogoID", "is_tracked"]
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in self.events_rows:
            writer.writerow({c: row.get(c, "") for c in columns})
        return buffer.getvalue()

    def _inject(self) -> Response | None:
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures_injected += 1
            headers = {"retry-after": str(self.retry_after)} if self.retry_after else {}
            return JSONResponse({"error": "injected"}, self.fail_status, headers=headers)
        return None


def create_app(seed: int = 0, *, api_key: str | None = None) -> Starlette:
    """The simulator as an ASGI app; ``app.state.sim`` is its :class:`ListingsSimulator`."""
    sim = ListingsSimulator(seed, api_key=api_key)

    async def listings(request: Request) -> Response:
        viagogo_id = request.path_params["viagogo_id"]
        if sim.api_key and request.headers.get("x-api-key") != sim.api_key:
            return JSONResponse({"error": "invalid api key"}, 401)
        sim.requests[viagogo_id] = sim.requests.get(viagogo_id, 0) + 1
        injected = sim._inject()
        if injected is not None:
            return injected
        return JSONResponse(sim.proxy_answer(viagogo_id))

    async def seatgeek(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        sim.requests[event_id] = sim.requests.get(event_id, 0) + 1
        injected = sim._inject()
        if injected is not None:
            return injected
        return JSONResponse(sim.seatgeek_answer(event_id))

    async def events_csv(request: Request) -> Response:
        return PlainTextResponse(sim.events_csv(), media_type="text/csv")

    async def config(request: Request) -> Response:
        body = await request.json()
        if "api_key" in body:
            sim.api_key = body["api_key"]
        sim.fail_next = int(body.get("fail_next", sim.fail_next))
        sim.fail_status = int(body.get("fail_status", sim.fail_status))
        if "retry_after" in body:
            sim.retry_after = body["retry_after"]
        sim.malformed_next = int(body.get("malformed_next", sim.malformed_next))
        if isinstance(body.get("events"), list):
            sim.events_rows = [{str(k): str(v) for k, v in e.items()} for e in body["events"]]
        return JSONResponse({"ok": True})

    async def stats(request: Request) -> Response:
        return JSONResponse({"requests": sim.requests, "failures_injected": sim.failures_injected})

    app = Starlette(
        routes=[
            Route("/listings/{viagogo_id}", listings),
            Route("/2/events/{event_id}", seatgeek),
            Route("/events.csv", events_csv),
            Route("/_sandbox/config", config, methods=["POST"]),
            Route("/_sandbox/stats", stats),
        ]
    )
    app.state.sim = sim
    return app
