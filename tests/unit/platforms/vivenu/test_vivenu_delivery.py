"""How a receiver's answer is classified: only 2xx counts as delivered."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.core.posting import Posted
from boxoffice.platforms.vivenu.delivery import deliver, interpret


def _resp(status: int, text: str = "", headers: dict[str, str] | None = None) -> Posted:
    return Posted(status, httpx.Headers(headers or {}), text)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_delivered(status: int) -> None:
    assert interpret(_resp(status)).ok


def test_429_is_transient_with_retry_after() -> None:
    outcome = interpret(_resp(429, "slow down", {"Retry-After": "7"}))
    assert outcome.kind == "transient"
    assert outcome.retry_after == 7.0
    assert "429" in outcome.error


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409])
def test_server_errors_are_transient(status: int) -> None:
    assert interpret(_resp(status)).kind == "transient"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_rejections_are_flagged(status: int) -> None:
    assert interpret(_resp(status, '{"error": "invalid signature"}')).kind == "auth"


def test_other_4xx_is_permanent_with_body_excerpt() -> None:
    outcome = interpret(_resp(422, "ticketTypeId not found in KV store\n" + "x" * 500))
    assert outcome.kind == "permanent"
    assert outcome.status == 422
    assert "ticketTypeId not found in KV store" in outcome.error
    assert len(outcome.error) < 260
    assert "\n" not in outcome.error


async def test_deliver_maps_timeouts_and_connection_errors_to_transient() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (timeout, refused):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            outcome = await deliver(client, "http://r.example/h", b"{}", {})
        assert outcome.kind == "transient"
        assert outcome.status is None


async def test_deliver_posts_the_exact_bytes_with_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        outcome = await deliver(
            client, "http://r.example/h", b'{"a":1}', {"x-vivenu-signature": "ab"}
        )
    assert outcome.ok
    assert seen[0].method == "POST"
    assert seen[0].content == b'{"a":1}'
    assert seen[0].headers["x-vivenu-signature"] == "ab"
    assert seen[0].headers["content-type"] == "application/json"
