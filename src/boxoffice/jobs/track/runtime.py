"""From settings to the things a track command uses: the store, the HTTP client, sources."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from boxoffice.core import pacing
from boxoffice.core.http import HttpOptions, create_client
from boxoffice.core.logging import redact_text
from boxoffice.core.state import data_dir
from boxoffice.errors import ConfigurationError, StorageError
from boxoffice.jobs.track.store import Store, is_postgres_url, open_store
from boxoffice.platforms.listings.models import ListingSource
from boxoffice.platforms.listings.proxy import ProxyClient
from boxoffice.platforms.listings.seatgeek import SeatGeekClient
from boxoffice.settings import Settings

DEFAULT_DB_NAME = "track.sqlite3"


def db_overrides(db: str | None) -> dict[str, Any]:
    """The settings a ``--db`` value stands for: a PostgreSQL URL (``db_url``) or a SQLite
    file (``track.db_path``, also as ``sqlite:///PATH``); nothing when not given."""
    cli: dict[str, Any] = {"track": {}}
    if db:
        if db.startswith("sqlite:///"):
            cli["track"]["db_path"] = db[len("sqlite:///") :]
        elif "://" in db:
            cli["db_url"] = db
        else:
            cli["track"]["db_path"] = db
    return cli


def db_target(settings: Settings) -> str:
    """The PostgreSQL URL (``db_url``) or the SQLite file path the store lives at."""
    if settings.db_url is not None and settings.db_url.get_secret_value().strip():
        url = settings.db_url.get_secret_value().strip()
        if "://" in url and not is_postgres_url(url):
            raise ConfigurationError(
                f"database URL scheme {url.split('://')[0]!r} is not supported",
                hint="use postgresql://user:password@host:5432/dbname, or a SQLite file path",
            )
        return url
    if settings.track.db_path is not None:
        return str(settings.track.db_path)
    return str(data_dir(settings.data_dir) / DEFAULT_DB_NAME)


def open_from_settings(
    settings: Settings, *, migrate: bool = True, read_only: bool = False
) -> Store:
    """Open (and migrate) the configured store; ``read_only``: an existing store, checked
    and never created or migrated."""
    return open_store(
        db_target(settings),
        compress_after=settings.track.compress_after,
        migrate=migrate,
        read_only=read_only,
    )


@contextlib.contextmanager
def store(settings: Settings, *, read_only: bool = False) -> Iterator[Store]:
    """The configured store, closed afterwards; readers never create (or migrate) a SQLite
    file."""
    opened = open_from_settings(settings, read_only=read_only)
    try:
        yield opened
    finally:
        opened.close()


def open_when_up(settings: Settings, on_retry: Callable[[str, float], None]) -> Store:
    """Open the store; while the database is down, tell ``on_retry`` (the error in one
    redacted line, the seconds until the next try) and retry."""
    while True:
        try:
            return open_from_settings(settings)
        except StorageError as exc:
            wait = settings.track.db_retry_seconds
            on_retry(redact_text(exc.one_line()), wait)
            asyncio.run(pacing.sleep(wait))


def zone(name: str | None) -> ZoneInfo | None:
    """A zone by name (None = the machine's local zone); bad names are a one-line error."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ConfigurationError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Berlin"
        ) from None


def http_client(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    verify: bool | str = True,
) -> httpx.AsyncClient:
    """The shared HTTP client of a track command (transport injectable)."""
    options = HttpOptions.from_settings(settings.http, verify=verify)
    return create_client(options=options, transport=transport)


def listing_sources(settings: Settings, client: httpx.AsyncClient) -> dict[str, ListingSource]:
    """The configured listing sources by name (an unconfigured one is simply absent)."""
    track = settings.track
    sources: dict[str, ListingSource] = {}
    if track.proxy_url:
        key = track.proxy_api_key.get_secret_value() if track.proxy_api_key else None
        sources["proxy"] = ProxyClient(track.proxy_url, client, api_key=key)
    client_id = track.seatgeek_client_id.get_secret_value() if track.seatgeek_client_id else None
    sources["seatgeek"] = SeatGeekClient(client, base_url=track.seatgeek_url, client_id=client_id)
    return sources


def sqlite_path(target: str) -> Path | None:
    """The SQLite file of a store target (None for PostgreSQL)."""
    return None if is_postgres_url(target) else Path(target)
