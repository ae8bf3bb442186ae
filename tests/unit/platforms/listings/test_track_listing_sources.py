"""Listing sources: proxy mapping, malformed listings, HTTP errors; SeatGeek stats; CSV."""

from __future__ import annotations

import io
import json

import httpx
import pytest

from boxoffice.errors import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    ProtocolError,
    RateLimitedError,
)
from boxoffice.platforms.listings.csv_import import RowError, read_listings
from boxoffice.platforms.listings.proxy import ProxyClient, parse_payload
from boxoffice.platforms.listings.seatgeek import SeatGeekClient, parse_event_stats

PAYLOAD = {
    "event_id": "151",
    "event_name": "Coldplay",
    "listings": [
        {
            "listingId": 9001,
            "section": "Floor",
            "row": "3",
            "availableTickets": 2,
            "sellerAllInPrice": {"amt": 120.5},
            "currencyCode": "GBP",
            "listingNotes": [],
        },
        {"listingId": 9002, "section": "Upper", "availableTickets": "4",
         "sellerAllInPrice": {"amt": "80"}, "currencyCode": "GBP"},
        {"listingId": None, "sellerAllInPrice": {"amt": 10}},
        {"listingId": 9004, "availableTickets": 1, "sellerAllInPrice": "n/a"},
        {"listingId": 9005, "availableTickets": 1, "sellerAllInPrice": {"amt": -3}},
        {"listingId": 9006, "availableTickets": 2**40, "sellerAllInPrice": {"amt": 5}},
        "garbage",
    ],
    "stats": {},
}  # fmt: skip


def test_proxy_mapping_and_malformed_listings_are_skipped_and_counted() -> None:
    result = parse_payload(PAYLOAD)
    assert [lst.listing_id for lst in result.listings] == ["9001", "9002"]
    first, second = result.listings
    assert first.price_per_ticket == 120.5
    assert first.quantity == 2
    assert first.total() == 241.0
    assert first.currency == "GBP"
    assert first.section == "Floor"
    assert second.quantity == 4
    assert second.total() == 320.0
    assert len(result.skipped) == 5
    assert any("listingId" in s for s in result.skipped)
    assert any("9006" in s and "out of range" in s for s in result.skipped)


def test_proxy_answer_without_listings_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="listings"):
        parse_payload({"error": "nope"})


async def test_proxy_client_sends_api_key_and_parses() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=PAYLOAD)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        proxy = ProxyClient("http://proxy.test/", client, api_key="k-123")
        result = await proxy.fetch("151")
    assert seen[0].url == "http://proxy.test/listings/151"
    assert seen[0].headers["x-api-key"] == "k-123"
    assert len(result.listings) == 2


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (401, {}, AuthenticationError),
        (429, {"retry-after": "17"}, RateLimitedError),
        (503, {}, NetworkError),
    ],
)
async def test_proxy_http_errors_map_to_the_error_tree(
    status: int, headers: dict[str, str], error: type[Exception]
) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, headers=headers))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(error) as info:
            await ProxyClient("http://p.test", client).fetch("1")
    if status == 429:
        assert isinstance(info.value, RateLimitedError)
        assert info.value.retry_after == 17


async def test_proxy_non_json_answer_is_a_protocol_error() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ProtocolError, match="not JSON"):
            await ProxyClient("http://p.test", client).fetch("1")


async def test_seatgeek_stats_snapshot() -> None:
    body = {
        "id": 42,
        "stats": {
            "listing_count": 17,
            "lowest_price": 50,
            "average_price": 80.5,
            "median_price": 75,
            "highest_price": 210,
        },
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await SeatGeekClient(client, base_url="http://sg.test/2", client_id="cid").fetch(
            "42"
        )
    assert seen[0].url.path == "/2/events/42"
    assert seen[0].url.params["client_id"] == "cid"
    assert result.listings == []
    assert result.stats is not None
    assert (result.stats.lowest, result.stats.median, result.stats.highest) == (50, 75, 210)
    assert result.stats.listing_count == 17


def test_seatgeek_event_without_stats_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        parse_event_stats({"id": 1})


def test_listings_csv_rows_and_errors_with_line_numbers() -> None:
    text = (
        "viagogo_id,listing_id,section,row,quantity,price_per_ticket,currency,captured_at\n"
        "151,a1,Floor,1,2,100.5,EUR,2026-01-01T10:00:00Z\n"
        "151,a2,Floor,1,x,100,EUR,2026-01-01T10:00:00Z\n"
        "151,a3,Floor,1,1,90,EUR,yesterday\n"
        "152,b1,,,1,50,EUR,2026-01-01 12:00:00\n"
        "152,b2,,,99999999999,50,EUR,2026-01-01 12:00:00\n"
    )
    errors: list[RowError] = []
    rows = list(read_listings(io.StringIO(text), errors=errors))
    assert [r.listing.listing_id for r in rows] == ["a1", "b1"]
    assert rows[0].listing.total() == 201.0
    assert rows[1].captured_at.tzinfo is not None
    assert rows[1].captured_at.hour == 12
    assert [e.line for e in errors] == [3, 4, 6]  # 6: a quantity no INTEGER column holds


def test_listings_csv_header_missing_columns_names_them() -> None:
    with pytest.raises(ConfigurationError, match="price_per_ticket"):
        list(read_listings(io.StringIO("viagogo_id,listing_id\n1,2\n"), errors=[]))


def test_payload_fixture_is_json_serialisable() -> None:
    assert json.loads(json.dumps(PAYLOAD))["event_id"] == "151"
