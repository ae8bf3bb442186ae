"""The listings proxy contract (the original tracker's): ``GET {base}/listings/{viagogo_id}``.

Answer: ``{event_id, event_name, event_datetime, venue, listings: [{listingId, section, row,
availableTickets, sellerAllInPrice: {amt}, currencyCode, listingNotes}], stats}``; optional
``x-api-key`` header. Mapping: price_per_ticket = all-in price, quantity = availableTickets,
total_price = price × quantity.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from boxoffice.errors import ProtocolError
from boxoffice.platforms.listings._http import get_json
from boxoffice.platforms.listings.models import MAX_QUANTITY, FetchResult, Listing, check_price


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_listing(item: Any) -> Listing:
    """One proxy listing → :class:`Listing`; ``ValueError`` says what is wrong with it."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    listing_id = _text(item.get("listingId"))
    if listing_id is None:
        raise ValueError("no listingId")
    price_obj = item.get("sellerAllInPrice")
    amount = price_obj.get("amt") if isinstance(price_obj, dict) else None
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise ValueError(f"listing {listing_id}: no sellerAllInPrice.amt")
    try:
        price = float(amount)
    except ValueError:
        raise ValueError(f"listing {listing_id}: price {amount!r} is not a number") from None
    check_price(price, f"listing {listing_id}: price")
    qty_raw = item.get("availableTickets")
    if qty_raw is None or isinstance(qty_raw, bool):
        raise ValueError(f"listing {listing_id}: no availableTickets")
    try:
        quantity = int(qty_raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"listing {listing_id}: availableTickets {qty_raw!r} is not a number"
        ) from None
    if not 0 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"listing {listing_id}: availableTickets {quantity} out of range")
    return Listing(
        listing_id=listing_id,
        section=_text(item.get("section")),
        row=_text(item.get("row")),
        quantity=quantity,
        price_per_ticket=round(price, 2),
        currency=_text(item.get("currencyCode")),
        total_price=round(price * quantity, 2),
    )


def parse_payload(data: Any) -> FetchResult:
    """The whole proxy answer → good listings plus one reason per skipped (malformed) one."""
    if not isinstance(data, dict) or not isinstance(data.get("listings"), list):
        raise ProtocolError("listings proxy: the answer has no 'listings' list")
    result = FetchResult()
    for index, item in enumerate(data["listings"]):
        try:
            result.listings.append(parse_listing(item))
        except ValueError as exc:
            result.skipped.append(f"#{index}: {exc}")
    return result


class ProxyClient:
    """Client of the listings proxy (``client``: an ``httpx.AsyncClient``, transport injectable)."""

    name = "proxy"

    def __init__(
        self, base_url: str, client: httpx.AsyncClient, *, api_key: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.api_key = api_key

    def url_for(self, viagogo_id: str) -> str:
        """The listings URL of one event."""
        return f"{self.base_url}/listings/{quote(viagogo_id, safe='')}"

    async def fetch(self, external_id: str) -> FetchResult:
        """Current listings of the event (malformed listings are skipped and reported)."""
        headers = {"x-api-key": self.api_key} if self.api_key else None
        data = await get_json(
            self.client,
            self.url_for(external_id),
            what=f"listings proxy, event {external_id}",
            headers=headers,
        )
        return parse_payload(data)
