"""boxoffice's pretix client (platforms/pretix) against real pretix over HTTPS.

The regular shop flow (add-to-cart form ``item_<id>`` → ``/checkout/questions/``), the
marketplace discovery/parse/buy path, a listing taken by someone else, Django's CSRF and
Referer checks, and a marketplace switched off — all judged by the same interpreters the
watch job uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pretix_peer import PretixPeer

from boxoffice.core.http import CookieJar, HttpOptions, create_client
from boxoffice.errors import NetworkError
from boxoffice.platforms.pretix import PretixClient
from boxoffice.platforms.pretix.interpret import Hop, interpret_cart_chain

pytestmark = pytest.mark.pretix


@asynccontextmanager
async def _client(peer: PretixPeer) -> AsyncIterator[tuple[PretixClient, CookieJar]]:
    jar = CookieJar()
    async with create_client(options=HttpOptions(verify=str(peer.ca_file)), cookies=jar) as http:
        yield PretixClient(http, base_url=peer.base_url, event=peer.event_slug), jar


def _cart_of(peer: PretixPeer, jar: CookieJar) -> list[str]:
    session = jar.get("__Host-pretix_session")
    assert session, f"no __Host-pretix_session cookie: {[c.name for c in jar.items()]}"
    return [p["item"] for p in peer.cart_positions() if p["cart_id"].endswith("@" + session)]


async def test_shop_add_to_cart_form_reaches_checkout_questions(pretix: PretixPeer) -> None:
    async with _client(pretix) as (client, jar):
        page = await client.shop_page()
        assert page.action_url is not None
        assert "/cart/add" in page.action_url
        assert page.csrf_token
        vip = page.item("VIP")
        assert vip is not None
        assert vip.available
        assert vip.item_id == str(pretix.items["VIP"])

        outcome = await client.shop_add(page, vip.item_id)

    assert outcome.result == "checkout", outcome
    assert outcome.checkout_url is not None
    assert outcome.checkout_url.endswith(f"/{pretix.event_slug}/checkout/questions/")
    assert any("/checkout/start" in url for url in outcome.chain), outcome.chain
    # pretix's cookies over HTTPS carry the __Host- prefix; the cart is this session's.
    names = {c.name for c in jar.items()}
    assert {"__Host-pretix_csrftoken", "__Host-pretix_session"} <= names
    assert "pretix_session" not in names
    assert _cart_of(pretix, jar) == ["VIP"]


async def test_marketplace_discovery_poll_and_buy(pretix: PretixPeer) -> None:
    async with _client(pretix) as (client, jar):
        discovery = await client.discover()
        assert discovery.marketplace_url == pretix.marketplace_url

        empty = await client.poll(discovery.marketplace_url)
        assert empty.page is not None
        assert empty.page.state == "empty"

        pretix.add_listing("VIP", "150.00")
        pretix.add_listing("Standard", "40.00")
        poll = await client.poll(discovery.marketplace_url)
        assert poll.page is not None
        assert poll.page.state == "listings"
        assert poll.page.parser == "fast", "real pretix markup must take the fast path"
        found = [(x.ticket_type, x.price, x.currency) for x in poll.page.listings]
        assert found == [("Standard", "40.00", "EUR"), ("VIP", "150.00", "EUR")]

        outcome = await client.add_to_cart(
            poll.page.listings[0], page_url=str(poll.fetched.response.url)
        )

    assert outcome.ok, outcome
    assert "/checkout/" in (outcome.checkout_url or "")
    assert _cart_of(pretix, jar) == ["Standard"]


async def test_listing_taken_by_someone_else_is_judged_taken(pretix: PretixPeer) -> None:
    pretix.add_listing("Standard", "45.00")
    async with _client(pretix) as (first, _), _client(pretix) as (second, second_jar):
        url = pretix.marketplace_url
        seen_first = await first.poll(url)
        seen_second = await second.poll(url)
        assert seen_first.page is not None
        assert seen_second.page is not None
        won = await first.add_to_cart(
            seen_first.page.listings[0], page_url=str(seen_first.fetched.response.url)
        )
        lost = await second.add_to_cart(
            seen_second.page.listings[0], page_url=str(seen_second.fetched.response.url)
        )

    assert won.result == "checkout"
    assert lost.result == "taken", lost
    assert lost.final_url.startswith(pretix.marketplace_url)
    assert "no longer available" in lost.message
    session = second_jar.get("__Host-pretix_session")
    assert not [p for p in pretix.cart_positions() if session and p["cart_id"].endswith(session)]


async def test_buy_without_same_origin_referer_is_refused(pretix: PretixPeer) -> None:
    """Django's HTTPS Referer check is real here: a POST with the right token but no
    Referer/Origin gets 403, which the interpreter reports as ``forbidden``."""
    pretix.add_listing("Standard", "45.00")
    async with _client(pretix) as (client, _):
        poll = await client.poll(pretix.marketplace_url)
        assert poll.page is not None
        assert poll.page.listings
        listing = poll.page.listings[0]
        for headers in ({}, {"Referer": "https://evil.example/", "Origin": "https://evil.example"}):
            response = await client.http.post(
                listing.buy_url, data={"csrfmiddlewaretoken": listing.csrf_token}, headers=headers
            )
            assert response.status_code == 403
            assert interpret_cart_chain([Hop.from_response(response)]).result == "forbidden"
    # Nothing was sold: the listing is still on offer.
    assert [x["state"] for x in pretix.listings() if x["buy_path"] in listing.buy_url] == [
        "available"
    ]


async def test_switched_off_marketplace_is_gone_and_unlinked(pretix: PretixPeer) -> None:
    pretix.set_marketplace(False)
    async with _client(pretix) as (client, _):
        discovery = await client.discover()
        poll = await client.poll(pretix.marketplace_url)
    assert discovery.fetched.hop.status == 200
    assert discovery.marketplace_url is None
    assert poll.gone
    assert poll.page is None
    pretix.set_marketplace(True)


async def test_plain_http_client_cannot_reach_https_pretix(pretix: PretixPeer) -> None:
    """Without the CA the self-signed server is refused (the CA option is what trusts it)."""
    async with create_client(options=HttpOptions(), cookies=CookieJar()) as http:
        client = PretixClient(http, base_url=pretix.base_url, event=pretix.event_slug)
        with pytest.raises(NetworkError, match="TLS error") as caught:
            await client.discover()
    assert "certificate" in caught.value.one_line().lower()
