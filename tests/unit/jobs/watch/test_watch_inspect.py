"""`watch parse` behind the CLI: a saved page → what the watch would see."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.errors import NotFoundError
from boxoffice.jobs.watch.inspect import describe_page, parse_saved_page
from boxoffice.sandbox.pretix_marketplace import MarketState, render_marketplace

URL = "https://t.example.com/org/99x1/secondhand/"


def test_a_page_with_listings(tmp_path: Path) -> None:
    state = MarketState()
    items = [state.add_listing("Standard", "95"), state.add_listing("VIP", "240")]
    page = tmp_path / "page.html"
    page.write_text(render_marketplace(state, items, "tok" * 10))
    parsed = parse_saved_page(page, URL)
    assert parsed["state"] == "listings"
    assert parsed["parser"] == "fast"
    assert [(x["ticket_type"], x["price"]) for x in parsed["listings"]] == [
        ("Standard", "95.00"),
        ("VIP", "240.00"),
    ]
    assert all(x["buy_url"].startswith("https://t.example.com/") for x in parsed["listings"])
    lines = describe_page(parsed)
    assert lines[0] == "state: listings (parser: fast)"
    assert lines[1].startswith("- Standard · 95.00 EUR · https://t.example.com/")
    assert lines[1].endswith("csrf present")


def test_an_unrecognised_page_says_the_layout_may_have_changed(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Maintenance</h1></body></html>")
    parsed = parse_saved_page(page)
    assert parsed["state"] == "unknown"
    assert parsed["listings"] == []
    assert "the marketplace layout may have changed" in describe_page(parsed)[-1]


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        parse_saved_page(tmp_path / "nope.html")
