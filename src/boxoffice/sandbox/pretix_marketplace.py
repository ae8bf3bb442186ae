"""Simulator: a pretix event with a secondhand marketplace (DESIGN §3, §7).

Pages (``E`` = the event path, default ``demo/99x1``):

* ``GET /E/`` — event page; links the marketplace (``<a href="/E/secondhand/">``) unless the
  link is switched off or the marketplace is inactive.
* ``GET /E/secondhand/`` — marketplace in the real structure (``panel-info`` "How it works" box,
  one ``panel panel-default`` per listing, buy form with ``csrfmiddlewaretoken``), ~14 KB with
  three listings; "No tickets available" when empty; an "is not active" page when inactive.
  Sets ``pretix_csrftoken`` (HTTP) or ``__Host-pretix_csrftoken`` (HTTPS) and a front
  session cookie ``__QXSESSION``.
* ``POST /E/secondhand/buy/<id>/`` — checks the CSRF token against the cookie and a
  same-origin Referer/Origin (403 otherwise); 302 → ``/E/checkout/start`` with the ticket in
  the session's cart (``pretix_session`` / ``__Host-pretix_session`` set here), or 302 back to
  ``/E/secondhand/`` when the listing is gone.
* ``GET /E/checkout/start`` → 302 ``/E/checkout/questions/`` ("Step 1 of 4",
  ``<ol class="checkout-flow">``, one cart row per ticket of the session).

Control (JSON) under ``/_sandbox/``: ``GET state``, ``GET log``, ``POST reset``,
``POST listings`` ``{ticket_type, price, currency, after_polls, contested}``,
``DELETE listings/<id>``,
``POST listings/<id>/take`` (someone else bought it), ``POST inject``
``{status, retry_after, count, target: "poll"|"buy"|"event"|"any"}``, ``POST config``
``{active, event_link, markup: "default"|"changed"|"broken", require_referer}``.
In-process users reach the same operations on ``app.state.market`` (:class:`MarketState`).
"""

from __future__ import annotations

import html
import json
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

Markup = Literal["default", "changed", "broken"]
LOG_LIMIT = 5000


@dataclass
class SimListing:
    """A listing the simulator offers."""

    listing_id: str
    ticket_type: str
    price: Decimal
    currency: str = "EUR"
    visible_from_poll: int = 0
    taken: bool = False
    contested: bool = False
    first_served_at: float | None = None
    buy_received_at: float | None = None

    def public(self) -> dict[str, Any]:
        """JSON view for the control API."""
        data = asdict(self)
        data["price"] = str(self.price)
        return data


@dataclass
class Injection:
    """Answer the next ``count`` matching requests with ``status`` (+ Retry-After)."""

    status: int
    count: int = 1
    retry_after: str | None = None
    target: str = "poll"


@dataclass
class RequestRecord:
    """One request as the simulator saw it (``t`` = time.monotonic() on arrival)."""

    t: float
    method: str
    path: str
    query: str
    status: int
    http_version: str
    referer: str | None
    origin: str | None
    cookies: list[str] = field(default_factory=list)
    client_port: int | None = None


class MarketState:
    """Everything the simulator knows; thread-safe (the server runs in its own thread)."""

    def __init__(self, seed: int = 0, event: str = "demo/99x1") -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.event = event.strip("/")
        self.reset()

    def reset(self) -> None:
        """Back to a fresh marketplace: no listings, active, linked, default markup."""
        with getattr(self, "lock", threading.Lock()):
            self.listings: dict[str, SimListing] = {}
            self.polls = 0
            self.event_polls = 0
            self.buys = 0
            self.injections: list[Injection] = []
            self.active = True
            self.event_link = True
            self.markup: Markup = "default"
            self.require_referer = True
            self.carts: dict[str, list[str]] = {}
            self.cart_expiry: dict[str, datetime] = {}
            self.log: deque[RequestRecord] = deque(maxlen=LOG_LIMIT)
            self.version = f"{self.rng.getrandbits(32):08x}"

    def token(self, n: int = 32) -> str:
        """A random token (seeded)."""
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        with self.lock:
            return "".join(self.rng.choice(alphabet) for _ in range(n))

    def add_listing(
        self,
        ticket_type: str = "Ticket – Standard",
        price: str | float | Decimal = "95.00",
        *,
        currency: str = "EUR",
        after_polls: int = 0,
        listing_id: str | None = None,
        contested: bool = False,
    ) -> SimListing:
        """Offer a listing, visible once ``after_polls`` more marketplace polls have passed.

        ``contested``: someone else buys it right after it is first shown (our POST then
        finds it taken).
        """
        with self.lock:
            lid = listing_id or str(self.rng.randint(1000, 999_999))
            while lid in self.listings:
                lid = str(self.rng.randint(1000, 999_999))
            listing = SimListing(
                lid,
                ticket_type,
                Decimal(str(price)).quantize(Decimal("0.01")),
                currency,
                self.polls + after_polls + 1,
                contested=contested,
            )
            self.listings[lid] = listing
            return listing

    def remove_listing(self, listing_id: str) -> bool:
        """Withdraw a listing; False if unknown."""
        with self.lock:
            return self.listings.pop(listing_id, None) is not None

    def take(self, listing_id: str) -> bool:
        """Someone else bought it; False if unknown."""
        with self.lock:
            listing = self.listings.get(listing_id)
            if listing is None:
                return False
            listing.taken = True
            return True

    def inject(
        self, status: int, *, count: int = 1, retry_after: str | None = None, target: str = "poll"
    ) -> None:
        """Answer the next ``count`` requests of ``target`` with ``status``."""
        with self.lock:
            self.injections.append(Injection(status, count, retry_after, target))

    def configure(self, **changes: Any) -> None:
        """Set ``active``, ``event_link``, ``markup`` or ``require_referer``."""
        with self.lock:
            for key in ("active", "event_link", "markup", "require_referer"):
                if key in changes and changes[key] is not None:
                    setattr(self, key, changes[key])

    def take_injection(self, target: str) -> Injection | None:
        """The pending injection for this request kind, consuming one use."""
        with self.lock:
            for inj in self.injections:
                if inj.target in (target, "any") and inj.count > 0:
                    inj.count -= 1
                    if inj.count == 0:
                        self.injections.remove(inj)
                    return inj
        return None

    def records(self) -> list[RequestRecord]:
        """A copy of the request log."""
        with self.lock:
            return list(self.log)

    def snapshot(self) -> dict[str, Any]:
        """JSON view of the state."""
        with self.lock:
            return {
                "event": self.event,
                "polls": self.polls,
                "event_polls": self.event_polls,
                "buys": self.buys,
                "active": self.active,
                "event_link": self.event_link,
                "markup": self.markup,
                "listings": [item.public() for item in self.listings.values()],
                "carts": {k[:6] + "…": v for k, v in self.carts.items()},
                "injections": [asdict(i) for i in self.injections],
            }


# ---------------------------------------------------------------- page rendering

_NAV_ITEMS = "".join(
    f'<li><a href="/{{event}}/page/{n}/">Information page {n}</a></li>' for n in range(1, 9)
)

_I18N = json.dumps(
    {
        f"presale.message.{n}": (
            f"Message {n}: your cart is reserved for a limited time; please complete the "
            "checkout before the reservation expires, otherwise the ticket is released."
        )
        for n in range(53)
    },
    ensure_ascii=False,
)

_FOOTER_TEXT = " ".join(
    "This event is organised by Demo Events Ltd. Tickets are personal and may only be resold"
    " through the official secondhand marketplace at face value."
    for _ in range(4)
)


def _head(state: MarketState, title: str) -> str:
    v = state.version
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)} :: Demo Festival 2026</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="stylesheet" href="/static/CACHE/css/main.{v}.css?version={v}">\n'
        f'<link rel="stylesheet" href="/static/pretixpresale/css/theme.css?version={v}">\n'
        f'<link rel="icon" href="/static/pretixbase/img/favicon.ico?version={v}">\n'
        f'<script src="/static/CACHE/js/base.{v}.js?version={v}" defer></script>\n'
        f'<meta name="generated" content="{time.strftime("%Y-%m-%dT%H:%M:%S")}">\n'
        '</head>\n<body class="nojs" data-locale="en" data-now="'
        f'{time.strftime("%Y-%m-%dT%H:%M:%S")}">\n'
        '<nav class="navbar navbar-default" id="top-nav"><div class="container">'
        f'<ul class="nav navbar-nav">{_NAV_ITEMS.replace("{event}", state.event)}</ul>'
        "</div></nav>\n"
        '<div class="container main-box"><header><h1>Demo Festival 2026 '
        '<small class="text-muted">Sat, Aug. 1st, 2026</small></h1></header>\n'
    )


def _foot() -> str:
    return (
        f'<footer class="text-muted"><p>{_FOOTER_TEXT}</p>'
        '<p><a href="/privacy/">Privacy</a> · <a href="/imprint/">Imprint</a> · '
        "powered by pretix</p></footer>\n</div>\n"
        '<script type="application/json" id="countries">{"DE": "Germany", "GB": "United '
        'Kingdom", "FR": "France", "IT": "Italy", "ES": "Spain", "NL": "Netherlands"}'
        "</script>\n"
        f'<script type="application/json" id="i18n">{_I18N}</script>\n'
        "</body>\n</html>\n"
    )


_INFO_PANEL = (
    '<div class="panel panel-info"><div class="panel-heading"><h3 class="panel-title">'
    'How it works</h3></div><div class="panel-body"><p>Tickets listed here were returned by '
    "other visitors and are resold at face value. When you buy one, it is reserved in your "
    "cart for a limited time; complete the checkout to receive your personalised ticket. The "
    "original ticket is cancelled once the sale is complete.</p><ul><li>Listings are sorted by "
    "price.</li><li>Each listing can only be bought once.</li><li>Refunds are handled by the "
    "organiser.</li></ul></div></div>\n"
)


def _listing_default(event: str, item: SimListing, token: str) -> str:
    return (
        '<div class="panel panel-default">\n'
        '  <div class="panel-heading">\n'
        f'    <h3 class="panel-title">{html.escape(item.ticket_type)}</h3>\n'
        "  </div>\n"
        '  <div class="panel-body">\n'
        '    <div class="row"><div class="col-md-8"><p class="text-muted">Resale ticket, '
        "transferable to your name at checkout. Seat category and entry conditions as "
        "for the original ticket.</p></div>\n"
        f'    <div class="col-md-4 text-right"><h2 class="text-primary">{_money(item)}</h2>\n'
        f'    <form method="post" action="/{event}/secondhand/buy/{item.listing_id}/">\n'
        f'      <input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
        '      <button type="submit" class="btn btn-primary btn-lg">Buy</button>\n'
        "    </form></div></div>\n"
        "  </div>\n"
        "</div>\n"
    )


def _listing_changed(event: str, item: SimListing, token: str) -> str:
    return (
        '<article class="resale-card card">\n'
        f'  <header class="card-header"><h4>{html.escape(item.ticket_type)}</h4></header>\n'
        f'  <p class="card-price price">{_money(item)}</p>\n'
        f'  <form action="/{event}/secondhand/buy/{item.listing_id}/" method="POST">\n'
        f'    <input value="{token}" type="hidden" name="csrfmiddlewaretoken">\n'
        '    <button class="btn btn-success">Buy now</button>\n'
        "  </form>\n"
        "</article>\n"
    )


def _money(item: SimListing) -> str:
    symbol = {"EUR": "€", "GBP": "£", "USD": "$"}.get(item.currency)
    return f"{symbol}{item.price}" if symbol else f"{item.currency} {item.price}"


def render_marketplace(
    state: MarketState, listings: list[SimListing], token: str, *, error: str = ""
) -> str:
    """The marketplace page for the given visible listings."""
    parts = [_head(state, "Secondhand marketplace"), "<h2>Secondhand marketplace</h2>\n"]
    if error == "gone":
        parts.append(
            '<div class="alert alert-danger">This ticket has already been sold to someone '
            "else.</div>\n"
        )
    if state.markup == "broken":
        parts.append(
            '<div class="maintenance"><p>We are updating this page. Please come back '
            "soon.</p></div>\n"
        )
        return "".join(parts) + _foot()
    parts.append(_INFO_PANEL)
    if not listings:
        parts.append(
            '<div class="alert alert-info">No tickets available at the moment. Please check '
            "again later.</div>\n"
        )
    render = _listing_changed if state.markup == "changed" else _listing_default
    for item in sorted(listings, key=lambda x: x.price):
        parts.append(render(state.event, item, token))
    return "".join(parts) + _foot()


def render_inactive(state: MarketState) -> str:
    """The page shown when the marketplace is switched off."""
    return (
        _head(state, "Secondhand marketplace")
        + '<div class="alert alert-warning">The secondhand marketplace is not active for this '
        "event at the moment.</div>\n" + _foot()
    )


def render_event(state: MarketState, token: str) -> str:
    """The event (shop) page, with or without the marketplace link."""
    link = ""
    if state.event_link and state.active:
        link = (
            f'<p class="resale-link"><a href="/{state.event}/secondhand/" class="btn btn-default">'
            "Tickets from other visitors (secondhand marketplace)</a></p>\n"
        )
    return (
        _head(state, "Demo Festival 2026")
        + '<div class="alert alert-info">All tickets are sold out.</div>\n'
        + link
        + f'<form method="post" action="/{state.event}/cart/add?next=/{state.event}/">\n'
        + f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
        + '<div class="product-row"><h4>Festival pass</h4>'
        + '<div class="availability-box gone"><strong>SOLD OUT</strong></div></div>\n'
        + "</form>\n"
        + _foot()
    )


#: How long a cart add stays reserved (pretix's default reservation period).
RESERVATION_MINUTES = 30


def render_checkout(
    state: MarketState, listing_ids: list[str], expires: datetime | None = None
) -> str:
    """Checkout step 1 with the session's cart rows (and, like pretix's cart fragment, the
    ``#cart-deadline`` paragraph saying until when they are reserved)."""
    rows = []
    for lid in listing_ids:
        item = state.listings.get(lid)
        name = item.ticket_type if item else f"Listing {lid}"
        price = _money(item) if item else ""
        rows.append(
            f'<div class="row cart-row"><div class="col-md-6"><strong>{html.escape(name)}'
            f'</strong> (secondhand #{lid})</div><div class="col-md-6 price">{price}</div></div>'
        )
    return (
        _head(state, "Step 1 of 4 · Your information")
        + '<ol class="checkout-flow"><li class="active">Your information</li><li>Payment</li>'
        "<li>Review order</li><li>Done</li></ol>\n"
        + '<div class="panel panel-primary cart"><div class="panel-heading"><h3 class="panel-'
        'title">Your cart</h3></div><div class="panel-body">'
        + "".join(rows)
        + (
            f'<p id="cart-deadline" data-expires="{expires:%Y-%m-%d %H:%M:%S%z}">The items in '
            f"your cart are reserved for you for {RESERVATION_MINUTES} minutes.</p>"
            if expires is not None
            else ""
        )
        + "</div></div>\n"
        + _foot()
    )


# ---------------------------------------------------------------- the app


def _cookie_names(request: Request) -> tuple[str, str, bool]:
    secure = request.url.scheme == "https"
    prefix = "__Host-" if secure else ""
    return f"{prefix}pretix_csrftoken", f"{prefix}pretix_session", secure


def _same_origin(request: Request, value: str | None) -> bool:
    if not value:
        return False
    parts = urlsplit(value)
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return f"{parts.scheme}://{parts.netloc}" == own


def create_app(seed: int = 0, event: str = "demo/99x1") -> Starlette:
    """The marketplace simulator; its state is ``app.state.market``."""
    state = MarketState(seed, event)

    def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )

    def ensure_cookies(request: Request, response: Response) -> str:
        csrf_name, _, _ = _cookie_names(request)
        token = request.cookies.get(csrf_name)
        if not token:
            token = state.token()
            set_cookie(response, request, csrf_name, token)
        if "__QXSESSION" not in request.cookies:
            set_cookie(response, request, "__QXSESSION", state.token(24))
        return token

    def log(request: Request, status: int, t: float) -> None:
        record = RequestRecord(
            t=t,
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            status=status,
            http_version=str(request.scope.get("http_version", "")),
            referer=request.headers.get("referer"),
            origin=request.headers.get("origin"),
            cookies=sorted(request.cookies),
            client_port=request.client.port if request.client else None,
        )
        with state.lock:
            state.log.append(record)

    def injected(inj: Injection) -> Response:
        headers = {"Retry-After": inj.retry_after} if inj.retry_after is not None else {}
        reason = {429: "Too Many Requests", 409: "Conflict"}.get(inj.status, "Error")
        body = f"<html><head><title>{inj.status} {reason}</title></head><body><h1>{reason}</h1>"
        return HTMLResponse(body + "</body></html>", status_code=inj.status, headers=headers)

    async def front(request: Request) -> Response:
        t = time.monotonic()
        response = await dispatch(request, t)
        log(request, response.status_code, t)
        return response

    async def dispatch(request: Request, t: float) -> Response:
        path = request.url.path
        base = f"/{state.event}/"
        if not path.startswith(base):
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        rest = path[len(base) :]
        if rest == "" and request.method == "GET":
            return event_page(request)
        if rest == "secondhand/" and request.method == "GET":
            return marketplace(request, t)
        if rest.startswith("secondhand/buy/") and request.method == "POST":
            return await buy(request, rest[len("secondhand/buy/") :].strip("/"), t)
        if rest == "checkout/start":
            return RedirectResponse(f"{base}checkout/questions/", status_code=302)
        if rest.startswith("checkout/"):
            return checkout(request)
        return HTMLResponse("<h1>Not found</h1>", status_code=404)

    def event_page(request: Request) -> Response:
        with state.lock:
            state.event_polls += 1
        inj = state.take_injection("event")
        if inj:
            return injected(inj)
        response = HTMLResponse("")
        token = ensure_cookies(request, response)
        response.body = render_event(state, token).encode()
        response.headers["content-length"] = str(len(response.body))
        return response

    def marketplace(request: Request, t: float) -> Response:
        with state.lock:
            state.polls += 1
            poll_no = state.polls
        inj = state.take_injection("poll")
        if inj:
            return injected(inj)
        response = HTMLResponse("")
        token = ensure_cookies(request, response)
        if not state.active:
            body = render_inactive(state)
        else:
            with state.lock:
                visible = [
                    item
                    for item in state.listings.values()
                    if not item.taken and item.visible_from_poll <= poll_no
                ]
                for item in visible:
                    if item.first_served_at is None:
                        item.first_served_at = time.perf_counter()
                    if item.contested:
                        item.taken = True
            body = render_marketplace(
                state, visible, token, error=request.query_params.get("error", "")
            )
        response.body = body.encode()
        response.headers["content-length"] = str(len(response.body))
        return response

    async def buy(request: Request, listing_id: str, t: float) -> Response:
        arrived = time.perf_counter()
        with state.lock:
            state.buys += 1
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        csrf_name, session_name, _ = _cookie_names(request)
        cookie_token = request.cookies.get(csrf_name)
        form_token = (form.get("csrfmiddlewaretoken") or [""])[0]
        if not cookie_token or form_token != cookie_token:
            return HTMLResponse(
                "<title>403 Forbidden</title><h1>CSRF verification failed. Request aborted.</h1>",
                status_code=403,
            )
        referer, origin = request.headers.get("referer"), request.headers.get("origin")
        if state.require_referer and not (
            _same_origin(request, origin) or _same_origin(request, referer)
        ):
            return HTMLResponse(
                "<title>403 Forbidden</title><h1>CSRF verification failed: Referer checking "
                "failed - no same-origin Referer.</h1>",
                status_code=403,
            )
        inj = state.take_injection("buy")
        if inj:
            return injected(inj)
        base = f"/{state.event}/"
        with state.lock:
            item = state.listings.get(listing_id)
            available = (
                item is not None and not item.taken and item.visible_from_poll <= state.polls
            )
            if item is not None:
                item.buy_received_at = arrived
            if available and item is not None:
                item.taken = True
        if not available:
            return RedirectResponse(f"{base}secondhand/?error=gone", status_code=302)
        response = RedirectResponse(f"{base}checkout/start", status_code=302)
        session = request.cookies.get(session_name)
        if not session:
            session = state.token(32)
            set_cookie(response, request, session_name, session)
        with state.lock:
            state.carts.setdefault(session, []).append(listing_id)
            state.cart_expiry.setdefault(
                session, datetime.now(UTC) + timedelta(minutes=RESERVATION_MINUTES)
            )
        return response

    def checkout(request: Request) -> Response:
        _, session_name, _ = _cookie_names(request)
        session = request.cookies.get(session_name, "")
        with state.lock:
            cart = list(state.carts.get(session, []))
            expires = state.cart_expiry.get(session)
        if not cart:
            return RedirectResponse(f"/{state.event}/?error=empty-cart", status_code=302)
        return HTMLResponse(render_checkout(state, cart, expires))

    # ------------------------------------------------------------ control API

    async def ctl_state(request: Request) -> Response:
        return JSONResponse(state.snapshot())

    async def ctl_log(request: Request) -> Response:
        return JSONResponse([asdict(r) for r in state.records()])

    async def ctl_reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def ctl_add(request: Request) -> Response:
        data = await request.json()
        item = state.add_listing(
            str(data.get("ticket_type", "Ticket – Standard")),
            str(data.get("price", "95.00")),
            currency=str(data.get("currency", "EUR")),
            after_polls=int(data.get("after_polls", 0)),
            contested=bool(data.get("contested", False)),
        )
        return JSONResponse(item.public())

    async def ctl_remove(request: Request) -> Response:
        ok = state.remove_listing(request.path_params["lid"])
        return JSONResponse({"ok": ok}, status_code=200 if ok else 404)

    async def ctl_take(request: Request) -> Response:
        ok = state.take(request.path_params["lid"])
        return JSONResponse({"ok": ok}, status_code=200 if ok else 404)

    async def ctl_inject(request: Request) -> Response:
        data = await request.json()
        retry = data.get("retry_after")
        state.inject(
            int(data["status"]),
            count=int(data.get("count", 1)),
            retry_after=None if retry is None else str(retry),
            target=str(data.get("target", "poll")),
        )
        return JSONResponse({"ok": True})

    async def ctl_config(request: Request) -> Response:
        data = await request.json()
        if data.get("markup") not in (None, "default", "changed", "broken"):
            return JSONResponse({"error": "markup must be default|changed|broken"}, 400)
        state.configure(**data)
        return JSONResponse(state.snapshot())

    routes = [
        Route("/_sandbox/state", ctl_state),
        Route("/_sandbox/log", ctl_log),
        Route("/_sandbox/reset", ctl_reset, methods=["POST"]),
        Route("/_sandbox/listings", ctl_add, methods=["POST"]),
        Route("/_sandbox/listings/{lid}", ctl_remove, methods=["DELETE"]),
        Route("/_sandbox/listings/{lid}/take", ctl_take, methods=["POST"]),
        Route("/_sandbox/inject", ctl_inject, methods=["POST"]),
        Route("/_sandbox/config", ctl_config, methods=["POST"]),
        Route("/{path:path}", front, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.market = state
    return app


def dump_state(app: Starlette) -> str:
    """The state as pretty JSON (debugging aid)."""
    return json.dumps(app.state.market.snapshot(), indent=2, default=str)
