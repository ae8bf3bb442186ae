"""What pretix's checkout page says about the cart: until when its items are reserved.

pretix's cart fragment (``pretixpresale/event/fragment_cart.html``) renders::

    <p id="cart-deadline" data-expires="2026-08-01 12:30:00+0000" …>
        The items in your cart are reserved for you for 30 minutes.

``data-expires`` is the cart's first expiry (Django ``Y-m-d H:i:sO``); the checkout's header
shows the same instant on ``#cart-deadline-short``.
"""

from __future__ import annotations

import re
from datetime import datetime

_DEADLINE = re.compile(
    r"""<[^>]*\bid=["']cart-deadline(?:-short)?["'][^>]*\bdata-expires=["']([^"']+)["']"""
    r"""|<[^>]*\bdata-expires=["']([^"']+)["'][^>]*\bid=["']cart-deadline(?:-short)?["']""",
    re.IGNORECASE,
)
_FORMATS = ("%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M%z")


def reservation_deadline(page: str) -> datetime | None:
    """The instant the cart's reservation ends, from a checkout page; None when absent."""
    match = _DEADLINE.search(page)
    if match is None:
        return None
    text = (match.group(1) or match.group(2) or "").strip()
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
