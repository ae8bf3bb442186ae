"""The listings simulator: proxy contract, API key, injected errors, SeatGeek stats, CSV."""

from __future__ import annotations

import httpx

from boxoffice.platforms.listings.proxy import ProxyClient, parse_payload
from boxoffice.platforms.listings.seatgeek import parse_event_stats
from boxoffice.platforms.sheets.rows import parse_rows
from boxoffice.platforms.sheets.sources import parse_csv_text
from boxoffice.sandbox import listings


def client_for(seed: int = 0, api_key: str | None = None) -> httpx.AsyncClient:
    app = listings.create_app(seed=seed, api_key=api_key)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")


async def test_proxy_contract_parses_and_prices_walk() -> None:
    async with client_for() as client:
        first = (await client.get("/listings/151000001")).json()
        second = (await client.get("/listings/151000001")).json()
    a, b = parse_payload(first), parse_payload(second)
    assert a.skipped == []
    assert len(a.listings) >= 15
    assert {lst.section for lst in a.listings} >= {"Floor", "Upper 230"}
    assert first["event_name"] == "Coldplay"
    prices_a = {lst.listing_id: lst.price_per_ticket for lst in a.listings}
    prices_b = {lst.listing_id: lst.price_per_ticket for lst in b.listings}
    common = set(prices_a) & set(prices_b)
    assert common  # listings persist between snapshots …
    assert any(prices_a[k] != prices_b[k] for k in common)  # … and their prices move


async def test_same_seed_same_prices() -> None:
    async with client_for(seed=5) as one, client_for(seed=5) as two:
        assert (await one.get("/listings/9")).json() == (await two.get("/listings/9")).json()


async def test_api_key_required_when_configured() -> None:
    async with client_for(api_key="sekret") as client:
        assert (await client.get("/listings/1")).status_code == 401
        ok = await client.get("/listings/1", headers={"x-api-key": "sekret"})
        assert ok.status_code == 200


async def test_injected_errors_and_malformed_listings() -> None:
    async with client_for() as client:
        await client.post(
            "/_sandbox/config",
            json={"fail_next": 2, "fail_status": 429, "retry_after": 3, "malformed_next": 1},
        )
        first = await client.get("/listings/1")
        assert first.status_code == 429
        assert first.headers["retry-after"] == "3"
        assert (await client.get("/listings/1")).status_code == 429
        answer = await client.get("/listings/1")
        assert answer.status_code == 200
        assert parse_payload(answer.json()).skipped
        stats = (await client.get("/_sandbox/stats")).json()
    assert stats["failures_injected"] == 2
    assert stats["requests"]["1"] == 3


async def test_proxy_client_against_the_simulator() -> None:
    async with client_for(api_key="k") as client:
        result = await ProxyClient("http://sim", client, api_key="k").fetch("151000002")
    assert result.listings
    assert all(
        lst.total() == round(lst.price_per_ticket * lst.quantity, 2) for lst in result.listings
    )


async def test_seatgeek_shaped_stats() -> None:
    async with client_for() as client:
        stats = parse_event_stats((await client.get("/2/events/42")).json())
    assert stats.lowest is not None
    assert stats.highest is not None
    assert stats.lowest <= (stats.median or 0) <= stats.highest
    assert (stats.listing_count or 0) > 0


async def test_events_csv_export_is_a_valid_events_sheet() -> None:
    async with client_for() as client:
        response = await client.get("/events.csv")
    assert response.headers["content-type"].startswith("text/csv")
    parsed = parse_rows(parse_csv_text(response.text))
    assert parsed.errors == []
    assert len(parsed.events) == 3
    assert len(parsed.tracked) == 2
