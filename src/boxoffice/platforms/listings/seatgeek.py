"""SeatGeek's public event stats: ``GET {base}/events/{id}?client_id=…`` → ``stats``.

The answer's ``stats`` object carries ``lowest_price``, ``average_price``, ``median_price``,
``highest_price`` and ``listing_count``; they are stored as a stats snapshot (no listings).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import httpx

from boxoffice.errors import ProtocolError
from boxoffice.platforms.listings._http import get_json
from boxoffice.platforms.listings.models import (
    MAX_QUANTITY,
    FetchResult,
    StatsSnapshot,
    check_price,
)

DEFAULT_BASE_URL = "https://api.seatgeek.com/2"


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_event_stats(data: Any, skipped: list[str] | None = None) -> StatsSnapshot:
    """A SeatGeek event object → :class:`StatsSnapshot` (missing figures stay None).

    A price that is negative or absurd (above :data:`MAX_PRICE`), or a count out of range, is
    dropped (None) and its reason appended to ``skipped``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("stats"), dict):
        raise ProtocolError("SeatGeek: the event has no 'stats' object")
    stats = data["stats"]

    def price(key: str) -> float | None:
        value = _num(stats.get(key))
        if value is None:
            return None
        try:
            return check_price(value, f"stats.{key}")
        except ValueError as exc:
            if skipped is not None:
                skipped.append(str(exc))
            return None

    count = _num(stats.get("listing_count"))
    if count is not None and not 0 <= count <= MAX_QUANTITY:
        if skipped is not None:
            skipped.append(f"stats.listing_count {count:g} out of range")
        count = None
    return StatsSnapshot(
        lowest=price("lowest_price"),
        average=price("average_price"),
        median=price("median_price"),
        highest=price("highest_price"),
        listing_count=int(count) if count is not None else None,
    )


class SeatGeekClient:
    """Client of SeatGeek's public events endpoint (``client_id`` is SeatGeek's public key)."""

    name = "seatgeek"

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        client_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.client_id = client_id

    async def fetch(self, external_id: str) -> FetchResult:
        """A stats snapshot of the event (SeatGeek's public API has no per-listing data)."""
        params = {"client_id": self.client_id} if self.client_id else None
        data = await get_json(
            self.client,
            f"{self.base_url}/events/{quote(external_id, safe='')}",
            what=f"SeatGeek, event {external_id}",
            params=params,
        )
        skipped: list[str] = []
        stats = parse_event_stats(data, skipped)
        return FetchResult(stats=stats, skipped=skipped)
