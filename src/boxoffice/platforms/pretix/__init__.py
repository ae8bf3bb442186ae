"""pretix protocol: secondhand marketplace parser, cart-add requests, response interpreters."""

from boxoffice.platforms.pretix.client import PretixClient, event_url
from boxoffice.platforms.pretix.models import CartOutcome, Listing, MarketplacePage, Throttle
from boxoffice.platforms.pretix.parser import (
    find_marketplace_link,
    page_fingerprint,
    parse_marketplace,
)

__all__ = [
    "CartOutcome",
    "Listing",
    "MarketplacePage",
    "PretixClient",
    "Throttle",
    "event_url",
    "find_marketplace_link",
    "page_fingerprint",
    "parse_marketplace",
]
