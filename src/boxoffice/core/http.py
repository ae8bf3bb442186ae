"""Async HTTP client factory and its companions: cookie jar, request metrics, response archive.

Public API (jobs and platforms code against exactly this):

``HttpOptions`` (dataclass): connect_timeout=5.0, total_timeout=10.0, keepalive_expiry=60.0,
    http2=True, verify: bool | str = True (CA file path allowed), user_agent="boxoffice/<ver>",
    max_connections=100.  ``HttpOptions.from_settings(settings.http)``.

``create_client(*, options=None, transport=None, base_url="", cookies: CookieJar | None = None,
    metrics: MetricsRecorder | None = None, headers=None, follow_redirects=False)
    -> httpx.AsyncClient``
    HTTP/2 via h2, keep-alive expiry, timeouts (total_timeout enforced as a per-request
    deadline), event hooks feeding ``metrics``; ``transport`` injectable (MockTransport, …).
    Cookies set by responses land in ``cookies`` (a CookieJar wrapping the client's jar).

``CookieJar``: persistent jar. ``CookieJar.load(path)``, ``.save(path)`` (mode 0600, atomic),
    ``.httpx_cookies`` (the httpx.Cookies the client uses), ``.items() -> list[CookieRecord]``
    where CookieRecord has name, value, domain (exact host for ``__Host-``), path, secure,
    http_only, expires. ``__Host-`` cookies keep their exact host and path "/".

``RequestMetrics`` (dataclass): method, url, status, http_version, ttfb_ms, ttlb_ms,
    bytes_received, started_at.  ``MetricsRecorder``: ``.last``, ``.all``, callback hook
    ``on_metrics(callable)``; attaches a ``RequestMetrics`` to ``response.extensions["metrics"]``.

``ResponseArchive(directory, secrets: Iterable[str] = ())``: ``.save(response, label) -> Path``
    writes request line, redacted headers and body (mode 0600); redacts Cookie, Set-Cookie,
    Authorization, CSRF tokens (csrfmiddlewaretoken, CSRF_TOKEN, X-CSRF* headers, csrftoken
    cookies) and every configured secret value.

``async request(client, method, url, **kw) -> httpx.Response``: sends, mapping httpx errors
    into ``boxoffice.errors`` via ``map_exception`` (NetworkError, …).

Details beyond the contract:

* The total deadline covers the whole exchange for ordinary requests (headers *and* body); for
  ``client.stream(...)`` it covers everything up to the response headers. A request can carry
  its own deadline with ``extensions={"total_timeout": seconds}``. An exceeded deadline raises
  :class:`RequestDeadlineExceeded`, which is both a :class:`~boxoffice.errors.NetworkError` and
  an ``httpx.TimeoutException`` (so either kind of ``except`` catches it).
* Idempotent requests (GET, HEAD, OPTIONS) that die because the server ended a kept-alive
  connection (HTTP/2 GOAWAY, reset) are retried once on a fresh connection.
* ``ResponseArchive.save`` writes the (redacted) body to ``<stamp>_<label>.<ext>`` and returns
  that path — so a saved page can be opened or parsed again — plus the request line and the
  redacted headers beside it in ``<stamp>_<label>.<ext>.headers.txt``.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import ssl
import time
import urllib.parse
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from httpx._client import UseClientDefault
from httpx._types import AuthTypes

from boxoffice import __version__
from boxoffice.core.logging import REDACTED, get_logger, redact_text
from boxoffice.core.state import write_private
from boxoffice.errors import NetworkError, StorageError, map_exception

__all__ = [
    "BoxofficeClient",
    "CookieJar",
    "CookieRecord",
    "HttpOptions",
    "MetricsRecorder",
    "RequestDeadlineExceeded",
    "RequestMetrics",
    "ResponseArchive",
    "create_client",
    "default_user_agent",
    "redact_headers",
    "request",
]

log = get_logger(__name__)

HOST_PREFIX = "__Host-"
SECURE_PREFIX = "__Secure-"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOTAL_TIMEOUT_EXTENSION = "total_timeout"


def default_user_agent() -> str:
    """``boxoffice/<version>``: who we are, honestly."""
    return f"boxoffice/{__version__}"


# --------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class HttpOptions:
    """Client settings. ``verify`` is True, False, or the path of a CA bundle to trust too."""

    connect_timeout: float = 5.0
    total_timeout: float = 10.0
    keepalive_expiry: float = 60.0
    http2: bool = True
    verify: bool | str = True
    user_agent: str = field(default_factory=default_user_agent)
    max_connections: int = 100

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> HttpOptions:
        """Options from ``settings.http`` (a ``HttpSettings``), with keyword overrides."""
        values: dict[str, Any] = {
            "connect_timeout": settings.connect_timeout,
            "total_timeout": settings.total_timeout,
            "keepalive_expiry": settings.keepalive_expiry,
            "http2": settings.http2,
            "user_agent": settings.user_agent or default_user_agent(),
        }
        values.update(overrides)
        return cls(**values)

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What httpx gets as ``verify``: True/False, or a context trusting the extra CA too."""
        if isinstance(self.verify, bool):
            return self.verify
        import certifi

        ctx = ssl.create_default_context(cafile=certifi.where())
        try:
            ctx.load_verify_locations(cafile=self.verify)
        except (OSError, ssl.SSLError) as exc:
            from boxoffice.errors import ConfigurationError

            raise ConfigurationError(
                f"cannot load CA bundle {self.verify}: {exc}",
                hint="give the path of a PEM file with the certificate(s) to trust",
            ) from exc
        return ctx


# --------------------------------------------------------------------------------------------
# metrics


@dataclass(frozen=True)
class RequestMetrics:
    """Timing and size of one HTTP exchange (one per redirect hop).

    ``ttfb_ms``: request start → response headers; ``ttlb_ms``: request start → last body byte;
    ``bytes_received``: body bytes as they came off the wire (before decompression);
    ``complete``: False when the body was not read to the end (closed early, deadline).
    """

    method: str
    url: str
    status: int
    http_version: str
    ttfb_ms: float
    ttlb_ms: float
    bytes_received: int
    started_at: datetime
    complete: bool = True


MetricsCallback = Callable[[RequestMetrics], None]


class MetricsRecorder:
    """Collects :class:`RequestMetrics` from a client's event hooks.

    Keeps the most recent ``maxlen`` entries in ``.all``; ``.last`` is the newest. Callbacks
    registered with :meth:`on_metrics` run for each finished exchange (errors in a callback are
    logged, never raised into the request).
    """

    def __init__(self, maxlen: int = 10_000) -> None:
        self._items: deque[RequestMetrics] = deque(maxlen=maxlen)
        self._callbacks: list[MetricsCallback] = []
        self._starts: weakref.WeakKeyDictionary[httpx.Request, tuple[float, datetime]] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def last(self) -> RequestMetrics | None:
        """The newest metrics, or None before the first finished request."""
        return self._items[-1] if self._items else None

    @property
    def all(self) -> list[RequestMetrics]:
        """Every kept metrics entry, oldest first."""
        return list(self._items)

    def on_metrics(self, callback: MetricsCallback) -> MetricsCallback:
        """Call ``callback(metrics)`` after each exchange; returns it (usable as decorator)."""
        self._callbacks.append(callback)
        return callback

    def record(self, metrics: RequestMetrics) -> None:
        """Store one entry and notify callbacks."""
        self._items.append(metrics)
        for callback in self._callbacks:
            try:
                callback(metrics)
            except Exception as exc:  # a broken observer must not break the request
                log.error("metrics callback failed", error=repr(exc))

    # event hooks ------------------------------------------------------------------------

    async def request_hook(self, request: httpx.Request) -> None:
        """httpx ``request`` event hook: note when the exchange starts."""
        self._starts[request] = (time.perf_counter(), datetime.now(UTC))

    def started(self, request: httpx.Request, at: float, at_utc: datetime) -> None:
        """Note when ``request``'s exchange started (perf_counter, wall clock) — for a
        request whose httpx object was made after it left (:meth:`BoxofficeClient.post_raw`)."""
        self._starts[request] = (at, at_utc)

    async def response_hook(self, response: httpx.Response) -> None:
        """httpx ``response`` event hook: headers are here; time the body as it is read."""
        now = time.perf_counter()
        start, started_at = self._starts.pop(response.request, (now, datetime.now(UTC)))
        try:
            content = response.content  # already in memory (e.g. a MockTransport response)
        except httpx.ResponseNotRead:
            if isinstance(response.stream, httpx.AsyncByteStream):
                response.stream = _TimedStream(
                    response.stream, self, response, start, started_at, now
                )
            return
        timer = _TimedStream(httpx.ByteStream(b""), self, response, start, started_at, now)
        timer.finish(complete=True, size=response.num_bytes_downloaded or len(content))


class _TimedStream(httpx.AsyncByteStream):
    """Wraps a response body stream to time its last byte and count its bytes."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        recorder: MetricsRecorder,
        response: httpx.Response,
        start: float,
        started_at: datetime,
        headers_at: float,
    ) -> None:
        self._inner = inner
        self._recorder = recorder
        self._response = weakref.ref(response)
        self._start = start
        self._started_at = started_at
        self._headers_at = headers_at
        self._bytes = 0
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._bytes += len(chunk)
            yield chunk
        self.finish(complete=True)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self.finish(complete=False)

    def finish(self, *, complete: bool, size: int | None = None) -> None:
        """Record the metrics once (at the last byte, or when closed early)."""
        if self._done:
            return
        self._done = True
        response = self._response()
        if response is None:
            return
        end = self._headers_at if size is not None else time.perf_counter()
        metrics = RequestMetrics(
            method=response.request.method,
            url=str(response.request.url),
            status=response.status_code,
            http_version=response.http_version,
            ttfb_ms=(self._headers_at - self._start) * 1000,
            ttlb_ms=(end - self._start) * 1000,
            bytes_received=self._bytes if size is None else size,
            started_at=self._started_at,
            complete=complete,
        )
        response.extensions["metrics"] = metrics
        self._recorder.record(metrics)


# --------------------------------------------------------------------------------------------
# cookies


@dataclass(frozen=True)
class CookieRecord:
    """One cookie as boxoffice stores and hands it on.

    ``domain`` is the exact host for host-only cookies (every ``__Host-`` cookie) and
    ``.example.com`` for domain cookies; ``expires`` is a Unix timestamp or None (session).
    """

    name: str
    value: str
    domain: str
    path: str = "/"
    secure: bool = False
    http_only: bool = False
    expires: float | None = None
    host_only: bool = True
    same_site: str | None = None

    @property
    def is_host_prefixed(self) -> bool:
        """True for ``__Host-`` cookies (bound to one host, path "/", secure)."""
        return self.name.startswith(HOST_PREFIX)

    @property
    def host(self) -> str:
        """The domain without a leading dot."""
        return self.domain.lstrip(".")


class _Policy(http.cookiejar.DefaultCookiePolicy):
    """Browser-like rules: host-only cookies stay on their host; prefix rules enforced."""

    def __init__(self) -> None:
        super().__init__(strict_ns_domain=http.cookiejar.DefaultCookiePolicy.DomainStrictNonDomain)

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        if cookie.name.startswith(HOST_PREFIX) and (
            not cookie.secure or cookie.domain_specified or cookie.path != "/"
        ):
            return False
        if cookie.name.startswith(SECURE_PREFIX) and not cookie.secure:
            return False
        return bool(super().set_ok(cookie, request))


def _nonstandard(cookie: http.cookiejar.Cookie, name: str) -> tuple[bool, str | None]:
    for key in (name, name.lower(), name.upper()):
        if cookie.has_nonstandard_attr(key):
            return True, cookie.get_nonstandard_attr(key)
    return False, None


def _record_of(cookie: http.cookiejar.Cookie) -> CookieRecord:
    http_only, _ = _nonstandard(cookie, "HttpOnly")
    has_same_site, same_site = _nonstandard(cookie, "SameSite")
    return CookieRecord(
        name=cookie.name,
        value=cookie.value or "",
        domain=cookie.domain,
        path=cookie.path or "/",
        secure=bool(cookie.secure),
        http_only=http_only,
        expires=float(cookie.expires) if cookie.expires is not None else None,
        host_only=not cookie.domain_specified,
        same_site=same_site if has_same_site else None,
    )


def _cookie_of(record: CookieRecord) -> http.cookiejar.Cookie:
    domain = record.domain
    host_only = record.host_only or record.is_host_prefixed
    path = "/" if record.is_host_prefixed else (record.path or "/")
    rest: dict[str, str] = {}
    if record.http_only:
        rest["HttpOnly"] = ""
    if record.same_site:
        rest["SameSite"] = record.same_site
    return http.cookiejar.Cookie(
        version=0,
        name=record.name,
        value=record.value,
        port=None,
        port_specified=False,
        domain=domain.lstrip(".") if host_only else domain,
        domain_specified=not host_only,
        domain_initial_dot=(not host_only) and domain.startswith("."),
        path=path,
        path_specified=True,
        secure=True if record.is_host_prefixed else record.secure,
        expires=int(record.expires) if record.expires is not None else None,
        discard=record.expires is None,
        comment=None,
        comment_url=None,
        rest=rest,
    )


class _CountingJar(http.cookiejar.CookieJar):
    """The stdlib jar, counting its changes: every cookie stored (``extract_cookies`` and
    ``set_cookie_if_ok`` store through ``set_cookie``) and every removal (``clear``, which
    ``clear_session_cookies`` and ``clear_expired_cookies`` use), so that a value computed
    from its cookies can be kept until the count moves."""

    changes = 0

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        self.changes += 1
        super().set_cookie(cookie)

    def clear(
        self, domain: str | None = None, path: str | None = None, name: str | None = None
    ) -> None:
        self.changes += 1
        super().clear(domain, path, name)


class CookieJar:
    """A cookie jar that the httpx client fills and that persists to a 0600 JSON file.

    Host-only cookies (all ``__Host-`` ones) keep their exact host: they are never sent to
    other hosts or subdomains, and they survive save/load unchanged.
    """

    FORMAT_VERSION = 1

    def __init__(self, jar: http.cookiejar.CookieJar | None = None) -> None:
        self._jar = jar if jar is not None else _CountingJar(policy=_Policy())
        self.path: Path | None = None

    @classmethod
    def wrap(cls, cookies: httpx.Cookies) -> CookieJar:
        """A CookieJar view over an existing ``httpx.Cookies`` (e.g. ``client.cookies``)."""
        return cls(cookies.jar)

    @classmethod
    def from_records(cls, records: Iterable[CookieRecord]) -> CookieJar:
        """A jar holding ``records``."""
        jar = cls()
        for record in records:
            jar.set(record)
        return jar

    @classmethod
    def load(cls, path: Path) -> CookieJar:
        """Load a jar saved with :meth:`save`; a missing file gives an empty jar.

        Expired cookies are dropped. The jar remembers ``path`` for ``save()``.
        """
        jar = cls()
        jar.path = path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return jar
        except OSError as exc:
            raise StorageError(f"cannot read cookie jar {path}: {exc.strerror}") from exc
        try:
            data = json.loads(raw)
            if data.get("version") != cls.FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('version')!r}")
            records = [CookieRecord(**item) for item in data["cookies"]]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StorageError(
                f"cookie jar {path} is not readable: {exc}",
                hint="delete the file to start a fresh session",
            ) from exc
        for record in records:
            jar.set(record)
        jar._jar.clear_expired_cookies()
        return jar

    def save(self, path: Path | None = None) -> Path:
        """Write the jar as JSON, atomically, mode 0600. Defaults to the path it was loaded from."""
        target = path or self.path
        if target is None:
            raise StorageError("cookie jar has no path to save to")
        self._jar.clear_expired_cookies()
        payload = {
            "version": self.FORMAT_VERSION,
            "cookies": [asdict(record) for record in self.items()],
        }
        write_private(target, json.dumps(payload, indent=1, sort_keys=True).encode())
        self.path = target
        return target

    @property
    def httpx_cookies(self) -> httpx.Cookies:
        """The ``httpx.Cookies`` sharing this jar (give it to a client; both see every change)."""
        return httpx.Cookies(self._jar)

    @property
    def stdlib_jar(self) -> http.cookiejar.CookieJar:
        """The underlying ``http.cookiejar.CookieJar``."""
        return self._jar

    def items(self) -> list[CookieRecord]:
        """Every cookie, as records."""
        return [_record_of(cookie) for cookie in self._jar]

    def set(self, record: CookieRecord) -> None:
        """Add or replace one cookie (``__Host-`` cookies are forced host-only, "/", secure)."""
        self._jar.set_cookie(_cookie_of(record))

    def get(self, name: str, domain: str | None = None) -> str | None:
        """The value of cookie ``name`` (on ``domain`` if given), or None."""
        for record in self.items():
            if record.name == name and (domain is None or record.host == domain.lstrip(".")):
                return record.value
        return None

    def for_url(self, url: str) -> list[CookieRecord]:
        """The cookies a request to ``url`` would carry."""
        request = httpx.Request("GET", url)
        headers = httpx.Cookies(self._jar)
        headers.set_cookie_header(request)
        names = {
            part.split("=", 1)[0].strip()
            for part in request.headers.get("cookie", "").split(";")
            if part.strip()
        }
        host = request.url.host
        return [
            r
            for r in self.items()
            if r.name in names and (r.host == host or host.endswith("." + r.host))
        ]

    def clear(self) -> None:
        """Forget every cookie."""
        self._jar.clear()

    def values(self) -> list[str]:
        """Every cookie value (for redaction filters)."""
        return [record.value for record in self.items() if record.value]

    def __len__(self) -> int:
        return len(self._jar)

    def __repr__(self) -> str:  # never show values
        names = ", ".join(f"{r.name}@{r.domain}" for r in self.items())
        return f"CookieJar([{names}])"


# --------------------------------------------------------------------------------------------
# client


class RequestDeadlineExceeded(NetworkError, httpx.TimeoutException):
    """The whole request took longer than its total deadline."""

    def __init__(self, message: str, *, request: httpx.Request, hint: str | None = None) -> None:
        NetworkError.__init__(self, message, hint=hint)
        self._request = request


_SETS_COOKIE = (b"set-cookie", b"set-cookie2")


class _JarCookies(httpx.Cookies):
    """``httpx.Cookies`` over the client's jar that hands an answer to the jar only when it
    sets a cookie: for one that does not, the stdlib jar would build a request and a header
    message for it and find nothing (a fifth of a poll's client-side CPU)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        for name, _ in response.headers.raw:
            if name.lower() in _SETS_COOKIE:
                super().extract_cookies(response)
                return


class BoxofficeClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` with a total per-request deadline and one retry of idempotent
    requests on a connection the server had already ended. Create it with :func:`create_client`.
    """

    def __init__(
        self,
        *,
        total_timeout: float,
        cookie_jar: CookieJar,
        metrics: MetricsRecorder,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._cookies = _JarCookies(cookie_jar.stdlib_jar)
        self.total_timeout = total_timeout
        self.cookie_jar = cookie_jar
        self.metrics = metrics

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: AuthTypes | UseClientDefault | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        deadline = float(request.extensions.get(TOTAL_TIMEOUT_EXTENSION, self.total_timeout))
        guard = asyncio.timeout(deadline)
        try:
            async with guard:
                try:
                    return await super().send(
                        request, stream=stream, auth=auth, follow_redirects=follow_redirects
                    )
                except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                    if request.method not in IDEMPOTENT_METHODS:
                        raise
                    log.debug("connection ended by server, retrying once", error=str(exc))
                    return await super().send(
                        request, stream=stream, auth=auth, follow_redirects=follow_redirects
                    )
        except TimeoutError as exc:
            if not guard.expired():  # not our deadline: someone else's TimeoutError
                raise
            raise RequestDeadlineExceeded(
                f"{request.method} {request.url.copy_with(query=None)}: no complete answer "
                f"within {deadline:g} s",
                request=request,
                hint="the server is slow or unreachable; try again or raise http.total_timeout",
            ) from exc

    async def send_direct(self, request: httpx.Request) -> httpx.Response:
        """``send(request)`` in fewer steps, for a request that needs neither auth nor
        redirects (a cart POST): the request hooks, the transport, the jar, the response
        hooks and the body, under the same deadline. No retry (not for non-idempotent
        requests anyway)."""
        deadline = float(request.extensions.get(TOTAL_TIMEOUT_EXTENSION, self.total_timeout))
        guard = asyncio.timeout(deadline)
        start = time.perf_counter()
        try:
            async with guard:
                for hook in self._event_hooks["request"]:
                    await hook(request)
                response = await self._transport_for_url(request.url).handle_async_request(request)
                response.request = request
                self.cookies.extract_cookies(response)
                response.default_encoding = self._default_encoding
                try:
                    for hook in self._event_hooks["response"]:
                        await hook(response)
                    await response.aread()
                finally:
                    await response.aclose()
                response.elapsed = timedelta(seconds=time.perf_counter() - start)
                return response
        except TimeoutError as exc:
            if not guard.expired():
                raise
            raise RequestDeadlineExceeded(
                f"{request.method} {request.url.copy_with(query=None)}: no complete answer "
                f"within {deadline:g} s",
                request=request,
                hint="the server is slow or unreachable; try again or raise http.total_timeout",
            ) from exc

    async def post_raw(
        self,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        make_request: Callable[[], httpx.Request],
    ) -> httpx.Response | None:
        """A POST sent before its ``httpx.Request`` exists, when the client's transport can
        take it so (:meth:`boxoffice.core.fasthttp.AdaptiveTransport.send_raw`: an HTTP/1.1
        origin, no proxy mount); None otherwise (then use :meth:`send_direct`).

        ``headers`` are all the request's headers but Host and Content-Length;
        ``make_request()`` gives the same request as an ``httpx.Request``, made once the
        POST is on the wire, for what follows as with :meth:`send_direct`: the jar takes
        the answer's cookies, the metrics time it from before the POST left, the response
        hooks run and the body is read, all under the client's deadline.
        """
        send_raw = getattr(self._transport, "send_raw", None)
        if send_raw is None or self._mounts:
            return None
        deadline = self.total_timeout
        guard = asyncio.timeout(deadline)
        start, started_at = time.perf_counter(), datetime.now(UTC)
        try:
            async with guard:
                response: httpx.Response | None = await send_raw(
                    url, headers, body, self.timeout.as_dict(), make_request
                )
                if response is None:
                    return None
                request = response.request
                self.metrics.started(request, start, started_at)
                for hook in self._event_hooks["request"]:
                    if hook != self.metrics.request_hook:
                        await hook(request)
                self.cookies.extract_cookies(response)
                response.default_encoding = self._default_encoding
                try:
                    for hook in self._event_hooks["response"]:
                        await hook(response)
                    await response.aread()
                finally:
                    await response.aclose()
                response.elapsed = timedelta(seconds=time.perf_counter() - start)
                return response
        except TimeoutError as exc:
            if not guard.expired():
                raise
            raise RequestDeadlineExceeded(
                f"POST {url.split('?', 1)[0]}: no complete answer within {deadline:g} s",
                request=make_request(),
                hint="the server is slow or unreachable; try again or raise http.total_timeout",
            ) from exc


def create_client(
    *,
    options: HttpOptions | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = "",
    cookies: CookieJar | None = None,
    metrics: MetricsRecorder | None = None,
    headers: Mapping[str, str] | None = None,
    follow_redirects: bool = False,
    fast_http1: bool = False,
) -> BoxofficeClient:
    """An ``httpx.AsyncClient`` set up the boxoffice way (see the module docstring).

    Without ``cookies`` the client gets a fresh :class:`CookieJar` (``client.cookie_jar``);
    without ``metrics`` a fresh :class:`MetricsRecorder` (``client.metrics``). Either way every
    finished response carries ``response.extensions["metrics"]``.

    ``fast_http1`` (without a ``transport``): HTTP/1.1 exchanges go over aiohttp's C parser,
    HTTP/2 stays where a server negotiates it (:class:`boxoffice.core.fasthttp.AdaptiveTransport`;
    same cookies, redirects, hooks and errors, about a quarter of the CPU per exchange).
    """
    opts = options or HttpOptions()
    jar = cookies if cookies is not None else CookieJar()
    recorder = metrics if metrics is not None else MetricsRecorder()
    limits = httpx.Limits(
        max_connections=opts.max_connections,
        max_keepalive_connections=opts.max_connections,
        keepalive_expiry=opts.keepalive_expiry,
    )
    timeout = httpx.Timeout(opts.total_timeout, connect=opts.connect_timeout)
    all_headers = {"User-Agent": opts.user_agent}
    all_headers.update(headers or {})
    if transport is None and fast_http1:
        from boxoffice.core.fasthttp import AdaptiveTransport, aiohttp_ssl

        transport = AdaptiveTransport(
            http2=opts.http2,
            limits=limits,
            verify=opts.ssl_context(),
            aiohttp_ssl=lambda: aiohttp_ssl(opts.verify, opts.ssl_context),
        )
    elif transport is None:
        transport = httpx.AsyncHTTPTransport(
            verify=opts.ssl_context(), http2=opts.http2, limits=limits
        )
    return BoxofficeClient(
        total_timeout=opts.total_timeout,
        cookie_jar=jar,
        metrics=recorder,
        transport=transport,
        base_url=base_url,
        headers=all_headers,
        timeout=timeout,
        follow_redirects=follow_redirects,
        event_hooks={"request": [recorder.request_hook], "response": [recorder.response_hook]},
    )


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    context: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """``client.request(method, url, **kwargs)`` with httpx errors raised as boxoffice errors.

    ``context`` prefixes the error message (default: "<METHOD> <url without query>").
    HTTP status codes are not judged here: the caller decides what a 4xx/5xx means.
    """
    try:
        return await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        if context is None:
            shown = httpx.URL(str(url)).copy_with(query=None)
            context = f"{method.upper()} {shown}"
        raise map_exception(exc, context=context) from exc


# --------------------------------------------------------------------------------------------
# archive

_SENSITIVE_HEADER = re.compile(
    r"authorization|cookie|csrf|xsrf|token|api[-_]?key|secret|session|password|signature",
    re.IGNORECASE,
)
_CSRF_NAME = r"[\w.-]*(?:csrf|xsrf)[\w.-]*"
_INPUT_TAG = re.compile(r"<(?:input|meta)\b[^>]*>", re.IGNORECASE)
_TAG_NAME = re.compile(
    rf"""\b(?:name|id)\s*=\s*["']?({_CSRF_NAME})\b""",
    re.IGNORECASE,
)
_TAG_VALUE = re.compile(r"""(\b(?:value|content)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_FORM_FIELD = re.compile(rf"""(?<![\w.-])({_CSRF_NAME})=([^&\s"'<>;]+)""", re.IGNORECASE)
_JSON_FIELD = re.compile(rf"""(["']{_CSRF_NAME}["']\s*:\s*)(["'])(.*?)(?<!\\)\2""", re.IGNORECASE)
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "csv")
_EXTENSIONS = {
    "text/html": "html",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "txt",
    "text/csv": "csv",
    "application/javascript": "js",
    "text/javascript": "js",
}


def _variants(secret: str) -> set[str]:
    """A secret and the encodings it commonly appears under."""
    out = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    out.add(json.dumps(secret)[1:-1])
    return {v for v in out if v}


def _cookie_pairs(header: str) -> list[tuple[str, str]]:
    pairs = []
    for part in header.split(";"):
        if "=" in part:
            name, value = part.split("=", 1)
            pairs.append((name.strip(), value.strip()))
    return pairs


def redact_headers(headers: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], set[str]]:
    """Redacted copies of ``headers`` and the secret values found in them.

    Cookie/Set-Cookie keep cookie names and attributes; Authorization keeps its scheme; other
    sensitive headers (CSRF, tokens, API keys, sessions, signatures) lose their whole value.
    """
    out: list[tuple[str, str]] = []
    found: set[str] = set()
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            pairs = _cookie_pairs(value)
            found.update(v for _, v in pairs if v)
            out.append((name, "; ".join(f"{n}={REDACTED}" for n, _ in pairs)))
        elif lower == "set-cookie":
            first, _, attrs = value.partition(";")
            cookie_name, _, cookie_value = first.partition("=")
            if cookie_value.strip():
                found.add(cookie_value.strip())
            redacted = f"{cookie_name.strip()}={REDACTED}"
            out.append((name, f"{redacted};{attrs}" if attrs else redacted))
        elif lower in ("authorization", "proxy-authorization"):
            scheme, _, credentials = value.partition(" ")
            if credentials:
                found.add(credentials.strip())
                out.append((name, f"{scheme} {REDACTED}"))
            else:
                found.add(value)
                out.append((name, REDACTED))
        elif _SENSITIVE_HEADER.search(name):
            if value:
                found.add(value)
            out.append((name, REDACTED))
        else:
            out.append((name, value))
    return out, found


def _redact_csrf(text: str, found: set[str]) -> str:
    def tag(match: re.Match[str]) -> str:
        whole = match.group(0)
        if not _TAG_NAME.search(whole):
            return whole

        def value(m: re.Match[str]) -> str:
            if m.group(3):
                found.add(m.group(3))
            return f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}"

        return _TAG_VALUE.sub(value, whole)

    def form(m: re.Match[str]) -> str:
        found.add(urllib.parse.unquote_plus(m.group(2)))
        found.add(m.group(2))
        return f"{m.group(1)}={REDACTED}"

    def js(m: re.Match[str]) -> str:
        if m.group(3):
            found.add(m.group(3))
        return f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}"

    text = _INPUT_TAG.sub(tag, text)
    text = _FORM_FIELD.sub(form, text)
    return _JSON_FIELD.sub(js, text)


class ResponseArchive:
    """Saves responses for later diagnosis with every secret taken out.

    Files are written with mode 0600 in ``directory`` (created 0700). Secret values shorter
    than 4 characters are ignored (replacing them everywhere would destroy the page), like the
    log filter does.
    """

    def __init__(self, directory: Path, secrets: Iterable[str] = ()) -> None:
        self.directory = directory
        self.secrets = {s for s in secrets if s and len(s) >= 4}

    def add_secrets(self, values: Iterable[str]) -> None:
        """Also redact ``values`` from now on."""
        self.secrets.update(v for v in values if v and len(v) >= 4)

    def save(self, response: httpx.Response, label: str = "response") -> Path:
        """Write ``response`` (redacted); returns the path of the body file."""
        req = response.request
        req_headers, found = redact_headers(_raw(req.headers))
        resp_headers, found_resp = redact_headers(_raw(response.headers))
        found |= found_resp
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = response.content
            body_note = ""
        except httpx.ResponseNotRead:
            body, body_note = b"", "(body not read)\n"
        is_text = not content_type or any(t in content_type for t in _TEXT_TYPES)
        text: str | None = None
        if is_text:
            text = body.decode(response.encoding or "utf-8", errors="replace")
            text = _redact_csrf(text, found)
        secrets = {v for v in found | self.secrets if len(v) >= 4}
        variants = sorted({x for s in secrets for x in _variants(s)}, key=len, reverse=True)

        def clean(value: str) -> str:
            for secret in variants:
                value = value.replace(secret, REDACTED)
            return redact_text(value)

        url = _redact_url(str(req.url))
        lines = [f"{req.method} {clean(url)} {response.http_version}"]
        lines += [f"{k}: {clean(v)}" for k, v in req_headers]
        lines += ["", f"{response.http_version} {response.status_code} {response.reason_phrase}"]
        lines += [f"{k}: {clean(v)}" for k, v in resp_headers]
        head = "\n".join(lines) + "\n" + body_note

        if text is not None:
            data = clean(text).encode("utf-8")
        else:
            data = body
            for secret in variants:
                data = data.replace(secret.encode(), REDACTED.encode())

        stem = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}_{_safe_label(label)}"
        ext = _EXTENSIONS.get(content_type, "txt" if is_text else "bin")
        self._ensure_dir()
        body_path = write_private(self.directory / f"{stem}.{ext}", data)
        write_private(self.directory / f"{stem}.{ext}.headers.txt", head.encode("utf-8"))
        return body_path

    def _ensure_dir(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(f"cannot create archive dir {self.directory}: {exc}") from exc


def _redact_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    cleaned = [
        (k, REDACTED if _SENSITIVE_HEADER.search(k) or re.search("csrf|xsrf", k, re.I) else v)
        for k, v in query
    ]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(cleaned, safe="*")))


def _raw(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]


def _safe_label(label: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.")
    return safe[:80] or "response"
