"""The regular pretix shop (event page): its add-to-cart form and product rows.

*(observed on pretix 2026.8)* The form posts to ``/<org>/<event>/cart/add?next=…`` with
``item_<id>`` fields; a sold-out product shows ``availability-box gone``, an all-reserved one
``availability-box unavailable``. Success redirects under ``/checkout/``; a failure redirects
to the event page with an ``alert-danger``. Never raises on any HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from boxoffice.errors import ProtocolError
from boxoffice.platforms.pretix.requests import CartRequest, build_shop_add_request

if TYPE_CHECKING:  # selectolax is loaded by the DOM parse, which a watch rarely needs
    from selectolax.lexbor import LexborNode

_ITEM_FIELD = re.compile(r"^item_(\d+)$")


@dataclass(frozen=True, slots=True)
class ShopItem:
    """One product row of the shop."""

    item_id: str
    name: str
    available: bool
    availability: str


@dataclass(frozen=True, slots=True)
class ShopPage:
    """The add-to-cart form of an event page."""

    page_url: str
    action_url: str | None
    csrf_token: str
    items: tuple[ShopItem, ...]

    def item(self, name_or_id: str) -> ShopItem | None:
        """Find a product by id or by (case-insensitive) name substring."""
        needle = name_or_id.lower()
        for item in self.items:
            if item.item_id == name_or_id or needle in item.name.lower():
                return item
        return None


def _row_of(node: LexborNode) -> LexborNode:
    current: LexborNode | None = node.parent
    while current is not None and current.tag not in ("form", "body"):
        classes = current.attributes.get("class") or ""
        if "product-row" in classes or "item-row" in classes:
            return current
        current = current.parent
    return node.parent or node


def parse_shop_page(html: str, page_url: str) -> ShopPage:
    """Find the ``cart/add`` form, its CSRF token and the product rows."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    form = None
    for candidate in tree.css("form"):
        if "cart/add" in (candidate.attributes.get("action") or ""):
            form = candidate
            break
    if form is None:
        return ShopPage(page_url, None, "", ())
    token_node = form.css_first('input[name="csrfmiddlewaretoken"]')
    token = (token_node.attributes.get("value") or "") if token_node else ""
    items: list[ShopItem] = []
    seen: set[str] = set()
    for field in form.css("input, select"):
        match = _ITEM_FIELD.match(field.attributes.get("name") or "")
        if not match or match.group(1) in seen:
            continue
        seen.add(match.group(1))
        row = _row_of(field)
        heading = row.css_first("h1, h2, h3, h4, h5, strong, label")
        name = " ".join((heading.text(separator=" ") if heading else "").split())
        box = row.css_first(".availability-box")
        classes = (box.attributes.get("class") or "") if box else ""
        availability = (
            "gone" if "gone" in classes else "unavailable" if "unavailable" in classes else "ok"
        )
        disabled = "disabled" in field.attributes
        items.append(
            ShopItem(match.group(1), name, availability == "ok" and not disabled, availability)
        )
    action = urljoin(page_url, form.attributes.get("action") or "")
    return ShopPage(page_url, action, token, tuple(items))


def build_shop_request(page: ShopPage, *, item_id: str, quantity: int = 1) -> CartRequest:
    """The add-to-cart POST for one product of ``page``."""
    if page.action_url is None:
        raise ProtocolError(
            f"no add-to-cart form on {page.page_url}",
            hint="the event may be sold out, not on sale yet, or not a pretix shop page",
        )
    return build_shop_add_request(
        action_url=page.action_url,
        page_url=page.page_url,
        csrf_token=page.csrf_token,
        item_id=item_id,
        quantity=quantity,
    )
