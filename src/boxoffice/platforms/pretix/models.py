"""Value types of the pretix secondhand marketplace protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple

PageState = Literal["listings", "empty", "inactive", "unknown"]
ParserPath = Literal["fast", "dom", "none"]
CartResult = Literal["checkout", "taken", "rate_limited", "forbidden", "error"]


class Listing(NamedTuple):
    """One ticket offered on the marketplace, as the buy form describes it.

    Immutable like the other value types; a NamedTuple rather than a frozen dataclass because
    the parser builds one per listing on every poll and this is 3× cheaper to construct.
    """

    ticket_type: str
    price: str
    currency: str | None
    buy_url: str
    csrf_token: str

    @property
    def listing_id(self) -> str:
        """The id in ``…/secondhand/buy/<id>/`` (the last path segment)."""
        path = self.buy_url.split("?", 1)[0].rstrip("/")
        return path.rsplit("/", 1)[-1]

    @property
    def amount(self) -> Decimal | None:
        """The price as a number, or None when the page showed none."""
        try:
            return Decimal(self.price) if self.price else None
        except InvalidOperation:
            return None

    def display_price(self) -> str:
        """Price as people read it ("95.00 EUR")."""
        if not self.price:
            return "?"
        return f"{self.price} {self.currency}" if self.currency else self.price

    def to_json(self) -> dict[str, Any]:
        """The shape ``boxoffice watch parse --json`` prints."""
        return {
            "ticket_type": self.ticket_type,
            "price": self.price,
            "currency": self.currency,
            "buy_url": self.buy_url,
            "csrf_token": self.csrf_token,
        }


class MarketplacePage(NamedTuple):
    """What a marketplace page says: its state, its listings and how they were found.

    A NamedTuple for the same reason as :class:`Listing` (one per poll).
    """

    state: PageState
    listings: tuple[Listing, ...] = ()
    parser: ParserPath = "none"
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """``{"state": …, "listings": [...]}`` — the shape ``watch parse --json`` prints."""
        return {
            "state": self.state,
            "listings": [listing.to_json() for listing in self.listings],
        }


@dataclass(frozen=True, slots=True)
class Throttle:
    """The server asked us to slow down (or failed): how, and for how long if it said."""

    reason: Literal["rate_limited", "locked", "server_error"]
    status: int
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class CartOutcome:
    """Result of a cart add, judged from the redirect chain."""

    result: CartResult
    checkout_url: str | None = None
    final_url: str = ""
    chain: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()
    message: str = ""
    throttle: Throttle | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the ticket is in the session's cart (checkout reached)."""
        return self.result == "checkout"
