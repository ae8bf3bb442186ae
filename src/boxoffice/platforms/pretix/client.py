"""The pretix marketplace client: event page, marketplace polls, cart adds.

Takes any ``httpx.AsyncClient`` (built by ``core.http.create_client`` with the cookie jar,
or with a ``MockTransport`` in tests); never follows redirects itself blindly — a cart add's
redirect chain is followed hop by hop so the outcome can be judged from each Location.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import Cookie
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from boxoffice.errors import ConfigurationError, http_url_problem, map_exception
from boxoffice.platforms.pretix.interpret import (
    REDIRECT_STATUSES,
    Hop,
    interpret_cart_chain,
    interpret_throttle,
    marketplace_gone,
)
from boxoffice.platforms.pretix.models import CartOutcome, Listing, MarketplacePage, Throttle
from boxoffice.platforms.pretix.parser import BUY_MARKER, find_marketplace_link, parse_marketplace
from boxoffice.platforms.pretix.requests import FORM_CONTENT_TYPE, CartRequest, origin_of
from boxoffice.platforms.pretix.shop import ShopPage, build_shop_request, parse_shop_page

POLL_QUERY = "sort=price_asc"
MAX_REDIRECTS = 6
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def event_url(base_url: str, event: str) -> str:
    """``https://host`` + ``99x1`` or ``org/99x1`` → ``https://host/org/99x1/``."""
    base = base_url.strip()
    problem = http_url_problem(base)
    if problem is not None:
        raise ConfigurationError(
            f"--url {base_url!r} {problem}",
            hint="give the pretix address, e.g. https://tickets.example.com",
        )
    slug = event.strip().strip("/")
    if not slug or any(part in ("", ".", "..") for part in slug.split("/")):
        raise ConfigurationError(
            f"--event {event!r} is not an event slug", hint="use e.g. 99x1 or organizer/99x1"
        )
    return urljoin(base.rstrip("/") + "/", slug + "/")


@dataclass(frozen=True, slots=True)
class Fetched:
    """A GET's response with its timing (TTFB, TTLB in ms) and whether a retry reconnected."""

    response: httpx.Response
    hop: Hop
    ttfb_ms: float
    ttlb_ms: float
    size: int
    reconnected: bool = False


@dataclass(frozen=True, slots=True)
class Discovery:
    """What the event page said about the marketplace."""

    fetched: Fetched
    marketplace_url: str | None
    throttle: Throttle | None = None


@dataclass(frozen=True, slots=True)
class Poll:
    """One marketplace poll: response, parse result (None when throttled/gone), signals."""

    fetched: Fetched
    page: MarketplacePage | None
    throttle: Throttle | None = None
    gone: bool = False


def _timing(response: httpx.Response, started: float) -> tuple[float, float]:
    metrics = response.extensions.get("metrics")
    ttfb = getattr(metrics, "ttfb_ms", None)
    ttlb = getattr(metrics, "ttlb_ms", None)
    elapsed = (time.perf_counter() - started) * 1000
    if not isinstance(ttfb, int | float):
        try:
            ttfb = response.elapsed.total_seconds() * 1000
        except RuntimeError:
            ttfb = elapsed
    return float(ttfb), float(ttlb) if isinstance(ttlb, int | float) else elapsed


class PretixClient:
    """Protocol client for one pretix event's secondhand marketplace (and shop add-to-cart)."""

    def __init__(self, http: httpx.AsyncClient, *, base_url: str, event: str) -> None:
        self.http = http
        self.event_url = event_url(base_url, event)
        self.reconnects = 0
        self.last_chain: list[httpx.Response] = []
        self._prepared: dict[str, list[tuple[bytes, bytes]]] = {}
        self._cookies: tuple[object, bytes | None] | None = None
        # (jar, its change count, directory, valid until, Cookie header): see _remember
        self._memo: tuple[object, int, str, float, bytes | None] | None = None
        self._headers: dict[tuple[str, bytes | None], httpx.Headers] = {}
        self._raw_headers: dict[tuple[str, bytes | None], list[tuple[str, str]]] = {}
        self._timeout = http.timeout.as_dict()

    async def get(self, url: str, *, context: str) -> Fetched:
        """GET with one transparent retry when the server dropped the connection."""
        reconnected = False
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                response = await self.http.get(url)
            except _DROPPED as exc:
                if attempt == 2:
                    raise map_exception(exc, context=context) from exc
                self.reconnects += 1
                reconnected = True
                continue
            except httpx.HTTPError as exc:
                raise map_exception(exc, context=context) from exc
            ttfb, ttlb = _timing(response, started)
            return Fetched(
                response,
                Hop.from_response(response),
                ttfb,
                ttlb,
                len(response.content),
                reconnected,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def discover(self) -> Discovery:
        """GET the event page and find the marketplace link (None if there is none)."""
        fetched = await self.get(self.event_url, context=f"loading {self.event_url}")
        hop = fetched.hop
        throttle = interpret_throttle(hop)
        if throttle is not None:
            return Discovery(fetched, None, throttle)
        if hop.status != 200:
            return Discovery(fetched, None)
        return Discovery(fetched, find_marketplace_link(hop.body, self.event_url))

    @staticmethod
    def poll_url(marketplace_url: str) -> str:
        """The URL polled: the marketplace sorted by price, cheapest first."""
        joiner = "&" if "?" in marketplace_url else "?"
        return f"{marketplace_url}{joiner}{POLL_QUERY}"

    async def poll(self, marketplace_url: str) -> Poll:
        """One marketplace GET, parsed."""
        url = self.poll_url(marketplace_url)
        fetched = await self.get(url, context=f"polling {marketplace_url}")
        hop = fetched.hop
        throttle = interpret_throttle(hop)
        if throttle is not None:
            return Poll(fetched, None, throttle)
        if marketplace_gone(hop):
            return Poll(fetched, None, gone=True)
        if hop.status != 200:
            return Poll(fetched, MarketplacePage("unknown", detail=f"HTTP {hop.status}"))
        return Poll(fetched, parse_marketplace(hop.body, url))

    # ------------------------------------------------------------------ the cart POST

    def prepare_buy(self, page_url: str) -> None:
        """Work out ahead what a buy POST from ``page_url`` sends besides the listing's URL and
        token: the client's headers with Referer, Origin and Content-Type, and the Cookie
        header for the jar as it is now (recomputed only when the jar changes)."""
        directory = page_url.split("?", 1)[0].split("#", 1)[0] + "buy/"
        cookie = self._cookie_header(directory)
        if (page_url, cookie) not in self._headers:
            self._buy_request(Listing("", "", None, directory, ""), page_url)

    def _buy_headers(self, page_url: str) -> list[tuple[bytes, bytes]]:
        headers = self._prepared.get(page_url)
        if headers is None:
            if len(self._prepared) >= 16:
                self._prepared.clear()
            extra = {"Referer": page_url, "Origin": origin_of(page_url)}
            extra["Content-Type"] = FORM_CONTENT_TYPE
            merged = httpx.Headers(self.http.headers)
            merged.update(extra)
            headers = self._prepared[page_url] = list(merged.raw)
        return headers

    def _cookie_header(self, url: str) -> bytes | None:
        """The Cookie header the client would send to ``url`` (its jar's own computation),
        remembered for the jar's current cookies and the directory of ``url`` (the buy
        URLs' common ``…/secondhand/buy/``).

        Exact: which cookies go with a URL depends on its scheme, host, port and path; no
        cookie with a path longer than that directory's can tell two URLs in it apart. A
        longer cookie path, or a cookie expiring within the hour, makes each call compute
        it afresh; any change to the jar's cookies changes the key.
        """
        cut = url.find(BUY_MARKER)
        directory = url[: cut + len(BUY_MARKER)] if cut != -1 else url[: url.rfind("/") + 1]
        jar = self.http.cookies.jar
        changes: int | None = getattr(jar, "changes", None)  # core.http's jar counts them
        now = time.time()
        memo = self._memo
        if (
            memo is not None
            and changes is not None
            and memo[0] is jar
            and memo[1] == changes
            and memo[2] == directory
            and now < memo[3]
        ):
            return memo[4]  # no cookie stored or removed since, none near its expiry
        cookies = list(jar)
        soon = now + 3600
        room = len(urlsplit(directory).path)
        key: object = None
        if not any(
            (c.expires is not None and c.expires <= soon) or len(c.path) > room for c in cookies
        ):
            key = (
                directory,
                tuple(
                    (c.domain, c.path, c.name, c.value, c.secure, c.port, c.version)
                    for c in cookies
                ),
            )
            if self._cookies is not None and self._cookies[0] == key:
                header = self._cookies[1]
                self._remember(jar, changes, directory, cookies, header)
                return header
        probe = httpx.Request("POST", url if key is None else directory)
        self.http.cookies.set_cookie_header(probe)
        value = probe.headers.get("cookie")
        header = value.encode("latin-1") if value is not None else None
        if key is not None:
            self._cookies = (key, header)
            self._remember(jar, changes, directory, cookies, header)
        return header

    def _remember(
        self,
        jar: object,
        changes: int | None,
        directory: str,
        cookies: list[Cookie],
        header: bytes | None,
    ) -> None:
        """Keep ``header`` for ``directory`` until the jar changes or an hour before its
        first cookie expires (the window in which :meth:`_cookie_header` stops caching)."""
        if changes is None:
            return
        expiries = [c.expires for c in cookies if c.expires is not None]
        until = min(expiries) - 3600 if expiries else float("inf")
        self._memo = (jar, changes, directory, until, header)

    def _buy_request(self, listing: Listing, page_url: str) -> httpx.Request:
        """The buy POST as ``client.post(url, data=…, headers=…)`` would build it, from the
        parts :meth:`prepare_buy` keeps."""
        cookie = self._cookie_header(listing.buy_url)
        key = (page_url, cookie)
        headers = self._headers.get(key)
        if headers is None:
            if len(self._headers) >= 16:
                self._headers.clear()
            raw = self._buy_headers(page_url)
            headers = self._headers[key] = httpx.Headers(
                raw if cookie is None else [*raw, (b"Cookie", cookie)]
            )
        return httpx.Request(
            "POST",
            httpx.URL(listing.buy_url),
            headers=headers,
            content=urlencode({"csrfmiddlewaretoken": listing.csrf_token}).encode(),
            extensions={"timeout": self._timeout},
        )

    async def _send_buy(self, listing: Listing, page_url: str) -> httpx.Response:
        """The buy POST: straight onto the wire when the client can take it so (its
        ``httpx.Request`` made once it left), else as :meth:`_buy_request`."""
        post_raw = getattr(self.http, "post_raw", None)
        if post_raw is None:
            return await self._send_post(lambda: self._buy_request(listing, page_url))
        cookie = self._cookie_header(listing.buy_url)
        key = (page_url, cookie)
        headers = self._raw_headers.get(key)
        if headers is None:
            if len(self._raw_headers) >= 16:
                self._raw_headers.clear()
            raw = self._buy_headers(page_url) + ([(b"Cookie", cookie)] if cookie else [])
            headers = self._raw_headers[key] = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in raw
            ]
        body = urlencode({"csrfmiddlewaretoken": listing.csrf_token}).encode()

        def build() -> httpx.Request:
            return self._buy_request(listing, page_url)

        for attempt in (1, 2):
            try:
                response: httpx.Response | None = await post_raw(
                    listing.buy_url, headers, body, build
                )
                if response is None:
                    return await self._send_post(build)
                return response
            except _DROPPED:
                if attempt == 2:
                    raise
                self.reconnects += 1  # not processed there (see _send_post): once more
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_post(self, build: Callable[[], httpx.Request]) -> httpx.Response:
        send = getattr(self.http, "send_direct", self.http.send)  # boxoffice's client: direct
        try:
            return await send(build())
        except _DROPPED:
            # The server ended the kept-alive connection (HTTP/2 GOAWAY, reset) before
            # answering: the POST was not processed there. Once more, on a fresh one.
            self.reconnects += 1
            return await send(build())

    async def _post_and_follow(
        self, request: CartRequest | tuple[Listing, str], *, context: str
    ) -> list[Hop]:
        try:
            self.last_chain = []
            if isinstance(request, CartRequest):
                cart = request
                response = await self._send_post(
                    lambda: self.http.build_request(
                        "POST", cart.url, data=cart.data, headers=cart.headers
                    )
                )
            else:
                response = await self._send_buy(*request)
            self.last_chain.append(response)
            hops = [Hop.from_response(response)]
            for _ in range(MAX_REDIRECTS):
                last = hops[-1]
                if last.status not in REDIRECT_STATUSES or not last.location:
                    break
                response = await self.http.get(last.location)
                self.last_chain.append(response)
                hops.append(Hop.from_response(response))
        except httpx.HTTPError as exc:
            raise map_exception(exc, context=context) from exc
        return hops

    async def add_to_cart(self, listing: Listing, *, page_url: str) -> CartOutcome:
        """POST the listing's buy form and judge the redirect chain."""
        hops = await self._post_and_follow((listing, page_url), context=f"buying {listing.buy_url}")
        return interpret_cart_chain(hops)

    async def shop_page(self) -> ShopPage:
        """The regular shop's event page, parsed for its add-to-cart form."""
        fetched = await self.get(self.event_url, context=f"loading {self.event_url}")
        return parse_shop_page(fetched.hop.body, self.event_url)

    async def shop_add(self, page: ShopPage, item_id: str, quantity: int = 1) -> CartOutcome:
        """Add ``quantity`` of product ``item_id`` through the shop's own add-to-cart form."""
        request = build_shop_request(page, item_id=item_id, quantity=quantity)
        hops = await self._post_and_follow(request, context=f"adding item {item_id} to the cart")
        return interpret_cart_chain(hops)
