"""The marketplace parser: states, fields, fast path vs DOM fallback, link discovery."""

from __future__ import annotations

import pytest
from pretix_pages import FOOT, HEAD, TOKEN, PageFactory, make_page

from boxoffice.platforms.pretix.parser import (
    find_marketplace_link,
    page_fingerprint,
    parse_marketplace,
    parse_marketplace_dom,
    parse_marketplace_fast,
    parse_price,
)
from boxoffice.sandbox.pretix_marketplace import MarketState, render_inactive, render_marketplace

URL = "https://tickets.example.com/org/99x1/secondhand/?sort=price_asc"


def test_listings_are_read_with_every_field(page: PageFactory) -> None:
    html = page([("Ticket – Standard", "€95.00"), ("Weekend &amp; Camping", "€1,234.50")])
    result = parse_marketplace(html, URL)
    assert result.state == "listings"
    assert result.parser == "fast"
    first, second = result.listings
    assert first.ticket_type == "Ticket – Standard"
    assert (first.price, first.currency) == ("95.00", "EUR")
    assert first.buy_url == "https://tickets.example.com/org/99x1/secondhand/buy/101/"
    assert first.csrf_token == TOKEN
    assert first.listing_id == "101"
    assert second.ticket_type == "Weekend & Camping"
    assert second.price == "1234.50"


def test_info_panel_and_other_panels_are_not_listings(page: PageFactory) -> None:
    result = parse_marketplace(page([("Standard", "€10.00")]), URL)
    assert [x.ticket_type for x in result.listings] == ["Standard"]


def test_empty_marketplace(page: PageFactory) -> None:
    result = parse_marketplace(page([]), URL)
    assert result.state == "empty"
    assert result.listings == ()


def test_inactive_marketplace_page() -> None:
    result = parse_marketplace(render_inactive(MarketState()), URL)
    assert result.state == "inactive"


def test_unrelated_page_is_unknown() -> None:
    html = HEAD.replace("Secondhand marketplace", "Maintenance") + "<p>Back soon</p>" + FOOT
    html = html.replace("How it works", "Info")
    assert parse_marketplace(html, URL).state == "unknown"
    assert parse_marketplace("", URL).state == "unknown"


def test_changed_markup_falls_back_to_the_dom_parser() -> None:
    state = MarketState(seed=3)
    state.configure(markup="changed")
    items = [state.add_listing("Early bird", "45.5"), state.add_listing("VIP", "240")]
    html = render_marketplace(state, items, TOKEN)
    assert parse_marketplace_fast(html, URL) == ()
    result = parse_marketplace(html, URL)
    assert result.state == "listings"
    assert result.parser == "dom"
    got = {(x.ticket_type, x.price, x.currency, x.csrf_token) for x in result.listings}
    assert got == {("Early bird", "45.50", "EUR", TOKEN), ("VIP", "240.00", "EUR", TOKEN)}


def test_fast_path_and_dom_agree_on_the_real_structure(page: PageFactory) -> None:
    html = page([("A", "€1.00"), ("B", "£2.50"), ("C", "CHF 30.00")])
    assert parse_marketplace_fast(html, URL) == parse_marketplace_dom(html, URL)


def test_a_panel_missing_its_price_sends_the_page_to_the_dom_parser(page: PageFactory) -> None:
    html = page([("Standard", "€95.00")]).replace('<h2 class="text-primary">', "<h2>")
    assert parse_marketplace_fast(html, URL) is None
    result = parse_marketplace(html, URL)
    assert result.parser == "dom"
    assert result.listings[0].price == "95.00"


def test_get_forms_are_not_buy_forms(page: PageFactory) -> None:
    html = page([("Standard", "€95.00")]).replace('method="post"', 'method="get"')
    assert parse_marketplace(html, URL).state == "unknown"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€95.00", ("95.00", "EUR")),
        ("€ 95", ("95", "EUR")),
        ("95,00 €", ("95.00", "EUR")),
        ("1.234,50 €", ("1234.50", "EUR")),
        ("£1,234.50", ("1234.50", "GBP")),
        ("USD 20.00", ("20.00", "USD")),
        ("CHF 1'200.00", ("1200.00", "CHF")),
        ("free", ("", None)),
    ],
)
def test_prices(text: str, expected: tuple[str, str | None]) -> None:
    assert parse_price(text) == expected


def test_marketplace_link_is_found_and_made_absolute() -> None:
    html = (
        '<a href="/org/99x1/">Shop</a><div class="alert alert-info secondhand-link">Sold out? '
        'Fans resell on our <a href="/org/99x1/secondhand/">secondhand marketplace</a>.</div>'
    )
    url = "https://tickets.example.com/org/99x1/"
    assert find_marketplace_link(html, url) == "https://tickets.example.com/org/99x1/secondhand/"


def test_marketplace_link_ignores_buy_links_and_other_hosts() -> None:
    url = "https://tickets.example.com/org/99x1/"
    html = (
        '<a href="https://evil.example.net/org/99x1/secondhand/">x</a>'
        '<a href="/org/99x1/secondhand/buy/3/">buy</a>'
    )
    assert find_marketplace_link(html, url) is None
    assert find_marketplace_link("<p>no link</p>", url) is None


def test_fingerprint_ignores_tokens_timestamps_and_cache_busters(page: PageFactory) -> None:
    one = make_page([("Standard", "€95.00")], token="a" * 64)
    two = (
        make_page([("Standard", "€95.00")], token="b" * 64)
        .replace("version=2026.8.0", "version=2026.8.1")
        .replace("2026-11-22 02:00", "2026-11-23 17:45")
    )
    assert page_fingerprint(one) == page_fingerprint(two)
    assert page_fingerprint(one) != page_fingerprint(page([]))
    assert page_fingerprint(one) != page_fingerprint(one.replace("panel-body", "card-body"))


def test_fast_path_reads_forms_written_in_another_attribute_order(page: PageFactory) -> None:
    html = (
        page([("Standard", "€95.00")])
        .replace(
            '<form method="post" action="/org/99x1/secondhand/buy/101/">',
            '<form class="buy" action="/org/99x1/secondhand/buy/101/" method="POST">',
        )
        .replace(
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{TOKEN}">',
            f'<input value="{TOKEN}" type="hidden" name="csrfmiddlewaretoken">',
        )
    )
    result = parse_marketplace(html, URL)
    assert result.parser == "fast"
    [listing] = result.listings
    assert listing.buy_url == "https://tickets.example.com/org/99x1/secondhand/buy/101/"
    assert listing.csrf_token == TOKEN


def test_buy_links_and_forms_outside_listing_panels_are_not_listings(page: PageFactory) -> None:
    stray = (
        '<p>Sold one? <a href="/org/99x1/secondhand/buy/7/">see it</a></p>'
        '<form method="post" action="/org/99x1/secondhand/buy/8/">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{TOKEN}"></form>'
    )
    html = page([("Standard", "€95.00")]).replace(
        '<div class="container">', '<div class="container">' + stray
    )
    result = parse_marketplace(html, URL)
    assert result.parser == "fast"
    assert [x.listing_id for x in result.listings] == ["101"]


def test_a_buy_form_without_its_token_sends_the_page_to_the_dom_parser(
    page: PageFactory,
) -> None:
    html = page([("Standard", "€95.00"), ("VIP", "€150.00")]).replace(
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{TOKEN}">', "", 1
    )
    assert parse_marketplace_fast(html, URL) is None
    result = parse_marketplace(html, URL)
    assert result.parser == "dom"  # which takes the page's token (one per session in Django)
    assert [(x.ticket_type, x.csrf_token) for x in result.listings] == [
        ("Standard", TOKEN),
        ("VIP", TOKEN),
    ]
