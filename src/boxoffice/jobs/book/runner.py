"""Build the race from settings and run it; the CLI and the demo call these."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from boxoffice.core.http import HttpOptions
from boxoffice.core.limits import check_days
from boxoffice.core.state import state_dir
from boxoffice.errors import ConfigurationError
from boxoffice.jobs.book.plan import (
    make_slot,
    parse_at,
    parse_ids,
    window_opens,
)
from boxoffice.jobs.book.race import RacePlan
from boxoffice.jobs.book.session import SessionCache, credentials_from
from boxoffice.platforms.booked.client import BookedClient, Credentials, make_client
from boxoffice.platforms.booked.models import Slot
from boxoffice.settings import HttpSettings, Settings
from boxoffice.settings.book import BookSettings


def slot_from(book: BookSettings, *, now: datetime | None = None) -> Slot:
    """The slot from ``date``/``start``/``end`` in the schedule's zone."""
    missing = [k for k in ("date", "start", "end") if not getattr(book, k)]
    if missing:
        raise ConfigurationError(
            f"missing {', '.join('--' + m for m in missing)}",
            hint="give them on the command line or as book.date/start/end in the config",
        )
    day, start, end = book.date or "", book.start or "", book.end or ""
    return make_slot(day, start, end, book.timezone, now=now or datetime.now(UTC))


def refuse_started(slot: Slot, timezone: str, *, now: datetime) -> None:
    """A slot that has already started (in the schedule's zone) cannot be booked: say so."""
    if slot.start <= now:
        raise ConfigurationError(
            f"the slot {slot.start:%Y-%m-%d %H:%M}–{slot.end:%H:%M} ({timezone}) has already "
            "started",
            hint="pick a later --date or --start (+N for N days from today)",
        )


def plan_from(
    book: BookSettings,
    *,
    at: str | None = None,
    now_flag: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RacePlan:
    """A :class:`RacePlan` from the merged settings plus the one-off flags."""
    if not book.resources:
        raise ConfigurationError(
            "no resources to try", hint="pass --resources 231-262 or set book.resources"
        )
    moment = now or datetime.now(UTC)
    slot = slot_from(book, now=moment)
    refuse_started(slot, book.timezone, now=moment)
    resources = parse_ids(book.resources)
    prefer = parse_ids(book.prefer, what="--prefer") if book.prefer else []
    t0: datetime | None = None
    if at and not now_flag:
        t0 = parse_at(at, book.timezone)
        check_days((t0 - moment).total_seconds() / 86400, f"--at {at}", away=True)
    elif book.opens and not now_flag:
        t0 = window_opens(book.opens, slot)
    return RacePlan(
        slot=slot,
        resources=resources,
        prefer=prefer,
        schedule_id=book.schedule,
        owner_id=book.owner,
        attributes={int(k): v for k, v in book.attributes.items() if str(k).isdigit()},
        title=book.title,
        description=book.description,
        timezone=book.timezone,
        at=t0,
        concurrency=book.concurrency,
        first_alone=book.first_alone,
        wave=book.wave,
        lead=book.lead,
        warm_ahead=book.warm_ahead,
        margin=book.margin_ms / 1000,
        dry_run=dry_run,
    )


def open_client(
    book: BookSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    http: HttpSettings | None = None,
) -> BookedClient:
    """The dialect's client for ``book.url`` (HTTP options from the ``[http]`` settings)."""
    return make_client(
        book.dialect,
        book.url or "",
        transport=transport,
        language=book.language,
        timezone=book.timezone,
        owner_id=book.owner,
        max_connections=max(book.concurrency + 2, 10),
        options=HttpOptions.from_settings(http) if http is not None else None,
    )


def credentials(book: BookSettings) -> Credentials:
    """Credentials from the settings (env/config), as secrets."""
    return credentials_from(
        book.username,
        book.password.get_secret_value() if book.password else None,
        book.totp_secret.get_secret_value() if book.totp_secret else None,
    )


def cache_for(settings: Settings) -> SessionCache:
    """The session cache for the configured scheduler and user."""
    book = settings.book
    return SessionCache(
        state_dir(settings.state_dir), book.dialect, book.url or "", book.username or ""
    )
