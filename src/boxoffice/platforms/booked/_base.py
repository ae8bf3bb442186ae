"""Shared plumbing of the two dialect clients: HTTP client, language, timing."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx

from boxoffice.core import http as core_http
from boxoffice.errors import map_exception
from boxoffice.platforms.booked.models import BookedSession, zone


def accept_language(language: str) -> str:
    """``de_de`` → ``de-DE,de;q=0.9,en;q=0.5`` (what a browser with that UI language sends)."""
    lang, _, region = language.replace("-", "_").partition("_")
    lang = lang.lower() or "en"
    tag = f"{lang}-{region.upper()}" if region else lang
    return f"{tag},{lang};q=0.9,en;q=0.5"


class BaseClient:
    """HTTP client construction and request sending shared by both dialects."""

    probe_path = ""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        language: str = "en_us",
        timezone: str = "UTC",
        verify: bool | str = True,
        max_connections: int = 100,
        owner_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.timezone = timezone
        self.tz = zone(timezone)
        self.session: BookedSession | None = None
        self.owner_id = owner_id
        options = core_http.HttpOptions(verify=verify, max_connections=max_connections)
        self.http: httpx.AsyncClient = core_http.create_client(
            options=options,
            transport=transport,
            headers={"Accept-Language": accept_language(language)},
            follow_redirects=False,
        )
        self.http.cookies.set("language", language, domain=self._host)

    @property
    def _host(self) -> str:
        return httpx.URL(self.base_url).host

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` under the base URL."""
        return f"{self.base_url}/{path.lstrip('/')}"

    async def send(self, method: str, path: str, *, what: str, **kw: Any) -> httpx.Response:
        """Send one request; transport failures become boxoffice errors naming ``what``."""
        try:
            return await self.http.request(method, self.url(path), **kw)
        except httpx.HTTPError as exc:
            raise map_exception(exc, context=what) from exc

    async def timed(
        self, method: str, path: str, *, what: str, **kw: Any
    ) -> tuple[httpx.Response, float]:
        """:meth:`send` plus the latency in milliseconds."""
        began = time.perf_counter()
        response = await self.send(method, path, what=what, **kw)
        return response, (time.perf_counter() - began) * 1000

    async def warm(self, connections: int) -> None:
        """Open ``connections`` kept-alive connections before the burst.

        Each warm-up request keeps its response open until all are in, so every one of them
        must use a connection of its own; they go back to the pool idle, ready for T0.
        """
        async with contextlib.AsyncExitStack() as held:
            for _ in range(max(0, connections)):
                try:
                    response = await held.enter_async_context(
                        self.http.stream("HEAD", self.url(self.probe_path))
                    )
                    # Read to the end of the message without closing: the connection stays
                    # ours until the stack unwinds, then returns to the pool reusable.
                    stream = response.stream
                    if isinstance(stream, httpx.AsyncByteStream):
                        async for _ in stream:
                            pass
                except httpx.HTTPError as exc:
                    raise map_exception(exc, context="warming up connections") from exc

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()
