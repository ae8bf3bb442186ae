"""`watch parse`: what the watch would make of a saved marketplace page ("why no cart add?")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from boxoffice.errors import NotFoundError, require_file
from boxoffice.platforms.pretix.parser import parse_marketplace


def parse_saved_page(path: Path, url: str = "") -> dict[str, Any]:
    """Parse a saved page as a poll would.

    Returns ``{"state", "listings": [{"ticket_type", "price", "currency", "buy_url",
    "csrf_token"}], "parser", "detail"}``; ``url`` (the page's address) makes buy URLs
    absolute. Raises :class:`NotFoundError` when the file is missing or unreadable.
    """
    require_file(path, "", hint="give the path of a saved HTML page")
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}") from exc
    page = parse_marketplace(text, url)
    return page.to_json() | {"parser": page.parser, "detail": page.detail}


def describe_page(parsed: dict[str, Any]) -> list[str]:
    """The human lines of ``watch parse`` for a :func:`parse_saved_page` result."""
    lines = [f"state: {parsed['state']} (parser: {parsed['parser']})"]
    if parsed["detail"]:
        lines.append(f"detail: {parsed['detail']}")
    for listing in parsed["listings"]:
        price = listing["price"] or "?"
        if listing["price"] and listing["currency"]:
            price = f"{listing['price']} {listing['currency']}"
        lines.append(
            f"- {listing['ticket_type'] or '?'} · {price} · {listing['buy_url']} · "
            f"csrf {'present' if listing['csrf_token'] else 'MISSING'}"
        )
    if parsed["state"] == "unknown":
        lines.append(
            "this page has no listings and no 'No tickets available' marker: the marketplace "
            "layout may have changed"
        )
    return lines
