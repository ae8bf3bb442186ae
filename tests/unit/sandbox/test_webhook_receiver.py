"""The webhook receiver simulator: signatures, duplicates, failure injection, outage."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from boxoffice.sandbox import registry, webhook_receiver
from boxoffice.sandbox.server import SandboxServer
from boxoffice.sandbox.webhook_receiver import WebhookReceiver, create_app

SECRET = "whsec-test-secret"


def envelope(ticket_id: str) -> bytes:
    return json.dumps(
        {
            "id": f"evt_{ticket_id}",
            "type": "ticket.created",
            "mode": "prod",
            "data": {"ticket": {"_id": ticket_id, "name": "Zoë"}},
        },
        ensure_ascii=False,
    ).encode()


def signed_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    """Computed independently of the simulator's helpers, as Vivenu documents it."""
    return {
        "content-type": "application/json",
        "x-vivenu-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def standard_headers(body: bytes, msg_id: str, ts: str, secret: str = SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(secret=SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/_sandbox/stats")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


async def deliver(client: httpx.AsyncClient, ticket: str, **extra: str) -> httpx.Response:
    body = envelope(ticket)
    return await client.post(
        "/ticket-created", content=body, headers={**signed_headers(body), **extra}
    )


async def test_signed_delivery_is_accepted(client: httpx.AsyncClient) -> None:
    response = await deliver(client, "t1")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    s = await stats(client)
    assert (s["received"], s["accepted"], s["duplicates"]) == (1, 1, 0)
    assert s["accepted_ids"] == ["evt_t1"]
    receiver: WebhookReceiver = client.app.state.receiver  # type: ignore[attr-defined]
    assert receiver.accepted == 1
    assert json.loads(receiver.deliveries[0].body)["data"]["ticket"]["name"] == "Zoë"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no signature
        {"x-vivenu-signature": "0" * 64},  # wrong
        {"x-vivenu-signature": "sig"},  # malformed
    ],
)
async def test_bad_signature_is_401_and_counted(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post("/ticket-created", content=envelope("t1"), headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid signature"}
    s = await stats(client)
    assert (s["received"], s["invalid_signature"], s["accepted"]) == (1, 1, 0)


async def test_signature_with_another_secret_or_other_bytes_is_rejected(
    client: httpx.AsyncClient,
) -> None:
    body = envelope("t1")
    other_secret = await client.post(
        "/hook", content=body, headers=signed_headers(body, secret="other")
    )
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    other_bytes = await client.post("/hook", content=reformatted, headers=signed_headers(body))
    assert other_secret.status_code == other_bytes.status_code == 401
    assert (await stats(client))["invalid_signature"] == 2


async def test_duplicate_id_is_counted_not_accepted_twice(client: httpx.AsyncClient) -> None:
    first = await deliver(client, "t1")
    again = await deliver(client, "t1")
    other = await deliver(client, "t2")
    assert first.json() == {"ok": True, "duplicate": False}
    assert again.status_code == 200
    assert again.json() == {"ok": True, "duplicate": True}
    assert other.json()["duplicate"] is False
    s = await stats(client)
    assert s["accepted"] == 2
    assert s["accepted_ids"] == ["evt_t1", "evt_t2"]
    assert s["duplicates"] == 1
    assert s["duplicate_ids"] == ["evt_t1"]
    assert s["received"] == 3


async def test_standard_webhooks_headers_are_verified(client: httpx.AsyncClient) -> None:
    body = envelope("t1")
    good = standard_headers(body, "msg_1", "1700000000")
    ok = await client.post("/hook", content=body, headers={**signed_headers(body), **good})
    assert ok.status_code == 200

    body2 = envelope("t2")
    forged = standard_headers(body2, "msg_2", "1700000000", secret="guess")
    bad = await client.post("/hook", content=body2, headers={**signed_headers(body2), **forged})
    assert bad.status_code == 401

    # the timestamp is signed: changing it breaks the signature
    replay = {**standard_headers(body2, "msg_2", "1700000000"), "webhook-timestamp": "1800000000"}
    moved = await client.post("/hook", content=body2, headers={**signed_headers(body2), **replay})
    assert moved.status_code == 401

    # all three or none
    partial = {"webhook-id": "msg_2"}
    half = await client.post("/hook", content=body2, headers={**signed_headers(body2), **partial})
    assert half.status_code == 401

    # several signatures (key rotation): one valid is enough
    rotated = standard_headers(body2, "msg_2", "1700000001")
    rotated["webhook-signature"] = "v1,AAAA " + rotated["webhook-signature"]
    multi = await client.post("/hook", content=body2, headers={**signed_headers(body2), **rotated})
    assert multi.status_code == 200

    s = await stats(client)
    assert s["accepted_ids"] == ["evt_t1", "evt_t2"]
    assert s["invalid_signature"] == 3


async def test_body_without_id_is_400(client: httpx.AsyncClient) -> None:
    for body in (b'{"type": "ticket.created"}', b"[1, 2]", b"not json"):
        response = await client.post("/hook", content=body, headers=signed_headers(body))
        assert response.status_code == 400
    s = await stats(client)
    assert s["invalid_body"] == 3
    assert s["accepted"] == 0


async def test_failure_injection_status_count_and_retry_after(client: httpx.AsyncClient) -> None:
    set_fail = await client.post(
        "/_sandbox/fail", json={"status": 429, "count": 2, "retry_after": 3}
    )
    assert set_fail.status_code == 200
    first = await deliver(client, "t1")
    second = await deliver(client, "t1")
    third = await deliver(client, "t1")
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "3"
    assert third.json() == {"ok": True, "duplicate": False}
    s = await stats(client)
    assert s["failed_on_purpose"] == 2
    assert s["received"] == 3
    assert s["accepted_ids"] == ["evt_t1"]


async def test_failure_injection_applies_even_to_unsigned_deliveries(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/_sandbox/fail", json={"status": 503})  # count defaults to 1
    response = await client.post("/hook", content=b"{}")
    assert response.status_code == 503
    assert "retry-after" not in response.headers
    assert (await client.post("/hook", content=b"{}")).status_code == 401


async def test_failure_delay_waits_through_pacing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(webhook_receiver.pacing, "sleep", fake_sleep)
    await client.post("/_sandbox/fail", json={"status": 500, "count": 1, "delay": 2.5})
    assert (await deliver(client, "t1")).status_code == 500
    # a 2xx "failure" is only a slow answer: the delivery is then processed normally
    await client.post("/_sandbox/fail", json={"status": 200, "count": 1, "delay": 1.5})
    slow = await deliver(client, "t2")
    assert slow.json() == {"ok": True, "duplicate": False}
    assert waits == [2.5, 1.5]
    assert (await stats(client))["failed_on_purpose"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"status": "soon"},
        {"status": 99},
        {"count": -1},
        {"delay": "x"},
        {"drop_after": 1.5},
        [1],
    ],
)
async def test_bad_fail_command_is_400(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post("/_sandbox/fail", json=body)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_reset_clears_counters_and_failures(client: httpx.AsyncClient) -> None:
    await deliver(client, "t1")
    await client.post("/_sandbox/fail", json={"status": 500, "count": 5, "drop_after": 3})
    await client.post("/_sandbox/reset")
    s = await stats(client)
    assert s["received"] == s["accepted"] == s["failed_on_purpose"] == 0
    assert s["accepted_ids"] == []
    assert s["failing"]["count"] == 0
    assert s["failing"]["drop_after"] is None
    # the id is forgotten too, and the secret is kept
    assert (await deliver(client, "t1")).json() == {"ok": True, "duplicate": False}


async def test_routing_of_control_and_delivery_paths(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_sandbox/nope", json={})).status_code == 404
    assert (await client.get("/ticket-created")).status_code == 405
    assert (await client.get("/_sandbox/fail")).status_code == 405
    # deliveries may use any path outside /_sandbox/
    assert (await deliver(client, "t1")).status_code == 200


def test_secret_defaults_to_env_then_sandbox_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIVENU_SECRET", "from-env")
    assert create_app().state.receiver.secret == "from-env"
    assert create_app(secret="given").state.receiver.secret == "given"
    monkeypatch.delenv("VIVENU_SECRET")
    assert create_app().state.receiver.secret == "sandbox-secret"
    assert registry.create("webhook").state.receiver.secret == "sandbox-secret"


# --- over a real socket: timeouts and the simulated outage ------------------------------------


@pytest.fixture
def served() -> Any:
    app = create_app(secret=SECRET)
    with SandboxServer({"webhook": app}) as urls:
        yield urls["webhook"], app.state.receiver


async def test_delay_beyond_client_timeout_is_a_timeout(served: tuple[str, Any]) -> None:
    url, _ = served
    async with httpx.AsyncClient(base_url=url, timeout=0.2) as http:
        await http.post("/_sandbox/fail", json={"status": 503, "count": 1, "delay": 1})
        with pytest.raises(httpx.ReadTimeout):
            await deliver(http, "t1")


async def test_drop_after_n_accepted_closes_connections_until_reset(
    served: tuple[str, Any],
) -> None:
    url, receiver = served
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        await http.post("/_sandbox/fail", json={"drop_after": 2})
        assert (await deliver(http, "t1")).status_code == 200
        assert (await deliver(http, "t1")).json()["duplicate"] is True  # duplicates don't count
        assert (await deliver(http, "t2")).status_code == 200
        for ticket in ("t3", "t4"):
            with pytest.raises(httpx.RemoteProtocolError):
                await deliver(http, ticket)
        s = await stats(http)
        assert s["dropped"] == 2
        assert s["failed_on_purpose"] == 2
        assert s["accepted_ids"] == ["evt_t1", "evt_t2"]
        await http.post("/_sandbox/reset")
        assert (await deliver(http, "t3")).status_code == 200
    assert receiver.accepted_ids == ["evt_t3"]
