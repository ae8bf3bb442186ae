"""The vivenu simulator: realistic seeded tickets, paging rules, auth, injected failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from boxoffice.sandbox import vivenu

AUTH = {"authorization": "Bearer sandbox-key"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = vivenu.create_app(seed=3)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sim"
    ) as http:
        yield http


async def _get(http: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await http.get("/api/tickets", params=params, headers=AUTH)


async def test_seed_event_has_realistic_tickets(client: httpx.AsyncClient) -> None:
    data = (await _get(client, event=vivenu.SEED_EVENT, top=1000, skip=0)).json()
    rows = data["rows"]
    assert data["total"] == 1000
    assert len(rows) == 1000
    statuses = {r["status"] for r in rows}
    assert {"VALID", "DETAILSREQUIRED", "RESERVED", "INVALID"} <= statuses
    charity = [r for r in rows if "charity" in r["ticketName"].lower()]
    assert 0 < len(charity) < len(rows)
    assert any(not r["name"].isascii() for r in rows)
    for field in ("_id", "sellerId", "eventId", "ticketTypeId", "barcode", "createdAt", "email"):
        assert all(r[field] for r in rows), field
    created = [r["createdAt"] for r in rows]
    assert created == sorted(created)


async def test_same_seed_same_tickets_other_seed_differs() -> None:
    a = vivenu.make_ticket(1, "e", 5)
    assert a == vivenu.make_ticket(1, "e", 5)
    assert a["_id"] != vivenu.make_ticket(2, "e", 5)["_id"]


async def test_paging_and_top_limit(client: httpx.AsyncClient) -> None:
    page = (await _get(client, event=vivenu.DEV_EVENT, top=200, skip=400)).json()
    assert len(page["rows"]) == 100
    assert page["total"] == 500
    assert (await _get(client, event=vivenu.DEV_EVENT, top=1001)).status_code == 400
    assert (await _get(client, event=vivenu.DEV_EVENT, top=0)).status_code == 400
    assert (await client.get("/api/tickets", params={"top": 5}, headers=AUTH)).status_code == 400


async def test_unknown_event_is_empty(client: httpx.AsyncClient) -> None:
    assert (await _get(client, event="nope", top=10)).json() == {"rows": [], "total": 0}


async def test_bearer_key_is_checked(client: httpx.AsyncClient) -> None:
    no_key = await client.get("/api/tickets", params={"event": vivenu.DEV_EVENT})
    bad = await client.get(
        "/api/tickets", params={"event": vivenu.DEV_EVENT}, headers={"authorization": "Bearer x"}
    )
    assert no_key.status_code == bad.status_code == 401
    await client.post("/_sandbox/keys", json={"keys": ["x"]})
    good = await client.get(
        "/api/tickets", params={"event": vivenu.DEV_EVENT}, headers={"authorization": "Bearer x"}
    )
    assert good.status_code == 200


async def test_writes_are_refused_and_logged(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/tickets", json={}, headers=AUTH)).status_code == 405
    assert (await client.delete("/api/tickets/abc", headers=AUTH)).status_code == 405
    log = (await client.get("/_sandbox/log")).json()["requests"]
    assert [e["method"] for e in log] == ["POST", "DELETE"]


async def test_failure_injection_and_growth(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/fail", json={"status": 429, "count": 1, "retry_after": 3})
    throttled = await _get(client, event=vivenu.DEV_EVENT, top=10)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "3"
    assert (await _get(client, event=vivenu.DEV_EVENT, top=10)).status_code == 200
    await client.post(
        "/_sandbox/grow", json={"event": vivenu.DEV_EVENT, "after_requests": 1, "add": 5}
    )
    assert (await _get(client, event=vivenu.DEV_EVENT, top=10)).json()["total"] == 500
    assert (await _get(client, event=vivenu.DEV_EVENT, top=10)).json()["total"] == 505
    await client.post("/_sandbox/events", json={"event": "new", "count": 3})
    assert (await _get(client, event="new", top=10)).json()["total"] == 3


async def test_server_side_status_filter(client: httpx.AsyncClient) -> None:
    data = (await _get(client, event=vivenu.SEED_EVENT, top=1000, status="RESERVED")).json()
    assert data["total"] == len(data["rows"]) > 0
    assert {r["status"] for r in data["rows"]} == {"RESERVED"}
