"""Request builders: the cart-add POST exactly as a browser would send it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def origin_of(url: str) -> str:
    """``https://host:port`` of a URL (what Django compares Referer/Origin against)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class CartRequest:
    """A POST ready to send: URL, form fields and headers."""

    url: str
    data: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


def build_shop_add_request(
    *, action_url: str, page_url: str, csrf_token: str, item_id: str, quantity: int = 1
) -> CartRequest:
    """The regular shop's add-to-cart POST (``/<org>/<event>/cart/add``, field ``item_<id>``)."""
    return CartRequest(
        url=action_url,
        data={"csrfmiddlewaretoken": csrf_token, f"item_{item_id}": str(quantity)},
        headers={
            "Referer": page_url,
            "Origin": origin_of(page_url),
            "Content-Type": FORM_CONTENT_TYPE,
        },
    )
