"""The tickets client against the vivenu simulator (in-process) and mock transports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from boxoffice.errors import AuthenticationError, NetworkError, ProtocolError
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu as sim_module

EVENT = "evt0000000000000000000001"
BASE = "http://vivenu.test"


@pytest.fixture
def app() -> Any:
    application = sim_module.create_app(seed=1)
    application.state.vivenu.events[EVENT] = 2500
    return application


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


def _client(http: httpx.AsyncClient, key: str = "sandbox-key", **kw: Any) -> TicketsClient:
    return TicketsClient(http, BASE, key, key_name="PROD_API", **kw)


async def _pull(client: TicketsClient, **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async for page in client.pages(EVENT, **kw):
        rows.extend(page.rows)
    return rows


def _queries(app: Any) -> list[dict[str, str]]:
    out = []
    for entry in app.state.vivenu.log:
        params = dict(p.split("=", 1) for p in entry["query"].split("&") if p)
        out.append({**params, "status_code": str(entry["status"])})
    return out


@pytest.mark.usefixtures("instant_waits")
async def test_pages_through_every_ticket_once_with_get_only(
    app: Any, http: httpx.AsyncClient
) -> None:
    client = _client(http)
    rows = await _pull(client, top=1000)
    assert len(rows) == 2500
    assert len({r["_id"] for r in rows}) == 2500
    assert [q["skip"] for q in _queries(app)] == ["0", "1000", "2000"]
    assert {e["method"] for e in app.state.vivenu.log} == {"GET"}
    assert client.report.pages == 3
    assert not client.report.total_changed


@pytest.mark.usefixtures("instant_waits")
async def test_bad_key_names_the_env_var(http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthenticationError) as info:
        await _pull(_client(http, key="wrong"))
    assert "PROD_API" in info.value.one_line()
    assert "wrong" not in info.value.one_line()


@pytest.mark.usefixtures("instant_waits")
async def test_429_honours_retry_after(app: Any, http: httpx.AsyncClient) -> None:
    app.state.vivenu.failures.extend(
        [sim_module.Failure(429, retry_after=7), sim_module.Failure(429, retry_after=2)]
    )
    waits: list[tuple[str, float]] = []
    rows = await _pull(_client(http, on_retry=lambda r, w: waits.append((r, w))))
    assert len(rows) == 2500
    assert waits == [("HTTP 429", 7.0), ("HTTP 429", 2.0)]


@pytest.mark.usefixtures("instant_waits")
async def test_repeated_503_halves_top_not_below_10(app: Any, http: httpx.AsyncClient) -> None:
    app.state.vivenu.failures.extend(sim_module.Failure(503) for _ in range(14))
    client = _client(http, max_retries=20)
    rows = await _pull(client, top=1000)
    assert len({r["_id"] for r in rows}) == 2500
    tops = [int(q["top"]) for q in _queries(app)]
    assert tops[:3] == [1000, 1000, 500]
    assert min(tops) == 10
    assert client.report.top_reductions[:2] == [500, 250]
    assert client.report.top_reductions[-1] == 10


@pytest.mark.usefixtures("instant_waits")
async def test_5xx_backs_off_exponentially_then_gives_up(app: Any, http: httpx.AsyncClient) -> None:
    app.state.vivenu.failures.extend(sim_module.Failure(500) for _ in range(10))
    waits: list[float] = []
    with pytest.raises(NetworkError) as info:
        await _pull(_client(http, max_retries=3, on_retry=lambda r, w: waits.append(w)))
    assert waits == [1.0, 2.0, 4.0]
    assert "HTTP 500" in info.value.one_line()


@pytest.mark.usefixtures("instant_waits")
async def test_total_growing_mid_pull_is_followed_and_reported(
    app: Any, http: httpx.AsyncClient
) -> None:
    app.state.vivenu.growth[EVENT] = sim_module.Growth(after_requests=1, add=7)
    client = _client(http)
    rows = await _pull(client, top=1000)
    assert len({r["_id"] for r in rows}) == 2507
    assert client.report.total_changes == [(2500, 2507)]
    assert client.report.initial_total == 2500
    assert client.report.final_total == 2507


@pytest.mark.usefixtures("instant_waits")
async def test_server_side_status_filter(http: httpx.AsyncClient) -> None:
    rows = await _pull(_client(http), status="VALID,DETAILSREQUIRED", top=300)
    assert rows
    assert {r["status"] for r in rows} <= {"VALID", "DETAILSREQUIRED"}


@pytest.mark.usefixtures("instant_waits")
async def test_timeouts_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"rows": [{"_id": "a"}], "total": 1})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = TicketsClient(http, BASE, "k")
        rows = await _pull(client)
    assert [r["_id"] for r in rows] == ["a"]
    assert client.report.retries == 1


@pytest.mark.usefixtures("instant_waits")
async def test_duplicate_rows_across_pages_are_dropped() -> None:
    pages = {
        "0": {"rows": [{"_id": "a"}, {"_id": "b"}], "total": 4},
        "2": {"rows": [{"_id": "b"}, {"_id": "c"}], "total": 4},
        "4": {"rows": [], "total": 4},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params["skip"]])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = TicketsClient(http, BASE, "k")
        rows = await _pull(client, top=2)
    assert [r["_id"] for r in rows] == ["a", "b", "c"]
    assert client.report.duplicates_dropped == 1


async def test_unexpected_json_is_a_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(ProtocolError):
            await _pull(TicketsClient(http, BASE, "k"))


async def test_sends_bearer_key_and_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"rows": [], "total": 0})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await _pull(TicketsClient(http, BASE + "/", "k3y"), top=50)
    request = seen[0]
    assert request.method == "GET"
    assert str(request.url).startswith("http://vivenu.test/api/tickets?")
    assert request.headers["authorization"] == "Bearer k3y"
    assert dict(request.url.params) == {"event": EVENT, "top": "50", "skip": "0"}


@pytest.mark.usefixtures("instant_waits")
async def test_unreachable_host_fails_fast_naming_the_base_url() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        raise httpx.ConnectError("Name or service not known", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(NetworkError) as info:
            await _pull(TicketsClient(http, BASE, "k"))
    assert calls["n"] == 3
    assert "cannot reach http://vivenu.test" in info.value.one_line()
    assert "BASE_URL" in info.value.one_line()
