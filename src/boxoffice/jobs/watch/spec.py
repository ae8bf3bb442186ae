"""What one watch is: target, pacing and filters — built from settings and CLI flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from boxoffice.core.pacing import JitterStrategy
from boxoffice.errors import ConfigurationError
from boxoffice.platforms.pretix.client import event_url
from boxoffice.platforms.pretix.models import Listing
from boxoffice.settings.watch import (
    INTERVAL_REFUSE_BELOW,
    INTERVAL_WARN_BELOW,
    WatchEntry,
    WatchSettings,
)


@dataclass(frozen=True)
class WatchSpec:
    """One watch: a pretix event's marketplace, how often to poll it, what to buy."""

    name: str
    url: str
    event: str
    interval: float = 15.0
    jitter: float = 0.2
    jitter_strategy: JitterStrategy = "uniform"
    max_price: Decimal | None = None
    type_pattern: re.Pattern[str] | None = None
    poll_inactive: float | None = None
    dry_run: bool = False
    max_polls: int | None = None

    @property
    def event_url(self) -> str:
        """The event page URL."""
        return event_url(self.url, self.event)

    def matches(self, listing: Listing) -> bool:
        """True when ``listing`` passes the price and ticket-type filters."""
        if self.max_price is not None:
            amount = listing.amount
            if amount is None or amount > self.max_price:
                return False
        return not (self.type_pattern and not self.type_pattern.search(listing.ticket_type))

    def describe_filters(self) -> str:
        """ "max 120 · type /Standard/" (or "any ticket")."""
        parts = []
        if self.max_price is not None:
            parts.append(f"max {self.max_price}")
        if self.type_pattern is not None:
            parts.append(f"type /{self.type_pattern.pattern}/")
        return " · ".join(parts) or "any ticket"


def compile_type(pattern: str | None) -> re.Pattern[str] | None:
    """Compile a --type regex (case-insensitive) or explain why it is not one."""
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigurationError(
            f"--type {pattern!r} is not a valid regular expression: {exc}",
            hint="e.g. --type 'Standard|Weekend'",
        ) from None


def check_interval(interval: float, *, allow_fast: bool) -> str | None:
    """Enforce the interval floor: refuse < 2 s (unless allowed), warn < 5 s (returns text)."""
    if interval < INTERVAL_REFUSE_BELOW and not allow_fast:
        raise ConfigurationError(
            f"interval {interval:g} s is below the {INTERVAL_REFUSE_BELOW:g} s floor",
            hint="polling that fast burdens the organiser's server; use --interval 5 or more "
            "(--i-know-what-i-am-doing overrides for your own server)",
        )
    if interval < INTERVAL_WARN_BELOW:
        return (
            f"interval {interval:g} s is below {INTERVAL_WARN_BELOW:g} s: please keep polling "
            "gentle, the marketplace is shared with everyone"
        )
    return None


def spec_from_entry(
    entry: WatchEntry,
    defaults: WatchSettings,
    *,
    dry_run: bool = False,
    max_polls: int | None = None,
) -> WatchSpec:
    """A spec from a ``[[watch.watches]]`` entry, the [watch] defaults filling the gaps."""
    spec = WatchSpec(
        name=entry.name or entry.event.strip("/"),
        url=entry.url,
        event=entry.event,
        interval=entry.interval if entry.interval is not None else defaults.interval,
        jitter=entry.jitter if entry.jitter is not None else defaults.jitter,
        jitter_strategy=defaults.jitter_strategy,
        max_price=entry.max_price if entry.max_price is not None else defaults.max_price,
        type_pattern=compile_type(entry.type_pattern or defaults.type_pattern),
        poll_inactive=entry.poll_inactive_marketplace or defaults.poll_inactive_marketplace,
        dry_run=dry_run,
        max_polls=max_polls,
    )
    _ = spec.event_url  # validates url and event now, with a clear line
    return spec


def specs_from_settings(
    settings: WatchSettings,
    *,
    url: str | None = None,
    event: str | None = None,
    dry_run: bool = False,
    max_polls: int | None = None,
) -> list[WatchSpec]:
    """The watches to run: the one given by --url/--event, else the config file's list."""
    if url or event:
        if not (url and event):
            raise ConfigurationError(
                "--url and --event go together",
                hint="e.g. --url https://tickets.example.com --event 99x1",
            )
        entries = [WatchEntry(url=url, event=event)]
    else:
        entries = list(settings.watches)
    if not entries:
        raise ConfigurationError(
            "nothing to watch",
            hint="give --url URL --event EVENT, or list [[watch.watches]] in the config file",
        )
    specs = [spec_from_entry(e, settings, dry_run=dry_run, max_polls=max_polls) for e in entries]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        specs = [
            WatchSpec(**{**s.__dict__, "name": f"{s.name}#{i + 1}"}) for i, s in enumerate(specs)
        ]
    return specs
