"""Test doubles for the sync job: a signature-checking fake webhook receiver (MockTransport)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import httpx

from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.push import PushConfig
from boxoffice.jobs.sync.regions import Region, Target
from boxoffice.jobs.sync.schedule import RetryPolicy
from boxoffice.platforms.vivenu.signing import verify_vivenu

SECRET = "s3cret-hmac"
HOOK = "http://hooks.test/ticket-created"
Planned = httpx.Response | BaseException | Callable[[], None]


class FakeReceiver:
    """Verifies ``x-vivenu-signature``, records ids, counts duplicates; can misbehave on cue."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.plan: deque[tuple[str, Any]] = deque()
        self.accepted: list[str] = []
        self.duplicates: list[str] = []
        self.received = 0
        self.bodies: list[bytes] = []
        self.headers: list[httpx.Headers] = []
        self.per_ticket: dict[str, deque[httpx.Response]] = {}
        self.log: list[tuple[str, int]] = []  # (ticket id, status answered), in order

    def fail_ticket(self, ticket_id: str, response: httpx.Response, count: int = 1) -> None:
        """The next ``count`` deliveries of this ticket get ``response`` (others are fine)."""
        self.per_ticket.setdefault(ticket_id, deque()).extend(response for _ in range(count))

    def fail(self, response: httpx.Response, count: int = 1) -> None:
        """The next ``count`` deliveries get ``response``."""
        self.plan.extend(("response", response) for _ in range(count))

    def crash_after_accepting(self) -> None:
        """Accept the next delivery, then the sender dies before seeing the answer."""
        self.plan.append(("crash", None))

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        response = await self._answer(request)
        ticket_id = json.loads(request.content)["data"]["ticket"]["_id"]
        self.log.append((ticket_id, response.status_code))
        return response

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        self.received += 1
        ticket_id = json.loads(request.content)["data"]["ticket"]["_id"]
        if self.per_ticket.get(ticket_id):
            return self.per_ticket[ticket_id].popleft()
        kind, value = self.plan.popleft() if self.plan else ("ok", None)
        if kind == "response":
            return value  # type: ignore[no-any-return]
        body = request.content
        if not verify_vivenu(self.secret, body, request.headers.get("x-vivenu-signature")):
            return httpx.Response(401, json={"error": "invalid signature"})
        envelope_id = json.loads(body)["id"]
        self.bodies.append(body)
        self.headers.append(request.headers)
        if envelope_id in self.accepted:
            self.duplicates.append(envelope_id)
        else:
            self.accepted.append(envelope_id)
        if kind == "crash":
            raise asyncio.CancelledError  # like kill -9 between the 2xx and the ledger commit
        return httpx.Response(200, json={"ok": True})

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.accepted + self.duplicates)


def make_config(**overrides: Any) -> PushConfig:
    """A push config against region PROD of the simulator, target HOOK."""
    values: dict[str, Any] = {
        "region": Region("PROD", "PROD_API", "sandbox-key", "http://vivenu.test", None),
        "event": "68108c20c5c88849372bfb61",
        "target": Target("prod", HOOK),
        "secret": SECRET,
        "ticket_filter": TicketFilter(["VALID", "DETAILSREQUIRED"], "CHARITY"),
        "policy": RetryPolicy(schedule=(5.0, 300.0, 1800.0), cap=3600.0, max_attempts=4),
        "interval": 0.0,
    }
    values.update(overrides)
    return PushConfig(**values)
