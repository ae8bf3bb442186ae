"""Heartbeats for long runs: healthchecks.io / Uptime Kuma push monitors learn a run is alive.

``Heartbeat(url)`` follows the convention those monitors use:

* healthchecks.io style (any URL but Kuma's): ``GET <url>/start`` when the run starts,
  ``GET <url>`` (a success ping) every ``interval`` seconds and at a clean end,
  ``POST <url>/fail`` with a one-line reason on a fatal error;
* Uptime Kuma push URLs (``…/api/push/<token>``): ``?status=up&msg=…`` for start and
  success, ``?status=down&msg=…`` for a failure.

A heartbeat never blocks or breaks the job: pings run as background tasks with a short
timeout, a failed ping is logged (URL redacted) and counted, never raised. The monitor, not
the user, then notices a process that died or hangs.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TypeVar

import httpx

from boxoffice.core import pacing
from boxoffice.core.logging import get_logger, redact_text
from boxoffice.core.logging import redact_url as _redact_url

log = get_logger(__name__)

PingKind = Literal["start", "success", "fail"]
DEFAULT_TIMEOUT = 5.0
MAX_MESSAGE = 500
T = TypeVar("T")


@dataclass(frozen=True)
class Ping:
    """One ping and how it went."""

    kind: PingKind
    ok: bool
    detail: str


def is_kuma(url: str) -> bool:
    """Whether ``url`` is an Uptime Kuma push URL (``…/api/push/<token>``)."""
    return "/api/push/" in urllib.parse.urlsplit(url).path


def ping_request(url: str, kind: PingKind, message: str = "") -> tuple[str, str, bytes | None]:
    """``(method, url, body)`` of a ping of ``kind`` to ``url`` (pure, for tests and docs)."""
    message = message[:MAX_MESSAGE]
    parts = urllib.parse.urlsplit(url)
    if is_kuma(url):
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["status"] = "down" if kind == "fail" else "up"
        query["msg"] = message or {"start": "started", "success": "OK", "fail": "failed"}[kind]
        return "GET", parts._replace(query=urllib.parse.urlencode(query)).geturl(), None
    path = parts.path.rstrip("/")
    if kind == "start":
        path += "/start"
    elif kind == "fail":
        path += "/fail"
    target = parts._replace(path=path).geturl()
    if kind == "fail":
        return "POST", target, message.encode()
    return "GET", target, None


class Heartbeat:
    """Pings ``url``: start, every ``interval`` s while alive, fail or success at the end."""

    def __init__(
        self,
        url: str,
        *,
        interval: float = 60.0,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.url = url
        self.name = _redact_url(url, host_only=True)
        self.interval = interval
        self.timeout = timeout
        self.transport = transport
        self.pings: list[Ping] = []
        self._client: httpx.AsyncClient | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Ping]] = set()
        self._ended = False

    async def _send(self, kind: PingKind, message: str = "") -> Ping:
        method, target, body = ping_request(self.url, kind, redact_text(message))
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=self.timeout)
        try:
            response = await self._client.request(method, target, content=body)
        except (httpx.HTTPError, OSError) as exc:
            ping = Ping(kind, False, type(exc).__name__)
        else:
            ok = response.is_success
            ping = Ping(kind, ok, f"HTTP {response.status_code}")
        self.pings.append(ping)
        if ping.ok:
            log.debug("heartbeat", kind=kind, monitor=self.name)
        else:
            log.warning("heartbeat ping failed", kind=kind, monitor=self.name, detail=ping.detail)
        return ping

    def _background(self, kind: PingKind, message: str = "") -> None:
        task = asyncio.get_running_loop().create_task(self._send(kind, message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _beat(self) -> None:
        last = time.monotonic()
        while True:
            await pacing.sleep(pacing.heartbeat_wait(self.interval, time.monotonic() - last))
            last = time.monotonic()
            self._background("success")

    def start(self) -> None:
        """Ping ``/start`` and begin the periodic success pings (returns at once)."""
        self._background("start")
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._beat())

    async def _end(self, kind: PingKind, message: str) -> Ping:
        self._ended = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=self.timeout)
        try:
            return await asyncio.wait_for(self._send(kind, message), self.timeout + 1)
        except TimeoutError:
            ping = Ping(kind, False, "timed out")
            self.pings.append(ping)
            return ping
        finally:
            await self.aclose()

    async def success(self, message: str = "") -> Ping:
        """The run ended well: stop beating, one last success ping."""
        return await self._end("success", message)

    async def fail(self, message: str) -> Ping:
        """The run ended on a fatal error: stop beating, ping ``/fail`` with the reason."""
        return await self._end("fail", message)

    async def aclose(self) -> None:
        """Close the HTTP client (pings still in flight are cancelled)."""
        for task in list(self._pending):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Heartbeat:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ended:
            return
        if exc is None:
            await self.success()
        elif isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
            await self.fail("interrupted")
        else:
            one_line = getattr(exc, "one_line", None)
            await self.fail(one_line() if callable(one_line) else f"{type(exc).__name__}: {exc}")


async def guarded(
    heartbeat: Heartbeat | None,
    work: Awaitable[T],
    *,
    failure: Callable[[T], str | None] = lambda _: None,
) -> T:
    """Run ``work`` under ``heartbeat`` (None: just run it): ``/start`` first, ``/fail`` when
    it raises or ``failure(result)`` names a reason, else a final success ping."""
    if heartbeat is None:
        return await work
    async with heartbeat:
        result = await work
        reason = failure(result)
        if reason:
            await heartbeat.fail(reason)
    return result
