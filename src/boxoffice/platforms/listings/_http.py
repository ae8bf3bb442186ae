"""Turn a listing source's HTTP answer into data or one of boxoffice's errors."""

from __future__ import annotations

from typing import Any

import httpx

from boxoffice.core.pacing import parse_retry_after
from boxoffice.errors import (
    AuthenticationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    map_exception,
)


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    what: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Any:
    """GET ``url`` and return its JSON body; map failures (429/409 keep their Retry-After).

    5xx and transport failures become :class:`NetworkError` (worth retrying); 401/403
    :class:`AuthenticationError`; 404 :class:`NotFoundError`; a non-JSON body
    :class:`ProtocolError`.
    """
    try:
        response = await client.get(url, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise map_exception(exc, context=what) from exc
    status = response.status_code
    if status in (429, 409):
        raise RateLimitedError(
            f"{what}: HTTP {status} (slow down)",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            status_code=status,
        )
    if status in (401, 403):
        raise AuthenticationError(
            f"{what}: HTTP {status}, the API key was refused",
            hint="check the listing source's API key (track.proxy_api_key)",
        )
    if status == 404:
        raise NotFoundError(f"{what}: HTTP 404, the source does not know this event")
    if status >= 500:
        raise NetworkError(f"{what}: server error HTTP {status}")
    if status >= 400:
        raise ProtocolError(f"{what}: HTTP {status}")
    try:
        return response.json()
    except ValueError as exc:
        raise ProtocolError(f"{what}: the answer is not JSON") from exc
