"""The pretix-marketplace simulator behaves like the real marketplace (DESIGN §3, §7)."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.platforms.pretix.parser import find_marketplace_link, parse_marketplace
from boxoffice.sandbox import registry
from boxoffice.sandbox.pretix_marketplace import create_app

E = "/demo/99x1"


def client_for(app: object, base: str = "http://market.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)  # type: ignore[arg-type]


async def buy(http: httpx.AsyncClient, listing_id: str, **headers: str) -> httpx.Response:
    await http.get(f"{E}/secondhand/")
    csrf = http.cookies.get("pretix_csrftoken") or http.cookies.get("__Host-pretix_csrftoken")
    return await http.post(
        f"{E}/secondhand/buy/{listing_id}/",
        data={"csrfmiddlewaretoken": csrf},
        headers=headers or {"Referer": f"{http.base_url}{E}/secondhand/"},
    )


def test_registered_under_its_name() -> None:
    app = registry.create("pretix-marketplace", seed=1)
    assert app.state.market.event == "demo/99x1"


async def test_event_page_links_the_marketplace_unless_switched_off() -> None:
    app = create_app()
    async with client_for(app) as http:
        html = (await http.get(f"{E}/")).text
        assert find_marketplace_link(html, f"http://market.test{E}/") is not None
        await http.post("/_sandbox/config", json={"event_link": False})
        html = (await http.get(f"{E}/")).text
        assert find_marketplace_link(html, f"http://market.test{E}/") is None
        assert (await http.get("/other/event/")).status_code == 404


async def test_listing_appears_after_the_scheduled_number_of_polls() -> None:
    app = create_app()
    async with client_for(app) as http:
        made = (
            await http.post("/_sandbox/listings", json={"price": "80", "after_polls": 2})
        ).json()
        states = [
            parse_marketplace((await http.get(f"{E}/secondhand/")).text).state for _ in range(3)
        ]
        assert states == ["empty", "empty", "listings"]
        page = parse_marketplace((await http.get(f"{E}/secondhand/")).text)
        assert page.listings[0].listing_id == made["id"] if "id" in made else made["listing_id"]
        assert page.listings[0].price == "80.00"


async def test_buy_needs_the_csrf_token_and_a_same_origin_referer() -> None:
    app = create_app()
    listing = app.state.market.add_listing()
    async with client_for(app) as http:
        await http.get(f"{E}/secondhand/")
        no_token = await http.post(f"{E}/secondhand/buy/{listing.listing_id}/", data={})
        assert no_token.status_code == 403
        foreign = await buy(http, listing.listing_id, Referer="https://evil.example.net/")
        assert foreign.status_code == 403
        ok = await buy(http, listing.listing_id)
        assert ok.status_code == 302
        assert ok.headers["location"] == f"{E}/checkout/start"
        again = await buy(http, listing.listing_id)
        assert again.headers["location"].startswith(f"{E}/secondhand/")


async def test_checkout_shows_the_cart_row_for_the_buying_session_only() -> None:
    app = create_app()
    listing = app.state.market.add_listing("Ticket – Weekend", "120")
    async with client_for(app) as http:
        await buy(http, listing.listing_id)
        page = await http.get(f"{E}/checkout/start", follow_redirects=True)
        assert "Step 1 of 4" in page.text
        assert 'class="checkout-flow"' in page.text
        assert "Ticket – Weekend" in page.text
    async with client_for(app) as stranger:
        other = await stranger.get(f"{E}/checkout/questions/")
        assert other.status_code == 302


async def test_https_uses_host_prefixed_cookies() -> None:
    app = create_app()
    listing = app.state.market.add_listing()
    async with client_for(app, "https://market.test") as http:
        await http.get(f"{E}/secondhand/")
        assert "__Host-pretix_csrftoken" in http.cookies
        assert "pretix_csrftoken" not in http.cookies
        response = await buy(http, listing.listing_id)
        assert response.status_code == 302
        assert "__Host-pretix_session" in response.headers["set-cookie"]
        assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize("status", [429, 409, 503])
async def test_injected_errors_answer_the_next_polls(status: int) -> None:
    app = create_app()
    async with client_for(app) as http:
        await http.post(
            "/_sandbox/inject", json={"status": status, "count": 2, "retry_after": "0.3"}
        )
        first = await http.get(f"{E}/secondhand/")
        second = await http.get(f"{E}/secondhand/")
        third = await http.get(f"{E}/secondhand/")
    assert [first.status_code, second.status_code, third.status_code] == [status, status, 200]
    assert first.headers["retry-after"] == "0.3"


async def test_inactive_marketplace_and_changed_markup() -> None:
    app = create_app()
    app.state.market.add_listing()
    async with client_for(app) as http:
        await http.post("/_sandbox/config", json={"markup": "changed"})
        changed = parse_marketplace((await http.get(f"{E}/secondhand/")).text)
        assert (changed.state, changed.parser) == ("listings", "dom")
        await http.post("/_sandbox/config", json={"markup": "broken"})
        assert parse_marketplace((await http.get(f"{E}/secondhand/")).text).state == "unknown"
        await http.post("/_sandbox/config", json={"active": False, "markup": "default"})
        assert parse_marketplace((await http.get(f"{E}/secondhand/")).text).state == "inactive"
        bad = await http.post("/_sandbox/config", json={"markup": "weird"})
        assert bad.status_code == 400


async def test_request_log_and_removal() -> None:
    app = create_app()
    listing = app.state.market.add_listing()
    async with client_for(app) as http:
        await http.get(f"{E}/secondhand/", headers={"Referer": "x"})
        assert (await http.delete(f"/_sandbox/listings/{listing.listing_id}")).json()["ok"]
        assert parse_marketplace((await http.get(f"{E}/secondhand/")).text).state == "empty"
        log = (await http.get("/_sandbox/log")).json()
        state = (await http.get("/_sandbox/state")).json()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("GET", f"{E}/secondhand/", 200),
        ("GET", f"{E}/secondhand/", 200),
    ]
    assert log[0]["t"] <= log[1]["t"]
    assert state["polls"] == 2


def test_a_page_with_three_listings_is_about_14_kb() -> None:
    from boxoffice.sandbox.pretix_marketplace import MarketState, render_marketplace

    state = MarketState()
    items = [state.add_listing(f"Type {i}", 90 + i) for i in range(3)]
    size = len(render_marketplace(state, items, "t" * 64).encode())
    assert 13_000 <= size <= 15_500
