"""Settings of the `watch` job (section [watch], env BOXOFFICE_WATCH_<KEY>).

Several watches in one process come from ``[[watch.watches]]`` tables; each names its own
instance, event, interval and filters, and they share the notification channels::

    [watch]
    interval = 15
    save_responses = "live-responses"

    [[watch.watches]]
    url = "https://tickets.example.com"
    event = "99x1"
    max_price = 120
    type = "Standard"

    [[watch.watches]]
    url = "https://pretix.eu"
    event = "demo/festival"
    interval = 30

    [notify]
    apprise = ["ntfy://ntfy.sh/my-topic"]
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from boxoffice.settings.notify import NotifyOverride

INTERVAL_WARN_BELOW = 5.0
INTERVAL_REFUSE_BELOW = 2.0


class WatchEntry(BaseModel):
    """One watch of a config file (fields left out inherit the [watch] defaults)."""

    model_config = ConfigDict(allow_inf_nan=False, populate_by_name=True, extra="forbid")

    name: str | None = Field(None, description="label in the output; default: the event")
    url: str = Field(..., description="pretix instance, e.g. https://tickets.example.com")
    event: str = Field(..., description="event slug (99x1) or organizer/event")
    interval: float | None = Field(None, gt=0, description="seconds between polls")
    jitter: float | None = Field(None, ge=0, lt=1, description="± fraction of the interval")
    max_price: Decimal | None = Field(None, ge=0, description="only buy at or below this price")
    type_pattern: str | None = Field(
        None, alias="type", description="only buy ticket types matching this regex"
    )
    poll_inactive_marketplace: float | None = Field(
        None, gt=0, description="wait for an absent/inactive marketplace, checking every N s"
    )
    notify: NotifyOverride | None = Field(
        None, description="this watch's own notification channels and events"
    )


class WatchSettings(BaseModel):
    """Settings of the watch job."""

    model_config = ConfigDict(allow_inf_nan=False, populate_by_name=True)

    interval: float = Field(15.0, gt=0, description="seconds between marketplace polls")
    jitter: float = Field(0.2, ge=0, lt=1, description="± fraction of the interval (uniform)")
    jitter_strategy: Literal["uniform", "poisson", "normal"] = Field(
        "uniform", description="how the wait around the interval is randomized"
    )
    max_price: Decimal | None = Field(None, ge=0, description="only buy at or below this price")
    type_pattern: str | None = Field(
        None, alias="type", description="only buy ticket types matching this regex"
    )
    poll_inactive_marketplace: float | None = Field(
        None, gt=0, description="wait for an absent/inactive marketplace, checking every N s"
    )
    headless: bool = Field(
        False, description="no browser: notify with the checkout link and cookie export"
    )
    save_responses: Path = Field(
        Path("live-responses"), description="where changed pages and cookie exports go"
    )
    ca_file: Path | None = Field(
        None, description="extra CA bundle to trust (self-signed pretix); also SSL_CERT_FILE"
    )
    max_archived_pages: int = Field(
        50, ge=0, description="stop archiving changed pages after this many per watch"
    )
    max_unknown_pages: int = Field(
        20, ge=1, description="give up after this many unrecognised pages in a row"
    )
    i_know_what_i_am_doing: bool = Field(
        False, description=f"allow intervals below {INTERVAL_REFUSE_BELOW:g} s"
    )
    notify: NotifyOverride | None = Field(
        None, description="this job's own notification channels, events and heartbeat URL"
    )

    watches: list[WatchEntry] = Field(
        default_factory=list, description="several watches in one process ([[watch.watches]])"
    )

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return []
