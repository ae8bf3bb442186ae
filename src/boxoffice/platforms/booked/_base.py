"""Shared plumbing of the two dialect clients: HTTP client, language, timing."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import time
from typing import Any

import httpx

from boxoffice.core import http as core_http
from boxoffice.core.pacing import parse_retry_after
from boxoffice.errors import RateLimitedError, map_exception
from boxoffice.platforms.booked.models import BookedSession, zone


def accept_language(language: str) -> str:
    """``de_de`` → ``de-DE,de;q=0.9,en;q=0.5`` (what a browser with that UI language sends)."""
    lang, _, region = language.replace("-", "_").partition("_")
    lang = lang.lower() or "en"
    tag = f"{lang}-{region.upper()}" if region else lang
    return f"{tag},{lang};q=0.9,en;q=0.5"


def _honour_rate_limit(response: httpx.Response, what: str) -> httpx.Response:
    """A 429 is never interpreted as an answer: it stops the caller (fair play)."""
    if response.status_code == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise RateLimitedError(
            f"{what}: the server asked to slow down (HTTP 429)",
            retry_after=retry_after,
            status_code=429,
            hint=f"wait {retry_after:g} s before trying again"
            if retry_after is not None
            else "wait a while before trying again",
        )
    return response


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
        options: core_http.HttpOptions | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.timezone = timezone
        self.tz = zone(timezone)
        self.session: BookedSession | None = None
        self.owner_id = owner_id
        self._options = dataclasses.replace(
            options or core_http.HttpOptions(), verify=verify, max_connections=max_connections
        )
        self._transport = transport
        self._headers = {"Accept-Language": accept_language(language)}
        self.http: core_http.BoxofficeClient = core_http.create_client(
            options=self._options,
            transport=transport,
            headers=self._headers,
            follow_redirects=False,
        )
        self.http.cookies.set("language", language, domain=self._host)
        self.lanes: list[core_http.BoxofficeClient] = []

    def open_lanes(self, count: int) -> None:
        """Burst lanes: one single-connection client per attempt in flight.

        They share the main client's cookie jar. One pool per connection keeps each request's
        path through the connection pool short (httpcore scans every pooled connection on
        each request), which matters when 32 requests leave at the same instant.
        """
        if len(self.lanes) >= count:
            return
        single = dataclasses.replace(self._options, max_connections=1)
        verify = self._lane_ssl()
        limits = httpx.Limits(
            max_connections=1,
            max_keepalive_connections=1,
            keepalive_expiry=self._options.keepalive_expiry,
        )
        while len(self.lanes) < count:
            transport = self._transport or httpx.AsyncHTTPTransport(
                verify=verify, http2=self._options.http2, limits=limits
            )
            self.lanes.append(
                core_http.create_client(
                    options=single,
                    transport=transport,
                    cookies=self.http.cookie_jar,
                    headers=self._headers,
                    follow_redirects=False,
                )
            )

    def _lane_ssl(self) -> ssl.SSLContext | bool:
        """One TLS context for every lane (building one per client costs tens of ms)."""
        verify = self._options.ssl_context()
        if verify is True:
            import certifi

            return ssl.create_default_context(cafile=certifi.where())
        return verify

    @property
    def _host(self) -> str:
        return httpx.URL(self.base_url).host

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` under the base URL."""
        return f"{self.base_url}/{path.lstrip('/')}"

    async def send(
        self, method: str, path: str, *, what: str, lane: int | None = None, **kw: Any
    ) -> httpx.Response:
        """Send one request (on burst lane ``lane`` if open); transport failures become
        boxoffice errors naming ``what``."""
        try:
            response = await self._client(lane).request(method, self.url(path), **kw)
        except httpx.HTTPError as exc:
            raise map_exception(exc, context=what) from exc
        return _honour_rate_limit(response, what)

    def _client(self, lane: int | None) -> core_http.BoxofficeClient:
        if lane is not None and self.lanes:
            return self.lanes[lane % len(self.lanes)]
        return self.http

    def build(self, method: str, path: str, **kw: Any) -> httpx.Request:
        """A request built now (cookies, headers, body encoded) to be sent later."""
        request = self.http.build_request(method, self.url(path), **kw)
        request.read()  # encode a multipart body now, not at send time
        return request

    async def send_built(
        self, request: httpx.Request, *, what: str, lane: int | None = None
    ) -> httpx.Response:
        """Send a request made by :meth:`build` (on burst lane ``lane`` if open)."""
        try:
            response = await self._client(lane).send(request)
        except httpx.HTTPError as exc:
            raise map_exception(exc, context=what) from exc
        return _honour_rate_limit(response, what)

    async def timed(
        self, method: str, path: str, *, what: str, **kw: Any
    ) -> tuple[httpx.Response, float]:
        """:meth:`send` plus the latency in milliseconds."""
        began = time.perf_counter()
        response = await self.send(method, path, what=what, **kw)
        return response, (time.perf_counter() - began) * 1000

    async def warm(self, connections: int) -> None:
        """Open ``connections`` burst lanes, each with its kept-alive connection, before T0."""
        self.open_lanes(connections)

        async def touch(lane: core_http.BoxofficeClient) -> None:
            try:
                await lane.head(self.url(self.probe_path))
            except httpx.HTTPError as exc:
                raise map_exception(exc, context="warming up connections") from exc

        await asyncio.gather(*(touch(lane) for lane in self.lanes[:connections]))

    async def aclose(self) -> None:
        """Close the HTTP client and the burst lanes."""
        for lane in self.lanes:
            await lane.aclose()
        await self.http.aclose()
