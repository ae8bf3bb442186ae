"""Fuzzing: mutated real-structure pages never make the parsers raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pretix_pages import make_page, make_two_line_page

from boxoffice.platforms.pretix.interpret import Hop, interpret_cart_chain
from boxoffice.platforms.pretix.parser import (
    _scan,
    find_marketplace_link,
    page_fingerprint,
    parse_marketplace,
)

BASE = make_page([("Ticket – Standard", "€95.00"), ("VIP", "€240.00"), ("Camping", "95,00 €")])
URL = "https://tickets.example.com/org/99x1/secondhand/"
FRAGMENTS = [
    '<div class="panel panel-default">',
    '<h3 class="panel-title">',
    '<h2 class="text-primary">',
    '<form method="post" action="/org/99x1/secondhand/buy/7/">',
    '<input type="hidden" name="csrfmiddlewaretoken" value="',
    "</div>",
    "</form>",
    "No tickets available",
    "secondhand/buy/",
    "<",
    ">",
    '"',
    "&amp;",
    "€",
    "<!--",
    "<script>",
    "\x00",
    "\ud7ff",
]


TWO_LINE = make_two_line_page(
    [("Ticket – Standard", "€95.00"), ("VIP", "€240.00"), ("Camping", "95,00 €")],
    indents=(16, 16, 8),
)


MANY = [
    (("Standard", "VIP", "Camping")[n % 3], ("€95.00", "€240.00", "95,00 €")[n % 3])
    for n in range(7)
]
MANY_PAGES = (
    make_page(MANY),
    make_two_line_page(MANY),
)


@st.composite
def mutated(draw: st.DrawFn, bases: tuple[str, ...] = (BASE, TWO_LINE)) -> str:
    html = draw(st.sampled_from(bases))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["cut", "insert", "delete", "duplicate", "truncate"]))
        pos = draw(st.integers(0, len(html)))
        if op == "cut":
            end = draw(st.integers(pos, min(len(html), pos + 400)))
            html = html[:pos] + html[end:]
        elif op == "insert":
            piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)))
            html = html[:pos] + piece + html[pos:]
        elif op == "delete":
            html = html[:pos] + html[pos + 1 :]
        elif op == "duplicate":
            end = draw(st.integers(pos, min(len(html), pos + 800)))
            html = html[:end] + html[pos:end] + html[end:]
        else:
            html = html[:pos]
    return html


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_pages_never_raise(html: str) -> None:
    result = parse_marketplace(html, URL)
    assert result.state in ("listings", "empty", "inactive", "unknown")
    if result.state == "listings":
        assert result.listings
        for listing in result.listings:
            assert "secondhand/buy/" in listing.buy_url
    else:
        assert result.listings == ()
    page_fingerprint(html)
    find_marketplace_link(html, URL)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert parse_marketplace(text, URL).state in ("listings", "empty", "inactive", "unknown")
    find_marketplace_link(text, URL)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(
            Hop,
            method=st.sampled_from(["GET", "POST"]),
            url=st.sampled_from([URL, URL + "buy/1/", "https://tickets.example.com/x/"]),
            status=st.integers(100, 599),
            location=st.one_of(st.none(), st.text(max_size=60)),
            retry_after=st.one_of(st.none(), st.text(max_size=10)),
            body=st.text(max_size=300),
        ),
        max_size=5,
    )
)
def test_cart_interpreter_never_raises(hops: list[Hop]) -> None:
    outcome = interpret_cart_chain(hops)
    assert outcome.result in ("checkout", "taken", "rate_limited", "forbidden", "error")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_whole_panel_matches_read_what_the_searches_read(html: str) -> None:
    for _ in range(2):  # the second time from the panel shape the first one learned
        assert _scan(html, URL) == _scan(html, URL, panels=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MANY_PAGES), mutated(MANY_PAGES))
def test_one_pass_over_many_listings_reads_what_the_loop_reads(base: str, html: str) -> None:
    for _ in range(2):  # the panel shape, then the run of panels, learned from the real page
        _scan(base, URL)
    assert _scan(html, URL) == _scan(html, URL, whole=False) == _scan(html, URL, panels=False)


FIELD = st.lists(
    st.one_of(
        st.sampled_from(["secondhand/buy/", "panel panel-default", "<", '"', "&amp;", "€", " "]),
        st.text(max_size=6),
    ),
    max_size=4,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([make_page, make_two_line_page]),
    st.lists(st.tuples(FIELD, FIELD), min_size=2, max_size=8),
)
def test_any_title_or_price_in_a_run_reads_what_the_loop_reads(
    factory: object, fields: list[tuple[str, str]]
) -> None:
    """The panels keep pretix's template, the titles and prices are anything: whether the
    one-pass read takes the page or hands it to the loop, the listings are the same."""
    for _ in range(2):  # the panel shape, then the run of panels, learned from the real page
        _scan(factory(MANY), URL)  # type: ignore[operator]
    html = factory(fields)  # type: ignore[operator]
    assert _scan(html, URL) == _scan(html, URL, whole=False) == _scan(html, URL, panels=False)
