"""Glue from settings and flags to the pull/push/status building blocks (used by CLI and demo)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from boxoffice.core import state
from boxoffice.core.http import HttpOptions, create_client
from boxoffice.core.posting import AiohttpPoster, HttpxPoster, Poster
from boxoffice.core.runlock import RunLock
from boxoffice.errors import ConfigurationError
from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger, open_ledger
from boxoffice.jobs.sync.push import PushConfig
from boxoffice.jobs.sync.regions import (
    Region,
    resolve_event,
    resolve_region,
    resolve_secret,
    resolve_target,
)
from boxoffice.jobs.sync.schedule import RetryPolicy
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class PushRequest:
    """What the user asked for on the command line (beyond settings)."""

    region: str
    event: str | None = None
    target: str | None = None
    test: bool = False
    dry_run: bool = False
    limit: int | None = None
    retry_dead: bool = False


def parse_rate(text: str) -> float:
    """``"20/s"``, ``"20"``, ``"120/min"`` → interval in seconds between deliveries."""
    value, _, unit = text.strip().lower().partition("/")
    try:
        rate = float(value)
    except ValueError:
        raise ConfigurationError(
            f"--rate {text!r} is not a rate", hint="use e.g. 20/s or 600/min"
        ) from None
    per = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}.get(unit)
    if per is None or rate <= 0:
        raise ConfigurationError(f"--rate {text!r} is not a rate", hint="use e.g. 20/s or 600/min")
    return per / rate


def build_push_config(
    settings: Settings, env: Mapping[str, str], request: PushRequest
) -> PushConfig:
    """Resolve region, event, target, secret, filter and policy into a :class:`PushConfig`."""
    sync = settings.sync
    region = resolve_region(request.region, sync, env)
    event = resolve_event(region, request.event)
    target_name = request.target or (sync.test_target if request.test else sync.default_target)
    target = resolve_target(target_name, sync)
    secret = None if request.dry_run else resolve_secret(sync, env)
    limit = 1 if request.test and request.limit is None else request.limit
    return PushConfig(
        region=region,
        event=event,
        target=target,
        secret=secret,
        ticket_filter=TicketFilter(sync.statuses, sync.name_contains),
        policy=RetryPolicy(
            schedule=tuple(sync.retry_schedule), cap=sync.retry_cap, max_attempts=sync.max_attempts
        ),
        interval=sync.interval,
        burst=sync.burst,
        concurrency=sync.concurrency,
        limit=limit,
        dry_run=request.dry_run,
        retry_dead=request.retry_dead,
        standard_headers=sync.standard_headers,
        webhook_id=sync.webhook_id,
        seller_id=sync.seller_id,
        mode=sync.mode,
        page_size=sync.page_size,
        abort_after_auth_failures=sync.abort_after_auth_failures,
        progress_dir=sync.progress_dir,
        max_wait=sync.max_wait,
    )


def tickets_client(
    http: httpx.AsyncClient,
    region: Region,
    *,
    on_retry: Callable[[str, float], None] | None = None,
) -> TicketsClient:
    """The tickets client of a region (errors name the region's key variable)."""
    return TicketsClient(
        http, region.base_url, region.api_key, key_name=region.key_name, on_retry=on_retry
    )


@contextlib.asynccontextmanager
async def vivenu_http(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the Vivenu API (settings.http timeouts)."""
    async with create_client(
        options=HttpOptions.from_settings(settings.http), transport=transport
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def webhook_http(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Poster]:
    """The client for webhook deliveries (sync.timeout, one connection per worker + 1).

    aiohttp unless ``sync.webhook_client = "httpx"`` or a ``transport`` is injected (tests).
    """
    options = HttpOptions.from_settings(
        settings.http,
        total_timeout=settings.sync.timeout,
        max_connections=max(2, settings.sync.concurrency + 1),
    )
    if transport is None and settings.sync.webhook_client == "aiohttp":
        async with AiohttpPoster(options) as poster:
            yield poster
        return
    async with create_client(options=options, transport=transport) as client:
        yield HttpxPoster(client)


def ledger_for(settings: Settings) -> Ledger:
    """The sync ledger in the state dir."""
    return open_ledger(state.state_dir(settings.state_dir))


def read_only_ledger(settings: Settings) -> Ledger | None:
    """The sync ledger opened read-only (None when there is none yet); creates nothing."""
    return Ledger.open_read_only(Ledger.default_path(state.state_dir_path(settings.state_dir)))


def push_lock(settings: Settings, cfg: PushConfig) -> RunLock:
    """The lock that lets one push at a time work on (region, event, target)."""
    path = Ledger.lock_path(state.state_dir(settings.state_dir), cfg.key)
    what = f"sync push {cfg.region.name} {cfg.event} → {cfg.target.url}"
    return RunLock(path, what)


def spool_dir(settings: Settings) -> Path:
    """Where push spools matching tickets (anonymous temp files only)."""
    return state.state_dir(settings.state_dir) / "sync"


def run_cancellable(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to its end; SIGTERM cancels it like Ctrl-C does."""

    async def main() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            try:
                loop.add_signal_handler(signal.SIGTERM, task.cancel)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        return await coro_factory()

    return asyncio.run(main())
