"""Deliver one signed envelope and interpret the receiver's answer.

Only a 2xx is a delivery. Timeouts, connection errors, 408/409/425/429 and 5xx are transient
(retry later; ``Retry-After`` honoured); 401/403 mean the receiver rejected the signature or
credentials; any other 4xx is permanent (dead letter, with status and a body excerpt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from boxoffice.core.pacing import parse_retry_after
from boxoffice.core.posting import Posted, Poster, PostFailed, as_poster

OutcomeKind = Literal["delivered", "transient", "permanent", "auth"]
TRANSIENT_4XX = frozenset({408, 409, 425, 429})
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to."""

    kind: OutcomeKind
    status: int | None = None
    retry_after: float | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the receiver acknowledged the delivery (2xx)."""
        return self.kind == "delivered"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A one-line excerpt of a response body."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def interpret(response: Posted) -> Outcome:
    """Classify a receiver's HTTP answer."""
    status = response.status
    if 200 <= status < 300:
        return Outcome("delivered", status)
    body = excerpt(response.text)
    error = f"HTTP {status}" + (f": {body}" if body else "")
    if status in TRANSIENT_4XX or status >= 500:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return Outcome("transient", status, retry_after, error)
    if status in (401, 403):
        return Outcome("auth", status, None, error)
    return Outcome("permanent", status, None, error)


async def deliver(
    client: Poster | httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> Outcome:
    """POST ``body`` (already signed in ``headers``) to ``url``; never raises for HTTP/network."""
    try:
        response = await as_poster(client).post(
            url, body, {"content-type": "application/json", **headers}
        )
    except PostFailed as exc:
        return Outcome("transient", None, None, exc.message)
    return interpret(response)
