"""The two delivery clients behind one interface, over a real socket where it matters."""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from boxoffice.core.http import HttpOptions
from boxoffice.core.posting import AiohttpPoster, HttpxPoster, PostFailed
from boxoffice.sandbox.server import SandboxServer
from boxoffice.sandbox.webhook_receiver import create_app

SECRET = "posting-test-secret"


def signed(body: bytes) -> dict[str, str]:
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-vivenu-signature": mac}


@pytest.fixture
def receiver() -> Iterator[tuple[str, Any]]:
    app = create_app(secret=SECRET)
    with SandboxServer({"webhook": app}) as urls:
        yield urls["webhook"], app.state.receiver


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_aiohttp_poster_sends_the_exact_bytes_and_reads_the_answer(
    receiver: tuple[str, Any],
) -> None:
    url, state = receiver
    body = '{"id": "evt_1", "name": "Zoë"}'.encode()
    async with AiohttpPoster(HttpOptions(user_agent="boxoffice-test/1")) as poster:
        first = await poster.post(f"{url}/hook", body, signed(body))
        again = await poster.post(f"{url}/hook", body, signed(body))
        forged = await poster.post(f"{url}/hook", body, {"x-vivenu-signature": "00"})
    assert (first.status, again.status, forged.status) == (200, 200, 401)
    assert '"duplicate":true' in again.text.replace(" ", "")
    assert "invalid signature" in forged.text
    delivered = state.deliveries[0]
    assert delivered.body == body
    assert delivered.headers["user-agent"] == "boxoffice-test/1"
    assert state.accepted_ids == ["evt_1"]


async def test_aiohttp_poster_exposes_retry_after_case_insensitively(
    receiver: tuple[str, Any],
) -> None:
    url, _ = receiver
    async with httpx.AsyncClient() as control:
        await control.post(f"{url}/_sandbox/fail", json={"status": 429, "retry_after": 7})
    async with AiohttpPoster() as poster:
        answer = await poster.post(f"{url}/hook", b"{}", {})
    assert answer.status == 429
    assert answer.headers["retry-after"] == answer.headers["Retry-After"] == "7"


async def test_aiohttp_poster_timeout_and_refused_connection_raise_post_failed(
    receiver: tuple[str, Any],
) -> None:
    url, _ = receiver
    async with httpx.AsyncClient() as control:
        await control.post(f"{url}/_sandbox/fail", json={"status": 200, "count": 1, "delay": 2})
    async with AiohttpPoster(HttpOptions(total_timeout=0.3)) as poster:
        with pytest.raises(PostFailed) as slow:
            await poster.post(f"{url}/hook", b"{}", {})
        with pytest.raises(PostFailed) as refused:
            await poster.post(f"http://127.0.0.1:{free_port()}/hook", b"{}", {})
    assert slow.value.timeout is True
    assert refused.value.timeout is False
    assert "Connect" in refused.value.message


async def test_aiohttp_poster_sees_a_dropped_connection_as_a_failure(
    receiver: tuple[str, Any],
) -> None:
    url, _ = receiver
    async with httpx.AsyncClient() as control:
        await control.post(f"{url}/_sandbox/fail", json={"drop_after": 0})
    async with AiohttpPoster() as poster:
        with pytest.raises(PostFailed):
            await poster.post(f"{url}/hook", b"{}", {})


def test_proxies_come_from_the_environment_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    poster = AiohttpPoster()
    assert poster._proxy_for("https://hooks.example.com/a") == "http://proxy.example:3128"
    assert poster._proxy_for("https://internal.example/a") is None
    assert poster._proxy_for("http://hooks.example.com/a") is None  # no HTTP_PROXY set
    monkeypatch.delenv("HTTPS_PROXY")
    assert poster._proxy_for("https://hooks.example.com/b") == "http://proxy.example:3128"


async def test_aiohttp_poster_outside_its_context_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpPoster().post("http://127.0.0.1:1/", b"", {})


async def test_httpx_poster_maps_httpx_failures() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("slow", request=request)
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(202, text="queued", headers={"Retry-After": "3"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        poster = HttpxPoster(client)
        ok = await poster.post("http://r.example/hook", b"{}", {"a": "b"})
        with pytest.raises(PostFailed) as slow:
            await poster.post("http://r.example/slow", b"{}", {})
        with pytest.raises(PostFailed) as down:
            await poster.post("http://r.example/down", b"{}", {})
    assert (ok.status, ok.text, ok.headers["retry-after"]) == (202, "queued", "3")
    assert slow.value.timeout
    assert not down.value.timeout
