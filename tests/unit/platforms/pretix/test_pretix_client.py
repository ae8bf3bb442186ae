"""The client over a MockTransport: what it sends and how it reads the answers."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from pretix_pages import TOKEN, make_page

from boxoffice.errors import ConfigurationError, NetworkError
from boxoffice.platforms.pretix.client import PretixClient, event_url
from boxoffice.platforms.pretix.shop import parse_shop_page

BASE = "https://tickets.example.com"
EVENT = f"{BASE}/org/99x1/"
MARKET = f"{EVENT}secondhand/"


def test_event_url_forms() -> None:
    assert event_url("https://t.example.com", "99x1") == "https://t.example.com/99x1/"
    assert event_url("https://t.example.com/", "/org/99x1/") == "https://t.example.com/org/99x1/"
    with pytest.raises(ConfigurationError):
        event_url("tickets.example.com", "99x1")
    with pytest.raises(ConfigurationError):
        event_url("https://t.example.com", "../x")


async def test_cart_add_sends_token_referer_and_origin_and_follows_to_checkout() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/org/99x1/secondhand/":
            return httpx.Response(200, html=make_page([("Standard", "€95.00")]))
        if path.startswith("/org/99x1/secondhand/buy/"):
            return httpx.Response(302, headers={"Location": "/org/99x1/checkout/start"})
        if path == "/org/99x1/checkout/start":
            return httpx.Response(302, headers={"Location": "/org/99x1/checkout/questions/"})
        return httpx.Response(200, html="<title>Step 1 of 4</title><ol class='checkout-flow'>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        poll = await client.poll(MARKET)
        assert poll.page is not None
        listing = poll.page.listings[0]
        outcome = await client.add_to_cart(listing, page_url=client.poll_url(MARKET))
    assert seen[0].url.params["sort"] == "price_asc"
    post = seen[1]
    assert post.method == "POST"
    assert parse_qs(post.content.decode()) == {"csrfmiddlewaretoken": [TOKEN]}
    assert post.headers["referer"] == f"{MARKET}?sort=price_asc"
    assert post.headers["origin"] == BASE
    assert outcome.ok
    assert outcome.checkout_url == f"{EVENT}checkout/questions/"


async def test_a_dropped_connection_is_retried_once_transparently() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.RemoteProtocolError("GOAWAY", request=request)
        return httpx.Response(200, html=make_page([]))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        poll = await client.poll(MARKET)
    assert poll.page is not None
    assert poll.page.state == "empty"
    assert poll.fetched.reconnected
    assert client.reconnects == 1


async def test_refused_connection_is_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        with pytest.raises(NetworkError, match="cannot connect"):
            await client.discover()


async def test_marketplace_404_is_gone_and_429_is_a_throttle() -> None:
    answers = iter([httpx.Response(404), httpx.Response(429, headers={"Retry-After": "7"})])

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: next(answers))) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        gone = await client.poll(MARKET)
        limited = await client.poll(MARKET)
    assert gone.gone
    assert gone.page is None
    assert limited.throttle is not None
    assert limited.throttle.retry_after == 7.0


SHOP = """
<form method="post" action="/org/99x1/cart/add?next=/org/99x1/">
<input type="hidden" name="csrfmiddlewaretoken" value="tok123">
<div class="row product-row"><h4>Day ticket</h4>
  <div class="availability-box available"><input type="number" name="item_12"></div></div>
<div class="row product-row"><h4>Festival pass</h4>
  <div class="availability-box gone"><strong>SOLD OUT</strong></div>
  <input type="hidden" name="item_13" disabled></div>
</form>
"""


async def test_shop_add_to_cart_posts_item_fields() -> None:
    page = parse_shop_page(SHOP, EVENT)
    assert page.action_url == f"{EVENT}cart/add?next=/org/99x1/"
    day, festival = page.items
    assert (day.item_id, day.name, day.available) == ("12", "Day ticket", True)
    assert (festival.availability, festival.available) == ("gone", False)
    assert page.item("pass") == festival

    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(302, headers={"Location": "/org/99x1/checkout/start"})
        if request.url.path.endswith("checkout/start"):
            return httpx.Response(302, headers={"Location": "/org/99x1/checkout/questions/"})
        return httpx.Response(200, html="<title>Step 1 of 3</title>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        outcome = await client.shop_add(page, "12")
    assert parse_qs(posts[0].content.decode()) == {
        "csrfmiddlewaretoken": ["tok123"],
        "item_12": ["1"],
    }
    assert outcome.ok
    assert outcome.checkout_url == f"{EVENT}checkout/questions/"
