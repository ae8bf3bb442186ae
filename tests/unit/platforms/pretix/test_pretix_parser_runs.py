"""Pages with many listings of one shape, read in one pass (``runs.py``), and the pages where
that pass must hand over to the listing-by-listing loop: the same listings either way."""

from __future__ import annotations

import pytest
from pretix_pages import make_page, make_two_line_page

from boxoffice.platforms.pretix import parser
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


def _read_as_one_run(html: str) -> tuple[object, ...] | None:
    """What the one-pass read alone makes of ``html`` (None: it hands the page to the loop)."""
    buy, last = html.find("secondhand/buy/"), html.rfind("secondhand/buy/")
    return parser._whole(html, URL, parser._SHAPES[URL], buy, last)


def test_the_one_pass_read_is_what_reads_a_page_of_many_listings(many: str) -> None:
    whole = _read_as_one_run(many)
    assert whole is not None
    assert whole == parse_marketplace(many, URL).listings == _scan(many, URL, whole=False)[0]


def test_each_poll_carries_its_own_tokens_and_prices() -> None:
    """Rows already read are remembered, tokens are not: Django masks the CSRF token anew on
    every render, and a listing whose price changes is a new row."""
    first = make_page(MANY, token="A" * 64)
    for _ in range(3):
        parse_marketplace(first, URL)
    again = make_page(MANY, token="B" * 64)
    assert _read_as_one_run(again) is not None
    assert {x.csrf_token for x in parse_marketplace(again, URL).listings} == {"B" * 64}
    repriced = make_page([(t, "€1.00" if n == 3 else p) for n, (t, p) in enumerate(MANY)])
    listings = parse_marketplace(repriced, URL).listings
    assert [x.price for x in listings] == [
        p[1:] if n != 3 else "1.00" for n, (_, p) in enumerate(MANY)
    ]
    assert _read_as_one_run(repriced) == listings


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.replace(">VIP<", ">VIP secondhand/buy/ seats<", 1),
        lambda p: p.replace(">VIP<", ">VIP panel panel-default<", 1),
        lambda p: p.replace("Listed ", "Listed secondhand/buy/ ", 1),
        lambda p: p.replace("/buy/102/", "/buy/1<2/", 1),
    ],
)
def test_a_row_that_would_move_the_loop_is_left_to_it(many: str, change: object) -> None:
    html = change(many)  # type: ignore[operator]
    assert html != many
    assert _read_as_one_run(html) is None
    _same_every_way(html)


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
