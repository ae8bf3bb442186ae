"""The notification and heartbeat options every long-running command shares.

Only option definitions live here, so a command module can import them without loading the
notification machinery (httpx, pydantic): the announcer and heartbeat are built by
:mod:`boxoffice.jobs.announce` when a command runs; the two functions below hand over to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from boxoffice.core.events import Announcer
    from boxoffice.core.heartbeat import Heartbeat
    from boxoffice.settings import Settings

NotifyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        help="Where to send this run's outcome: an Apprise URL (ntfy://…) or an http(s) JSON "
        "webhook (repeatable; adds to \\[notify]).",
    ),
]
HeartbeatOpt = Annotated[
    str | None,
    typer.Option(
        "--heartbeat",
        help="Healthchecks-style URL to ping: /start at start, a ping every interval, /fail "
        "on a fatal error (healthchecks.io, Uptime Kuma push).",
    ),
]


def announcer_for(settings: Settings, job: str, **flags: Any) -> Announcer:
    """:func:`boxoffice.jobs.announce.announcer_for`, loaded when a command runs."""
    from boxoffice.jobs.announce import announcer_for as build

    return build(settings, job, **flags)


def heartbeat_for(settings: Settings, job: str, flag: str | None, **flags: Any) -> Heartbeat | None:
    """:func:`boxoffice.jobs.announce.heartbeat_for`, loaded when a command runs."""
    from boxoffice.jobs.announce import heartbeat_for as build

    return build(settings, job, flag, **flags)
