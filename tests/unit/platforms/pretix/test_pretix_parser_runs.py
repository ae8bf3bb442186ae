"""Pages with many listings of one shape, read in one pass (``runs.py``), and the pages where
that pass must hand over to the listing-by-listing loop: the same listings either way."""

from __future__ import annotations

import pytest
from pretix_pages import make_page, make_two_line_page

from boxoffice.platforms.pretix.parser import (
    _scan,
    parse_marketplace,
    parse_marketplace_dom,
)

URL = "https://tickets.example.com/org/99x1/secondhand/?sort=price_asc"
PANEL = '<div class="panel panel-default">'
MANY = [(("Standard", "VIP", "Camping &amp; Car")[n % 3], f"€{40 + n}.00") for n in range(8)]


def _nth(text: str, old: str, new: str, n: int) -> str:
    """``text`` with the ``n``-th (from 1) occurrence of ``old`` replaced by ``new``."""
    at = -1
    for _ in range(n):
        at = text.index(old, at + 1)
    return text[:at] + new + text[at + len(old) :]


@pytest.fixture(params=["one line", "two lines"])
def many(request: pytest.FixtureRequest) -> str:
    page = make_page(MANY) if request.param == "one line" else make_two_line_page(MANY)
    for _ in range(2):  # the panel shape, then the run of panels, learned for this URL
        parse_marketplace(page, URL)
    return page


def test_a_page_of_many_listings_is_read_whole(many: str) -> None:
    result = parse_marketplace(many, URL)
    assert result.parser == "fast"
    assert [(x.ticket_type, x.price, x.listing_id) for x in result.listings] == [
        (t.replace("&amp;", "&"), p[1:], str(101 + n)) for n, (t, p) in enumerate(MANY)
    ]
    assert result.listings == parse_marketplace_dom(many, URL)
    assert _scan(many, URL) == _scan(many, URL, whole=False) == _scan(many, URL, panels=False)


def _same_every_way(html: str) -> None:
    """The one-pass read (first, while the URL's run is learned), the loop with and without
    whole-panel matches: the same listings."""
    whole = _scan(html, URL)
    assert whole == _scan(html, URL, whole=False) == _scan(html, URL, panels=False)


@pytest.mark.parametrize(
    "change",
    [
        # one panel indented differently: it is not a unit of the run
        lambda p: _nth(p, 'panel-default">\n', 'panel-default">\n ', 4),
        # another panel between two listings (no buy form in it)
        lambda p: _nth(p, PANEL, f"{PANEL}<p>Sold: 3</p></div>\n{PANEL}", 5),
        # a marker and an anchor in a title, a marker in a price
        lambda p: p.replace(">VIP<", ">VIP secondhand/buy/ seats<", 1),
        lambda p: p.replace(">VIP<", ">VIP panel panel-default<", 1),
        lambda p: p.replace(">€45.00<", ">€45.00 secondhand/buy/<", 1),
        # a buy link, a GET buy form after the listings; a "<" in a token
        lambda p: p.replace("</footer>", '<a href="/org/99x1/secondhand/buy/9/">x</a></footer>'),
        lambda p: p.replace(
            "</footer>", '<form action="/org/99x1/secondhand/buy/9/"><input></form></footer>'
        ),
        lambda p: p.replace('value="Xq8', 'value="<q8', 1),
        # a listing fewer, a listing's form cut short
        lambda p: p[: p.rfind('<div class="panel panel-default">')],
        lambda p: p.replace('<input type="hidden" name="csrfmiddlewaretoken"', "<input", 1),
    ],
)
def test_pages_that_are_not_one_run_read_the_same_as_the_loop(many: str, change: object) -> None:
    html = change(many)  # type: ignore[operator]
    assert html != many
    _same_every_way(html)


def test_a_page_with_one_listing_after_many_is_read(many: str) -> None:
    one = make_page(MANY[:1])
    assert [x.listing_id for x in parse_marketplace(one, URL).listings] == ["101"]
    _same_every_way(one)
