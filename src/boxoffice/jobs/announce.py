"""A job's announcer and heartbeat, built from the settings and the command's own flags.

Every job builds its run's notification side the same way: ``[notify]`` ← ``[<job>.notify]``
← per-entry overrides + the ``--notify``-style flags. The CLI hands the flags over; the job's
entry calls these (see :mod:`boxoffice.jobs.watch.entry`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boxoffice.core.events import Announcer, Event
from boxoffice.core.heartbeat import Heartbeat
from boxoffice.core.notify import ChannelResult
from boxoffice.settings import Settings
from boxoffice.settings.notify import NotifyOverride, heartbeat_url, merged


def job_override(settings: Settings, job: str) -> NotifyOverride | None:
    """The ``[<job>.notify]`` table, if any."""
    section = getattr(settings, job, None)
    override = getattr(section, "notify", None)
    return override if isinstance(override, NotifyOverride) else None


def announcer_for(
    settings: Settings,
    job: str,
    *,
    extra: Iterable[str] = (),
    extra_imessage: Iterable[str] = (),
    extra_webhook: Iterable[str] = (),
    overrides: Iterable[NotifyOverride | None] = (),
    err: Any = None,
) -> Announcer:
    """The job's announcer: ``[notify]`` ← ``[<job>.notify]`` ← ``overrides`` + flags; channel
    failures are printed on ``err`` (after the retries)."""
    config = merged(settings.notify, job_override(settings, job), *overrides)

    def report(event: Event, result: ChannelResult) -> None:
        if err is None:
            return
        if result.ok:
            err.print(f"notified ({event.name}) via {result.channel}", markup=False)
        else:
            err.print(
                f"notification ({event.name}) via {result.channel} failed: {result.detail}",
                style="red",
                markup=False,
            )

    return Announcer.from_settings(
        config,
        extra=extra,
        extra_imessage=extra_imessage,
        extra_webhook=extra_webhook,
        secrets=settings.secret_values(),
        report=report,
    )


def heartbeat_for(
    settings: Settings,
    job: str,
    flag: str | None,
    *,
    overrides: Iterable[NotifyOverride | None] = (),
) -> Heartbeat | None:
    """The run's heartbeat: ``--heartbeat`` or the job's ``notify.heartbeat``; None without."""
    url = flag or heartbeat_url(job_override(settings, job), *overrides)
    if not url:
        return None
    return Heartbeat(url, interval=settings.notify.heartbeat_interval)
