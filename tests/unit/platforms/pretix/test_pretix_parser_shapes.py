"""The parser on pretix's own rendering variants: two-line buy forms with an absolute action,
panels whose indentation differs within a page, and buy URLs resolved like ``urljoin``."""

from __future__ import annotations

from urllib.parse import urljoin

from hypothesis import given
from hypothesis import strategies as st
from pretix_pages import TOKEN, make_page, make_two_line_page

from boxoffice.platforms.pretix.parser import (
    _buy_url,
    parse_marketplace,
    parse_marketplace_dom,
    parse_marketplace_fast,
)

URL = "https://tickets.example.com/org/99x1/secondhand/?sort=price_asc"
LISTINGS = [("Standard", "€45.00"), ("VIP", "€150.00"), ("Camping &amp; Car", "95,00 €")]


def test_two_line_forms_with_absolute_actions_are_read_by_the_fast_path() -> None:
    html = make_two_line_page(LISTINGS)
    result = parse_marketplace(html, URL)
    assert result.parser == "fast"
    assert [(x.ticket_type, x.price, x.currency) for x in result.listings] == [
        ("Standard", "45.00", "EUR"),
        ("VIP", "150.00", "EUR"),
        ("Camping & Car", "95.00", "EUR"),
    ]
    assert [x.buy_url for x in result.listings] == [
        f"https://tickets.example.com/org/99x1/secondhand/buy/{n}/" for n in (101, 102, 103)
    ]
    assert {x.csrf_token for x in result.listings} == {TOKEN}
    assert result.listings == parse_marketplace_dom(html, URL)


def test_panels_indented_differently_on_one_page_are_all_read() -> None:
    html = make_two_line_page(LISTINGS, indents=(16, 4, 24))
    for _ in range(2):  # the second parse starts from the shape the first one learned
        assert parse_marketplace_fast(html, URL) == parse_marketplace_dom(html, URL)
        assert len(parse_marketplace(html, URL).listings) == 3


def test_the_same_page_url_with_another_shape_is_read_the_same() -> None:
    two_line = make_two_line_page(LISTINGS)
    one_line = make_page(LISTINGS)
    for html in (two_line, one_line, two_line):
        assert parse_marketplace_fast(html, URL) == parse_marketplace_dom(html, URL)


def test_a_marker_in_a_title_is_not_taken_for_the_buy_form() -> None:
    html = make_two_line_page([("Standard secondhand/buy/ resale", "€45.00"), ("VIP", "€9.00")])
    assert parse_marketplace_fast(html, URL) == parse_marketplace_dom(html, URL)


PREFIXES = st.sampled_from(
    [
        "https://tickets.example.com/org/99x1/secondhand/buy/",
        "https://other.example.com/x/secondhand/buy/",
        "/org/99x1/secondhand/buy/",
        "//cdn.example.com/secondhand/buy/",
        "secondhand/buy/",
        "../secondhand/buy/",
        "./a/../secondhand/buy/",
        "/org/99x1/secondhand/buy/?x=secondhand/buy/",
        "/org/%7Eev/secondhand/buy/",
    ]
)
PAGES = st.sampled_from(
    [
        URL,
        "https://tickets.example.com/org/99x1/secondhand/",
        "http://127.0.0.1:8000/a/b/c",
        "https://tickets.example.com",
    ]
)


@given(PAGES, PREFIXES, st.text(alphabet="09azAZ-_/.?#%:", max_size=12))
def test_buy_urls_are_resolved_exactly_like_urljoin(page: str, prefix: str, rest: str) -> None:
    for _ in range(2):  # first resolution, then the remembered prefix
        assert _buy_url(page, prefix + rest) == urljoin(page, prefix + rest)


def test_an_i18n_catalog_phrase_in_a_script_is_not_an_inactive_marketplace() -> None:
    html = make_page([]).replace("No tickets available", "Nothing here yet") + (
        '<script type="application/json" id="i18n">'
        '{"The marketplace is not active": "Der Marktplatz ist nicht aktiv"}</script>'
    )
    assert parse_marketplace(html, URL).state == "unknown"
    shown = html.replace("Nothing here yet", "The resale marketplace is closed for now")
    result = parse_marketplace(shown, URL)
    assert result.state == "inactive"
    assert result.detail == "resale marketplace is closed"


def test_case_folded_words_still_mark_a_page_inactive() -> None:
    for word in (
        "SECONDHAND",
        "Marketplace",
        "re\u017fale",
        "mar\u212aetplace",
    ):  # ſ, K fold to s, k
        html = f"<html><body><p>The {word} is deactivated.</p></body></html>"
        assert parse_marketplace(html, URL).state == "inactive", word
