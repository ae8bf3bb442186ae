"""Simulator of a webhook receiver that checks Vivenu-style signatures and can fail on purpose.

``create_app(seed=0, secret=None)`` — ``secret`` defaults to env ``VIVENU_SECRET``, else
``"sandbox-secret"``. ``app.state.receiver`` is the :class:`WebhookReceiver` holding the
counters (for in-process tests).

Deliveries — any ``POST`` outside ``/_sandbox/``:

* ``x-vivenu-signature`` must be the lowercase hex HMAC-SHA256 of the raw body with the secret,
  else ``401 {"error": "invalid signature"}``. When Standard Webhooks headers are present
  (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>`` — several
  space-separated signatures allowed), the base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``
  with the same secret bytes must match too (all three headers or none).
* The body must be a JSON object with a string ``id`` (else ``400``). The first time an id is
  seen it is accepted; again, it is counted as a duplicate (still ``200``, not accepted twice).
  Answer: ``200 {"ok": true, "duplicate": bool}``.

Control (JSON):

* ``POST /_sandbox/fail`` ``{"status": int, "count": int, "retry_after": float|null,
  "delay": float, "drop_after": int|null}`` — the next ``count`` deliveries (default 1 when
  ``status`` is given, else 0) answer ``status`` (with ``Retry-After`` if given) after sleeping
  ``delay`` s, before any check; a 2xx ``status`` only delays the delivery, which is then
  processed normally. ``drop_after: N`` — after N more accepted deliveries, every delivery's
  connection is closed without an answer (a simulated outage) until reset. With
  ``"ticket": "<ticket _id>"`` the ``count`` failures apply to that ticket's deliveries only
  (the others are processed normally), e.g. one ticket failing twice.
* ``POST /_sandbox/reset`` — clears failures and counters.
* ``GET /_sandbox/stats`` → ``{"received", "accepted", "duplicates", "invalid_signature",
  "failed_on_purpose", "accepted_ids", "duplicate_ids"}`` plus ``"dropped"``, ``"invalid_body"``
  and ``"failing"`` (the injected failures still pending).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from boxoffice.core import pacing

DEFAULT_SECRET = "sandbox-secret"
SECRET_ENV = "VIVENU_SECRET"
SIGNATURE_HEADER = "x-vivenu-signature"


def vivenu_signature(secret: str, body: bytes) -> str:
    """What Vivenu sends in ``x-vivenu-signature``: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """A Standard Webhooks ``webhook-signature`` value (``v1,<base64>``), same secret bytes."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class Delivery:
    """One delivery as received (kept for in-process tests)."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """The receiver's state: counters, seen ids, and the failures still to inject."""

    secret: str
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    invalid_signature: int = 0
    invalid_body: int = 0
    failed_on_purpose: int = 0
    dropped: int = 0
    accepted_ids: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    fail_status: int = 503
    fail_count: int = 0
    fail_retry_after: float | None = None
    fail_delay: float = 0.0
    drop_after: int | None = None
    ticket_failures: dict[str, list[int]] = field(default_factory=dict)
    """ticket _id → [status, failures left] (``/_sandbox/fail`` with ``ticket``)."""
    _seen: set[str] = field(default_factory=set)

    def reset(self) -> None:
        """Forget every delivery and every injected failure (the secret stays)."""
        fresh = WebhookReceiver(self.secret)
        self.__dict__.update(fresh.__dict__)

    @property
    def dropping(self) -> bool:
        """Whether the simulated outage is on."""
        return self.drop_after is not None and self.drop_after <= 0

    def stats(self) -> dict[str, Any]:
        """The ``/_sandbox/stats`` document."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "invalid_signature": self.invalid_signature,
            "failed_on_purpose": self.failed_on_purpose,
            "accepted_ids": list(self.accepted_ids),
            "duplicate_ids": list(self.duplicate_ids),
            "dropped": self.dropped,
            "invalid_body": self.invalid_body,
            "failing": {
                "status": self.fail_status,
                "count": self.fail_count,
                "retry_after": self.fail_retry_after,
                "delay": self.fail_delay,
                "drop_after": self.drop_after,
            },
        }

    def signature_ok(self, headers: dict[str, str], body: bytes) -> bool:
        """Check ``x-vivenu-signature`` and, when present, the Standard Webhooks headers."""
        given = headers.get(SIGNATURE_HEADER, "").strip()
        if not given or not hmac.compare_digest(given, vivenu_signature(self.secret, body)):
            return False
        std = [headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")]
        if not any(std):
            return True
        msg_id, timestamp, signatures = std
        if not (msg_id and timestamp and signatures):
            return False
        expected = standard_signature(self.secret, msg_id, timestamp, body)
        return any(hmac.compare_digest(s, expected) for s in signatures.split())

    def record(self, payload_id: str) -> bool:
        """Record an accepted id; False when it was seen before (a duplicate)."""
        if payload_id in self._seen:
            self.duplicates += 1
            self.duplicate_ids.append(payload_id)
            return False
        self._seen.add(payload_id)
        self.accepted += 1
        self.accepted_ids.append(payload_id)
        if self.drop_after is not None:
            self.drop_after -= 1
        return True


async def _drop_connection(send: Send) -> None:
    """End the exchange without a usable answer: headers promise a body that never comes, so
    the server closes the connection and the client sees it dropped mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-length", b"64"), (b"connection", b"close")],
        }
    )


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _number(body: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = body.get(key, default)
    if value is None or value is default:
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{key} must be {'a number' if kind is float else 'an integer'}")


class _ReceiverApp(Starlette):
    http1_fast = True  # SandboxServer serves it with uvicorn: load tests POST thousands a second


def create_app(seed: int = 0, secret: str | None = None) -> Starlette:
    """The receiver app. ``seed`` is accepted for the registry's uniformity (nothing random)."""
    del seed
    receiver = WebhookReceiver(secret or os.environ.get(SECRET_ENV) or DEFAULT_SECRET)

    async def fail(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            status = _number(body, "status", int, None)
            if status is not None and not 200 <= status <= 599:
                raise ValueError("status must be an HTTP status (200-599)")
            count = _number(body, "count", int, 1 if status is not None else 0)
            retry_after = _number(body, "retry_after", float, None)
            delay = _number(body, "delay", float, 0.0)
            drop_after = _number(body, "drop_after", int, None)
            if count < 0 or delay < 0 or (drop_after is not None and drop_after < 0):
                raise ValueError("count, delay and drop_after must be >= 0")
            ticket = body.get("ticket")
            if ticket is not None and not isinstance(ticket, str):
                raise ValueError("ticket must be a ticket _id (string)")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return _error(str(exc), 400)
        if ticket is not None:
            receiver.ticket_failures[ticket] = [status or receiver.fail_status, count]
            return JSONResponse({"ok": True, "ticket": ticket, "status": status, "count": count})
        receiver.fail_status = status if status is not None else receiver.fail_status
        receiver.fail_count = count
        receiver.fail_retry_after = retry_after
        receiver.fail_delay = delay
        if "drop_after" in body:
            receiver.drop_after = drop_after
        return JSONResponse({"ok": True, "failing": receiver.stats()["failing"]})

    async def reset(request: Request) -> Response:
        receiver.reset()
        return JSONResponse({"ok": True})

    async def stats(request: Request) -> Response:
        return JSONResponse(receiver.stats())

    async def deliver(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        receiver.received += 1
        if receiver.dropping:
            receiver.dropped += 1
            receiver.failed_on_purpose += 1
            receiver.deliveries.append(Delivery(request.url.path, headers, body, 0))
            await _drop_connection(send)
            return
        failing = (
            receiver.ticket_failures.get(_ticket_id(body) or "")
            if receiver.ticket_failures
            else None
        )
        if failing and failing[1] > 0:
            failing[1] -= 1
            receiver.failed_on_purpose += 1
            receiver.deliveries.append(Delivery(request.url.path, headers, body, failing[0]))
            await _error("failing on purpose", failing[0])(scope, receive, send)
            return
        if receiver.fail_count > 0:
            receiver.fail_count -= 1
            status = receiver.fail_status
            if receiver.fail_delay:
                await pacing.sleep(receiver.fail_delay)
            if not 200 <= status < 300:
                receiver.failed_on_purpose += 1
                extra = {}
                if receiver.fail_retry_after is not None:
                    extra["Retry-After"] = f"{receiver.fail_retry_after:g}"
                response: Response = JSONResponse(
                    {"error": "failing on purpose"}, status_code=status, headers=extra
                )
                receiver.deliveries.append(Delivery(request.url.path, headers, body, status))
                await response(scope, receive, send)
                return
        response = _process(receiver, headers, body)
        receiver.deliveries.append(Delivery(request.url.path, headers, body, response.status_code))
        await response(scope, receive, send)

    async def delivery_route(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            await _error(f"unknown control endpoint {path}", 404)(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _error("deliveries are POSTed", 405)(scope, receive, send)
            return
        await deliver(scope, receive, send)

    app = _ReceiverApp(
        routes=[
            Route("/_sandbox/fail", fail, methods=["POST"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
            Route("/_sandbox/stats", stats, methods=["GET"]),
        ]
    )
    app.router.default = delivery_route  # everything else is a delivery
    app.state.receiver = receiver
    return app


def _ticket_id(body: bytes) -> str | None:
    """The ticket ``_id`` of an envelope, if there is one (only when per-ticket failures are
    asked for, so the common path parses nothing extra)."""
    try:
        value = json.loads(body)["data"]["ticket"]["_id"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _process(receiver: WebhookReceiver, headers: dict[str, str], body: bytes) -> JSONResponse:
    if not receiver.signature_ok(headers, body):
        receiver.invalid_signature += 1
        return _error("invalid signature", 401)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        receiver.invalid_body += 1
        return _error("body must be a JSON object with a string id", 400)
    fresh = receiver.record(payload["id"])
    return JSONResponse({"ok": True, "duplicate": not fresh})
