"""The cart's reservation deadline as pretix's checkout page shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from boxoffice.platforms.pretix.cart import reservation_deadline

# the markup of pretix 2026.8's pretixpresale/event/fragment_cart.html
PAGE = """<div class="cart-row"><p id="cart-deadline" data-expires="2031-08-01 12:30:00+0200"
 data-max-expiry-extend="2031-08-01 13:00:00+0200">
 The items in your cart are reserved for you for 30 minutes.</p></div>"""


def test_the_deadline_is_read_with_its_offset() -> None:
    deadline = reservation_deadline(PAGE)
    assert deadline == datetime(2031, 8, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    assert deadline is not None
    assert deadline.astimezone(UTC).hour == 10


def test_a_page_without_a_deadline_gives_none() -> None:
    assert reservation_deadline("<html><ol class='checkout-flow'></ol></html>") is None
    assert reservation_deadline('<p id="cart-deadline" data-expires="soon">') is None
