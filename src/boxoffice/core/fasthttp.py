"""httpx transports for hot paths: HTTP/1.1 over aiohttp's C parser, HTTP/2 where offered.

:class:`AiohttpTransport` is an ``httpx.AsyncBaseTransport`` that sends each request through
one aiohttp session (keep-alive pool, certifi's CAs like httpx). It is only the wire: the
httpx client around it still builds the request (headers, the Cookie header from its jar),
stores every Set-Cookie of the answer in that jar, follows nothing, decodes the body and runs
the event hooks — so cookies, redirects and metrics behave exactly as with httpx's own
transport, at about a quarter of its CPU per exchange. aiohttp errors are raised as the httpx
exceptions httpx's transport raises for the same failure (``ConnectError``,
``RemoteProtocolError``, ``ReadError``, ``ReadTimeout`` …), so retries and error mapping
are unchanged.

:class:`AdaptiveTransport` keeps HTTP/2: an ``https`` origin is first asked through httpx's
HTTP/2-capable transport; when the server does not negotiate HTTP/2 there (ALPN), that
origin's later requests go through :class:`AiohttpTransport` and the first connection is
closed, so a watch still polls over one connection. Plain ``http`` origins (no HTTP/2
without TLS) use aiohttp from the start. aiohttp is imported when the first request is sent.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    import aiohttp

Origin = tuple[str, str, int | None]


def aiohttp_ssl(verify: bool | str, make_context: Any) -> ssl.SSLContext | bool:
    """aiohttp's ``ssl=``: the same trust as httpx (certifi's CAs, plus ``verify``'s CA file),
    always a context of its own (httpx's transport sets ALPN on the one it is given)."""
    if verify is False:
        return False
    if verify is True:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    context: ssl.SSLContext = make_context()
    return context


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as an httpx stream (chunks as they arrive)."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as exc:  # aiohttp's payload/OS errors, as httpx names them
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


def _httpx_error(exc: BaseException, request: httpx.Request) -> Exception:
    """The httpx exception httpx's own transport raises for the same failure."""
    import aiohttp

    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return httpx.ConnectError(f"SSL: {text}", request=request)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):  # its text names "ssl:…" always
        return httpx.ConnectError(str(exc.os_error) or text, request=request)
    if isinstance(exc, TimeoutError):  # aiohttp's socket read timeout
        return httpx.ReadTimeout(text, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed answer
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(text, request=request)
    if isinstance(exc, aiohttp.ClientOSError | OSError):
        return httpx.ReadError(text, request=request)
    return httpx.TransportError(text, request=request)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 through one aiohttp session (opened at the first request, in its loop)."""

    def __init__(
        self, *, ssl_context: Callable[[], ssl.SSLContext | bool], limits: httpx.Limits
    ) -> None:
        self._make_ssl = ssl_context  # called at the first https request (CAs cost memory)
        self._ssl: ssl.SSLContext | bool | None = None
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._no_auto: frozenset[str] = frozenset()

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        limits = self._limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry
            if limits.keepalive_expiry is not None
            else 15.0,
        )
        # every header is the httpx client's: aiohttp adds none of its own
        self._no_auto = frozenset(
            ("User-Agent", "Accept", "Accept-Encoding", "Content-Type", "Content-Length")
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # the httpx client's jar is the only one
            auto_decompress=False,  # httpx decodes Content-Encoding itself
            trust_env=False,  # proxies are httpx's mounts, never this transport
            skip_auto_headers=self._no_auto,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    def _timeout(self, spec: Any) -> aiohttp.ClientTimeout:
        import aiohttp

        values = spec if isinstance(spec, dict) else {}
        key = (values.get("connect"), values.get("read"), values.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=key[2], sock_connect=key[0], sock_read=key[1]
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from yarl import URL

        session = self._session or self._open()
        tls: ssl.SSLContext | bool = True
        if request.url.scheme == "https":
            if self._ssl is None:
                self._ssl = self._make_ssl()
            tls = self._ssl
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request.extensions.get("timeout")),
                ssl=tls,
            )
        except Exception as exc:
            raise _httpx_error(exc, request) from exc
        return self._response(response, request, with_request=False)

    async def send_raw(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        timeout: dict[str, float | None],
        make_request: Callable[[], httpx.Request],
    ) -> httpx.Response:
        """:meth:`handle_async_request` for a request given as its parts (``headers``: all
        but Host and Content-Length, which aiohttp writes as httpx would); its
        ``httpx.Request`` is made by ``make_request()`` once the request has left."""
        from yarl import URL

        session = self._session or self._open()
        tls: ssl.SSLContext | bool = True
        if url.startswith("https:"):
            if self._ssl is None:
                self._ssl = self._make_ssl()
            tls = self._ssl
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=[*headers, ("Content-Length", str(len(body)))],
                data=body,
                allow_redirects=False,
                timeout=self._timeout(timeout),
                ssl=tls,
            )
        except Exception as exc:
            raise _httpx_error(exc, make_request()) from exc
        return self._response(response, make_request())

    def _response(
        self, response: aiohttp.ClientResponse, request: httpx.Request, *, with_request: bool = True
    ) -> httpx.Response:
        """The httpx response of an aiohttp one. A body already received whole with the
        headers (a page on loopback, a redirect) is handed over as one in-memory chunk and the
        connection released at once: no read through aiohttp's stream."""
        version = response.version
        stream: httpx.AsyncByteStream | httpx.ByteStream
        if response.content.is_eof():
            try:
                stream = httpx.ByteStream(response.content.read_nowait())
            except Exception as exc:  # the payload failed: as when read as a stream
                response.release()
                raise _httpx_error(exc, request) from exc
            response.release()
        else:
            stream = _Body(response, request)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=stream,
            request=request if with_request else None,
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode()
                if version
                else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


class AdaptiveTransport(httpx.AsyncBaseTransport):
    """HTTP/2 through httpx's transport where the server negotiates it, aiohttp elsewhere."""

    def __init__(
        self,
        *,
        http2: bool,
        limits: httpx.Limits,
        verify: ssl.SSLContext | bool,
        aiohttp_ssl: Callable[[], ssl.SSLContext | bool],
    ) -> None:
        self._http2 = http2
        self._limits = limits
        self._verify = verify
        self.http1 = AiohttpTransport(ssl_context=aiohttp_ssl, limits=limits)
        self._h2: httpx.AsyncHTTPTransport | None = None
        self._h2_origins: set[Origin] = set()  # answered over HTTP/2: stay there
        self._h1_origins: set[Origin] = set()  # answered over HTTP/1.1: aiohttp from now on
        self._retire: bool = False

    def _httpcore(self) -> httpx.AsyncHTTPTransport:
        if self._h2 is None:
            self._h2 = httpx.AsyncHTTPTransport(
                verify=self._verify, http2=True, limits=self._limits
            )
        return self._h2

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if not self._http2 or url.scheme != "https":
            return await self.http1.handle_async_request(request)
        origin: Origin = (url.scheme, url.host, url.port)
        if origin in self._h1_origins:
            if self._retire:  # the first, HTTP/1.1 connection is no longer needed
                self._retire = False
                if self._h2 is not None and not self._h2_origins:
                    h2, self._h2 = self._h2, None
                    await h2.aclose()
            return await self.http1.handle_async_request(request)
        response = await self._httpcore().handle_async_request(request)
        if response.extensions.get("http_version") == b"HTTP/2":
            self._h2_origins.add(origin)
        else:
            self._h1_origins.add(origin)
            self._retire = True
        return response

    async def send_raw(
        self,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        timeout: dict[str, float | None],
        make_request: Callable[[], httpx.Request],
    ) -> httpx.Response | None:
        """A POST through :meth:`AiohttpTransport.send_raw` when its origin is served over
        HTTP/1.1 here (plain http, or https that did not negotiate HTTP/2); else None."""
        if self._http2 and url.startswith("https:"):
            parts = urlsplit(url)
            port = parts.port if parts.port not in (None, 443) else None
            if ("https", parts.hostname or "", port) not in self._h1_origins:
                return None
        elif not url.startswith("http:") and not url.startswith("https:"):
            return None
        return await self.http1.send_raw("POST", url, headers, body, timeout, make_request)

    async def aclose(self) -> None:
        try:
            await self.http1.aclose()
        finally:
            if self._h2 is not None:
                h2, self._h2 = self._h2, None
                await h2.aclose()
