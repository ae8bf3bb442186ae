"""Read-only client of Vivenu's tickets API: ``GET {base}/api/tickets``.

Query: ``event``, ``top`` (1–1000), ``skip``, optional ``status`` (comma-separated, filtered by
the server); answer ``{"rows": [...], "total": N}``; ``Authorization: Bearer <key>``.
Paging stops on an empty page or once ``total`` (the latest one seen) is reached. 429 honours
``Retry-After``; 5xx, timeouts and dropped connections are retried with backoff; repeated 503
halve ``top`` (never below 10). A ``total`` that changes during the pull is followed (rows are
de-duplicated by ``_id``) and reported in :class:`PullReport`.

Only GET requests are ever sent: this client cannot change anything on Vivenu.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from boxoffice.core import pacing
from boxoffice.core.logging import get_logger
from boxoffice.errors import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
)

MAX_TOP = 1000
MIN_TOP = 10
log = get_logger(__name__)


@dataclass
class PullReport:
    """What happened during one paged pull (for the summary and metadata)."""

    initial_total: int | None = None
    final_total: int | None = None
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rows: int = 0
    duplicates_dropped: int = 0
    top_reductions: list[int] = field(default_factory=list)
    total_changes: list[tuple[int, int]] = field(default_factory=list)

    @property
    def total_changed(self) -> bool:
        """Whether ``total`` moved while the pull ran."""
        return bool(self.total_changes)


@dataclass(frozen=True)
class Page:
    """One page of tickets (already de-duplicated) and the ``total`` it announced."""

    rows: list[dict[str, Any]]
    total: int
    skip: int
    top: int


class TicketsClient:
    """Pages through an event's tickets. ``client`` is any ``httpx.AsyncClient`` (inject a
    transport for tests). ``key_name`` names the credential in error messages (``PROD_API``)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        *,
        key_name: str = "the API key",
        max_retries: int = 8,
        backoff: pacing.Backoff | None = None,
        halve_after_503: int = 2,
        max_connect_failures: int = 3,
        on_retry: Callable[[str, float], None] | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.key_name = key_name
        self.max_retries = max_retries
        self.backoff = backoff or pacing.Backoff(base=1.0, factor=2.0, cap=30.0)
        self.halve_after_503 = halve_after_503
        self.max_connect_failures = max_connect_failures
        self.on_retry = on_retry
        self.report = PullReport()

    @property
    def url(self) -> str:
        """The tickets endpoint."""
        return f"{self.base_url}/api/tickets"

    async def _get(self, params: dict[str, str | int]) -> httpx.Response:
        self.report.requests += 1
        return await self.client.get(
            self.url,
            params=params,
            headers={"authorization": f"Bearer {self._api_key}", "accept": "application/json"},
        )

    async def fetch_page(
        self, event: str, *, skip: int, top: int, status: str | None = None
    ) -> tuple[dict[str, Any], int]:
        """One page, retried as needed; returns (parsed JSON, the ``top`` finally used)."""
        failures = 0
        connect_failures = 0
        consecutive_503 = 0
        while True:
            params: dict[str, str | int] = {"event": event, "top": top, "skip": skip}
            if status:
                params["status"] = status
            retry_after: float | None = None
            try:
                response = await self._get(params)
            except httpx.TimeoutException as exc:
                reason = f"timeout ({type(exc).__name__})"
                consecutive_503 = 0
            except httpx.ConnectError as exc:
                connect_failures += 1
                if connect_failures >= self.max_connect_failures:
                    raise NetworkError(
                        f"cannot reach {self.base_url}: {exc or type(exc).__name__}",
                        hint="check the region's base URL (<REGION>_BASE_URL) and your network",
                    ) from exc
                reason = f"cannot connect: {exc}"
                consecutive_503 = 0
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                consecutive_503 = 0
            else:
                code = response.status_code
                if 200 <= code < 300:
                    return self._parse(response), top
                if code in (401, 403):
                    raise AuthenticationError(
                        f"{self.key_name} was refused by {self.base_url} (HTTP {code})",
                        hint=f"check {self.key_name} in your environment or .env",
                    )
                if code == 404:
                    raise NotFoundError(
                        f"event {event} not found on {self.base_url} (HTTP 404)",
                        hint="check the event id and that the key belongs to its seller",
                    )
                if code == 429:
                    retry_after = pacing.parse_retry_after(response.headers.get("retry-after"))
                    reason = "HTTP 429"
                    consecutive_503 = 0
                elif code >= 500:
                    reason = f"HTTP {code}"
                    consecutive_503 = consecutive_503 + 1 if code == 503 else 0
                else:
                    raise ProtocolError(
                        f"GET {self.url} answered HTTP {code}: {response.text[:200]}"
                    )
            failures += 1
            if failures > self.max_retries:
                if reason == "HTTP 429":
                    raise RateLimitedError(
                        f"{self.base_url} kept answering 429 after {self.max_retries} retries",
                        status_code=429,
                        hint="wait a while and run the same command again",
                    )
                raise NetworkError(
                    f"GET {self.url} failed {failures} times (last: {reason})",
                    hint="the API is down or unreachable; run the same command again later",
                )
            if consecutive_503 >= self.halve_after_503 and top > MIN_TOP:
                top = max(MIN_TOP, top // 2)
                consecutive_503 = 0
                self.report.top_reductions.append(top)
                log.debug("vivenu.top_halved", top=top)
            delay = self.backoff.delay_for(failures) if retry_after is None else retry_after
            self.report.retries += 1
            log.debug("vivenu.retry", reason=reason, wait_s=round(delay, 2), attempt=failures)
            if self.on_retry:
                self.on_retry(reason, delay)
            await pacing.sleep(delay)

    def _parse(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise ProtocolError(f"GET {self.url} did not return JSON") from exc
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("rows"), list)
            or not isinstance(data.get("total"), int)
        ):
            raise ProtocolError(
                f"GET {self.url} returned JSON without rows/total",
                hint="the Vivenu API changed or the base URL is not a Vivenu API",
            )
        return data

    async def pages(
        self, event: str, *, top: int = MAX_TOP, status: str | None = None
    ) -> AsyncIterator[Page]:
        """Yield every page of ``event``'s tickets, de-duplicated by ``_id``.

        The next page is requested while the caller processes the current one (one request
        ahead, never more), so a slow server and a busy caller overlap.
        """
        if not 1 <= top <= MAX_TOP:
            raise ConfigurationError(f"top must be between 1 and {MAX_TOP}, not {top}")
        seen: set[str] = set()
        skip = 0
        total: int | None = None
        ahead: asyncio.Task[tuple[dict[str, Any], int]] | None = asyncio.create_task(
            self.fetch_page(event, skip=0, top=top, status=status)
        )
        try:
            while ahead is not None:
                data, top = await ahead
                ahead = None
                page_total = int(data["total"])
                if total is None:
                    self.report.initial_total = page_total
                elif page_total != total:
                    self.report.total_changes.append((total, page_total))
                    log.debug("vivenu.total_changed", before=total, after=page_total)
                total = page_total
                self.report.final_total = total
                raw: list[Any] = data["rows"]
                rows: list[dict[str, Any]] = []
                for row in raw:
                    if not isinstance(row, dict):
                        raise ProtocolError(f"GET {self.url} returned a row that is not an object")
                    ticket_id = str(row.get("_id", ""))
                    if ticket_id in seen:
                        self.report.duplicates_dropped += 1
                        continue
                    seen.add(ticket_id)
                    rows.append(row)
                self.report.pages += 1
                self.report.rows += len(rows)
                page_skip = skip
                skip += len(raw)
                if raw and skip < total:
                    ahead = asyncio.create_task(
                        self.fetch_page(event, skip=skip, top=top, status=status)
                    )
                if raw:
                    yield Page(rows=rows, total=total, skip=page_skip, top=top)
        finally:
            if ahead is not None:
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
