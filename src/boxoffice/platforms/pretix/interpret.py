"""Response interpreters: rate limits, cart-add outcomes (from the redirect chain), inactivity.

Pure functions over :class:`Hop` records (one per response of a redirect chain), so they are
tested without a network. pretix answers 302 for both a successful and a failed cart add:
only the Location tells them apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from boxoffice.core.pacing import parse_retry_after
from boxoffice.platforms.pretix.models import CartOutcome, Throttle

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHECKOUT_MARKERS = ('class="checkout-flow"', "Step 1 of")
_ALERT = re.compile(r'<div[^>]*class="[^"]*alert-danger[^"]*"[^>]*>(.*?)</div>', re.S | re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_RATE_LIMIT_PAGE = re.compile(r"too many requests|rate.?limit|slow down", re.I)
# a Content-Type that names UTF-8 and nothing else after it: pretix's "text/html; charset=utf-8"
_UTF8_TYPE = re.compile(r'[\w.+-]+/[\w.+-]+\s*;\s*charset\s*=\s*"?utf-?8"?\s*', re.I | re.A)


def response_text(response: httpx.Response) -> str:
    """``response.text``, decoded at once when the Content-Type names UTF-8 (httpx would
    first parse the header with the email package, then decode incrementally: the same
    text, errors replaced alike, at a fraction of the cost on a poll's page)."""
    content_type = response.headers.get("content-type")
    if (
        content_type is not None
        and _UTF8_TYPE.fullmatch(content_type)
        and not hasattr(response, "_encoding")  # an encoding set by hand wins, as in httpx
    ):
        return response.content.decode("utf-8", "replace")
    return response.text


@dataclass(frozen=True, slots=True)
class Hop:
    """One response of a chain: where it came from and what it said."""

    method: str
    url: str
    status: int
    location: str | None = None
    retry_after: str | None = None
    body: str = ""

    @classmethod
    def from_response(cls, response: httpx.Response, *, with_body: bool = True) -> Hop:
        """Build from an httpx response (Location made absolute)."""
        location = response.headers.get("location")
        url = str(response.request.url) if response.request else str(response.url)
        return cls(
            method=response.request.method if response.request else "GET",
            url=url,
            status=response.status_code,
            location=urljoin(url, location) if location else None,
            retry_after=response.headers.get("retry-after"),
            body=response_text(response) if with_body and not location else "",
        )


def _path(url: str) -> str:
    return urlsplit(url).path


def is_checkout_url(url: str) -> bool:
    """True for ``…/checkout/…`` (the cart add reached the checkout)."""
    return "/checkout/" in _path(url) or _path(url).endswith("/checkout")


def is_marketplace_url(url: str) -> bool:
    """True for ``…/secondhand/…`` pages other than buy endpoints."""
    path = _path(url)
    return "/secondhand/" in path and "/secondhand/buy/" not in path


def _text(fragment: str) -> str:
    return " ".join(_TAG.sub(" ", fragment).split())


def page_message(body: str) -> str:
    """The first ``alert-danger`` text (or the page title) of an HTML page, shortened."""
    match = _ALERT.search(body)
    if match:
        return _text(match.group(1))[:200]
    match = _TITLE.search(body)
    return _text(match.group(1))[:200] if match else ""


def interpret_throttle(hop: Hop) -> Throttle | None:
    """429 / 409 / 503 (and HTML "too many requests" error pages) → a :class:`Throttle`.

    * 429: rate limited; Retry-After if given (the job still applies its backoff floor).
    * 409: locked (pretix's global lock timeout); wait exactly Retry-After.
    * 5xx: server error; Retry-After if given.
    * any non-2xx HTML page that says "too many requests": rate limited.
    """
    retry_after = parse_retry_after(hop.retry_after)
    if hop.status == 429:
        return Throttle("rate_limited", 429, retry_after)
    if hop.status == 409:
        return Throttle("locked", 409, retry_after)
    if hop.status >= 500:
        if _RATE_LIMIT_PAGE.search(hop.body[:4000]):
            return Throttle("rate_limited", hop.status, retry_after)
        return Throttle("server_error", hop.status, retry_after)
    if (
        hop.status >= 400
        and hop.status not in (401, 403, 404, 410)
        and _RATE_LIMIT_PAGE.search(hop.body[:4000])
    ):
        return Throttle("rate_limited", hop.status, retry_after)
    return None


def interpret_cart_chain(hops: Sequence[Hop]) -> CartOutcome:
    """Judge a cart-add from its chain of responses (POST first, then followed redirects).

    * any Location (or final URL) under ``/checkout/`` → ``checkout`` (ticket in the cart);
    * a Location back to ``/secondhand/`` → ``taken`` (someone was faster);
    * 429/409/5xx → ``rate_limited`` with the :class:`Throttle`;
    * 403 → ``forbidden`` (CSRF/Referer refused); anything else → ``error`` with the message.
    """
    if not hops:
        return CartOutcome("error", message="no response")
    chain = tuple(h.url for h in hops)
    statuses = tuple(h.status for h in hops)
    final = hops[-1]
    for hop in hops:
        if hop.location and is_checkout_url(hop.location):
            return CartOutcome(
                "checkout",
                checkout_url=final.url if is_checkout_url(final.url) else hop.location,
                final_url=final.url,
                chain=chain,
                statuses=statuses,
            )
    if final.status < 300 and (
        is_checkout_url(final.url) or any(m in final.body for m in CHECKOUT_MARKERS)
    ):
        return CartOutcome(
            "checkout", final.url, final_url=final.url, chain=chain, statuses=statuses
        )
    for hop in hops:
        if hop.location and is_marketplace_url(hop.location):
            return CartOutcome(
                "taken",
                final_url=final.url,
                chain=chain,
                statuses=statuses,
                message=page_message(final.body) or "redirected back to the marketplace",
            )
    throttle = interpret_throttle(final)
    if throttle is not None:
        return CartOutcome(
            "rate_limited",
            final_url=final.url,
            chain=chain,
            statuses=statuses,
            throttle=throttle,
            message=f"HTTP {final.status}",
        )
    if final.status == 403:
        return CartOutcome(
            "forbidden",
            final_url=final.url,
            chain=chain,
            statuses=statuses,
            message=page_message(final.body) or "HTTP 403 (CSRF or Referer check failed)",
        )
    if final.status < 300 and is_marketplace_url(final.url):
        return CartOutcome(
            "taken",
            final_url=final.url,
            chain=chain,
            statuses=statuses,
            message=page_message(final.body) or "back on the marketplace",
        )
    return CartOutcome(
        "error",
        final_url=final.url,
        chain=chain,
        statuses=statuses,
        message=page_message(final.body) or f"HTTP {final.status} at {final.url}",
    )


def marketplace_gone(hop: Hop) -> bool:
    """A marketplace GET that says "no marketplace here": 404/410, or a redirect elsewhere."""
    if hop.status in (404, 410):
        return True
    return bool(
        hop.status in REDIRECT_STATUSES and hop.location and not is_marketplace_url(hop.location)
    )
