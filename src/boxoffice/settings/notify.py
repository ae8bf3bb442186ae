"""Settings of notifications and heartbeats (``[notify]``, and ``notify`` tables per job).

The global ``[notify]`` table names the channels every job uses and which events go out::

    [notify]
    apprise = ["ntfy://ntfy.sh/my-topic"]
    webhook = ["https://hooks.example.org/boxoffice"]
    on = ["success", "failure"]          # the default

A job (or one watch) may override any of these in its own ``notify`` table, and name the
heartbeat URL its long runs ping::

    [book.notify]
    on = ["success", "failure", "warning"]

    [track.notify]
    heartbeat = "https://hc-ping.com/0d1f…"
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: What an event can be. ``alert`` (a price alert you added) is always sent.
EventKind = Literal["success", "failure", "warning", "info", "alert"]
EVENT_KINDS: tuple[str, ...] = ("success", "failure", "warning", "info", "alert")
DEFAULT_ON: tuple[str, ...] = ("success", "failure")


def _default_on() -> list[EventKind]:
    return ["success", "failure"]


class NotifySettings(BaseModel):
    """Notification channels shared by every job."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    apprise: list[str] = Field(default_factory=list, description="Apprise URLs (ntfy://…, …)")
    imessage: list[str] = Field(default_factory=list, description="iMessage numbers (macOS)")
    webhook: list[str] = Field(default_factory=list, description="JSON webhook URLs")
    on: list[EventKind] = Field(
        default_factory=_default_on,
        description="which events are sent: success, failure, warning, info (alert: always)",
    )
    retries: int = Field(3, ge=0, le=10, description="retries of a failed channel (backoff)")
    heartbeat_interval: float = Field(
        60.0, gt=0, description="seconds between heartbeat pings of a long run"
    )


class NotifyOverride(BaseModel):
    """A job's (or a watch's) own ``notify`` table: whatever it names replaces ``[notify]``."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    apprise: list[str] | None = Field(None, description="Apprise URLs for this job")
    imessage: list[str] | None = Field(None, description="iMessage numbers for this job")
    webhook: list[str] | None = Field(None, description="JSON webhook URLs for this job")
    on: list[EventKind] | None = Field(None, description="which events this job sends")
    heartbeat: str | None = Field(
        None, description="healthchecks-style URL this job's long runs ping"
    )


def merged(base: NotifySettings, *overrides: NotifyOverride | None) -> NotifySettings:
    """``base`` with each override's given fields applied in order (later wins)."""
    out = base.model_copy(deep=True)
    for override in overrides:
        if override is None:
            continue
        for name in ("apprise", "imessage", "webhook", "on"):
            value = getattr(override, name)
            if value is not None:
                setattr(out, name, list(value))
    return out


def heartbeat_url(*overrides: NotifyOverride | None) -> str | None:
    """The last heartbeat URL the overrides name (a watch's over its job's)."""
    url: str | None = None
    for override in overrides:
        if override is not None and override.heartbeat:
            url = override.heartbeat
    return url
